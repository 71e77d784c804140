"""One file over HTTP: resumed from its .part, bounded in size and time, checked, then renamed.

The finished bytes are checked against the file's expected digest (`mtlab.data.manifest`) and only
then renamed to the file's real name, so a file under its real name is complete and correct.
A broken or hostile server can neither fill the disk (at most the expected size, or a cap)
nor hang the caller (a deadline for the whole file, from connecting to the last byte, kept by
`mtlab.data.deadline`; a timeout for each read). Nothing is written through a link or into
anything but a plain file (`mtlab.data.safe_files`).
"""

from __future__ import annotations

import http.client
import os
import re
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from mtlab.data.deadline import Watchdog, opener
from mtlab.data.manifest import LABELS, Expected, file_digest
from mtlab.data.safe_files import UnusableFileError, check_target, open_for_writing

CHUNK = 1 << 16
USER_AGENT = "mtlab-downloader"


class DownloadError(RuntimeError):
    """A file could not be downloaded; the message names the URL and what went wrong."""


class ChecksumError(DownloadError):
    """A downloaded file is not the one the manifest names; the bad download was deleted."""


@dataclass
class Job:
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


def download_one(job: Job) -> None:
    """Download into <name>.part (resuming it if present), check it, rename it to its name."""
    try:
        have = _fetch_unless_complete(job)
        got = file_digest(job.part, job.expected.kind)
        if got != job.expected.digest:
            job.part.unlink()
            raise _wrong_file(job, got, have)
        check_target(job.path)  # still absent or a plain file: never rename over a link
        os.replace(job.part, job.path)
    except UnusableFileError as error:
        raise DownloadError(
            f"{error}: the download writes only plain files; move it away and run again"
        ) from None


def _fetch_unless_complete(job: Job) -> int:
    """The .part's size once it holds the whole file, fetched or resumed if it does not."""
    part, expected = job.part, job.expected
    info = check_target(part, appendable=True)
    have = info.st_size if info else None
    if have is not None and have > expected.cap:
        say(job.progress, f"{job.path.name}: {part.name} is larger than the file; starting over")
        part.unlink()
        have = None
    complete = have is not None and (  # a part of unknown size may be complete: its digest tells
        have == expected.size
        or (expected.size is None and file_digest(part, expected.kind) == expected.digest)
    )
    if complete:
        return have
    job.until = time.monotonic() + job.deadline
    with Watchdog(job.until) as watchdog:
        return _fetch(opener(watchdog, USER_AGENT), job, have or 0)


def _wrong_file(job: Job, got: str, have: int) -> ChecksumError:
    expected = job.expected
    return ChecksumError(
        f"{job.path.name} downloaded from {job.url} is not the expected file: "
        f"{LABELS[expected.kind]} expected {expected.digest}, got {got} ({have:,} bytes). "
        "The bad download was deleted, so running again starts clean; if it fails again, "
        "the server holds another version (give its ids with --manifest)."
    )


def _fetch(opener, job: Job, offset: int) -> int:
    """Append the rest of the file to the .part from byte offset (or rewrite it); return its size."""
    request = urllib.request.Request(job.url)
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    try:
        response = opener.open(request, timeout=job.timeout)
    except urllib.error.HTTPError as error:
        error.close()
        if error.code == 416 and offset:  # our partial file does not fit the server's file
            say(job.progress, f"{job.part.name}: the server refused to resume it; starting over")
            job.part.unlink()
            return _fetch(opener, job, 0)
        raise DownloadError(f"{job.url}: HTTP {error.code} {error.reason}") from None
    except (OSError, http.client.HTTPException) as error:  # URLError is an OSError
        if _past_deadline(job):
            raise DownloadError(
                f"{job.url}: no complete response within the {job.deadline:g} s deadline "
                "(the server is silent or too slow)"
            ) from None
        reason = error.reason if isinstance(error, urllib.error.URLError) else _describe(error)
        raise DownloadError(f"{job.url}: could not connect ({reason})") from None
    with response:
        mode, offset = _write_mode(response, job, offset)
        length = response.headers.get("Content-Length")
        total = offset + int(length) if length and length.isdigit() else None
        if total is not None and total > job.expected.cap:  # refused before reading a byte
            raise _too_big(job, f"announced {total:,} bytes")
        received = _copy(response, job, mode, offset, total)
    if received != total and _past_deadline(job):  # the watchdog ended the body
        raise _cut_off(job, received, total, f"past the {job.deadline:g} s deadline")
    if total is not None and received < total:
        raise _cut_off(job, received, total, "the connection closed early")
    return received


def _write_mode(response, job: Job, offset: int) -> tuple[str, int]:
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
        say(job.progress, f"{job.part.name}: the server cannot resume; starting over")
    return "wb", 0


def _copy(response, job: Job, mode: str, offset: int, total: int | None) -> int:
    """Write the body to the .part, stopping at the size cap or the deadline; return its size."""
    received = offset
    read = getattr(response, "read1", response.read)  # what has arrived, without waiting
    with (
        open_for_writing(job.part, append=mode == "ab") as out,
        _progress_bar(job.part, total, offset, job.progress) as bar,
    ):
        try:
            while (chunk := read(CHUNK)) and received + len(chunk) <= job.expected.cap:
                out.write(chunk)
                received += len(chunk)
                bar.update(len(chunk))
                if _past_deadline(job):  # a read that returned after it, before the watchdog
                    raise _cut_off(job, received, total, f"past the {job.deadline:g} s deadline")
        except (OSError, http.client.HTTPException) as error:
            why = f"past the {job.deadline:g} s deadline" if _past_deadline(job) else None
            raise _cut_off(job, received, total, why or _describe(error)) from None
    if chunk:  # the loop stopped at the cap with the body still coming
        raise _too_big(job, f"sent more: {received + len(chunk):,} bytes arrived")
    return received


def _too_big(job: Job, what: str) -> DownloadError:
    """Delete the .part (its source sends more than the file can be) and say why."""
    job.part.unlink(missing_ok=True)
    known = job.expected.size is not None
    why = "the file's size in the manifest" if known else "the manifest gives no size"
    return DownloadError(
        f"{job.url}: the server {what}, over the cap of {job.expected.cap:,} bytes ({why}); "
        f"stopped and deleted {job.part.name}: the server holds another file than expected."
    )


def _cut_off(job: Job, received: int, total: int | None, why: str) -> DownloadError:
    of = f" of {total:,}" if total is not None else ""
    return DownloadError(
        f"{job.url}: download interrupted after {received:,}{of} bytes ({why}). The partial "
        f"file {job.part} is kept: run the same command again to resume from byte {received:,}."
    )


def _past_deadline(job: Job) -> bool:
    return time.monotonic() >= job.until


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
        total=total,
        initial=initial,
        desc=part.name.removesuffix(".part"),
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        disable=not enabled,
        leave=True,
    )


def say(enabled: bool, message: str) -> None:
    """Progress messages on stderr, unless quiet."""
    if enabled:
        print(message, file=sys.stderr)
