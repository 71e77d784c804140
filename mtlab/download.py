"""Download the course's data files, resuming partial downloads and checking every byte.

    python -m mtlab download --base-url https://example.org/cs224n/data/
    MTLAB_DATA_URL=https://example.org/cs224n/data/ python -m mtlab download --dest data

mtlab has no default host: the address of the folder holding the course's CSV files
comes from --base-url, else the MTLAB_DATA_URL environment variable. Each file is fetched
from ``base_url + name`` into ``<name>.part``; an interrupted download keeps its .part and
the next run asks the server for the rest only (an HTTP Range request). The finished file
is checked against the sha256 digest below and only then renamed to its final name, so a
file under its real name is always complete and correct. Files already present with the
right digest are skipped. Only the standard library and tqdm are used.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import os
import re
import sys
import urllib.error
import urllib.request
from collections.abc import Iterable
from pathlib import Path

from mtlab.data import PROJECT_DATA_DIR

ENV_VAR = "MTLAB_DATA_URL"

# sha256 and size in bytes of each course file, as distributed to this lab.
SHA256: dict[str, str] = {
    "ids-sst-train.csv": "03b2b625c090f94a6afd59f114cde5282e2053aab0b101e87ed695d8a0c5b1df",
    "ids-sst-dev.csv": "a186ce94577635fbe10beaaddd50f16cccf6c30973221cefdf90deed2a584bfe",
    "ids-sst-test-student.csv": "bdd5a767faa0c26782117e37767ece154c30d5d04fb8727d09c71e3850a55c7b",
    "quora-train.csv": "6be185dcfeeb0ce3bad8801282acf0d8c5e4a1f1df556631106da9b62b72b26e",
    "quora-dev.csv": "d07a23870ccc1ae62659454901b1b7d50704a61132399b7b684db0008fa3af9b",
    "sts-train.csv": "15d12efc2d656fffb1d61ac1f08ec4227f43925fd16f420c037cbd063699c21b",
    "sts-dev.csv": "ce3cad6f16062586ac7ba462c28b010a9be10c530fd5074165860d7b7ab4e93d",
    "sts-test-student.csv": "dee455745b72e9ca3ff74e7c056bd73e34bad5b8d5641045a2c1e7e131866f47",
    "ids-cfimdb-train.csv": "140fc513045a966109faed46a5c7a898767b96714d71bcb9c15f659129fadcea",
    "ids-cfimdb-dev.csv": "3087f571b66860fe5d035b5a018d08202ad3fd3720e4821c04b2acf6c7ded559",
    "ids-cfimdb-test-student.csv": "7ae611548c9eac879e9ebb406cc9f8ae68ff12f78090e4965af5cbdfa06240f4",
}
FILES: tuple[str, ...] = tuple(SHA256)  # the course's files, CFIMDB's included
SIZES: dict[str, int] = {
    "ids-sst-train.csv": 1175139,
    "ids-sst-dev.csv": 151384,
    "ids-sst-test-student.csv": 313202,
    "quora-train.csv": 2330498,
    "quora-dev.csv": 419573,
    "sts-train.csv": 928832,
    "sts-dev.csv": 132265,
    "sts-test-student.csv": 256677,
    "ids-cfimdb-train.csv": 1693182,
    "ids-cfimdb-dev.csv": 249095,
    "ids-cfimdb-test-student.csv": 495595,
}

TIMEOUT_S = 30.0  # for connecting and for each read: a stalled server fails instead of hanging
CHUNK = 1 << 16
NO_URL_MESSAGE = (
    "no download address: pass --base-url URL, or set the environment variable "
    f"{ENV_VAR}=URL, where URL is the address of the folder holding the course's CSV files "
    "(mtlab has no default host)"
)


class DownloadError(RuntimeError):
    """A file could not be downloaded; the message names the URL and what went wrong."""


class ChecksumError(DownloadError):
    """A downloaded file does not match its sha256 digest; the bad download was deleted."""


def resolve_base_url(base_url: str | None = None) -> str:
    """The --base-url argument, else $MTLAB_DATA_URL, always ending with one '/'."""
    url = base_url or os.environ.get(ENV_VAR, "").strip()
    if not url:
        raise DownloadError(NO_URL_MESSAGE)
    return url if url.endswith("/") else url + "/"


def download_course_data(
    dest: str | Path,
    base_url: str | None,
    *,
    files: Iterable[str] | None = None,
    progress: bool = True,
    timeout: float = TIMEOUT_S,
) -> list[Path]:
    """Fetch the course files into dest; return their paths (in the order asked for).

    base_url=None reads $MTLAB_DATA_URL. files=None means all eleven course files.
    Raises DownloadError (or its subclass ChecksumError) naming the URL on any failure;
    files finished before the failure stay in place, and re-running resumes the rest.
    """
    names = list(FILES if files is None else [files] if isinstance(files, str) else files)
    unknown = [name for name in names if name not in SHA256]
    if unknown:
        raise ValueError(f"unknown course file(s) {unknown}; valid names: {', '.join(FILES)}")
    base = resolve_base_url(base_url)
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    opener = urllib.request.build_opener()  # honours http_proxy/https_proxy/no_proxy
    opener.addheaders = [("User-Agent", "mtlab-downloader")]
    paths = []
    for name in names:
        path = dest / name
        if path.is_file() and _sha256(path) == SHA256[name]:
            _say(progress, f"{name}: already present, checksum ok")
        else:
            if path.exists():
                _say(progress, f"{name}: present but its checksum differs; downloading it again")
            _download_one(opener, base + name, path, progress=progress, timeout=timeout)
        paths.append(path)
    return paths


def _download_one(opener, url: str, path: Path, *, progress: bool, timeout: float) -> None:
    """Download url into path.part (resuming it if present), check it, rename it to path."""
    name = path.name
    part = path.with_name(name + ".part")
    size = part.stat().st_size if part.is_file() else 0
    if size > SIZES[name]:
        _say(progress, f"{name}: {part.name} is larger than the file; starting over")
        part.unlink()
        size = 0
    if size < SIZES[name]:
        size = _fetch(opener, url, part, size, progress=progress, timeout=timeout)
    got = _sha256(part)
    if got != SHA256[name]:
        part.unlink()
        raise ChecksumError(
            f"{name} downloaded from {url} is not the expected file: sha256 expected "
            f"{SHA256[name]}, got {got} ({size:,} bytes). The bad download was deleted, so "
            "running again starts clean; if it fails again, the server holds another version."
        )
    os.replace(part, path)


def _fetch(opener, url: str, part: Path, offset: int, *, progress: bool, timeout: float) -> int:
    """Append the rest of url to part from byte offset (or rewrite it); return its new size."""
    request = urllib.request.Request(url)
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    try:
        response = opener.open(request, timeout=timeout)
    except urllib.error.HTTPError as error:
        error.close()
        if error.code == 416 and offset:  # our partial file does not fit the server's file
            _say(progress, f"{part.name}: the server refused to resume it; starting over")
            part.unlink()
            return _fetch(opener, url, part, 0, progress=progress, timeout=timeout)
        raise DownloadError(f"{url}: HTTP {error.code} {error.reason}") from None
    except urllib.error.URLError as error:
        raise DownloadError(f"{url}: could not connect ({error.reason})") from None
    except (OSError, http.client.HTTPException) as error:
        raise DownloadError(f"{url}: could not connect ({_describe(error)})") from None

    with response:
        status = response.status or 200  # file:// URLs have no status
        if status == 206 and offset:
            content_range = response.headers.get("Content-Range", "")
            if not re.match(rf"bytes {offset}-", content_range):
                raise DownloadError(
                    f"{url}: asked for bytes from {offset} on but the server sent "
                    f"{content_range or 'no Content-Range'}; delete {part} and run again"
                )
            mode = "ab"
        elif status == 200:
            if offset:
                _say(progress, f"{part.name}: the server cannot resume; starting over")
            offset, mode = 0, "wb"
        else:
            raise DownloadError(f"{url}: unexpected HTTP status {status} {response.reason}")
        length = response.headers.get("Content-Length")
        expected = offset + int(length) if length and length.isdigit() else None
        received = offset
        read = getattr(response, "read1", response.read)  # what has arrived, without waiting
        with open(part, mode) as out, _progress_bar(part, expected, offset, progress) as bar:
            try:
                while chunk := read(CHUNK):
                    out.write(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
            except (OSError, http.client.HTTPException) as error:
                raise _cut_off(url, part, received, expected, _describe(error)) from None
    if expected is not None and received < expected:
        raise _cut_off(url, part, received, expected, "the connection closed early")
    return received


def _cut_off(url: str, part: Path, received: int, expected: int | None, why: str):
    of = f" of {expected:,}" if expected is not None else ""
    return DownloadError(
        f"{url}: download interrupted after {received:,}{of} bytes ({why}). The partial "
        f"file {part} is kept: run the same command again to resume from byte {received:,}."
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


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _say(enabled: bool, message: str) -> None:
    if enabled:
        print(message, file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """`python -m mtlab download [--dest DIR] [--base-url URL] [--files NAME ...]`."""
    parser = argparse.ArgumentParser(
        prog="python -m mtlab download",
        description="Download the course's CSV files, resuming and checking each one.",
        epilog=f"The address comes from --base-url, else ${ENV_VAR}; there is no default host.",
    )
    parser.add_argument(
        "--dest", type=Path, default=PROJECT_DATA_DIR,
        help="folder to put the files in (default: the project's data/ folder)",
    )  # fmt: skip
    parser.add_argument(
        "--base-url", default=None,
        help=f"address of the folder holding the files (default: ${ENV_VAR})",
    )  # fmt: skip
    parser.add_argument(
        "--files", nargs="+", choices=FILES, metavar="NAME",
        help="download only these files (default: all eleven)",
    )  # fmt: skip
    parser.add_argument("--quiet", action="store_true", help="no progress bars or messages")
    args = parser.parse_args(argv)
    try:
        base = resolve_base_url(args.base_url)
    except DownloadError as error:
        parser.error(str(error))
    try:
        paths = download_course_data(args.dest, base, files=args.files, progress=not args.quiet)
    except DownloadError as error:
        print(f"download failed: {error}", file=sys.stderr)
        return 1
    print(f"{len(paths)} file(s) in {args.dest}, every sha256 checksum verified.")
    if Path(args.dest).resolve() != PROJECT_DATA_DIR.resolve():
        print(f"To use them: export MTLAB_DATA_DIR={args.dest}")
    return 0
