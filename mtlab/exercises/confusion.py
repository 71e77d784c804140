"""Notebook 02's exercise 2.4, a confusion matrix row by row (imported from .sentiment)."""

from __future__ import annotations

from collections.abc import Callable

import torch

from mtlab.exercises import Wrong, check, student
from mtlab.exercises.probes import close, tensor_answer


def mtlab_confusion(
    labels: torch.Tensor, predictions: torch.Tensor, n_classes: int
) -> torch.Tensor:
    """Row i, column j: the share of class-i examples predicted as j (rows of absent classes 0)."""
    counts = _counts(labels, predictions, n_classes)
    return counts / counts.sum(1, keepdim=True).clamp(min=1)


def _counts(labels: torch.Tensor, predictions: torch.Tensor, n_classes: int) -> torch.Tensor:
    counts = torch.zeros(n_classes, n_classes)
    counts.index_put_((labels, predictions), torch.ones(len(labels)), accumulate=True)
    return counts


def _by_columns(counts: torch.Tensor) -> torch.Tensor:
    return counts / counts.sum(0, keepdim=True).clamp(min=1)


def _uniform_empty_rows(counts: torch.Tensor) -> torch.Tensor:
    shares = counts / counts.sum(1, keepdim=True).clamp(min=1)
    shares[counts.sum(1) == 0] = 1 / len(counts)
    return shares


CASES = [  # (labels, predictions, n_classes): class 3 (and class 1 below) has no examples
    ([0, 0, 0, 1, 1, 2, 2, 2, 2, 4], [0, 1, 0, 1, 2, 2, 2, 1, 0, 4], 5),
    ([0, 2, 2, 0, 0, 2], [0, 2, 0, 2, 0, 1], 3),
]

WRONG_MATRICES = [  # (id, what it is, the matrix it gives from the counts)
    (
        "confusion.by-columns",
        "the columns sum to 1, not the rows: rows are the true classes, so normalise each "
        "row by its own count (sum over dim=1, keepdim=True)",
        _by_columns,
    ),
    (
        "confusion.no-keepdim",
        "counts / counts.sum(1) without keepdim=True: the (n,) row sums broadcast along the "
        "columns, so cell [i, j] is divided by row j's count. Use .sum(1, keepdim=True)",
        lambda counts: counts / counts.sum(1).clamp(min=1),
    ),
    (
        "confusion.transposed",
        "rows and columns swapped: row i is the true class i, so count at "
        "[label, prediction], not [prediction, label]",
        lambda counts: _by_columns(counts).T,
    ),
    (
        "confusion.transposed",
        "rows and columns swapped: row i is the true class i, so count at "
        "[label, prediction], not [prediction, label]",
        lambda counts: (counts / counts.sum(1, keepdim=True).clamp(min=1)).T,
    ),
    (
        "confusion.whole-sum",
        "the whole matrix sums to 1: that is each cell's share of all examples; normalise "
        "each row by its own count instead",
        lambda counts: counts / counts.sum(),
    ),
    (
        "confusion.counts",
        "these are the counts: divide each row by its own count, so that row i holds the "
        "shares of class i's examples",
        lambda counts: counts,
    ),
    (
        "confusion.integer-division",
        "integer division: the counts are integers, and // (or an integer tensor's floor) "
        "rounds every share down to 0 or 1. Make the counts float",
        lambda counts: counts // counts.sum(1, keepdim=True).clamp(min=1),
    ),
    (
        "confusion.empty-row",
        "a class with no examples got a row of 1/n: it has no examples to share out, so "
        "leave its row at 0",
        _uniform_empty_rows,
    ),
]


def _matrix(confusion: Callable, labels: list[int], predictions: list[int], n: int):
    got = student(confusion, torch.tensor(labels), torch.tensor(predictions), n)
    got = tensor_answer(got, "confusion", f"a ({n}, {n}) tensor")
    if tuple(got.shape) != (n, n):
        present = len(set(labels) | set(predictions))
        hint = (
            f": that is the number of classes seen ({present}), not n_classes; a class "
            "with no examples still has its row and column"
            if tuple(got.shape) == (present, present)
            else ""
        )
        raise Wrong(
            f"shape {tuple(got.shape)}, expected ({n}, {n}): one row and one column per class"
            + hint,
            id="confusion.shape" if hint else "answer.wrong-shape",
        )
    return got.detach().double()


@check("confusion")
def check_confusion(confusion: Callable) -> list[str]:
    """A row-normalised confusion matrix: per-class accuracy on its diagonal."""
    got = [_matrix(confusion, *case) for case in CASES]
    wants = [mtlab_confusion(torch.tensor(y), torch.tensor(p), n) for y, p, n in CASES]
    if all(close(g, w, atol=1e-6) for g, w in zip(got, wants)):
        return ["rows sum to 1 (0 for a class without examples); diagonal = per-class accuracy"]
    if any(torch.isnan(g).any() for g in got):
        raise Wrong(
            "row 3 (a class with no examples) is nan: 0 / 0. Divide by the row count, but "
            "leave rows without examples at 0 (e.g. .clamp(min=1) on the counts)",
            id="confusion.nan-row",
        )
    counts = [_counts(torch.tensor(y), torch.tensor(p), n) for y, p, n in CASES]
    for id, words, wrong in WRONG_MATRICES:
        if all(close(g, wrong(c).double(), atol=1e-6) for g, c in zip(got, counts)):
            raise Wrong(words, id=id)
    raise Wrong(
        f"row 0 (3 examples: predicted 0, 1, 0) should be {wants[0][0].tolist()}, got "
        f"{got[0][0].tolist()}",
        id="answer.wrong-value",
    )
