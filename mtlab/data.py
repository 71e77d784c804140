"""Reading the course's tab-separated data files into PyTorch datasets.

The CS224N minBERT project ships its data as tab-separated files with a few quirks:
a blank-named row index column, an extra index column in the SST and CFIMDB
``*-test-student.csv`` files, sentences that start with a space, Quora labels written
as ``0.0``/``1.0``, quoted fields with doubled quotes, and two Quora rows that are
broken in the source itself. This module reads them with a real CSV parser, finds
columns by their header name, and reports every row it cannot use (file and line),
so that nothing is dropped silently.

Labelled files (train, dev) and unlabelled files (``*-test-student``) get different
dataset classes on purpose: the class name tells you whether it can be trained on.
"""

from __future__ import annotations

import csv
import io
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from torch.utils.data import Dataset

TASK_FILES: dict[str, dict[str, str]] = {
    "sst": {
        "train": "ids-sst-train.csv",
        "dev": "ids-sst-dev.csv",
        "test": "ids-sst-test-student.csv",
    },
    "quora": {
        "train": "quora-train.csv",
        "dev": "quora-dev.csv",
    },
    "sts": {
        "train": "sts-train.csv",
        "dev": "sts-dev.csv",
        "test": "sts-test-student.csv",
    },
    "cfimdb": {
        "train": "ids-cfimdb-train.csv",
        "dev": "ids-cfimdb-dev.csv",
        "test": "ids-cfimdb-test-student.csv",
    },
}

SAMPLE_DIR = Path(__file__).parent / "sample_data"
PROJECT_DATA_DIR = Path(__file__).parents[1] / "data"

# The text columns of each task (their names are also the keys of an example dict).
SENTENCE_COLUMNS: dict[str, tuple[str, ...]] = {
    "sst": ("sentence",),
    "cfimdb": ("sentence",),
    "quora": ("sentence1", "sentence2"),
    "sts": ("sentence1", "sentence2"),
}
# The label column of each task; only train and dev files have it.
LABEL_COLUMN: dict[str, str] = {
    "sst": "sentiment",
    "cfimdb": "sentiment",
    "quora": "is_duplicate",
    "sts": "similarity",
}
# The valid labels of each task, in words, for every message about a bad label.
LABEL_VALUES: dict[str, str] = {
    "sst": "an integer from 0 to 4",
    "cfimdb": "0 or 1",
    "quora": "0 or 1",
    "sts": "a number from 0 to 5",
}
# Delimiters that a header without tabs may have been written with, named for messages.
OTHER_DELIMITERS: dict[str, str] = {",": "comma", ";": "semicolon", "|": "pipe", " ": "space"}

# Printed whenever the sample is used, so that nobody mistakes sample scores for real ones.
# No absolute paths in it: notebooks compare their outputs.
SAMPLE_MESSAGE = (
    "Using mtlab's small sample data (mtlab/sample_data): fine for trying things, "
    "far too small for real scores. For the course data, set MTLAB_DATA_DIR to its folder "
    "or copy its CSV files into data/."
)
MAX_LINES_IN_SUMMARY = 5


class DataFormatError(ValueError):
    """A data file cannot be used as a whole, or has a bad row and strict=True was asked for."""


@dataclass(frozen=True)
class RowProblem:
    """One row that was skipped, with where it is and why, so it can be found and fixed."""

    path: Path
    line: int
    problem: str

    def __str__(self) -> str:
        return f"{self.path.name} line {self.line}: {self.problem}"


@dataclass(frozen=True)
class DataSource:
    """Which data folder is used, whether it is the small sample, and why it was chosen."""

    path: Path
    is_sample: bool
    reason: str


