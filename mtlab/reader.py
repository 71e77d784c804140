"""Reading one task's rows, from a tab-separated file or from memory, into example dicts.

The CS224N minBERT files have quirks: a blank-named row index column, an extra index
column in the SST and CFIMDB ``*-test-student.csv`` files, sentences that start with a
space, Quora labels written as ``0.0``/``1.0``, quoted fields with doubled quotes, and two
Quora rows that are broken in the source itself. This module reads them with a real CSV
parser, finds columns by their header name (the task table says which), and reports
every row it cannot use (file and line), so that nothing is dropped silently.
"""

from __future__ import annotations

import codecs
import csv
import math
import re
import sys
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from mtlab.tasks import Task, get_task

# Delimiters that a header without tabs may have been written with, named for messages.
OTHER_DELIMITERS: dict[str, str] = {",": "comma", ";": "semicolon", "|": "pipe", " ": "space"}
MAX_LINES_IN_SUMMARY = 5


class DataFormatError(ValueError):
    """A data file cannot be used as a whole, or has a bad row and strict=True was asked for."""


@dataclass(frozen=True)
class RowProblem:
    """One row that was skipped, with where it is and why, so it can be found and fixed."""

    path: Path
    line: int
    problem: str
    unit: str = "line"  # "row" for rows given in memory

    def __str__(self) -> str:
        return f"{self.path.name} {self.unit} {self.line}: {self.problem}"


class _BadRow(Exception):
    """Raised inside the parser for a row that must be skipped; the message says why."""


def read_task_file(
    path: str | Path, task: str | Task, *, labelled: bool, strict: bool = False
) -> tuple[list[dict], list[RowProblem]]:
    """Parse one task's file into example dicts plus the rows that were skipped.

    A file that cannot be used at all raises DataFormatError. A bad row is skipped,
    recorded as a RowProblem and summarised on stderr; with strict=True it raises instead.
    """
    spec = get_task(task)
    path = Path(path)
    _check_is_file(path)
    needed = _needed_columns(spec, labelled)
    rows = _read_rows(path)
    first = next(rows, None)
    if first is None:
        raise DataFormatError(f"{path.name} is empty: expected a tab-separated header {needed}")
    if isinstance(first[1], _BadRow) or not any(field.strip() for field in first[1]):
        why = "is blank" if not isinstance(first[1], _BadRow) else f"is not a header: {first[1]}"
        raise DataFormatError(f"{path.name} line 1 {why}; expected the header, tab-separated "
                              f"columns {needed}, on the first line")  # fmt: skip
    header = [name.strip() for name in first[1]]
    columns = _locate_columns(path, header, needed)
    return _parse_rows(rows, path, "line", header, columns, spec, labelled, strict)


def _check_is_file(path: Path) -> None:
    """A missing file, a folder, a dangling or looping link: each named for what it is."""
    if path.is_symlink() and not path.exists():
        raise DataFormatError(f"{path} is a symbolic link that leads nowhere (its target is "
                              "missing, or the link loops back on itself); expected a data file")  # fmt: skip
    if path.is_dir():
        raise DataFormatError(f"{path} is a folder; expected the data file {path.name} there")
    if not path.is_file():
        raise DataFormatError(
            f"{path.name} not found in {path.parent}. Set MTLAB_DATA_DIR to the folder with "
            "the course's data files, or copy those files into the project's data/ folder."
        )


def read_task_rows(
    rows: pd.DataFrame | Iterable[dict], task: str | Task, split: str, *, labelled: bool,
    strict: bool = False,
) -> tuple[list[dict], list[RowProblem]]:  # fmt: skip
    """The same checks for rows given in memory (a DataFrame or a list of dicts)."""
    spec = get_task(task)
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    needed = _needed_columns(spec, labelled)
    name = Path(f"{spec.name} {split} rows")
    header = [str(column) for column in frame.columns]
    missing = [column for column in needed if column not in header]
    if missing:
        raise DataFormatError(
            f"{name.name}: no column(s) {missing}; expected columns {needed}, found {header}"
        )
    columns = {column: header.index(column) for column in needed}
    records = ((i + 1, [_as_text(value) for value in row]) for i, row in
               enumerate(frame.itertuples(index=False, name=None)))  # fmt: skip
    return _parse_rows(records, name, "row", header, columns, spec, labelled, strict)


