"""Notebook 01's exercises: read a label, collate a batch, count padding, pick a dataset class."""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Callable, Mapping

import pandas as pd
import torch

from mtlab.batching import Batch, collate
from mtlab.data.datasets import (
    LabelledPairDataset,
    LabelledSentenceDataset,
    TaskDataset,
    UnlabelledPairDataset,
    UnlabelledSentenceDataset,
)
from mtlab.exercises import Wrong, check, yours_or_mtlab
from mtlab.tasks import get_task

# -- Exercise 1.1: a label from its text -------------------------------------------------------

GOOD_LABELS = [
    ("quora", "1.0"),
    ("quora", "0.0"),
    ("sst", "4"),
    ("sst", " 2 "),
    ("sts", "3.8"),
    ("sts", "5"),
    ("sts", "0.4"),
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

REFUSE_HINTS = {
    "nan": " (every comparison with NaN is False, so `value < low or value > high` lets it "
    "through: test `low <= value <= high`)",
    "0.5": " (0.5 is between two classes: a class must be a whole number)",
}


def mtlab_read_label(text: str, task: str) -> int | float:
    """An int class 0..n-1, or a float score within the task's range; else ValueError."""
    spec, value = get_task(task), float(text)  # float() reads "1.0", " 2 " and "3.8"
    if spec.is_classification and value.is_integer() and 0 <= value < spec.num_classes:
        return int(value)
    if not spec.is_classification and spec.score_range[0] <= value <= spec.score_range[1]:
        return value  # written so that NaN fails: every comparison with NaN is False
    raise ValueError(f"label {text!r} is out of range: expected {spec.describe_labels()}")


def _call(function: Callable, *args):
    """Run the student's code; a stub's NotImplementedError goes on to the check decorator."""
    try:
        return function(*args), None
    except NotImplementedError:
        raise
    except Exception as error:
        return None, error


@check("read_label")
def check_read_label(read_label: Callable) -> list[str]:
    """Valid labels come back as the right type and value; every invalid one raises ValueError."""
    for task, text in GOOD_LABELS:
        want = mtlab_read_label(text, task)
        got, error = _call(read_label, text, task)
        if error is not None:
            hint = " Quora writes 1.0 and 0.0: int('1.0') fails, float() reads it" * (
                task == "quora"
            )
            raise Wrong(
                f"read_label({text!r}, {task!r}) raised {type(error).__name__}: {error}, "
                f"but it is a valid label ({want!r}).{hint}"
            )
        where = f"read_label({text!r}, {task!r}) returned {got!r}"
        if get_task(task).is_classification:
            if isinstance(got, float) and got == want:
                raise Wrong(
                    f"{where}, a float: a class must come back as the int {want}. Float "
                    "class labels make a float batch, and cross-entropy wants torch.long "
                    "class indices"
                )
            if not isinstance(got, numbers.Integral) or isinstance(got, bool) or got != want:
                raise Wrong(f"{where}, expected the int {want}")
        else:
            if isinstance(got, numbers.Integral) and not isinstance(got, bool):
                raise Wrong(
                    f"{where}, an int: an STS score must stay a float ({want!r}). An int "
                    "loses the fraction (3.8 becomes 3 or 4), and collate gives the whole "
                    "batch torch.long labels when its first label is an int",
                    mistake=3,
                )
            if not isinstance(got, float) or abs(got - want) > 1e-9:
                raise Wrong(f"{where}, expected the float {want!r}")
    for task, text in BAD_LABELS:
        got, error = _call(read_label, text, task)
        valid = get_task(task).describe_labels()
        if error is None:
            raise Wrong(
                f"read_label({text!r}, {task!r}) returned {got!r}: it must raise "
                f"ValueError, since a {task} label is {valid}{REFUSE_HINTS.get(text, '')}"
            )
        if not isinstance(error, ValueError):
            raise Wrong(
                f"read_label({text!r}, {task!r}) raised {type(error).__name__}; raise "
                "ValueError, with a message that says what a valid label is"
            )
    return [f"{len(GOOD_LABELS)} valid labels read right, {len(BAD_LABELS)} invalid ones refused"]


# -- Exercise 1.2: rows to a batch -------------------------------------------------------------


def _row(id_: str, *sentences: str, label: float | None = None) -> dict:
    keys = ("sentence",) if len(sentences) == 1 else ("sentence1", "sentence2")
    return {"id": id_, **dict(zip(keys, sentences)), **({} if label is None else {"label": label})}


def _rows() -> dict[str, list[dict]]:
    """One small list of rows per kind of batch, with different label types."""
    return {
        "sst train": [
            _row("s1", "A fine film .", label=3),
            _row("s2", "Dull .", label=0),
            _row("s3", "A triumph .", label=4),
        ],
        "quora train": [
            _row("q1", "How do I cook rice?", "How to cook rice?", label=1),
            _row("q2", "What is love?", "Who wrote Hamlet?", label=0),
        ],
        "sts train": [
            _row("t1", "A dog runs.", "A dog is running.", label=4.6),
            _row("t2", "A man sings.", "The market fell.", label=0.2),
            _row("t3", "A cat sleeps.", "A cat naps.", label=3.8),
        ],
        "sst test": [_row("u1", "A perfect film ."), _row("u2", "Not worth it .")],
    }


def _check_keys(name: str, out: Mapping, want: Batch, rows: list[dict]) -> None:
    got_keys, want_keys = sorted(map(str, out)), sorted(want)
    if got_keys == want_keys:
        return
    if "sentences1" in want and "sentences1" not in out:
        one, two = rows[0]["sentence1"], rows[0]["sentence2"]
        for key, value in out.items():
            first = value[0] if isinstance(value, (list, tuple)) and value else None
            if isinstance(first, str) and one in first and two in first:
                raise Wrong(
                    f"{name}: {key!r} holds each pair as one string. Keep the two "
                    "sentences apart, as 'sentences1' and 'sentences2': the model encodes "
                    "each on its own and compares the two vectors",
                    mistake=12,
                )
            if isinstance(first, (list, tuple)) and list(first) == [one, two]:
                raise Wrong(
                    f"{name}: {key!r} holds (sentence1, sentence2) tuples; a pair batch "
                    "keeps the two sides apart, as 'sentences1' and 'sentences2'"
                )
    extra = [k for k in got_keys if k not in want_keys]
    for key in (k for k in want_keys if k not in got_keys):
        close = difflib.get_close_matches(key, extra, n=1, cutoff=0.6)
        if close:
            raise Wrong(
                f"{name}: your batch has the key {close[0]!r} where a batch has {key!r}. "
                "One row says 'sentence' and 'label'; a batch of rows says 'sentences' "
                "and 'labels', and every cell after this reads those keys",
                mistake=2,
            )
    if "labels" in out and "labels" not in want:
        raise Wrong(
            f"{name}: rows from a test file have no labels, so the batch must have no "
            "'labels' key; then training on it fails on the first step, with a message, "
            "instead of training on labels that are not there"
        )
    raise Wrong(f"{name}: your batch has keys {got_keys}, expected {want_keys}")


def _check_labels(name: str, labels, want: torch.Tensor) -> None:
    if not isinstance(labels, torch.Tensor):
        raise Wrong(
            f"{name}: 'labels' is a {type(labels).__name__}; make it one tensor "
            "(torch.tensor(...)), which is what a loss takes"
        )
    if want.dtype == torch.float32:
        if not labels.is_floating_point():
            scores = [round(x, 2) for x in want.tolist()]
            raise Wrong(
                f"{name}: STS scores {scores} came out as {labels.dtype} "
                f"{labels.tolist()}: integer targets truncate the scores, and MSE needs "
                "float32 targets",
                mistake=3,
            )
        if labels.dtype != torch.float32:
            raise Wrong(
                f"{name}: STS labels are {labels.dtype}; the model's outputs are float32 "
                "and MSE wants the same dtype on both sides. torch.tensor(a list of "
                "floats) gives float32 (np.array gives float64)"
            )
    elif labels.dtype != torch.long:
        raise Wrong(
            f"{name}: class labels are {labels.dtype}; cross-entropy wants torch.long "
            "class indices. torch.tensor(a list of ints) gives torch.long"
        )
    if labels.shape != want.shape or not torch.allclose(labels.double(), want.double()):
        raise Wrong(f"{name}: labels {labels.tolist()}, expected {want.tolist()}")


@check("collate")
def check_collate(collate_fn: Callable) -> list[str]:
    """Four kinds of rows (sentences, pairs with classes, pairs with scores, no labels)."""
    for name, rows in _rows().items():
        out, error = _call(collate_fn, [dict(row) for row in rows])
        if isinstance(error, KeyError) and "label" not in rows[0]:
            raise Wrong(
                f"{name}: your collate raised KeyError {error} on rows without labels. "
                "Rows from a test file have no 'label': add 'labels' only when the "
                "rows have them"
            )
        if error is not None:
            raise error
        want = collate(rows)
        if not isinstance(out, Mapping):
            raise Wrong(f"{name}: collate returned a {type(out).__name__}, expected a dict")
        _check_keys(name, out, want, rows)
        for key in (k for k in want if k != "labels"):
            if not isinstance(out[key], (list, tuple)) or list(out[key]) != want[key]:
                raise Wrong(f"{name}: {key!r} is {out[key]!r}, expected the list {want[key]!r}")
        if "labels" in want:
            _check_labels(name, out["labels"], want["labels"])
    notes = ["right keys, lists and label dtypes for sentences, pairs, scores and test rows"]
    if not isinstance(out, Batch):
        notes.append("tip: return mtlab.Batch(...) instead of a dict for its 'did you mean' help")
    return notes


def use_collate(collate_fn: Callable) -> Callable:
    """The student's collate, or mtlab's while the stub is unfilled."""
    return yours_or_mtlab("collate", collate_fn, collate, lambda f: f(_rows()["sst train"]))


# -- Exercise 1.3: how much padding ------------------------------------------------------------


def mtlab_padded_positions(lengths: pd.Series, batch_size: int = 32) -> int:
    """Each batch of `batch_size` sentences, in order, padded to its own longest sentence."""
    return int(lengths.groupby(lengths.index // batch_size).transform("max").sum())


def _length_cases() -> list[tuple[list[int], int]]:
    generator = torch.Generator().manual_seed(0)
    random = torch.randint(5, 40, (23,), generator=generator).tolist()
    return [([3, 5, 2, 7, 4], 2), (random, 8), ([6, 9, 6], 4), ([9], 1)]


def _padding_hint(lengths: list[int], batch_size: int, got: float) -> str:
    """Name the usual wrong counts, each a different idea of what gets padded."""
    batches = [lengths[i : i + batch_size] for i in range(0, len(lengths), batch_size)]
    wrong = {
        sum(lengths): "the real tokens alone: no padding counted",
        max(lengths) * len(lengths): "every sentence padded to the longest of the whole list",
        sum(batch_size * max(b) for b in batches): "the last batch counted as full: it has only "
        "the sentences that are left",
        128 * len(lengths): "padding to 128, not to each batch's longest",
        sum(max(b) for b in batches): "one longest length per batch: multiply by the number of "
        "sentences in it",
    }
    return next((f" ({why})" for count, why in wrong.items() if got == count), "")


@check("padded_positions")
def check_padded_positions(padded_positions: Callable) -> list[str]:
    """Positions computed with dynamic padding, on lists where each wrong count differs."""
    for lengths, batch_size in _length_cases():
        got = padded_positions(pd.Series(lengths), batch_size)
        want = mtlab_padded_positions(pd.Series(lengths), batch_size)
        if isinstance(got, torch.Tensor) and got.numel() == 1:
            got = got.item()
        if not isinstance(got, numbers.Real):
            raise Wrong(f"for lengths {lengths} it returned {got!r}, expected a number")
        if got != want:
            shown = lengths if len(lengths) < 10 else f"{lengths[:6]}... ({len(lengths)} lengths)"
            raise Wrong(
                f"lengths {shown} in batches of {batch_size}: expected {want} positions, "
                f"got {got}{_padding_hint(lengths, batch_size, got)}"
            )
    return [f"right on {len(_length_cases())} lists, including a short last batch"]


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
        got, want = dataset_class(task, split), mtlab_dataset_class(task, split)
        where = f"dataset_class({task!r}, {split!r}) returned"
        if isinstance(got, TaskDataset):
            raise Wrong(f"{where} a dataset; return the class itself, e.g. {want.__name__}")
        if got not in CLASSES:
            names = ", ".join(c.__name__ for c in CLASSES)
            raise Wrong(f"{where} {got!r}; expected one of mtlab's classes: {names}")
        if got.labelled != want.labelled and want.labelled:
            raise Wrong(
                f"{where} {got.__name__} for the {split} split: its rows have no labels, "
                "so training stops at the first batch['labels']; train and dev files are "
                f"labelled ({want.__name__})",
                mistake=5,
            )
        if got.labelled != want.labelled:
            raise Wrong(
                f"{where} {got.__name__} for the test split: test files have no label "
                "column, so a labelled class cannot read them (see the DataFormatError "
                f"above); use {want.__name__}"
            )
        if got.pair != want.pair:
            kind = "a pair task (two sentences per row)" if want.pair else "a single-sentence task"
            raise Wrong(f"{where} {got.__name__}, but {task} is {kind}: use {want.__name__}")
    return [f"right class for all {len(SPLITS)} task and split combinations"]


def use_dataset_class(dataset_class: Callable) -> Callable:
    """The student's dataset_class, or mtlab's while the stub is unfilled."""
    return yours_or_mtlab(
        "dataset_class", dataset_class, mtlab_dataset_class, lambda f: f("sst", "train")
    )
