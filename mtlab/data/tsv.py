"""The file format: UTF-8, one record per line, tab-separated, csv quoting or none, a header.

Every record of the course's files is one line, so a file is split on newlines first and each
line parsed on its own with the csv module in strict mode (quoted fields may hold tabs and
doubled quotes): a broken line costs that line only, and line numbers are an editor's. What
the columns mean is `mtlab.data.reader`'s business; this module only finds them.
"""

from __future__ import annotations

import codecs
import csv
import stat
from collections.abc import Iterator
from pathlib import Path

OTHER_DELIMITERS: dict[str, str] = {",": "comma", ";": "semicolon", "|": "pipe", " ": "space"}
BOM = "\ufeff"
CARRIAGE_RETURN = (
    "a carriage return (\\r) in the middle of the line: each row must be one line ending in "
    "\\n (or \\r\\n)"
)
# said with every quote problem: the file may simply not use quoting
NO_QUOTING = "; if quotes are plain text in this file, register its task with quoting='none'"


class DataFormatError(ValueError):
    """A data file cannot be used as a whole, or has a bad row and strict=True was asked for."""


class BadLine(Exception):
    """A line (or row) that must be skipped; the message says why."""


def check_is_file(path: Path) -> None:
    """A missing file, a folder, a dangling or looping link: each named for what it is."""
    if path.is_symlink() and not path.exists():
        raise DataFormatError(
            f"{path} is a symbolic link that leads nowhere (its target is "
            "missing, or the link loops back on itself); expected a data file"
        )
    if path.is_dir():
        raise DataFormatError(f"{path} is a folder; expected the data file {path.name} there")
    if path.exists() and not path.is_file():
        kind = "a named pipe (FIFO)" if stat.S_ISFIFO(path.stat().st_mode) else "not a regular file"
        raise DataFormatError(
            f"{path} is {kind}; expected a data file mtlab can read whole and read again"
        )
    if not path.is_file():
        raise DataFormatError(
            f"{path.name} not found in {path.parent}. Set MTLAB_DATA_DIR to the folder with "
            "the course's data files, or copy those files into the project's data/ folder."
        )


def read_lines(path: Path, quoting: str = "csv") -> Iterator[tuple[int, list[str] | BadLine]]:
    """Yield (line number, fields) per line, or (line number, BadLine) for a line that is not
    a clean tab-separated record.

    quoting "csv": a field may be quoted, holding tabs and doubled quotes; "none": a quote is
    a plain character (files such as MRPC's, whose unquoted fields hold quotes). A byte order
    mark at the start of a line (two files joined, each with its own) is dropped.
    """
    text = _decode(path, path.read_bytes())
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()  # the newline that ends the last line
    for number, line in enumerate(lines, 1):
        line = line.removesuffix("\r").removeprefix(BOM)
        if quoting == "none":
            yield number, _unquoted_fields(line)
            continue
        try:
            yield number, _fields(line, lines[number] if number < len(lines) else None)
        except BadLine as bad:
            yield number, bad


def _unquoted_fields(line: str) -> list[str] | BadLine:
    """A line split on tabs, quotes and all, for a file written without quoting."""
    if "\r" in line:
        return BadLine(CARRIAGE_RETURN)
    return line.split("\t")


def _decode(path: Path, raw: bytes) -> str:
    """UTF-8 text, or an error that says what the bytes look like instead."""
    if (
        raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
        or raw[:2000].count(0) > len(raw[:2000]) // 10
    ):
        raise DataFormatError(
            f"{path.name}: UTF-16 or binary data (NUL bytes at the start); "
            "expected a UTF-8 tab-separated text file: save it as UTF-8"
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise DataFormatError(
            f"{path.name} line {line}: not UTF-8 text (byte {raw[error.start]:#x}); "
            "expected a UTF-8 tab-separated file"
        ) from None


def _fields(line: str, next_line: str | None) -> list[str]:
    """One line's tab-separated fields; a line the csv module refuses raises BadLine, in words."""
    if "\r" in line:
        raise BadLine(CARRIAGE_RETURN)
    try:
        return next(csv.reader([line], delimiter="\t", strict=True), [])
    except csv.Error as error:
        message = str(error)
    if "unexpected end of data" in message:
        closes = next_line is not None and next_line.count('"') % 2 == 1
        raise BadLine(
            "a quoted field holds a line break (its quote closes on the next line): each "
            "row must be one line, remove the line break" + NO_QUOTING
            if closes
            else "a quote opened on this line is never closed: remove it, or close it (a "
            'quote inside a quoted field is written "")' + NO_QUOTING
        )
    if "expected after" in message:
        raise BadLine(
            "a field starts with a quote but goes on after the closing quote (as in "
            '"Hello" he said): quote the whole field and double the quotes inside it, '
            "or remove the quotes" + NO_QUOTING
        )
    if "field larger than field limit" in message:
        raise BadLine(f"a field longer than {csv.field_size_limit():,} characters")
    raise BadLine(f"not a clean tab-separated line ({message})")


def locate_columns(path: Path, header: list[str], needed: list[str]) -> dict[str, int]:
    """Find each needed column by name, since test-student files have an extra index column."""
    delimiter = _other_delimiter(header, needed)
    if delimiter:
        raise DataFormatError(
            f"{path.name} line 1: header looks {OTHER_DELIMITERS[delimiter]}-separated; "
            f"expected tab-separated columns {needed}, found {_short(header[0])}"
        )
    missing = [name for name in needed if name not in header]
    if missing:
        raise DataFormatError(
            f"{path.name} line 1: header lacks column(s) {missing}; expected columns "
            f"{needed}, found {_short(header)}"
        )
    for name in needed:
        positions = [str(index + 1) for index, found in enumerate(header) if found == name]
        if len(positions) > 1:
            raise DataFormatError(
                f"{path.name} line 1: header names column {name!r} more than once, as fields "
                f"{', '.join(positions[:-1])} and {positions[-1]}; expected each of {needed} "
                f"once, found {_short(header)}"
            )
    return {name: header.index(name) for name in needed}


def _short(value, limit: int = 200) -> str:
    """repr(value), cut to `limit` characters: a binary file's "header" can be huge."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 5] + " ...]"


def _other_delimiter(header: list[str], needed: list[str]) -> str | None:
    """Guess the delimiter of a header with no tab: the one that splits out most needed names."""
    if len(header) != 1:
        return None
    candidates = [delimiter for delimiter in OTHER_DELIMITERS if delimiter in header[0]]

    def fit(delimiter: str) -> tuple[int, int]:
        parts = [part.strip() for part in header[0].split(delimiter)]
        return sum(name in parts for name in needed), len(parts)

    return max(candidates, key=fit, default=None)
