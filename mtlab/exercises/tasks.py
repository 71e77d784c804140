"""Notebook 07's exercises: register CFIMDB, a head that follows the task table, a predictions file."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import torch
from torch import nn

from mtlab import tasks as table
from mtlab.data.datasets import SAMPLE_DIR, load_dataset
from mtlab.exercises import StudentError, Wrong, check, first_line, student, yours_or_mtlab
from mtlab.exercises.heads import build, head_checked, require_head, require_written
from mtlab.exercises.predictions import (
    FILES,
    check_save_predictions,
    mtlab_register_cfimdb,
    mtlab_save_predictions,
    use_save_predictions,
)
from mtlab.heads.base import Head
from mtlab.tasks import Task, get_task, known_tasks, unregister_task

__all__ = [  # exercise 7.3, the predictions file, lives in mtlab.exercises.predictions
    "FILES",
    "ReviewHead",
    "check_register_cfimdb",
    "check_review_head",
    "check_save_predictions",
    "mtlab_register_cfimdb",
    "mtlab_save_predictions",
    "use_register_cfimdb",
    "use_review_head",
    "use_save_predictions",
]


def _header(split: str, file: str) -> list[str]:
    """The column names in the first line of a split's file (in mtlab's sample folder)."""
    path = Path(file).expanduser()
    path = path if path.is_absolute() else SAMPLE_DIR / path
    if not path.is_file():
        raise Wrong(
            f"files[{split!r}] is {file!r}: no such file in the data folder (the sample "
            f"has {FILES[split]})",
            id="register_cfimdb.no-such-file",
        )
    return [name.strip() for name in path.read_text(encoding="utf-8").splitlines()[0].split("\t")]


def _check_columns(spec: Task, header: list[str]) -> None:
    """Each column the entry names is one the file has, and the right one."""
    if spec.text_columns == ("sentiment",) and spec.label_column == "sentence":
        raise Wrong(
            "text_columns and label_column are swapped: the review is in 'sentence', "
            "its label in 'sentiment'",
            id="register_cfimdb.swapped-columns",
        )
    if spec.is_pair:
        raise Wrong(
            f"text_columns={list(spec.text_columns)} makes CFIMDB a pair task; each "
            "example is one review: text_columns=['sentence']",
            id="register_cfimdb.pair-task",
        )
    for role, column in [
        ("text_columns", spec.text_columns[0]),
        ("label_column", spec.label_column),
        ("id_column", spec.id_column),
    ]:
        if column in header:
            continue
        close = difflib.get_close_matches(column, [h for h in header if h], n=1)
        if close:
            raise Wrong(
                f"{role} is {column!r}, the file's column is {close[0]!r}",
                id="register_cfimdb.misspelt-column",
            )
        default = " (register_task's default)" if column == "label" else ""
        raise Wrong(
            f"{role} is {column!r}{default}, but the file has no such column; its "
            f"columns are {[h for h in header if h]}",
            id="register_cfimdb.no-such-column",
        )
    if spec.text_columns != ("sentence",):
        raise Wrong(
            f"text_columns={list(spec.text_columns)}: the review is in 'sentence'",
            id="register_cfimdb.wrong-column",
        )


def _register(register_cfimdb: Callable):
    try:
        return student(register_cfimdb)
    except StudentError as raised:
        if isinstance(raised.error, ValueError) and "register_task" in str(raised.error):
            raise Wrong(
                f"register_task refused the entry: {first_line(raised.error)}",
                id="register_cfimdb.refused",
            ) from None
        raise


def _rows_read(split: str) -> int:
    """How many rows the sample's file for `split` gives with the student's entry."""
    try:
        return len(load_dataset("cfimdb", split, SAMPLE_DIR))
    except (ValueError, KeyError, OSError) as error:
        raise Wrong(
            f"reading the {split} file with your entry failed: {first_line(error)}",
            id="register_cfimdb.unreadable",
        ) from None


@check("register_cfimdb")
def check_register_cfimdb(register_cfimdb: Callable) -> list[str]:
    """The entry register_cfimdb() makes: name, label kind, files, columns, predictions column."""
    with table.table_restored():
        if "cfimdb" in known_tasks():
            unregister_task("cfimdb")
        before = set(known_tasks())
        returned = _register(register_cfimdb)
        added = [name for name in known_tasks() if name not in before]
        if "cfimdb" not in added:
            if not added:
                raise Wrong(
                    "no task was registered: call register_task(...) in the function",
                    id="register_cfimdb.nothing-registered",
                )
            close = difflib.get_close_matches("cfimdb", [added[0].lower()], n=1, cutoff=0.6)
            raise Wrong(
                f"you registered {added[0]!r}; the cells below ask the task table for 'cfimdb'",
                id="register_cfimdb.misspelt-name" if close else "register_cfimdb.other-name",
            )
        spec = get_task("cfimdb")
        if not spec.is_classification:
            raise Wrong(
                "the labels are classes (0 negative, 1 positive): give num_classes=2. "
                "With a score_range the task would train with squared error and be "
                "scored by Pearson r",
                id="register_cfimdb.scores-not-classes",
            )
        missing = [split for split in FILES if split not in spec.files]
        if missing:
            raise Wrong(
                f"files has no {missing} split: give train, dev and test (the test file "
                "is the one you write predictions for)",
                id="register_cfimdb.missing-split",
            )
        for split, file in spec.files.items():
            other = [s for s, name in FILES.items() if name == Path(file).name and s != split]
            if other:
                raise Wrong(
                    f"files[{split!r}] is {file!r}, the {other[0]} file",
                    id="register_cfimdb.files-swapped",
                )
        headers = {split: _header(split, spec.files[split]) for split in FILES}
        _check_columns(spec, headers["train"])
        labels = pd.read_csv(SAMPLE_DIR / FILES["train"], sep="\t")["sentiment"]
        if spec.num_classes != labels.nunique():
            raise Wrong(
                f"num_classes={spec.num_classes}, but the labels are "
                f"{sorted(labels.unique().tolist())}: {labels.nunique()} classes",
                id="register_cfimdb.num-classes",
            )
        if spec.prediction_column != "Predicted_Sentiment":
            raise Wrong(
                f"prediction_column is {spec.prediction_column!r}: the course reads "
                "sentiment predictions (SST's and CFIMDB's) from 'Predicted_Sentiment'",
                id="register_cfimdb.prediction-column",
            )
        if spec.label_names and tuple(spec.label_names) != ("negative", "positive"):
            raise Wrong(
                f"label_names={list(spec.label_names)}: name the classes in the order of their "
                "numbers, 0 first: ['negative', 'positive']",
                id="register_cfimdb.label-names",
            )
        if not isinstance(returned, Task):
            raise Wrong(
                f"the task is registered, but the function returned {returned!r}: return the "
                "entry register_task gives back (return register_task(...))",
                id="register_cfimdb.no-return",
            )
        sizes = {split: _rows_read(split) for split in FILES}
    return [
        f"cfimdb: text 'sentence', label 'sentiment', {spec.num_classes} classes scored by "
        f"{spec.metric}; the sample's files read: "
        + ", ".join(f"{split} {n} rows" for split, n in sizes.items())
    ]


def use_register_cfimdb(register_cfimdb: Callable) -> Task:
    """Register CFIMDB with the student's function, or mtlab's while the stub is unfilled."""
    chosen = yours_or_mtlab(
        "register_cfimdb", register_cfimdb, mtlab_register_cfimdb, lambda f: f()
    )
    chosen()
    return get_task("cfimdb")


class ReviewHead(Head):
    """Review vector -> one logit per class of the cfimdb entry (2: negative, positive)."""

    def __init__(self, hidden: int, n_classes: int | None = None, dropout: float = 0.1):
        n_classes = n_classes or get_task("cfimdb").num_classes
        super().__init__("cfimdb", hidden=hidden, n_classes=n_classes, dropout=dropout)
        self.net = nn.Sequential(
            nn.Dropout(dropout),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, n_classes),
        )

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        return self.net(u)


def _output(head_class: type, hidden: int, **options) -> torch.Tensor:
    """A fresh head's output for 16 random vectors (the notebook's random numbers kept)."""
    with torch.random.fork_rng(), torch.no_grad():
        head = build(head_class, hidden, **options).eval()
        return student(head, torch.randn(16, hidden, generator=torch.Generator().manual_seed(0)))


def _shape(out) -> tuple | str:
    return tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__


def _follows_the_table(head_class: type, hidden: int) -> None:
    """n_classes when given, else the task table's number of classes."""
    if _shape(_output(head_class, hidden, n_classes=5)) != (16, 5):
        raise Wrong(
            f"{head_class.__name__}(hidden, n_classes=5) does not give 5 logits: use "
            "the n_classes it is given",
            id="head.ignores-n-classes",
        )
    table.replace_task("cfimdb", num_classes=3)
    three = _shape(_output(head_class, hidden))
    if three != (16, 3):
        raise Wrong(
            f"with the task table saying 3 classes, {head_class.__name__}(hidden) gives "
            f"{three}: it hard-codes the classes. Without n_classes, take "
            "get_task('cfimdb').num_classes",
            id="review_head.hard-coded-classes",
        )


