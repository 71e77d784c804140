"""Notebook 01's exercises: read a label, collate a batch, count padding, pick a dataset class."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable

import pandas as pd
import torch

from mtlab.data.datasets import (
    LabelledPairDataset,
    LabelledSentenceDataset,
    TaskDataset,
    UnlabelledPairDataset,
    UnlabelledSentenceDataset,
)
from mtlab.exercises import StudentError, Wrong, check, student, yours_or_mtlab
from mtlab.exercises.collate import check_collate, use_collate
from mtlab.tasks import get_task

__all__ = [  # exercise 1.2, collate, lives in mtlab.exercises.collate
    "check_collate",
    "check_dataset_class",
    "check_padded_positions",
    "check_read_label",
    "mtlab_dataset_class",
    "mtlab_padded_positions",
    "mtlab_read_label",
    "use_collate",
    "use_dataset_class",
    "use_padded_positions",
]

# -- Exercise 1.1: a label from its text -------------------------------------------------------

GOOD_LABELS = [
    ("quora", "1.0"),
    ("quora", "0.0"),
    ("sst", "4"),
    ("sst", " 2 "),
    ("sts", "3.8"),
    ("sts", "5"),
    ("sts", "2.75"),  # a score of two decimals, as STS has: rounding shows
]
BAD_LABELS = [
    ("sst", "5"),
    ("sst", "-1"),
    ("quora", "2.0"),
    ("quora", "0.5"),
    ("sts", "5.5"),
    ("sts", "-0.2"),
    ("sts", "nan"),
    ("sst", ""),
    ("quora", "yes"),
]
ENDS = {("quora", "0.0"), ("sst", "4"), ("sts", "5")}  # valid labels at an end of the range


def mtlab_read_label(text: str, task: str) -> int | float:
    """An int class 0..n-1, or a float score within the task's range; else ValueError."""
    spec, value = get_task(task), float(text)  # float() reads "1.0", " 2 " and "3.8"
    if spec.is_classification and value.is_integer() and 0 <= value < spec.num_classes:
        return int(value)
    if not spec.is_classification and spec.score_range[0] <= value <= spec.score_range[1]:
        return value  # written so that NaN fails: every comparison with NaN is False
    raise ValueError(f"label {text!r} is out of range: expected {spec.describe_labels()}")


def _call(function: Callable, *args):
    """Run the student's code: (its value, None), or (None, the StudentError it raised)."""
    try:
        return student(function, *args), None
    except StudentError as raised:
        return None, raised


def _refused_valid(task: str, text: str, raised: StudentError, want) -> Wrong:
    where = f"read_label({text!r}, {task!r}) raised {raised.describe()}"
    if task == "quora" and "int()" in str(raised.error):
        return Wrong(
            f"{where}, but it is a valid label ({want!r}). Quora writes 1.0 and 0.0: "
            "int('1.0') fails, float() reads it",
            id="read_label.int-of-float-text",
        )
    if (task, text) in ENDS:
        return Wrong(
            f"{where}, but it is a valid label ({want!r}), at an end of the range: "
            f"{get_task(task).describe_labels()}, both ends included (classes run from 0 "
            "to num_classes - 1, scores up to and including the top score)",
            id="read_label.refuses-an-end",
        )
    return Wrong(f"{where}, but it is a valid label ({want!r})", id="read_label.refuses-valid")


