"""Reading one task's rows, from a tab-separated file or from memory, into example dicts.

The CS224N minBERT files have quirks: a blank-named row index column, an extra index
column in the SST and CFIMDB ``*-test-student.csv`` files, sentences that start with a
space, Quora labels written as ``0.0``/``1.0``, quoted fields with doubled quotes, and two
Quora rows that are broken in the source itself. This module reads them with a real CSV
parser, finds columns by their header name (the task table says which), and reports
every row it cannot use (file and line), so that nothing is dropped silently.
"""

from __future__ import annotations

import math
import re
import sys
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from mtlab.data.tsv import BadLine, DataFormatError, check_is_file, locate_columns, read_lines
from mtlab.tasks import Task, get_task

MAX_LINES_IN_SUMMARY = 5
# What an id cannot hold, since predictions are written `<id> , <value>` per line: a comma or
# tab (a reader splits there), a quote (taken for quoting), a control or line-break character.
NOT_IN_AN_ID = re.compile('[,\t"\x00-\x1f\x7f\x85\u2028\u2029]')


@dataclass(frozen=True)
class RowProblem:
    """One row that was skipped, with where it is and why, so it can be found and fixed."""

    path: Path
    line: int
    problem: str
    unit: str = "line"  # "row" for rows given in memory

    def __str__(self) -> str:
        return f"{self.path.name} {self.unit} {self.line}: {self.problem}"


def read_task_file(
    path: str | Path, task: str | Task, *, labelled: bool, strict: bool = False
) -> tuple[list[dict], list[RowProblem]]:
    """Parse one task's file into example dicts plus the rows that were skipped.

    A file that cannot be used at all raises DataFormatError. A bad row is skipped,
    recorded as a RowProblem and summarised on stderr; with strict=True it raises instead.
    """
    spec = get_task(task)
    path = Path(path)
    check_is_file(path)
    needed = _needed_columns(spec, labelled)
    rows = read_lines(path, spec.quoting)
    first = next(rows, None)
    if first is None:
        raise DataFormatError(f"{path.name} is empty: expected a tab-separated header {needed}")
    if isinstance(first[1], BadLine) or not any(field.strip() for field in first[1]):
        why = "is blank" if not isinstance(first[1], BadLine) else f"is not a header: {first[1]}"
        raise DataFormatError(
            f"{path.name} line 1 {why}; expected the header, tab-separated "
            f"columns {needed}, on the first line"
        )
    header = [name.strip() for name in first[1]]
    columns = locate_columns(path, header, needed)
    return _parse_rows(rows, path, "line", header, columns, spec, labelled, strict)


def read_task_rows(
    rows: pd.DataFrame | Iterable[dict],
    task: str | Task,
    split: str,
    *,
    labelled: bool,
    strict: bool = False,
) -> tuple[list[dict], list[RowProblem]]:
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
    records = (
        (i + 1, [_as_text(value) for value in row])
        for i, row in enumerate(frame.itertuples(index=False, name=None))
    )
    return _parse_rows(records, name, "row", header, columns, spec, labelled, strict)


def _as_text(value) -> str:
    """A cell of a DataFrame as the text a file would hold (a missing value is blank)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def _needed_columns(spec: Task, labelled: bool) -> list[str]:
    return [spec.id_column, *spec.text_columns] + ([spec.label_column] if labelled else [])


def _parse_rows(
    rows: Iterator[tuple[int, list[str] | BadLine]],
    path: Path,
    unit: str,
    header: list[str],
    columns: dict[str, int],
    spec: Task,
    labelled: bool,
    strict: bool,
) -> tuple[list[dict], list[RowProblem]]:
    """Every row through _parse_row; bad ones skipped and reported (or raised when strict)."""
    examples: list[dict] = []
    problems: list[RowProblem] = []
    first_line_of_id: dict[str, int] = {}
    for line, fields in rows:
        try:
            if isinstance(fields, BadLine):
                raise fields
            if {spec.id_column, *spec.text_columns} <= {field.strip() for field in fields}:
                raise BadLine("a copy of the header row (were two files joined into one?)")
            example = _parse_row(fields, len(header), columns, spec, labelled)
            if example["id"] in first_line_of_id:
                earlier = first_line_of_id[example["id"]]
                raise BadLine(f"duplicate id {example['id']!r} (first seen on {unit} {earlier})")
        except BadLine as bad:
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


def _parse_row(
    fields: list[str], width: int, columns: dict[str, int], spec: Task, labelled: bool
) -> dict:
    """Turn one row into an example dict, or raise BadLine listing everything wrong with it."""
    if len(fields) != width:
        raise BadLine(f"expected {width} tab-separated fields, found {len(fields)}")
    issues = []
    example: dict = {"id": fields[columns[spec.id_column]].strip()}
    if not _visible(example["id"]):
        issues.append(f"blank id in column {spec.id_column!r}" + _invisible(example["id"]))
    elif bad := NOT_IN_AN_ID.search(example["id"]):
        issues.append(
            f"id {example['id']!r} in column {spec.id_column!r} holds {bad.group()!r}, which the "
            "predictions file (id , value per line) cannot hold"
        )
    for column, key in zip(spec.text_columns, spec.keys):
        example[key] = fields[columns[column]].strip()
        if not _visible(example[key]):
            issues.append(f"blank sentence in column {column!r}" + _invisible(example[key]))
    if labelled:
        try:
            example["label"] = _parse_label(fields[columns[spec.label_column]], spec)
        except BadLine as bad:
            issues.append(str(bad))
    if issues:
        raise BadLine("; ".join(issues))
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
        raise BadLine(f"blank label in column {column!r} (expected {expected})")
    if not PLAIN_NUMBER.fullmatch(text):
        raise BadLine(
            f"non-numeric label {text!r} in column {column!r} (expected {expected}); "
            "a label is written in plain ASCII digits"
        )
    value = float(text)
    if spec.is_classification:
        if value.is_integer() and 0 <= value < spec.num_classes:
            return int(value)
    elif spec.score_range[0] <= value <= spec.score_range[1]:
        return value
    raise BadLine(f"label {text!r} in column {column!r} is out of range: expected {expected}")


def _print_summary(path: Path, problems: list[RowProblem]) -> None:
    """Say on stderr which rows were skipped, so a skipped row is never a silent one."""
    unit = problems[0].unit
    shown = "; ".join(f"{unit} {p.line}: {p.problem}" for p in problems[:MAX_LINES_IN_SUMMARY])
    more = "; ..." if len(problems) > MAX_LINES_IN_SUMMARY else ""
    rows = "row" if len(problems) == 1 else "rows"
    print(f"{path.name}: skipped {len(problems)} malformed {rows} ({shown}{more})", file=sys.stderr)
