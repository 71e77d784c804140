"""Notebook 02's exercises: the cross-entropy loss, accuracy from logits, a sentiment head."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

from mtlab.exercises import StudentError, Wrong, check, student, yours_or_mtlab
from mtlab.exercises.confusion import check_confusion, mtlab_confusion
from mtlab.exercises.heads import (
    build,
    eval_outputs,
    head_checked,
    require_head,
    require_non_linear,
    require_written,
)
from mtlab.exercises.probes import as_number, matches, tensor_answer
from mtlab.heads.kinds import SentimentHead

__all__ = [  # exercise 2.4, the confusion matrix, lives in mtlab.exercises.confusion
    "check_accuracy",
    "check_confusion",
    "check_sentiment_head",
    "check_sentiment_loss",
    "mtlab_accuracy",
    "mtlab_confusion",
    "use_sentiment_head",
]


def _logits(batch: int, classes: int, seed: int, scale: float = 2.0) -> tuple[torch.Tensor, ...]:
    generator = torch.Generator().manual_seed(seed)
    logits = (scale * torch.randn(batch, classes, generator=generator)).requires_grad_()
    labels = torch.randint(0, classes, (batch,), generator=generator)
    return logits, labels


# -- Exercise 2.1: cross-entropy ---------------------------------------------------------------

LOSS_CASES = ((4, 5, 0), (6, 5, 1), (3, 2, 2))


def _picked(table: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    return table[torch.arange(len(labels)), labels]


def _one_hot(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    return F.one_hot(labels, logits.shape[1]).to(logits.dtype)


WRONG_LOSSES = [  # (id, what the answer computed, that loss on the same logits)
    (
        "sentiment_loss.softmax-twice",
        "softmax was applied before cross-entropy, which applies (log-)softmax itself: "
        "probabilities used as logits keep the loss near ln C, with tiny gradients",
        lambda x, y: F.cross_entropy(x.softmax(-1), y),
    ),
    (
        "sentiment_loss.sum-not-mean",
        "that is the sum over the batch; take the mean, so that the loss (and the step size) "
        "does not grow with the batch",
        lambda x, y: F.cross_entropy(x, y, reduction="sum"),
    ),
    (
        "sentiment_loss.batch-dim",
        "the softmax ran over dim=0, the batch, instead of dim=-1, the classes",
        lambda x, y: -_picked(x.log_softmax(0), y).mean(),
    ),
    (
        "sentiment_loss.no-log-softmax",
        "that is minus the mean logit of the true class: nll_loss (or picking by hand) wants "
        "log-probabilities, so log_softmax the logits first",
        lambda x, y: -_picked(x, y).mean(),
    ),
    (
        "sentiment_loss.probabilities-not-logs",
        "that is minus the mean probability of the true class: the log is missing. "
        "Take log_softmax, not softmax, before picking",
        lambda x, y: -_picked(x.softmax(-1), y).mean(),
    ),
    (
        "sentiment_loss.sign",
        "the loss is negative: the minus sign is missing. Cross-entropy is minus the mean "
        "log-probability of the true class",
        lambda x, y: _picked(x.log_softmax(-1), y).mean(),
    ),
    (
        "sentiment_loss.mean-over-classes",
        "that is the cross-entropy divided by the number of classes: .mean() over the whole "
        "(B, C) table of one-hot × log-probabilities. Sum over the classes, then take the mean "
        "over the batch",
        lambda x, y: -(_one_hot(x, y) * x.log_softmax(-1)).mean(),
    ),
    (
        "sentiment_loss.all-pairs",
        "log_probabilities[:, labels] picks every row's log-probability of every label, a "
        "(B, B) table. Pick one entry per row: log_probabilities[torch.arange(B), labels]",
        lambda x, y: -x.log_softmax(-1)[:, y].mean(),
    ),
    (
        "sentiment_loss.rows-by-label",
        "log_probabilities[labels] picks whole rows, by the labels' numbers. Pick one entry "
        "per row: log_probabilities[torch.arange(B), labels]",
        lambda x, y: -x.log_softmax(-1)[y].mean(),
    ),
    (
        "sentiment_loss.label-smoothing",
        "that is cross-entropy with label smoothing: the exercise's loss is the plain one, "
        "all the weight on the true class",
        lambda x, y: F.cross_entropy(x, y, label_smoothing=0.1),
    ),
    (
        "sentiment_loss.log-base",
        "that is the cross-entropy in bits (log base 2): log_softmax, like torch.log, is the "
        "natural log",
        lambda x, y: F.cross_entropy(x, y) / math.log(2),
    ),
    (
        "sentiment_loss.mse",
        "that is MSE against one-hot labels, not cross-entropy",
        lambda x, y: F.mse_loss(x, _one_hot(x, y)),
    ),
    (
        "sentiment_loss.binary",
        "that is binary cross-entropy, one yes/no per class: the classes exclude each other, "
        "so their softmax cross-entropy is the loss",
        lambda x, y: F.binary_cross_entropy_with_logits(x, _one_hot(x, y)),
    ),
    (
        "sentiment_loss.mse",
        "that is MSE between the predicted class and the label: a class number is not a "
        "score, and argmax has no gradient",
        lambda x, y: F.mse_loss(x.argmax(-1).to(x.dtype), y.to(x.dtype)),
    ),
]


def _fingerprint(table, got: list[float], cases) -> tuple[str, str] | None:
    """The (id, words) of the wrong computation that gives the student's number on every case."""
    return next(((id, words) for id, words, wrong in table if matches(got, wrong, cases)), None)