def _check_good(task: str, text: str, got) -> None:
    want = mtlab_read_label(text, task)
    where = f"read_label({text!r}, {task!r}) returned {got!r}"
    if isinstance(got, str):
        raise Wrong(
            f"{where}, the text itself: convert it, float(text) (then int for a class)",
            id="read_label.not-converted",
        )
    if get_task(task).is_classification:
        if isinstance(got, float) and got == want:
            raise Wrong(
                f"{where}, a float: a class must come back as the int {want}. Float "
                "class labels make a float batch, and cross-entropy wants torch.long "
                "class indices",
                id="read_label.class-as-float",
            )
        if not isinstance(got, numbers.Integral) or isinstance(got, bool) or got != want:
            kind = "" if isinstance(got, int) else f" (a {type(got).__name__})"
            raise Wrong(f"{where}{kind}, expected the int {want}", id="read_label.wrong-value")
        return
    if isinstance(got, numbers.Integral) and not isinstance(got, bool):
        raise Wrong(
            f"{where}, an int: an STS score must stay a float ({want!r}). An int "
            "loses the fraction (3.8 becomes 3 or 4), and collate gives the whole "
            "batch torch.long labels when its first label is an int",
            id="read_label.score-as-int",
        )
    if isinstance(got, numbers.Real) and type(got) is not float and abs(got - want) < 1e-6:
        raise Wrong(
            f"{where}, a {type(got).__name__}: torch.tensor of a list of them keeps that dtype "
            "(float64 from NumPy), not the float32 of the heads' scores. Return a Python "
            "float: float(text)",
            id="read_label.numpy-float",
        )
    if isinstance(got, float) and got == math.trunc(want) != want:
        raise Wrong(
            f"{where}, expected {want!r}: the fraction is lost. float(text) reads the whole "
            "number, fraction included",
            id="read_label.truncated",
        )
    if isinstance(got, float) and got != want and got in (round(want), round(want, 1)):
        raise Wrong(
            f"{where}, expected {want!r}: the score was rounded. Keep it as the file has it; "
            "raters' averages such as 2.75 are what the head learns from",
            id="read_label.rounded",
        )
    if not isinstance(got, float) or not abs(got - want) <= 1e-9:  # NaN is not near
        kind = "" if isinstance(got, float) else f" (a {type(got).__name__})"
        raise Wrong(f"{where}{kind}, expected the float {want!r}", id="read_label.wrong-value")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _accepted_bad(task: str, text: str, got) -> Wrong:
    spec, where = get_task(task), f"read_label({text!r}, {task!r}) returned {got!r}"
    must = f"it must raise ValueError, since a {task} label is {spec.describe_labels()}"
    if not _is_number(text):
        return Wrong(
            f"{where}: {must}. '{text}' is not a number at all: a try/except that returns a "
            "default hides a broken row; let the ValueError out",
            id="read_label.swallows-errors",
        )
    value = float(text)
    if math.isnan(value):
        return Wrong(
            f"{where}: {must} (every comparison with NaN is False, so `value < low or value > "
            "high` lets it through: test `low <= value <= high`)",
            id="read_label.accepts-nan",
        )
    if spec.is_classification and not value.is_integer():
        return Wrong(
            f"{where}: {must} ({text} is between two classes: a class must be a whole "
            "number; int() would round it down to a class)",
            id="read_label.accepts-fraction",
        )
    if spec.is_classification and value == spec.num_classes:
        return Wrong(
            f"{where}: {must}. {spec.num_classes} classes are 0 to {spec.num_classes - 1}: "
            f"{text.strip()} is one past the last (test value < num_classes)",
            id="read_label.off-by-one",
        )
    return Wrong(f"{where}: {must}", id="read_label.accepts-out-of-range")


@check("read_label")
def check_read_label(read_label: Callable) -> list[str]:
    """Valid labels come back as the right type and value; every invalid one raises ValueError."""
    for task, text in GOOD_LABELS:
        got, raised = _call(read_label, text, task)
        if raised is not None:
            raise _refused_valid(task, text, raised, mtlab_read_label(text, task))
        _check_good(task, text, got)
    results = [(task, text, *_call(read_label, text, task)) for task, text in BAD_LABELS]
    accepted = [(task, text, got) for task, text, got, raised in results if raised is None]
    not_numbers = [a for a in accepted if not _is_number(a[1])]
    if accepted:  # one that is not even a number says that errors are swallowed
        raise _accepted_bad(*(not_numbers or accepted)[0])
    for task, text, _, raised in results:
        if not isinstance(raised.error, ValueError):
            raise Wrong(
                f"read_label({text!r}, {task!r}) raised {raised.describe()}; raise "
                "ValueError, with a message that says what a valid label is",
                id="read_label.wrong-exception",
            )
    return [f"{len(GOOD_LABELS)} valid labels read right, {len(BAD_LABELS)} invalid ones refused"]


# -- Exercise 1.3: how much padding ------------------------------------------------------------