def resolve_data_dir(data_dir: str | Path | None = None) -> DataSource:
    """Choose the data folder: argument, then MTLAB_FAST sample, MTLAB_DATA_DIR, data/, sample.

    The fast profile (MTLAB_FAST=1) must run on what ships with mtlab, so it always gets
    the sample even when real data is configured. Whenever the sample is chosen, one line
    is printed saying so, because scores on it mean little.
    """
    if data_dir is not None:
        source = _existing_folder(Path(data_dir), "the data_dir argument")
    elif os.environ.get("MTLAB_FAST") == "1":
        source = DataSource(SAMPLE_DIR, True, "MTLAB_FAST=1 (the fast profile uses the sample)")
    elif os.environ.get("MTLAB_DATA_DIR"):
        setting = os.environ["MTLAB_DATA_DIR"]
        source = _existing_folder(Path(setting), f"MTLAB_DATA_DIR={setting}")
    elif (PROJECT_DATA_DIR / TASK_FILES["sst"]["train"]).is_file():
        source = DataSource(PROJECT_DATA_DIR, False, "data/ folder")
    else:
        source = DataSource(SAMPLE_DIR, True, "sample data (no real data found)")
    if source.is_sample:
        print(SAMPLE_MESSAGE)
    return source


def _existing_folder(path: Path, reason: str) -> DataSource:
    """Check a folder the user named, so a typo fails here rather than deep inside training."""
    if not path.is_dir():
        raise DataFormatError(f"{reason}: the folder {path} does not exist")
    return DataSource(path, path.resolve() == SAMPLE_DIR.resolve(), reason)


class TaskDataset(Dataset):
    """Rows of one task's file as a list of dicts; use one of the four classes below."""

    labelled: bool
    tasks: tuple[str, ...]

    def __init__(
        self,
        task: str,
        split: str,
        path: str | Path,
        *,
        strict: bool = False,
        limit: int | None = None,
    ) -> None:
        if task not in self.tasks:
            raise ValueError(f"{type(self).__name__} is for tasks {self.tasks}, not {task!r}")
        self.task = task
        self.split = split
        self.path = Path(path)
        examples, self.problems = read_task_file(
            self.path, task, labelled=self.labelled, strict=strict
        )
        self.examples = examples[:limit]

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, index: int) -> dict:
        return self.examples[index]

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(task={self.task!r}, split={self.split!r}, "
            f"{len(self)} rows from {self.path.name})"
        )


class LabelledSentenceDataset(TaskDataset):
    """SST or CFIMDB train/dev: items {"id", "sentence", "label"}. Safe to train on."""

    labelled = True
    tasks = ("sst", "cfimdb")


class UnlabelledSentenceDataset(TaskDataset):
    """SST or CFIMDB test-student: items {"id", "sentence"}, no labels. Predict only; never train."""

    labelled = False
    tasks = ("sst", "cfimdb")


class LabelledPairDataset(TaskDataset):
    """Quora or STS train/dev: items {"id", "sentence1", "sentence2", "label"}. Safe to train on.

    The label is an int (0 or 1) for Quora and a float from 0 to 5 for STS.
    """

    labelled = True
    tasks = ("quora", "sts")


class UnlabelledPairDataset(TaskDataset):
    """STS test-student: items {"id", "sentence1", "sentence2"}, no labels. Predict only; never train."""

    labelled = False
    tasks = ("quora", "sts")


def load_dataset(
    task: str,
    split: str,
    data_dir: str | Path | None = None,
    *,
    strict: bool = False,
    limit: int | None = None,
) -> TaskDataset:
    """Load one task's split from data_dir (None: see resolve_data_dir).

    The test split has no labels, so it comes back as an Unlabelled... dataset.
    limit keeps only the first N good rows, for quick runs; the whole file is still checked.
    """
    if task not in TASK_FILES:
        raise ValueError(f"unknown task {task!r}; valid tasks: {', '.join(TASK_FILES)}")
    if split not in TASK_FILES[task]:
        valid = ", ".join(TASK_FILES[task])
        raise ValueError(f"task {task!r} has no split {split!r}; valid splits: {valid}")
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be a positive number of rows or None, not {limit}")
    folder = resolve_data_dir().path if data_dir is None else Path(data_dir)
    labelled = split != "test"
    if len(SENTENCE_COLUMNS[task]) == 1:
        dataset_class = LabelledSentenceDataset if labelled else UnlabelledSentenceDataset
    else:
        dataset_class = LabelledPairDataset if labelled else UnlabelledPairDataset
    path = folder / TASK_FILES[task][split]
    return dataset_class(task, split, path, strict=strict, limit=limit)


