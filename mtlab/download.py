"""Download the course's data files, resuming partial downloads and checking every byte.

    python -m mtlab download                    # from the course repository into data/
    python -m mtlab download --base-url https://mirror.example/data/ --manifest mirror.json

The address is --base-url, else $MTLAB_DATA_URL, else COURSE_URL (the course's repository).
Each file goes to ``<name>.part``, is resumed with an HTTP Range request after an
interruption, is checked against the manifest (`mtlab.manifest`: git blob ids) and only then
renamed: a file under its real name is complete and correct. A broken or hostile server can
neither fill the disk (at most the manifest's size) nor hang the command (--deadline per
file, TIMEOUT_S per read). Bad arguments fail before any network work.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from mtlab.data import PROJECT_DATA_DIR
from mtlab.manifest import ENTRY, FILES, LABELS, Expected, ManifestError, file_digest, load_manifest

ENV_VAR = "MTLAB_DATA_URL"
COURSE_URL = "https://raw.githubusercontent.com/gpoesia/minbert-default-final-project/main/data/"

DEADLINE_S = 600.0  # per file: a body that trickles in forever fails instead of hanging
TIMEOUT_S = 30.0  # for connecting and for each read: a stalled server fails instead of hanging
CHUNK = 1 << 16


class DownloadError(RuntimeError):
    """A file could not be downloaded; the message names the URL and what went wrong."""


class ChecksumError(DownloadError):
    """A downloaded file is not the one the manifest names; the bad download was deleted."""


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
    dest = _prepare_folder(Path(dest))
    opener = urllib.request.build_opener()  # honours http_proxy/https_proxy/no_proxy
    opener.addheaders = [("User-Agent", "mtlab-downloader")]
    paths = []
    for name in names:
        path = dest / name
        if path.is_file() and file_digest(path, expected[name].kind) == expected[name].digest:
            _say(progress, f"{name}: already present, checksum ok")
        else:
            if path.exists():
                _say(progress, f"{name}: present but its checksum differs; downloading it again")
            job = _Job(base + name, path, expected[name], progress, timeout, deadline)
            _download_one(opener, job)
        paths.append(path)
    return paths


def _prepare_folder(dest: Path) -> Path:
    """dest, created if missing; a file in its place is an argument error, not a traceback."""
    if dest.exists() and not dest.is_dir():
        raise ArgumentError(f"--dest {dest} is a file, not a folder: give the folder to fill")
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ArgumentError(f"--dest {dest}: cannot create it ({error.strerror})") from None
    return dest


@dataclass
class _Job:
    """One file to fetch: where from, where to, what it must be, and the limits."""

    url: str
    path: Path
    expected: Expected
    progress: bool
    timeout: float  # per read
    deadline: float  # seconds for the whole file
    until: float = 0.0  # the deadline on the time.monotonic() clock, set when fetching starts

    @property
    def part(self) -> Path:
        return self.path.with_name(self.path.name + ".part")


def _download_one(opener, job: _Job) -> None:
    """Download into <name>.part (resuming it if present), check it, rename it to its name."""
    part, expected = job.part, job.expected
    have = part.stat().st_size if part.is_file() else 0
    if have > expected.cap:
        _say(job.progress, f"{job.path.name}: {part.name} is larger than the file; starting over")
        part.unlink()
        have = 0
    complete = part.is_file() and (  # a part of unknown size may be complete: its digest tells
        have == expected.size
        or (expected.size is None and file_digest(part, expected.kind) == expected.digest)
    )
    if not complete:
        job.until = time.monotonic() + job.deadline
        have = _fetch(opener, job, have)
    got = file_digest(part, expected.kind)
    if got != expected.digest:
        part.unlink()
        raise ChecksumError(
            f"{job.path.name} downloaded from {job.url} is not the expected file: "
            f"{LABELS[expected.kind]} expected {expected.digest}, got {got} ({have:,} bytes). "
            "The bad download was deleted, so running again starts clean; if it fails again, "
            "the server holds another version (give its ids with --manifest)."
        )
    os.replace(part, job.path)


def _fetch(opener, job: _Job, offset: int) -> int:
    """Append the rest of the file to the .part from byte offset (or rewrite it); return its size."""
    request = urllib.request.Request(job.url)
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    try:
        response = opener.open(request, timeout=job.timeout)
    except urllib.error.HTTPError as error:
        error.close()
        if error.code == 416 and offset:  # our partial file does not fit the server's file
            _say(job.progress, f"{job.part.name}: the server refused to resume it; starting over")
            job.part.unlink()
            return _fetch(opener, job, 0)
        raise DownloadError(f"{job.url}: HTTP {error.code} {error.reason}") from None
    except urllib.error.URLError as error:
        raise DownloadError(f"{job.url}: could not connect ({error.reason})") from None
    except (OSError, http.client.HTTPException) as error:
        raise DownloadError(f"{job.url}: could not connect ({_describe(error)})") from None
    with response:
        mode, offset = _write_mode(response, job, offset)
        length = response.headers.get("Content-Length")
        total = offset + int(length) if length and length.isdigit() else None
        if total is not None and total > job.expected.cap:  # refused before reading a byte
            raise _too_big(job, f"announced {total:,} bytes")
        received = _copy(response, job, mode, offset, total)
    if total is not None and received < total:
        raise _cut_off(job, received, total, "the connection closed early")
    return received


def _write_mode(response, job: _Job, offset: int) -> tuple[str, int]:
    """("ab", offset) if the server resumes at offset, ("wb", 0) if it sends the whole file."""
    if response.status == 206 and offset:
        content_range = response.headers.get("Content-Range", "")
        if not re.match(rf"bytes {offset}-", content_range):
            raise DownloadError(
                f"{job.url}: asked for bytes from {offset} on but the server sent "
                f"{content_range or 'no Content-Range'}; delete {job.part} and run again"
            )
        return "ab", offset
    if response.status != 200:
        raise DownloadError(
            f"{job.url}: unexpected HTTP status {response.status} {response.reason}"
        )
    if offset:
        _say(job.progress, f"{job.part.name}: the server cannot resume; starting over")
    return "wb", 0


def _copy(response, job: _Job, mode: str, offset: int, total: int | None) -> int:
    """Write the body to the .part, stopping at the size cap or the deadline; return its size."""
    received = offset
    read = getattr(response, "read1", response.read)  # what has arrived, without waiting
    with open(job.part, mode) as out, _progress_bar(job.part, total, offset, job.progress) as bar:
        try:
            while (chunk := read(CHUNK)) and received + len(chunk) <= job.expected.cap:
                out.write(chunk)
                received += len(chunk)
                bar.update(len(chunk))
                if time.monotonic() > job.until:  # between reads: overshot by one timeout at most
                    raise _cut_off(job, received, total, f"past the {job.deadline:g} s deadline")
        except (OSError, http.client.HTTPException) as error:
            raise _cut_off(job, received, total, _describe(error)) from None
    if chunk:  # the loop stopped at the cap with the body still coming
        raise _too_big(job, f"sent more: {received + len(chunk):,} bytes arrived")
    return received


def _too_big(job: _Job, what: str) -> DownloadError:
    """Delete the .part (its source sends more than the file can be) and say why."""
    job.part.unlink(missing_ok=True)
    known = job.expected.size is not None
    why = "the file's size in the manifest" if known else "the manifest gives no size"
    return DownloadError(
        f"{job.url}: the server {what}, over the cap of {job.expected.cap:,} bytes ({why}); "
        f"stopped and deleted {job.part.name}: the server holds another file than expected."
    )


def _cut_off(job: _Job, received: int, total: int | None, why: str) -> DownloadError:
    of = f" of {total:,}" if total is not None else ""
    return DownloadError(
        f"{job.url}: download interrupted after {received:,}{of} bytes ({why}). The partial "
        f"file {job.part} is kept: run the same command again to resume from byte {received:,}."
    )


def _describe(error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return "timed out: the server stopped sending"
    if isinstance(error, http.client.IncompleteRead):
        return "the connection closed early"
    if isinstance(error, ConnectionResetError):
        return "connection reset by the server"
    return f"{type(error).__name__}: {error}"


def _progress_bar(part: Path, total: int | None, initial: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(
        total=total, initial=initial, desc=part.name.removesuffix(".part"), unit="B",
        unit_scale=True, unit_divisor=1024, disable=not enabled, leave=True,
    )  # fmt: skip


def _say(enabled: bool, message: str) -> None:
    if enabled:
        print(message, file=sys.stderr)


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
    add("--dest", type=Path, default=PROJECT_DATA_DIR,
        help="folder to put the files in (default: the project's data/ folder)")  # fmt: skip
    add("--base-url", help=f"address of the files' folder (default: ${ENV_VAR}, else the course's)")
    add("--manifest", type=Path, help=f"JSON file {{name: {ENTRY}}} for a mirror's files")
    add("--files", nargs="+", choices=FILES, metavar="NAME",
        help=f"download only these files (default: all {len(FILES)})")  # fmt: skip
    add("--deadline", type=float, default=DEADLINE_S,
        help=f"seconds allowed per file (default: {DEADLINE_S:g})")  # fmt: skip
    add("--quiet", action="store_true", help="no progress bars or messages")
    args = parser.parse_args(argv)
    try:
        paths = download_course_data(
            args.dest, args.base_url, files=args.files, manifest=args.manifest,
            progress=not args.quiet, deadline=args.deadline,
        )  # fmt: skip
    except ArgumentError as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 2
    except DownloadError as error:
        print(f"download failed: {error}", file=sys.stderr)
        return 1
    print(f"{len(paths)} file(s) in {args.dest}, every checksum verified.")
    if Path(args.dest).resolve() != PROJECT_DATA_DIR.resolve():
        print(f"To use them: export MTLAB_DATA_DIR={args.dest}")
    return 0