def _loss_of(sentiment_loss: Callable, logits: torch.Tensor, labels: torch.Tensor):
    """The student's loss on these logits, checked to be one number in the graph."""
    try:
        out = student(sentiment_loss, logits * 1, labels.clone())
    except StudentError as raised:
        text = str(raised.error).lower()
        if "float" in text and ("long" in text or "target" in text or "index" in text):
            raise Wrong(
                f"your loss raised {raised.describe()}. Keep the labels torch.long: "
                "cross-entropy reads them as the index of the true class",
                id="sentiment_loss.float-labels",
            ) from None
        raise
    if isinstance(out, (int, float)):
        raise Wrong(
            f"the loss is a Python {type(out).__name__}: .item() (or NumPy) cut it from the "
            "graph, so backward() has nothing to follow. Return the tensor",
            id="graph.cut",
        )
    out = tensor_answer(out, "the loss", "a tensor with one number")
    if out.numel() != 1:
        raise Wrong(
            f"the loss has shape {tuple(out.shape)}: one loss per example. A loss is one "
            "number, the mean over the batch",
            id="sentiment_loss.per-example",
        )
    return out.reshape(())


@check("sentiment_loss")
def check_sentiment_loss(sentiment_loss: Callable) -> list[str]:
    """Value and gradient against F.cross_entropy; confident logits must not overflow."""
    cases = [_logits(*case) for case in LOSS_CASES]
    outs = [_loss_of(sentiment_loss, *case) for case in cases]
    wants = [F.cross_entropy(*case) for case in cases]
    got = [out.item() for out in outs]
    for out, want in zip(outs, wants):
        if out.grad_fn is None:
            found = _fingerprint(WRONG_LOSSES, got, cases)
            right = math.isclose(out.item(), want.item(), rel_tol=1e-4)
            raise Wrong(
                "the loss has no grad_fn"
                + (
                    ": the value is right, but something (.detach(), a NumPy round trip, "
                    "torch.tensor(...) of a result) cut it from the graph"
                    if right
                    else f", and its value is wrong too: {found[1] if found else ''}"
                ),
                id="graph.cut",
            )
    if not all(math.isclose(g, w.item(), rel_tol=1e-4, abs_tol=1e-6) for g, w in zip(got, wants)):
        batch, classes, _ = LOSS_CASES[0]
        found = _fingerprint(WRONG_LOSSES, got, cases)
        id, words = found or ("answer.wrong-value", "compare with the cross-entropy by hand above")
        raise Wrong(
            f"on {batch} rows of {classes} logits expected {wants[0].item():.4f}, got "
            f"{got[0]:.4f}: {words}",
            id=id,
        )
    for out, want, (logits, _) in zip(outs, wants, cases):
        (grad,) = torch.autograd.grad(out, logits, allow_unused=True)
        (want_grad,) = torch.autograd.grad(want, logits)
        if grad is None or not torch.allclose(grad.double(), want_grad.double(), atol=1e-5):
            raise Wrong(
                "the value is right but the gradient is not (softmax - one-hot, over the "
                "batch size): part of the loss is detached (.detach(), .data, .item())",
                id="graph.part-cut",
            )
    _confident(sentiment_loss)
    return ["value and gradient match F.cross_entropy; confident logits stay finite"]


