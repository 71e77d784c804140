"""What a task is, in one table: its files, columns, labels, metric and head.

In the spirit of run_glue's `task_to_keys`: every other module (the reader, the heads'
checker, evaluation, predictions, the plots and widgets) asks this table about a task
and keeps no list of its own. The course's three tasks are entries in it; a student adds
a fourth with one call, from files with their own column names or from rows in memory:

    register_task("reviews", text_columns=["review"], label_column="stars",
                  num_classes=5, files={"train": "reviews-train.tsv", "dev": "reviews-dev.tsv"})
    register_task("pairs", text_columns=["q1", "q2"], label_column="same",
                  num_classes=2, rows={"train": train_df, "dev": dev_df})

Whatever the file calls its text columns, an example is always a dict with "id", then
"sentence" (one text) or "sentence1" and "sentence2" (a pair), then "label".
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

import pandas as pd

METRICS = ("accuracy", "pearson")  # classes are scored by accuracy, scores by Pearson r
QUOTINGS = ("csv", "none")  # how a task's files quote their fields (mtlab.data.tsv)


@dataclass(frozen=True)
class Task:
    """Everything mtlab needs to know about one task; build it with `register_task`."""

    name: str
    text_columns: tuple[str, ...]  # one column (a sentence) or two (a pair), as the file names them
    label_column: str  # absent from test files
    num_classes: int | None = None  # labels are classes 0..num_classes-1 ...
    score_range: tuple[float, float] | None = None  # ... or real numbers in [low, high]
    files: Mapping[str, str] = field(default_factory=dict)  # split -> file in the data folder
    rows: Mapping[str, object] = field(default_factory=dict)  # split -> DataFrame / list of dicts
    id_column: str = "id"
    prediction_column: str = "Predicted_Label"  # header of the predictions file
    output_name: str = ""  # predictions go to <output_name>-<split>-output.csv (default: name)
    head: str = ""  # the kind of head it gets by default (see mtlab.heads.default_head)
    label_names: tuple[str, ...] = ()  # words for the classes, for widgets and plots
    quoting: str = "csv"  # "csv": fields may be quoted ("" inside); "none": quotes are text

    @property
    def is_pair(self) -> bool:
        return len(self.text_columns) == 2

    @property
    def is_classification(self) -> bool:
        return self.num_classes is not None

    @property
    def metric(self) -> str:
        return "accuracy" if self.is_classification else "pearson"

    @property
    def keys(self) -> tuple[str, ...]:
        """The text keys of an example dict (and, plural, of a batch)."""
        return ("sentence1", "sentence2") if self.is_pair else ("sentence",)

    @property
    def splits(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([*self.files, *self.rows]))

    def describe_labels(self) -> str:
        """The valid labels in words, for every message about a bad label."""
        if self.is_classification:
            top = self.num_classes - 1
            return "0 or 1" if top == 1 else f"an integer from 0 to {top}"
        low, high = self.score_range
        return f"a number from {low:g} to {high:g}"

    def describe_output(self) -> str:
        """What a head for this task must return for a batch of B examples."""
        if not self.is_classification:
            return "(B,) float scores"
        single = ", or (B,) for a single-logit head" if self.num_classes == 2 else ""
        return f"(B, {self.num_classes}) float logits{single}"

    def label_name(self, label: int) -> str:
        return self.label_names[label] if label < len(self.label_names) else str(label)


_REGISTRY: dict[str, Task] = {}


class UnknownTaskError(KeyError, ValueError):
    """A task name that is not in the table; the message lists the known ones."""

    def __str__(self) -> str:  # KeyError would print the message in quotes
        return str(self.args[0])


def get_task(task: str | Task) -> Task:
    """The table's entry for a task name (a Task passes through)."""
    if isinstance(task, Task):
        return task
    if task not in _REGISTRY:
        raise UnknownTaskError(
            f"unknown task {task!r}; known tasks: {', '.join(_REGISTRY)}. Register a new one "
            f"first: mtlab.register_task({task!r}, text_columns=[...], label_column=..., "
            "num_classes=N or score_range=(low, high), files={'train': ..., 'dev': ...} "
            "or rows={'train': dataframe, ...})"
        )
    return _REGISTRY[task]


def known_tasks() -> tuple[str, ...]:
    return tuple(_REGISTRY)


