"""Opening files without being fooled by what stands at their names.

A download or a submission writes where a script or another user may have left a symbolic
link, a hard link, a named pipe or a folder. Writing through such a name would change another
file, and opening a pipe would wait forever. So these helpers open without following links
where asked (O_NOFOLLOW), never wait on a pipe (O_NONBLOCK), and check what they opened on the
descriptor itself (fstat), so nothing can be swapped in between the check and the use.
`replacing` writes a new file under a temporary name and renames it only once it is complete.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)  # absent on Windows, where the lstat checks remain
NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # opening a named pipe must not wait for the other end
BINARY = getattr(os, "O_BINARY", 0)  # Windows only: no newline translation
KINDS = {
    stat.S_IFDIR: "a folder",
    stat.S_IFLNK: "a symbolic link",
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a device",
    stat.S_IFBLK: "a device",
}


class UnusableFileError(ValueError):
    """A name does not hold a plain file that can be used as asked; the message says what it is."""


def check_target(path: Path, *, appendable: bool = False) -> os.stat_result | None:
    """The stat of a name that a file may be written to or renamed over; None if absent.

    Absent or a plain file is fine; a link, folder, pipe or device is refused. A file that will
    be appended to (appendable) must also have no other hard link, whose file would change too.
    """
    try:
        info = path.lstat()
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(info.st_mode):
        raise UnusableFileError(f"{path} is {_kind(path, info.st_mode)}, not a plain file")
    if appendable and info.st_nlink > 1:
        raise _hard_links(path, info.st_nlink)
    return info


@contextlib.contextmanager
def open_for_reading(path: Path, *, follow: bool) -> Iterator[tuple[BinaryIO, os.stat_result]]:
    """The plain file at path, opened for reading, and its stat; follow=False refuses a link."""
    flags = os.O_RDONLY | NONBLOCK | (0 if follow else NOFOLLOW) | BINARY
    fd = _open(path, flags, follow=follow)
    try:
        info = _plain(fd, path)  # before fdopen, which refuses a folder in words of its own
    except UnusableFileError:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb") as file:
        yield file, info


@contextlib.contextmanager
def open_for_writing(path: Path, *, append: bool) -> Iterator[BinaryIO]:
    """The plain file at path (created if absent) for appending or rewriting; never a link."""
    flags = os.O_WRONLY | os.O_CREAT | NOFOLLOW | NONBLOCK | BINARY
    fd = _open(path, flags | (os.O_APPEND if append else 0), follow=False)
    with os.fdopen(fd, "ab" if append else "wb") as file:
        if (links := _plain(fd, path).st_nlink) > 1:
            raise _hard_links(path, links)
        if not append:
            os.ftruncate(fd, 0)  # only now: the checks above ran on this very file
        yield file


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[BinaryIO]:
    """A new file that takes path's name only when the block ends without error.

    It is written as a hidden temporary file in the same folder (so the rename is atomic)
    and removed on any error or interruption: path is never half-written.
    """
    temporary, fd = _create_temporary(path)
    try:
        with os.fdopen(fd, "wb") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _create_temporary(path: Path) -> tuple[Path, int]:
    """A new hidden file next to path (mode from the umask, like any new file) and its fd."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW | BINARY
    while True:
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            return temporary, os.open(temporary, flags, 0o666)
        except FileExistsError:
            continue


def _open(path: Path, flags: int, *, follow: bool) -> int:
    """os.open, with the reason it failed as one line naming path."""
    try:
        return os.open(path, flags, 0o666)
    except FileNotFoundError:
        if path.is_symlink():
            link = f"a broken symbolic link (to {_target(path)})"
            raise UnusableFileError(f"{path} is {link}") from None
        raise UnusableFileError(f"{path} does not exist") from None
    except OSError as error:
        if error.errno == errno.ELOOP:
            link = "a symbolic link loop" if follow else f"a symbolic link (to {_target(path)})"
            raise UnusableFileError(f"{path} is {link}, not a plain file") from None
        if error.errno == errno.EISDIR:
            raise UnusableFileError(f"{path} is a folder, not a plain file") from None
        if error.errno == errno.ENXIO:  # a named pipe with nobody at its other end
            raise UnusableFileError(f"{path} is a named pipe (FIFO), not a plain file") from None
        raise UnusableFileError(f"{path}: cannot open it ({error.strerror})") from None


def _plain(fd: int, path: Path) -> os.stat_result:
    """fd's stat, if fd is a plain file; else an error saying what it is."""
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        raise UnusableFileError(f"{path} is {_kind(path, info.st_mode)}, not a plain file")
    return info


def describe(path: Path) -> str:
    """What stands at path, following links: "a file", "a folder", "a named pipe (FIFO)", ...,
    "a broken symbolic link (to ...)" or "nothing"."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return f"a broken symbolic link (to {_target(path)})" if path.is_symlink() else "nothing"
    return "a file" if stat.S_ISREG(mode) else _kind(path, mode)


def _hard_links(path: Path, links: int) -> UnusableFileError:
    return UnusableFileError(
        f"{path} has {links} hard links: writing to it would change the file under its "
        "other names too"
    )


def _kind(path: Path, mode: int) -> str:
    kind = KINDS.get(stat.S_IFMT(mode), "not a plain file")
    return f"{kind} (to {_target(path)})" if stat.S_ISLNK(mode) else kind


def _target(path: Path) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return "?"