def _confident(sentiment_loss: Callable) -> None:
    logits, labels = _logits(3, 5, seed=3, scale=200.0)
    got = _loss_of(sentiment_loss, logits, labels).item()
    want = F.cross_entropy(logits, labels).item()
    if not math.isfinite(got):
        raise Wrong(
            f"on confident logits (about ±200) the loss is {got}, expected {want:.1f}: "
            "softmax rounds the wrong classes to exactly 0, and log(0) is -inf. Use "
            "log_softmax, which never forms the tiny probability",
            id="sentiment_loss.overflow",
        )
    if not math.isclose(got, want, rel_tol=1e-4):
        raise Wrong(
            f"on confident logits (about ±200) expected {want:.1f}, got {got:.1f}: something "
            "rounds or clamps (a probability clamped to 1e-8 before the log?)",
            id="sentiment_loss.overflow",
        )


# -- Exercise 2.2: accuracy --------------------------------------------------------------------


def mtlab_accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """The share of rows whose highest logit is the true class."""
    return (logits.argmax(-1) == labels).float().mean().item()


def _accuracy_cases() -> list[tuple[torch.Tensor, torch.Tensor]]:
    """A square batch first (5 rows, 5 classes), where argmax over dim=0 runs without error;
    the last batch has every row right, so that a share rounded down shows."""
    cases = [_logits(5, 5, seed=4), _logits(8, 5, seed=5), _logits(7, 3, seed=6)]
    cases = [(logits.detach(), labels) for logits, labels in cases]
    for logits, labels in cases:
        labels[:3] = logits[:3].argmax(-1)  # some right, some wrong: 3/5, 3/8, 3/7
    logits = _logits(6, 4, seed=7)[0].detach()
    logits[0, 1] = 10.0  # the largest of the whole table in row 0, as class 1
    return [*cases, (logits, logits.argmax(-1))]


def _share(right: torch.Tensor) -> float:
    return right.float().mean().item()


WRONG_ACCURACIES = [  # (id, what it is, its value)
    (
        "accuracy.count",
        "the number of right answers, not their share: divide by the number of rows",
        lambda x, y: (x.argmax(-1) == y).sum().item(),
    ),
    (
        "accuracy.argmax-batch-dim",
        "argmax over dim=0 picks, for each class, the row with the highest score. The "
        "predicted class of a row is its argmax over dim=-1",
        lambda x, y: _share(x.argmax(0) == y),
    ),
    (
        "accuracy.error-rate",
        "the share of wrong answers, the error rate: accuracy is the share of right ones",
        lambda x, y: 1 - _share(x.argmax(-1) == y),
    ),
    (
        "accuracy.percentage",
        "a percentage: return the share, between 0 and 1",
        lambda x, y: 100 * _share(x.argmax(-1) == y),
    ),
    (
        "accuracy.integer-division",
        "integer division (//) rounds the share down to 0: divide with /",
        lambda x, y: (x.argmax(-1) == y).sum().item() // len(y),
    ),
    (
        "accuracy.keepdim",
        "argmax(-1, keepdim=True) is a (B, 1) column: against (B,) labels == broadcasts to a "
        "(B, B) table of every prediction against every label. Drop keepdim",
        lambda x, y: _share(x.argmax(-1, keepdim=True) == y),
    ),
    (
        "accuracy.argmin",
        "argmin picks each row's smallest logit: the predicted class is the largest, argmax",
        lambda x, y: _share(x.argmin(-1) == y),
    ),
    (
        "accuracy.flat-argmax",
        "argmax without dim gives one index into the flattened table, not a class per row: "
        "argmax(dim=-1)",
        lambda x, y: _share(x.argmax() == y),
    ),
    (
        "accuracy.scores-not-classes",
        "no row matched: scores (or probabilities) were compared with class numbers. The "
        "predicted class is logits.argmax(-1)",
        lambda x, y: _share(x.max(-1).values == y),
    ),
]


