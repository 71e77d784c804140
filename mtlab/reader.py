"""Reading one task's rows, from a tab-separated file or from memory, into example dicts.

The CS224N minBERT files have quirks: a blank-named row index column, an extra index
column in the SST and CFIMDB ``*-test-student.csv`` files, sentences that start with a
space, Quora labels written as ``0.0``/``1.0``, quoted fields with doubled quotes, and two
Quora rows that are broken in the source itself. This module reads them with a real CSV
parser, finds columns by their header name (the task table says which), and reports
every row it cannot use (file and line), so that nothing is dropped silently.
"""

from __future__ import annotations

import csv
import io
import math
import sys
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
    if not path.is_file():
        raise DataFormatError(
            f"{path.name} not found in {path.parent}. Set MTLAB_DATA_DIR to the folder with "
            "the course's data files, or copy those files into the project's data/ folder."
        )
    needed = _needed_columns(spec, labelled)
    rows = _read_rows(path)
    first = next(rows, None)
    if first is None:
        raise DataFormatError(f"{path.name} is empty: expected a tab-separated header {needed}")
    header = [name.strip() for name in first[1]]
    columns = _locate_columns(path, header, needed)
    return _parse_rows(rows, path, "line", len(header), columns, spec, labelled, strict)


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
    return _parse_rows(records, name, "row", len(header), columns, spec, labelled, strict)


def _as_text(value) -> str:
    """A cell of a DataFrame as the text a file would hold (a missing value is blank)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def _needed_columns(spec: Task, labelled: bool) -> list[str]:
    return [spec.id_column, *spec.text_columns] + ([spec.label_column] if labelled else [])


def _parse_rows(
    rows: Iterator[tuple[int, list[str]]], path: Path, unit: str, width: int,
    columns: dict[str, int], spec: Task, labelled: bool, strict: bool,
) -> tuple[list[dict], list[RowProblem]]:  # fmt: skip
    """Every row through _parse_row; bad ones skipped and reported (or raised when strict)."""
    examples: list[dict] = []
    problems: list[RowProblem] = []
    first_line_of_id: dict[str, int] = {}
    for line, fields in rows:
        try:
            example = _parse_row(fields, width, columns, spec, labelled)
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


def _read_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """Yield (line number, fields) per record; quoted fields may hold tabs and doubled quotes.

    Every record of these files is one line, so a record that goes on past its line is a
    quote left open. It has swallowed the rows after it, so it stops the whole file,
    strict or not, rather than being skipped as one bad row.
    """
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise DataFormatError(
            f"{path.name} line {line}: not UTF-8 text (byte {raw[error.start]:#x}); "
            "expected a UTF-8 tab-separated file"
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t")
    line = 1  # where the next record starts
    try:
        for fields in reader:
            if reader.line_num > line:
                raise DataFormatError(_unclosed_quote(path, line, reader.line_num))
            yield line, fields
            line = reader.line_num + 1
    except csv.Error as error:
        if reader.line_num > line:  # the open quote grew the field past the csv size limit
            raise DataFormatError(
                _unclosed_quote(path, line, reader.line_num, outgrew_limit=True)
            ) from None
        raise DataFormatError(f"{path.name} line {reader.line_num}: {error}") from None


def _unclosed_quote(path: Path, line: int, last_line: int, *, outgrew_limit: bool = False) -> str:
    """Say where a quote opened that swallowed the lines after it, and how much it took."""
    swallowed = last_line - line
    lines = "line" if swallowed == 1 else "lines"
    where = f"line {last_line}"
    if outgrew_limit:
        where += ", where the field outgrew the csv size limit"
    return (
        f"{path.name} line {line}: a quote opened here is never closed on this line, so it "
        f"swallowed the {swallowed} {lines} after it (up to {where}) into one field. "
        "Each row must be one line: remove the stray quote, or close it (a quote inside "
        'a quoted field is written "")'
    )


def _locate_columns(path: Path, header: list[str], needed: list[str]) -> dict[str, int]:
    """Find each needed column by name, since test-student files have an extra index column."""
    delimiter = _other_delimiter(header, needed)
    if delimiter:
        raise DataFormatError(
            f"{path.name} line 1: header looks {OTHER_DELIMITERS[delimiter]}-separated; "
            f"expected tab-separated columns {needed}, found {header[0]!r}"
        )
    missing = [name for name in needed if name not in header]
    if missing:
        raise DataFormatError(
            f"{path.name} line 1: header lacks column(s) {missing}; expected columns "
            f"{needed}, found {header}"
        )
    for name in needed:
        positions = [str(index + 1) for index, found in enumerate(header) if found == name]
        if len(positions) > 1:
            raise DataFormatError(
                f"{path.name} line 1: header names column {name!r} more than once, as fields "
                f"{', '.join(positions[:-1])} and {positions[-1]}; expected each of {needed} "
                f"once, found {header}"
            )
    return {name: header.index(name) for name in needed}


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
        problem = f"expected {width} tab-separated fields, found {len(fields)}"
        if fields and fields[-1].endswith(("\n", "\r")):  # a quote left open on the last line
            problem += "; a quote opened on this line is never closed"
        raise _BadRow(problem)
    issues = []
    example: dict = {"id": fields[columns[spec.id_column]].strip()}
    if not example["id"]:
        issues.append(f"blank id in column {spec.id_column!r}")
    for column, key in zip(spec.text_columns, spec.keys):
        example[key] = fields[columns[column]].strip()
        if not example[key]:
            issues.append(f"blank sentence in column {column!r}")
    if labelled:
        try:
            example["label"] = _parse_label(fields[columns[spec.label_column]], spec)
        except _BadRow as bad:
            issues.append(str(bad))
    if issues:
        raise _BadRow("; ".join(issues))
    return example


def _parse_label(text: str, spec: Task) -> int | float:
    """Read a label: an int class 0..n-1 for classes, a float within the range for scores.

    Every rejection names the valid values, so the fix is clear from the message alone.
    """
    column, expected = spec.label_column, spec.describe_labels()
    text = text.strip()
    if not text:
        raise _BadRow(f"blank label in column {column!r} (expected {expected})")
    try:
        value = float(text)
    except ValueError:
        raise _BadRow(
            f"non-numeric label {text!r} in column {column!r} (expected {expected})"
        ) from None
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