def mtlab_padded_positions(lengths: pd.Series, batch_size: int = 32) -> int:
    """Each batch of `batch_size` sentences, in order, padded to its own longest sentence."""
    return int(lengths.groupby(lengths.index // batch_size).transform("max").sum())


def _length_cases() -> list[tuple[list[int], int]]:
    generator = torch.Generator().manual_seed(0)
    random = torch.randint(5, 40, (23,), generator=generator).tolist()
    return [([3, 5, 2, 7, 4], 2), (random, 8), ([6, 9, 6], 4), ([9], 1)]


def _batches(lengths: list[int], size: int) -> list[list[int]]:
    return [lengths[i : i + size] for i in range(0, len(lengths), size)]


WRONG_PADDINGS = [  # (id, what it counts, the count)
    (
        "padded_positions.no-padding",
        "the real tokens alone: no padding counted",
        lambda x, b: sum(x),
    ),
    (
        "padded_positions.global-max",
        "every sentence padded to the longest of the whole list",
        lambda x, b: max(x) * len(x),
    ),
    (
        "padded_positions.full-last-batch",
        "the last batch counted as full: it has only the sentences that are left",
        lambda x, b: sum(b * max(c) for c in _batches(x, b)),
    ),
    (
        "padded_positions.pad-128",
        "padding to 128, not to each batch's longest",
        lambda x, b: 128 * len(x),
    ),
    (
        "padded_positions.max-per-batch",
        "one longest length per batch: multiply by the number of sentences in it",
        lambda x, b: sum(max(c) for c in _batches(x, b)),
    ),
    (
        "padded_positions.sorted",
        "the lengths sorted first: the batches take the sentences in the order given",
        lambda x, b: mtlab_padded_positions(pd.Series(sorted(x)), b),
    ),
    (
        "padded_positions.last-batch-dropped",
        "the last, shorter batch left out (len(lengths) // batch_size batches miss it)",
        lambda x, b: sum(len(c) * max(c) for c in _batches(x, b) if len(c) == b),
    ),
]


def _count(padded_positions: Callable, lengths: list[int], batch_size: int) -> float:
    got = student(padded_positions, pd.Series(lengths), batch_size)
    if isinstance(got, torch.Tensor) and got.numel() == 1:
        got = got.item()
    if not isinstance(got, numbers.Real) or isinstance(got, bool):
        raise Wrong(
            f"for lengths {lengths[:6]} it returned {str(got)[:40]!r}, expected a number",
            id="answer.wrong-type",
        )
    return float(got)


@check("padded_positions")
def check_padded_positions(padded_positions: Callable) -> list[str]:
    """Positions computed with dynamic padding, on lists where each wrong count differs."""
    cases = _length_cases()
    got = [_count(padded_positions, *case) for case in cases]
    wants = [mtlab_padded_positions(pd.Series(x), b) for x, b in cases]
    wrong = [i for i, (g, w) in enumerate(zip(got, wants)) if g != w]
    if not wrong:
        return [f"right on {len(cases)} lists, including a short last batch"]
    i = wrong[0]
    lengths, batch_size = cases[i]
    found = next(
        (
            (id, f" ({words})")
            for id, words, count in WRONG_PADDINGS
            if all(g == count(*case) for g, case in zip(got, cases))
        ),
        ("answer.wrong-value", ": pad each batch to its own longest sentence"),
    )
    shown = lengths if len(lengths) < 10 else f"{lengths[:6]}... ({len(lengths)} lengths)"
    raise Wrong(
        f"lengths {shown} in batches of {batch_size}: expected {wants[i]} positions, "
        f"got {got[i]:g}{found[1]}",
        id=found[0],
    )


def use_padded_positions(padded_positions: Callable) -> Callable:
    """The student's padded_positions, or mtlab's while the stub is unfilled."""
    return yours_or_mtlab(
        "padded_positions",
        padded_positions,
        mtlab_padded_positions,
        lambda f: f(pd.Series([3, 5]), 2),
    )


# -- Exercise 1.4: which dataset class ---------------------------------------------------------

CLASSES = (
    LabelledSentenceDataset,
    UnlabelledSentenceDataset,
    LabelledPairDataset,
    UnlabelledPairDataset,
)
SPLITS = [(task, split) for task in ("sst", "sts") for split in ("train", "dev", "test")]
SPLITS += [("quora", "train"), ("quora", "dev")]


def mtlab_dataset_class(task: str, split: str) -> type[TaskDataset]:
    """Pair or single sentence from the task table; unlabelled for the test split only."""
    pair, labelled = get_task(task).is_pair, split != "test"
    if pair:
        return LabelledPairDataset if labelled else UnlabelledPairDataset
    return LabelledSentenceDataset if labelled else UnlabelledSentenceDataset


@check("dataset_class")
def check_dataset_class(dataset_class: Callable) -> list[str]:
    """Every course task and split: labelled for train/dev, unlabelled for test, pair or not."""
    for task, split in SPLITS:
        got, want = student(dataset_class, task, split), mtlab_dataset_class(task, split)
        where = f"dataset_class({task!r}, {split!r}) returned"
        if isinstance(got, TaskDataset):
            raise Wrong(
                f"{where} a dataset; return the class itself, e.g. {want.__name__}",
                id="dataset_class.instance",
            )
        if isinstance(got, str):
            raise Wrong(
                f"{where} the string {got!r}; return the class itself, e.g. "
                f"mtlab.{want.__name__}, which the cell below calls to read a file",
                id="dataset_class.name",
            )
        if not any(got is c for c in CLASSES):
            names = ", ".join(c.__name__ for c in CLASSES)
            raise Wrong(
                f"{where} {got!r}; expected one of mtlab's classes: {names}",
                id="answer.wrong-type",
            )
        if got.labelled != want.labelled and want.labelled:
            raise Wrong(
                f"{where} {got.__name__} for the {split} split: its rows have no labels, "
                "so training stops at the first batch['labels']; train and dev files are "
                f"labelled ({want.__name__})",
                id="dataset_class.unlabelled-for-labelled",
            )
        if got.labelled != want.labelled:
            raise Wrong(
                f"{where} {got.__name__} for the test split: test files have no label "
                "column, so a labelled class cannot read them (see the DataFormatError "
                f"above); use {want.__name__}",
                id="dataset_class.labelled-for-test",
            )
        if got.pair != want.pair:
            kind = "a pair task (two sentences per row)" if want.pair else "a single-sentence task"
            raise Wrong(
                f"{where} {got.__name__}, but {task} is {kind}: use {want.__name__} "
                "(get_task(task).is_pair says which)",
                id="dataset_class.pair-or-not",
            )
    return [f"right class for all {len(SPLITS)} task and split combinations"]


def use_dataset_class(dataset_class: Callable) -> Callable:
    """The student's dataset_class, or mtlab's while the stub is unfilled."""
    return yours_or_mtlab(
        "dataset_class", dataset_class, mtlab_dataset_class, lambda f: f("sst", "train")
    )
