"""What the course's data files are, and how to tell that a file is the right one.

MANIFEST holds, per file of the course repository's data/ folder, its git blob id (what
`git hash-object FILE` prints: the sha1 of ``b"blob <size>\0" + bytes``, the id the repository
itself records) and its size where known. A mirror whose files differ gives a JSON manifest of
its own, ``{"name": {"git_blob": "<40 hex>", "size": N}}`` ("sha256" instead of "git_blob" also
accepted, "size" optional), whose entries replace the built-in ones (`load_manifest`).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import NamedTuple

from mtlab.data.safe_files import UnusableFileError, open_for_reading

# Git blob id and size in bytes of each file in the course repository's data/ folder. The sizes
# of quora-train.csv and quora-test-student.csv are not recorded (None): the blob id alone pins
# their bytes, and a size only bounds what a server may send (UNKNOWN_SIZE_CAP stands in).
MANIFEST: dict[str, tuple[str, int | None]] = {
    "ids-sst-train.csv": ("9cb7333cb1dae49c2bd2a4b56a24882a6e8704b5", 1175139),
    "ids-sst-dev.csv": ("3171aa629a340809d2db4a50df8f6e5ec9420ab0", 151384),
    "ids-sst-test-student.csv": ("bbd2313758825f86e24416d6aad64cd93370cf7a", 313202),
    "quora-train.csv": ("a3b5546f6a0e65b60a328a5d294d1038f5bed1da", None),
    "quora-dev.csv": ("de7cfa32428fd470b93f778fccc45a619e01336f", 3205321),
    "quora-test-student.csv": ("f257ef00558555afb50819578a58205732b16354", None),
    "sts-train.csv": ("12b17760e7795fee35aeeabc290d5651de02622a", 928832),
    "sts-dev.csv": ("9392860e584717976b8d817cc40c9e6ceeec27e0", 132265),
    "sts-test-student.csv": ("25f0cf8fafdd1f82b9e2bb460c708af34341ce60", 256677),
    "ids-cfimdb-train.csv": ("cd57bcbd2f7214ea6dd1783d3e885d324b1f478d", 1693182),
    "ids-cfimdb-dev.csv": ("8a0f5dcf3d40189b96c801a12cd79bf8003e61de", 249095),
    "ids-cfimdb-test-student.csv": ("1e789c709b3ca0511f027a309b6d8bd21cde41b2", 495595),
}
FILES: tuple[str, ...] = tuple(MANIFEST)  # the course's files, CFIMDB's included
DIGEST_LENGTHS = {"git_blob": 40, "sha256": 64}  # the digests a manifest may give
LABELS = {"git_blob": "git blob id", "sha256": "sha256"}
ENTRY = '{"git_blob" (or "sha256"): "<hex digits>", "size": bytes (optional)}'

UNKNOWN_SIZE_CAP = 64 << 20  # bytes: far above any course file, far below a full disk
MANIFEST_BYTES = 1 << 20  # a manifest of the twelve files takes about 2,000


class ManifestError(ValueError):
    """A manifest file is unreadable or an entry in it is malformed; the message says which."""


class Expected(NamedTuple):
    """What one file must be: a digest (git blob id or sha256) and, if known, its size."""

    kind: str  # a key of DIGEST_LENGTHS
    digest: str
    size: int | None

    @property
    def cap(self) -> int:
        """The most bytes a server may send for this file."""
        return UNKNOWN_SIZE_CAP if self.size is None else self.size


def load_manifest(path: str | Path | None = None) -> dict[str, Expected]:
    """The built-in MANIFEST, with the entries of the JSON file at path (if any) replacing it."""
    manifest = {name: Expected("git_blob", blob, size) for name, (blob, size) in MANIFEST.items()}
    if path is None:
        return manifest
    try:
        with open_for_reading(Path(path), follow=True) as (file, _):  # a pipe is not waited on
            text = file.read(MANIFEST_BYTES + 1)
    except UnusableFileError as error:  # missing, a folder, a pipe, a broken link
        raise ManifestError(f"manifest {error}") from None
    except OSError as error:
        raise ManifestError(f"manifest {path}: cannot read it ({error.strerror})") from None
    if len(text) > MANIFEST_BYTES:
        raise ManifestError(f"manifest {path}: over {MANIFEST_BYTES:,} bytes, not a manifest")
    try:
        data = json.loads(text.decode("utf-8"))
    except ValueError as error:  # JSONDecodeError, UnicodeDecodeError
        raise ManifestError(f"manifest {path}: not valid JSON ({error})") from None
    if not isinstance(data, dict) or not data:
        got = json.dumps(data)[:60]
        raise ManifestError(f'manifest {path}: expected {{"file name": {ENTRY}, ...}}, got {got}')
    for name, entry in data.items():
        manifest[name] = _manifest_entry(f"manifest {path}: {name!r}", name, entry)
    return manifest


def _manifest_entry(where: str, name: str, entry: object) -> Expected:
    """One checked manifest entry; `where` starts every error message."""
    if name not in MANIFEST:
        raise ManifestError(f"{where} is not a course file; valid names: {', '.join(FILES)}")
    keys = sorted(entry) if isinstance(entry, dict) else []
    kinds = [key for key in keys if key in DIGEST_LENGTHS]
    if not isinstance(entry, dict) or len(kinds) != 1 or not set(keys) <= {*kinds, "size"}:
        got = f"keys {keys}" if isinstance(entry, dict) else json.dumps(entry)[:60]
        raise ManifestError(f"{where}: expected {ENTRY}, got {got}")
    kind, digest, size = kinds[0], entry[kinds[0]], entry.get("size")
    n = DIGEST_LENGTHS[kind]
    if not isinstance(digest, str) or not re.fullmatch(f"[0-9a-fA-F]{{{n}}}", digest):
        raise ManifestError(f"{where}: {kind!r} expected {n} hex digits, got {json.dumps(digest)}")
    if size is not None and (type(size) is not int or size < 0):
        raise ManifestError(f"{where}: 'size' expected bytes (0 or more), got {json.dumps(size)}")
    return Expected(kind, digest.lower(), size)


def file_digest(path: Path, kind: str) -> str:
    """The file's git blob id (sha1 of b"blob <size>\\0" + bytes, as git computes it) or sha256.

    sha1 is enough here: the ids are fixed in advance, so a forged file would need a second
    preimage, which nobody can compute (known sha1 collisions need both files made together).
    A link or anything but a plain file raises UnusableFileError: a digest says nothing of
    what a link will point to later.
    """
    with open_for_reading(path, follow=False) as (file, info):
        if kind == "git_blob":
            digest = hashlib.sha1(b"blob %d\0" % info.st_size)
        else:
            digest = hashlib.sha256()
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
