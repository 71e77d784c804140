"""A run's output folder: checked writable before any work, and held by one run at a time.

Two runs writing into one folder would replace each other's checkpoints halfway. The first
run holds an flock on `<folder>/.lock`; the system releases it when that process ends, even
after `kill -9`, so the lock never goes stale. A second run stops at once and says which
process holds the folder.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no flock; runs there are not guarded against each other
    fcntl = None

LOCK_NAME = ".lock"


class FolderInUseError(RuntimeError):
    """Another running process holds the output folder."""


class OutputWriteError(OSError):
    """A file of the run could not be written (a full disk, say); nothing half-written is left."""


def check_writable_folder(folder: Path, source: str) -> None:
    """Refuse a folder that cannot be created or written, naming where it came from (`source`:
    an option such as "--output-dir") and what to do; creates the folder if it is missing."""
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{source} {folder} is a file; expected a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):  # the only test that also holds for root
            pass
    except OSError as e:
        raise ValueError(
            f"{source} {folder} cannot be written ({e.strerror or type(e).__name__}): "
            f"choose a folder you can write to with {source}"
        ) from None


@contextmanager
def hold_folder(folder: Path) -> Iterator[None]:
    """Hold `folder` for this process while the block runs (or until the process ends)."""
    if fcntl is None:
        yield
        return
    with open(folder / LOCK_NAME, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise FolderInUseError(
                f"{folder} is in use by a run still going ({holder}): wait for it to finish, "
                "stop it, or choose another --output-dir"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, started {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
        handle.flush()
        yield  # closing the file releases the lock


def write_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """`write(tmp)` to a temporary name beside `path`, then rename it: a full disk or a kill
    leaves the old file or none, never half of one; a failure is one line naming the path."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise OutputWriteError(
            f"could not write {path} ({e.strerror or e}): nothing half-written is left; free "
            "some space or choose another --output-dir, then run again (--resume keeps the "
            "finished phases)"
        ) from None