def _as_text(value) -> str:
    """A cell of a DataFrame as the text a file would hold (a missing value is blank)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def _needed_columns(spec: Task, labelled: bool) -> list[str]:
    return [spec.id_column, *spec.text_columns] + ([spec.label_column] if labelled else [])


def _parse_rows(
    rows: Iterator[tuple[int, list[str] | _BadRow]], path: Path, unit: str, header: list[str],
    columns: dict[str, int], spec: Task, labelled: bool, strict: bool,
) -> tuple[list[dict], list[RowProblem]]:  # fmt: skip
    """Every row through _parse_row; bad ones skipped and reported (or raised when strict)."""
    examples: list[dict] = []
    problems: list[RowProblem] = []
    first_line_of_id: dict[str, int] = {}
    for line, fields in rows:
        try:
            if isinstance(fields, _BadRow):
                raise fields
            if [field.strip() for field in fields] == header:
                raise _BadRow("a copy of the header row (were two files joined into one?)")
            example = _parse_row(fields, len(header), columns, spec, labelled)
            if example["id"] in first_line_of_id:
                earlier = first_line_of_id[example["id"]]
                raise _BadRow(f"duplicate id {example['id']!r} (first seen on {unit} {earlier})")
        except _BadRow as bad:
            problem = RowProblem(path, line, str(bad), unit)
            if strict:
                raise DataFormatError(f"{problem} (strict=True; strict=False skips it)") from None
            problems.append(problem)
            continue
        first_line_of_id[example["id"]] = line
        examples.append(example)

    if not examples:
        if problems:
            raise DataFormatError(
                f"{path.name}: none of its {len(problems)} rows is usable ({problems[0]})"
            )
        raise DataFormatError(
            f"{path.name} has a header but no data rows: expected at least one row of "
            f"{'tab-separated ' if unit == 'line' else ''}columns {_needed_columns(spec, labelled)}"
        )
    if problems:
        _print_summary(path, problems)
    return examples, problems


def _read_rows(path: Path) -> Iterator[tuple[int, list[str] | _BadRow]]:
    """Yield (line number, fields) per line, or (line number, _BadRow) for a line that is not
    a clean tab-separated record.

    Every record of these files is one line, so the file is split on newlines first and each
    line parsed on its own with the csv module in strict mode (quoted fields may hold tabs and
    doubled quotes): a broken line costs that line only, and line numbers are an editor's.
    """
    raw = path.read_bytes()
    text = _decode(path, raw)
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()  # the newline that ends the last line
    for number, line in enumerate(lines, 1):
        try:
            yield (
                number,
                _fields(line.removesuffix("\r"), lines[number] if number < len(lines) else None),
            )
        except _BadRow as bad:
            yield number, bad


def _decode(path: Path, raw: bytes) -> str:
    """UTF-8 text, or an error that says what the bytes look like instead."""
    if (
        raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
        or raw[:2000].count(0) > len(raw[:2000]) // 10
    ):
        raise DataFormatError(f"{path.name}: UTF-16 or binary data (NUL bytes at the start); "
                              "expected a UTF-8 tab-separated text file: save it as UTF-8")  # fmt: skip
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise DataFormatError(
            f"{path.name} line {line}: not UTF-8 text (byte {raw[error.start]:#x}); "
            "expected a UTF-8 tab-separated file"
        ) from None


def _fields(line: str, next_line: str | None) -> list[str]:
    """One line's tab-separated fields; a line the csv module refuses raises _BadRow, in words."""
    if "\r" in line:
        raise _BadRow("a carriage return (\\r) in the middle of the line: each row must be one "
                      "line ending in \\n (or \\r\\n)")  # fmt: skip
    try:
        return next(csv.reader([line], delimiter="\t", strict=True), [])
    except csv.Error as error:
        message = str(error)
    if "unexpected end of data" in message:
        closes = next_line is not None and next_line.count('"') % 2 == 1
        raise _BadRow("a quoted field holds a line break (its quote closes on the next line): each "
                      "row must be one line, remove the line break" if closes else
                      "a quote opened on this line is never closed: remove it, or close it (a "
                      'quote inside a quoted field is written "")')  # fmt: skip
    if "expected after" in message:
        raise _BadRow('a field starts with a quote but goes on after the closing quote (as in '
                      '"Hello" he said): quote the whole field and double the quotes inside it, '
                      'or remove the quotes')  # fmt: skip
    if "field larger than field limit" in message:
        raise _BadRow(f"a field longer than {csv.field_size_limit():,} characters")
    raise _BadRow(f"not a clean tab-separated line ({message})")