def register_task(
    name: str,
    *,
    text_columns: Iterable[str],
    label_column: str = "label",
    num_classes: int | None = None,
    score_range: tuple[float, float] | None = None,
    files: Mapping[str, str] | None = None,
    rows: Mapping[str, pd.DataFrame | list[dict]] | None = None,
    id_column: str = "id",
    prediction_column: str = "Predicted_Label",
    output_name: str | None = None,
    head: str | None = None,
    label_names: Iterable[str] = (),
    quoting: str = "csv",
) -> Task:
    """Add a task to the table (or replace one of the same name) and return its entry.

    Give its labels either as `num_classes` (integers 0..n-1) or as a `score_range`, and
    its data as `files` (split -> file name in the data folder, or a path) and/or `rows`
    (split -> a pandas DataFrame or a list of dicts, with the same column names). Files
    follow csv quoting unless `quoting="none"` (quotes are plain text, as in MRPC's files).
    """
    text_columns = tuple(text_columns)
    files, rows = dict(files or {}), dict(rows or {})
    columns = [id_column, *text_columns, label_column]
    problems, score_range = entry_problems(
        name, text_columns, num_classes, score_range, files, rows
    )
    if len(set(columns)) != len(columns):
        problems.append(f"id, text and label columns must differ, got {columns}")
    if quoting not in QUOTINGS:
        problems.append(f"quoting must be one of {QUOTINGS}, got {quoting!r}")
    if problems:
        raise ValueError(f"register_task({name!r}): " + "; ".join(problems))
    if head is None:  # the usual head for a task's shape: classes or a score, of one or two texts
        pair = len(text_columns) == 2
        head = (
            ("paraphrase" if pair else "sentiment")
            if num_classes
            else ("similarity" if pair else "regression")
        )
    task = Task(
        name=name,
        text_columns=text_columns,
        label_column=label_column,
        num_classes=num_classes,
        score_range=score_range,
        files=files,
        rows=rows,
        id_column=id_column,
        prediction_column=prediction_column,
        output_name=output_name or name,
        head=head,
        label_names=tuple(label_names),
        quoting=quoting,
    )
    _REGISTRY[name] = task
    return task


def entry_problems(
    name, text_columns: tuple, num_classes, score_range, files: dict, rows: dict
) -> tuple[list[str], tuple[float, float] | None]:
    """What is wrong with a task entry's name, columns, labels and data, in words; and its
    score range as (low, high) floats."""
    problems = []
    if not name or not isinstance(name, str):
        problems.append(f"name must be a non-empty string, got {name!r}")
    if len(text_columns) not in (1, 2) or len(set(text_columns)) != len(text_columns):
        problems.append(
            f"text_columns must name one column (a sentence) or two different ones (a pair), "
            f"got {list(text_columns)}"
        )
    if (num_classes is None) == (score_range is None):
        problems.append("give exactly one of num_classes (class labels) or score_range (scores)")
    if num_classes is not None and (not isinstance(num_classes, int) or num_classes < 2):
        problems.append(f"num_classes must be an integer of at least 2, got {num_classes!r}")
    if score_range is not None:
        score_range = checked_range(score_range, problems)
    if not files and not rows:
        problems.append("give the data: files={'train': ..., 'dev': ...} and/or rows={...}")
    return problems, score_range


def checked_range(score_range, problems: list[str]) -> tuple[float, float] | None:
    """(low, high) as floats, or None with the problem added: two finite numbers, low < high."""
    low, high = (tuple(score_range) + (None, None))[:2]
    finite = all(isinstance(x, (int, float)) and math.isfinite(x) for x in (low, high))
    if len(tuple(score_range)) != 2 or not finite or low >= high:
        problems.append(f"score_range must be (low, high) with low < high, got {score_range!r}")
        return None
    return (float(low), float(high))


@contextmanager
def table_restored() -> Iterator[None]:
    """Put the task table back as it was when the block ends (checks and tests that try things)."""
    saved = dict(_REGISTRY)
    try:
        yield
    finally:
        _REGISTRY.clear()
        _REGISTRY.update(saved)


def replace_task(name: str, **changes) -> Task:
    """A registered task with some fields changed (say, another number of classes)."""
    _REGISTRY[name] = dataclasses.replace(get_task(name), **changes)
    return _REGISTRY[name]


def unregister_task(name: str) -> None:
    """Remove a task from the table (tests and notebooks that try things)."""
    get_task(name)
    del _REGISTRY[name]


# The course's three tasks (CS224N minBERT): file names and columns as the course ships them.
register_task(
    "sst",
    text_columns=["sentence"],
    label_column="sentiment",
    num_classes=5,
    files={
        "train": "ids-sst-train.csv",
        "dev": "ids-sst-dev.csv",
        "test": "ids-sst-test-student.csv",
    },
    prediction_column="Predicted_Sentiment",
    head="sentiment",
    label_names=["very negative", "negative", "neutral", "positive", "very positive"],
)
register_task(
    "quora",
    text_columns=["sentence1", "sentence2"],
    label_column="is_duplicate",
    num_classes=2,
    files={"train": "quora-train.csv", "dev": "quora-dev.csv", "test": "quora-test-student.csv"},
    prediction_column="Predicted_Is_Paraphrase",
    output_name="para",
    head="paraphrase",
    label_names=["not duplicate", "duplicate"],
)
register_task(
    "sts",
    text_columns=["sentence1", "sentence2"],
    label_column="similarity",
    score_range=(0.0, 5.0),
    files={"train": "sts-train.csv", "dev": "sts-dev.csv", "test": "sts-test-student.csv"},
    prediction_column="Predicted_Similiary",  # sic: the course's own spelling, which it grades
    head="similarity",
)
COURSE_TASKS: tuple[str, ...] = ("sst", "quora", "sts")
TASKS = COURSE_TASKS  # the tasks of a default run (mtlab.TASKS)
