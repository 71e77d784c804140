"""Download the course's data files, resuming partial downloads and checking every byte.

    python -m mtlab download                    # from the course repository into data/
    python -m mtlab download --base-url https://mirror.example/data/ --manifest mirror.json

The address is --base-url, else $MTLAB_DATA_URL, else COURSE_URL (the course's repository).
Each file goes to ``<name>.part``, is resumed with an HTTP Range request after an
interruption, is checked against the manifest (`mtlab.data.manifest`: git blob ids) and only then
renamed: a file under its real name is complete and correct. A broken or hostile server can
neither fill the disk (at most the manifest's size) nor hang the command (--deadline per
file, from connecting to the last byte; TIMEOUT_S per read). Nothing is written through a
link: a link, folder or pipe where a file or its .part goes is refused. Bad arguments and such
names fail before any network work.
"""

from __future__ import annotations

import argparse
import os
import sys
import urllib.parse
from collections.abc import Iterable
from pathlib import Path

from mtlab.data.datasets import PROJECT_DATA_DIR
from mtlab.data.manifest import ENTRY, FILES, ManifestError, file_digest, load_manifest
from mtlab.data.safe_files import UnusableFileError, check_target, describe
from mtlab.data.transfer import CHUNK as CHUNK  # re-exported: the size of one read
from mtlab.data.transfer import ChecksumError as ChecksumError
from mtlab.data.transfer import DownloadError, Job, download_one, say

ENV_VAR = "MTLAB_DATA_URL"
COURSE_URL = "https://raw.githubusercontent.com/gpoesia/minbert-default-final-project/main/data/"

DEADLINE_S = 600.0  # per file: a body that trickles in forever fails instead of hanging
TIMEOUT_S = 30.0  # for connecting and for each read: a stalled server fails instead of hanging


class ArgumentError(DownloadError):
    """An address, folder or manifest is unusable; raised before any network work."""


def resolve_base_url(base_url: str | None = None) -> str:
    """--base-url, else $MTLAB_DATA_URL, else COURSE_URL; checked, always ending with one '/'."""
    url = (base_url or os.environ.get(ENV_VAR, "")).strip() or COURSE_URL
    try:
        parts = urllib.parse.urlsplit(url)
        _ = parts.port  # raises ValueError for a port that is not a number
        ok = parts.scheme in ("http", "https") and parts.hostname and not {"?", "#"} & set(url)
    except ValueError:  # also for an unclosed [IPv6 address
        ok = False
    if not ok:
        source = "--base-url" if base_url and base_url.strip() else f"${ENV_VAR}"
        raise ArgumentError(
            f"malformed download address {url!r} (from {source}): expected the http:// or "
            f"https:// address of the folder holding the course's CSV files, e.g. {COURSE_URL}"
        )
    return url if url.endswith("/") else url + "/"


def download_course_data(
    dest: str | Path,
    base_url: str | None = None,
    *,
    files: Iterable[str] | None = None,
    manifest: str | Path | None = None,
    progress: bool = True,
    timeout: float = TIMEOUT_S,
    deadline: float = DEADLINE_S,
) -> list[Path]:
    """Fetch the course files into dest; return their paths (in the order asked for).

    base_url=None reads $MTLAB_DATA_URL, else uses COURSE_URL. files=None means every course
    file. manifest: a JSON file whose entries replace the built-in ones. Raises ArgumentError
    for a bad argument before any network work, else DownloadError (or its subclass
    ChecksumError) naming the URL; files finished before a failure stay, and re-running
    resumes the rest.
    """
    for limit, seconds in {"timeout": timeout, "deadline": deadline}.items():
        if not seconds > 0:
            raise ArgumentError(f"the {limit} must be more than 0 seconds, got {seconds:g}")
    names = list(FILES if files is None else [files] if isinstance(files, str) else files)
    unknown = [name for name in names if name not in FILES]
    if unknown:
        raise ValueError(f"unknown course file(s) {unknown}; valid names: {', '.join(FILES)}")
    base = resolve_base_url(base_url)
    try:
        expected = load_manifest(manifest)
    except ManifestError as error:
        raise ArgumentError(str(error)) from None
    dest = _prepare_folder(Path(dest), names)
    paths = []
    for name in names:
        path = dest / name
        present = path.exists()  # after _prepare_folder: absent or a plain file
        if present and file_digest(path, expected[name].kind) == expected[name].digest:
            say(progress, f"{name}: already present, checksum ok")
        else:
            if present:
                say(progress, f"{name}: present but its checksum differs; downloading it again")
            download_one(Job(base + name, path, expected[name], progress, timeout, deadline))
        paths.append(path)
    return paths


def _prepare_folder(dest: Path, names: list[str]) -> Path:
    """dest, created if missing and checked writable, with no name the download would write
    through or over (a link, folder or pipe at a file's name or its .part's)."""
    if os.path.lexists(dest) and not dest.is_dir():
        raise ArgumentError(
            f"--dest {dest} is {describe(dest)}, not a folder: give the folder to fill"
        )
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ArgumentError(f"--dest {dest}: cannot create it ({error.strerror})") from None
    if not os.access(dest, os.W_OK | os.X_OK):
        raise ArgumentError(f"--dest {dest}: cannot write in this folder (no permission)")
    for name in names:
        try:
            check_target(dest / name)
            check_target(dest / f"{name}.part", appendable=True)
        except UnusableFileError as error:
            raise ArgumentError(
                f"--dest {dest}: {error}; the download writes only plain files, never through "
                "a link: move it away and run again"
            ) from None
    return dest


def main(argv: list[str] | None = None) -> int:
    """`python -m mtlab download [--dest DIR] [--base-url URL] [--manifest JSON] ...`.

    Returns 0 on success, 1 if a download failed, 2 for a bad argument (one line, no traceback).
    """
    parser = argparse.ArgumentParser(
        prog="python -m mtlab download",
        description="Download the course's CSV files, resuming and checking each one.",
        epilog=f"The address comes from --base-url URL, else the environment variable "
        f"{ENV_VAR}=URL, where URL is the address of the folder holding the course's CSV "
        f"files; else the course repository, {COURSE_URL}",
    )
    add = parser.add_argument
    add(
        "--dest",
        type=Path,
        default=PROJECT_DATA_DIR,
        help="folder to put the files in (default: the project's data/ folder)",
    )
    add("--base-url", help=f"address of the files' folder (default: ${ENV_VAR}, else the course's)")
    add("--manifest", type=Path, help=f"JSON file {{name: {ENTRY}}} for a mirror's files")
    add(
        "--files",
        nargs="+",
        choices=FILES,
        metavar="NAME",
        help=f"download only these files (default: all {len(FILES)})",
    )
    add(
        "--deadline",
        type=float,
        default=DEADLINE_S,
        help=f"seconds allowed per file, from connecting to the last byte (default: {DEADLINE_S:g})",
    )
    add("--quiet", action="store_true", help="no progress bars or messages")
    args = parser.parse_args(argv)
    try:
        paths = download_course_data(
            args.dest,
            args.base_url,
            files=args.files,
            manifest=args.manifest,
            progress=not args.quiet,
            deadline=args.deadline,
        )
    except ArgumentError as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 2
    except (DownloadError, UnusableFileError) as error:  # the latter: a name swapped meanwhile
        print(f"download failed: {error}", file=sys.stderr)
        return 1
    print(f"{len(paths)} file(s) in {args.dest}, every checksum verified.")
    if Path(args.dest).resolve() != PROJECT_DATA_DIR.resolve():
        print(f"To use them: export MTLAB_DATA_DIR={args.dest}")
    return 0