def _rebuilds(head_class: type, head: Head, hidden: int) -> None:
    """A checkpoint rebuilds the head from options() and loads its weights into it."""
    options = {k: v for k, v in student(head.options).items() if k != "task"}
    dropout = student(build(head_class, hidden, dropout=0.3).options).get("dropout")
    if dropout != 0.3:
        raise Wrong(
            f"{head_class.__name__}(hidden, dropout=0.3).options() gives dropout={dropout!r}: "
            "pass the dropout it is given on to Head.__init__, or a checkpoint rebuilds the "
            "head with another one",
            id="review_head.options",
        )
    try:
        student(student(head_class, **options).load_state_dict, head.state_dict())
    except StudentError:
        raise Wrong(
            f"rebuilt from its options ({options}), the head does not take its own "
            "weights: pass hidden, n_classes and dropout to Head.__init__ "
            "(checkpoints rebuild heads from them)",
            id="review_head.options",
        ) from None


@check("ReviewHead")
def check_review_head(head_class: type, hidden: int = 8) -> list[str]:
    """check_head against the cfimdb entry, then: classes from the table, options."""
    with table.table_restored(), torch.random.fork_rng():  # the notebook's table and RNG kept
        mtlab_register_cfimdb()
        head = build(head_class, hidden)
        require_written(head, hidden)
        require_head(head, "cfimdb")
        notes = head_checked(head, "cfimdb", hidden)
        _rebuilds(head_class, head, hidden)
        _follows_the_table(head_class, hidden)
    return notes


def use_review_head(head_class: type) -> type:
    """The student's head class, or mtlab's ReviewHead while the stub is unfilled."""
    return yours_or_mtlab("ReviewHead", head_class, ReviewHead, lambda cls: _output(cls, 8))