def read_task_file(
    path: str | Path, task: str, *, labelled: bool, strict: bool = False
) -> tuple[list[dict], list[RowProblem]]:
    """Parse one of the course's files into example dicts plus the rows that were skipped.

    A file that cannot be used at all raises DataFormatError. A bad row is skipped,
    recorded as a RowProblem and summarised on stderr; with strict=True it raises instead.
    """
    if task not in SENTENCE_COLUMNS:
        raise ValueError(f"unknown task {task!r}; valid tasks: {', '.join(SENTENCE_COLUMNS)}")
    path = Path(path)
    if not path.is_file():
        raise DataFormatError(
            f"{path.name} not found in {path.parent}. Set MTLAB_DATA_DIR to the folder with "
            "the course's data files, or copy those files into the project's data/ folder."
        )
    needed = ["id", *SENTENCE_COLUMNS[task]] + ([LABEL_COLUMN[task]] if labelled else [])
    rows = _read_rows(path)
    first = next(rows, None)
    if first is None:
        raise DataFormatError(f"{path.name} is empty: expected a tab-separated header {needed}")
    header = [name.strip() for name in first[1]]
    columns = _locate_columns(path, header, needed)

    examples: list[dict] = []
    problems: list[RowProblem] = []
    first_line_of_id: dict[str, int] = {}
    for line, fields in rows:
        try:
            example = _parse_row(fields, len(header), columns, task, labelled)
            if example["id"] in first_line_of_id:
                earlier = first_line_of_id[example["id"]]
                raise _BadRow(f"duplicate id {example['id']!r} (first seen on line {earlier})")
        except _BadRow as bad:
            problem = RowProblem(path, line, str(bad))
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
            f"tab-separated columns {needed}"
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


class _BadRow(Exception):
    """Raised inside the parser for a row that must be skipped; the message says why."""


def _parse_row(
    fields: list[str], width: int, columns: dict[str, int], task: str, labelled: bool
) -> dict:
    """Turn one row into an example dict, or raise _BadRow listing everything wrong with it."""
    if len(fields) != width:
        problem = f"expected {width} tab-separated fields, found {len(fields)}"
        if fields and fields[-1].endswith(("\n", "\r")):  # a quote left open on the last line
            problem += "; a quote opened on this line is never closed"
        raise _BadRow(problem)
    issues = []
    example: dict = {"id": fields[columns["id"]].strip()}
    if not example["id"]:
        issues.append("blank id in column 'id'")
    for column in SENTENCE_COLUMNS[task]:
        example[column] = fields[columns[column]].strip()
        if not example[column]:
            issues.append(f"blank sentence in column {column!r}")
    if labelled:
        try:
            example["label"] = _parse_label(fields[columns[LABEL_COLUMN[task]]], task)
        except _BadRow as bad:
            issues.append(str(bad))
    if issues:
        raise _BadRow("; ".join(issues))
    return example


def _parse_label(text: str, task: str) -> int | float:
    """Read a label: an int class for sst (0-4), cfimdb and quora (0/1), a float 0-5 for sts.

    Every rejection names the valid values, so the fix is clear from the message alone.
    """
    column = LABEL_COLUMN[task]
    expected = LABEL_VALUES[task]
    text = text.strip()
    if not text:
        raise _BadRow(f"blank label in column {column!r} (expected {expected})")
    try:
        value = float(text)
    except ValueError:
        raise _BadRow(
            f"non-numeric label {text!r} in column {column!r} (expected {expected})"
        ) from None
    if task == "sts":
        if 0.0 <= value <= 5.0:
            return value
    else:
        top = 4 if task == "sst" else 1
        if value.is_integer() and 0 <= value <= top:
            return int(value)
    raise _BadRow(f"label {text!r} in column {column!r} is out of range: expected {expected}")


def _print_summary(path: Path, problems: list[RowProblem]) -> None:
    """Say on stderr which rows were skipped, so a skipped row is never a silent one."""
    shown = "; ".join(f"line {p.line}: {p.problem}" for p in problems[:MAX_LINES_IN_SUMMARY])
    more = "; ..." if len(problems) > MAX_LINES_IN_SUMMARY else ""
    rows = "row" if len(problems) == 1 else "rows"
    print(f"{path.name}: skipped {len(problems)} malformed {rows} ({shown}{more})", file=sys.stderr)


def to_dataframe(dataset: TaskDataset) -> pd.DataFrame:
    """One row per example, for looking at the data in a notebook."""
    return pd.DataFrame(dataset.examples)