def _locate_columns(path: Path, header: list[str], needed: list[str]) -> dict[str, int]:
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


def _parse_row(
    fields: list[str], width: int, columns: dict[str, int], spec: Task, labelled: bool
) -> dict:
    """Turn one row into an example dict, or raise _BadRow listing everything wrong with it."""
    if len(fields) != width:
        raise _BadRow(f"expected {width} tab-separated fields, found {len(fields)}")
    issues = []
    example: dict = {"id": fields[columns[spec.id_column]].strip()}
    if not _visible(example["id"]):
        issues.append(f"blank id in column {spec.id_column!r}" + _invisible(example["id"]))
    for column, key in zip(spec.text_columns, spec.keys):
        example[key] = fields[columns[column]].strip()
        if not _visible(example[key]):
            issues.append(f"blank sentence in column {column!r}" + _invisible(example[key]))
    if labelled:
        try:
            example["label"] = _parse_label(fields[columns[spec.label_column]], spec)
        except _BadRow as bad:
            issues.append(str(bad))
    if issues:
        raise _BadRow("; ".join(issues))
    return example


def _visible(text: str) -> str:
    """The text without control, format (zero-width) and space characters: what a reader sees."""
    return "".join(ch for ch in text if unicodedata.category(ch)[0] not in "CZ")


def _invisible(text: str) -> str:
    """For a blank-looking field that is not empty: say what it holds instead."""
    if not text:
        return ""
    names = sorted({unicodedata.name(ch, f"U+{ord(ch):04X}") for ch in text})
    return f" (it holds only invisible characters: {', '.join(names[:3])})"


# A label is a plain ASCII number: digits, an optional sign, point and exponent. float() also
# takes "0_3", Arabic-Indic or full-width digits, "nan" and "inf": none of them is a label.
PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", re.ASCII)


def _parse_label(text: str, spec: Task) -> int | float:
    """Read a label: an int class 0..n-1 for classes, a float within the range for scores.

    Every rejection names the valid values, so the fix is clear from the message alone.
    """
    column, expected = spec.label_column, spec.describe_labels()
    text = text.strip()
    if not text:
        raise _BadRow(f"blank label in column {column!r} (expected {expected})")
    if not PLAIN_NUMBER.fullmatch(text):
        raise _BadRow(f"non-numeric label {text!r} in column {column!r} (expected {expected}); "
                      "a label is written in plain ASCII digits")  # fmt: skip
    value = float(text)
    if spec.is_classification:
        if value.is_integer() and 0 <= value < spec.num_classes:
            return int(value)
    elif spec.score_range[0] <= value <= spec.score_range[1]:
        return value
    raise _BadRow(f"label {text!r} in column {column!r} is out of range: expected {expected}")


def _print_summary(path: Path, problems: list[RowProblem]) -> None:
    """Say on stderr which rows were skipped, so a skipped row is never a silent one."""
    unit = problems[0].unit
    shown = "; ".join(f"{unit} {p.line}: {p.problem}" for p in problems[:MAX_LINES_IN_SUMMARY])
    more = "; ..." if len(problems) > MAX_LINES_IN_SUMMARY else ""
    rows = "row" if len(problems) == 1 else "rows"
    print(f"{path.name}: skipped {len(problems)} malformed {rows} ({shown}{more})", file=sys.stderr)