def _accuracy_of(accuracy: Callable, logits: torch.Tensor, labels: torch.Tensor) -> float:
    rows = f"on {len(labels)} rows of {logits.shape[1]} logits"
    try:
        got = student(accuracy, logits.clone(), labels.clone())
    except StudentError as raised:
        if "mean" in str(raised.error) and "Bool" in str(raised.error):
            raise Wrong(
                f"{rows} your code raised {raised.describe()}: a tensor of True/False has no "
                "mean. Make it float first: (predictions == labels).float().mean()",
                id="accuracy.mean-of-bools",
            ) from None
        raise
    if isinstance(got, torch.Tensor) and got.numel() != 1:
        raise Wrong(
            f"{rows} it returned a tensor of shape {tuple(got.shape)} ({got.dtype}): one "
            "right-or-wrong per row. Accuracy is their mean, as one number: .float().mean().item()",
            id="accuracy.per-row",
        )
    if as_number(got) is None:
        raise Wrong(
            f"{rows} it returned {got!r}, expected a number between 0 and 1",
            id="answer.wrong-type",
        )
    return as_number(got)


@check("accuracy")
def check_accuracy(accuracy: Callable) -> list[str]:
    """A float share, argmax over the classes, on batches of several shapes."""
    cases = _accuracy_cases()
    got: list[float] = []
    for case in cases:  # on an error, name the mistake from the batches before, if they show it
        try:
            got.append(_accuracy_of(accuracy, *case))
        except StudentError:
            if all(math.isclose(g, mtlab_accuracy(*c), abs_tol=1e-6) for g, c in zip(got, cases)):
                raise
            break
    wants = [mtlab_accuracy(*case) for case in cases[: len(got)]]
    wrong = [i for i, (g, w) in enumerate(zip(got, wants)) if not math.isclose(g, w, abs_tol=1e-6)]
    if not wrong:
        return [f"right on {len(cases)} batches, square and not"]
    i, (logits, labels) = wrong[0], cases[wrong[0]]
    found = next(
        ((id, words) for id, words, value in WRONG_ACCURACIES if matches(got, value, cases)),
        ("answer.wrong-value", "the share of rows whose largest logit is the true class"),
    )
    raise Wrong(
        f"on {len(labels)} rows of {logits.shape[1]} logits expected {wants[i]:.3f}, got "
        f"{got[i]:.3f}: {found[1]}",
        id=found[0],
    )


# -- Exercise 2.3: the head --------------------------------------------------------------------


@check("SentimentMLP")
def check_sentiment_head(head_class: type, hidden: int = 8) -> list[str]:
    """check_head, then: an mtlab Head for sst, not linear, its n_classes followed."""
    torch.manual_seed(0)  # the same first weights, whatever ran before (check_head does too)
    head = build(head_class, hidden)
    require_written(head, hidden)
    require_head(head, "sst")
    notes = head_checked(head, "sst", hidden)
    with torch.random.fork_rng():  # the notebook's random numbers stay as check_head leaves them
        require_non_linear(head, hidden)
        three = eval_outputs(build(head_class, hidden, n_classes=3), torch.randn(4, hidden))
        if not isinstance(three, torch.Tensor) or tuple(three.shape) != (4, 3):
            shape = tuple(three.shape) if isinstance(three, torch.Tensor) else type(three).__name__
            raise Wrong(
                f"{head_class.__name__}(hidden, n_classes=3) gives {shape} for 4 vectors, "
                "not (4, 3): the number of classes is fixed in the head. Use the n_classes it "
                "is given in the last layer",
                id="head.ignores-n-classes",
            )
    return notes


def use_sentiment_head(head_class: type) -> type:
    """The student's head class, or mtlab's SentimentHead while the stub is unfilled."""
    return yours_or_mtlab(
        "SentimentMLP", head_class, SentimentHead, lambda cls: cls(8)(torch.randn(2, 8))
    )
