"""Notebook 01's exercise 1.2, rows to a batch (imported from mtlab.exercises.data)."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping

import torch

from mtlab.batching import Batch, collate
from mtlab.exercises import StudentError, Wrong, check, student, yours_or_mtlab

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
                    id="collate.one-string",
                )
            if isinstance(first, (list, tuple)) and list(first) == [one, two]:
                raise Wrong(
                    f"{name}: {key!r} holds (sentence1, sentence2) tuples; a pair batch "
                    "keeps the two sides apart, as 'sentences1' and 'sentences2'",
                    id="collate.tuples",
                )
    extra = [k for k in got_keys if k not in want_keys]
    for key in (k for k in want_keys if k not in got_keys):
        close = difflib.get_close_matches(key, extra, n=1, cutoff=0.6)
        if close:
            raise Wrong(
                f"{name}: your batch has the key {close[0]!r} where a batch has {key!r}. "
                "One row says 'sentence' and 'label'; a batch of rows says 'sentences' "
                "and 'labels', and every cell after this reads those keys",
                id="collate.singular-keys",
            )
    if "labels" in out and "labels" not in want:
        raise Wrong(
            f"{name}: rows from a test file have no labels, so the batch must have no "
            "'labels' key; then training on it fails on the first step, with a message, "
            "instead of training on labels that are not there",
            id="collate.labels-on-test",
        )
    missing = [k for k in want_keys if k not in got_keys]
    raise Wrong(
        f"{name}: your batch has keys {got_keys}, expected {want_keys}"
        + (f" ({missing} missing)" if missing else ""),
        id="collate.keys",
    )


def _check_labels(name: str, labels, want: torch.Tensor) -> None:
    if not isinstance(labels, torch.Tensor):
        raise Wrong(
            f"{name}: 'labels' is a {type(labels).__name__}; make it one tensor "
            "(torch.tensor(...)), which is what a loss takes",
            id="collate.labels-not-tensor",
        )
    if want.dtype == torch.float32:
        if not labels.is_floating_point():
            scores = [round(x, 2) for x in want.tolist()]
            raise Wrong(
                f"{name}: STS scores {scores} came out as {labels.dtype} "
                f"{labels.tolist()}: integer targets truncate the scores, and MSE needs "
                "float32 targets",
                id="collate.int-scores",
            )
        if labels.dtype != torch.float32:
            raise Wrong(
                f"{name}: STS labels are {labels.dtype}; the model's outputs are float32 "
                "and MSE wants the same dtype on both sides. torch.tensor(a list of "
                "floats) gives float32 (np.array gives float64)",
                id="collate.float64-scores",
            )
    elif labels.dtype != torch.long:
        raise Wrong(
            f"{name}: class labels are {labels.dtype}; cross-entropy wants torch.long "
            "class indices. torch.tensor(a list of ints) gives torch.long",
            id="collate.float-classes",
        )
    if labels.shape != want.shape or not torch.allclose(labels.double(), want.double()):
        raise Wrong(
            f"{name}: labels {labels.tolist()}, expected {want.tolist()}: one per row, in "
            "the rows' order",
            id="collate.labels-wrong",
        )


def _collated(collate_fn: Callable, name: str, rows: list[dict]):
    """The student's batch for `rows`, or Wrong naming why their collate failed on them."""
    try:
        out = student(collate_fn, [dict(row) for row in rows])
    except StudentError as raised:
        error = raised.error
        if isinstance(error, KeyError) and "label" in str(error) and "label" not in rows[0]:
            raise Wrong(
                f"{name}: your collate raised {raised.describe()} on rows without labels. "
                "Rows from a test file have no 'label': add 'labels' only when the rows "
                "have them",
                id="collate.labels-on-test",
            ) from None
        if isinstance(error, KeyError) and "sentence" in str(error):
            kind = (
                "pair rows have 'sentence1' and 'sentence2'"
                if "sentence1" in rows[0]
                else ("single-sentence rows have 'sentence'")
            )
            raise Wrong(
                f"{name}: your collate raised {raised.describe()}: {kind}. Look at the row's "
                "keys ('sentence' in first) to tell the two kinds apart",
                id="collate.one-kind-of-row",
            ) from None
        raise
    if not isinstance(out, Mapping):
        raise Wrong(
            f"{name}: collate returned a {type(out).__name__}, expected a dict",
            id="answer.wrong-type",
        )
    return out


@check("collate")
def check_collate(collate_fn: Callable) -> list[str]:
    """Four kinds of rows (sentences, pairs with classes, pairs with scores, no labels)."""
    for name, rows in _rows().items():
        out = _collated(collate_fn, name, rows)
        want = collate(rows)
        _check_keys(name, out, want, rows)
        for key in (k for k in want if k != "labels"):
            if not isinstance(out[key], (list, tuple)) or list(out[key]) != want[key]:
                raise Wrong(
                    f"{name}: {key!r} is {out[key]!r}, expected the list {want[key]!r}",
                    id="collate.wrong-list",
                )
        if "labels" in want:
            _check_labels(name, out["labels"], want["labels"])
    notes = ["right keys, lists and label dtypes for sentences, pairs, scores and test rows"]
    if not isinstance(out, Batch):
        notes.append("tip: return mtlab.Batch(...) instead of a dict for its 'did you mean' help")
    return notes


def use_collate(collate_fn: Callable) -> Callable:
    """The student's collate, or mtlab's while the stub is unfilled."""
    return yours_or_mtlab("collate", collate_fn, collate, lambda f: f(_rows()["sst train"]))
