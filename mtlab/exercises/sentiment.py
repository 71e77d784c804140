"""Notebook 02's exercises: the cross-entropy loss, accuracy from logits, a sentiment head."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable

import torch
import torch.nn.functional as F

from mtlab.debugging.checks import check_head
from mtlab.exercises import Wrong, check, yours_or_mtlab
from mtlab.heads.base import Head
from mtlab.heads.kinds import SentimentHead


def _logits(batch: int, classes: int, seed: int, scale: float = 2.0) -> tuple[torch.Tensor, ...]:
    generator = torch.Generator().manual_seed(seed)
    logits = (scale * torch.randn(batch, classes, generator=generator)).requires_grad_()
    labels = torch.randint(0, classes, (batch,), generator=generator)
    return logits, labels


# -- Exercise 2.1: cross-entropy ---------------------------------------------------------------


def _loss_hint(logits: torch.Tensor, labels: torch.Tensor, got: float) -> str:
    """Name the usual wrong losses by the number each one gives on the same logits."""
    with torch.no_grad():
        rows = torch.arange(len(labels))
        one_hot = F.one_hot(labels, logits.shape[1]).float()
        wrong = {
            "softmax was applied before cross-entropy, which applies (log-)softmax itself: "
            "probabilities used as logits keep the loss near ln C, with tiny gradients": F.cross_entropy(
                logits.softmax(-1), labels
            ),
            "that is the sum over the batch; take the mean, so the loss (and the step size) "
            "does not grow with the batch": F.cross_entropy(logits, labels, reduction="sum"),
            "the softmax ran over dim=0, the batch, instead of dim=-1, the classes": -logits.log_softmax(
                0
            )[rows, labels].mean(),
            "that is minus the mean logit of the true class: nll_loss wants log-probabilities, "
            "so log_softmax the logits first": -logits[rows, labels].mean(),
            "that is MSE against one-hot labels, not cross-entropy": F.mse_loss(logits, one_hot),
            "that is MSE between the predicted class and the label: a class number is not a "
            "score, and argmax has no gradient": F.mse_loss(
                logits.argmax(-1).float(), labels.float()
            ),
        }
    return next(
        (why for why, value in wrong.items() if math.isclose(got, value, rel_tol=1e-4)),
        "compare with the cross-entropy by hand in the cells above",
    )


def _one_loss(sentiment_loss: Callable, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    try:
        out = sentiment_loss(logits, labels)
    except NotImplementedError:
        raise
    except RuntimeError as error:
        if "float" in str(error).lower() or "target" in str(error).lower():
            raise Wrong(
                f"your loss raised RuntimeError: {str(error).splitlines()[0]}. Keep the "
                "labels torch.long: cross-entropy reads them as the index of the true "
                "class"
            ) from None
        raise
    if isinstance(out, numbers.Number):
        raise Wrong(
            f"the loss is a Python {type(out).__name__}: .item() (or NumPy) cut it from "
            "the graph, so backward() has nothing to follow. Return the tensor",
            mistake=7,
        )
    if not isinstance(out, torch.Tensor):
        raise Wrong(f"the loss is a {type(out).__name__}, expected a tensor with one number")
    if out.dim() != 0:
        raise Wrong(
            f"the loss has shape {tuple(out.shape)}: one loss per example. A loss is one "
            "number, the mean over the batch"
        )
    if out.grad_fn is None and math.isclose(
        out.item(), F.cross_entropy(logits, labels).item(), rel_tol=1e-4
    ):
        raise Wrong(
            "the value is right but the loss has no grad_fn: something (.detach(), a "
            "NumPy round trip, torch.tensor(...) of a result) cut it from the graph",
            mistake=7,
        )
    if out.grad_fn is None:
        raise Wrong(
            f"the loss has no grad_fn, and it is wrong: {_loss_hint(logits, labels, out.item())}"
        )
    return out


@check("sentiment_loss")
def check_sentiment_loss(sentiment_loss: Callable) -> list[str]:
    """Value and gradient against F.cross_entropy; confident logits must not overflow."""
    for batch, classes, seed in ((4, 5, 0), (6, 5, 1), (3, 2, 2)):
        logits, labels = _logits(batch, classes, seed)
        got = _one_loss(sentiment_loss, logits, labels)
        want = F.cross_entropy(logits, labels)
        if not math.isclose(got.item(), want.item(), rel_tol=1e-4, abs_tol=1e-6):
            raise Wrong(
                f"on {batch} rows of {classes} logits expected {want.item():.4f}, got "
                f"{got.item():.4f}: {_loss_hint(logits, labels, got.item())}"
            )
        (grad,) = torch.autograd.grad(got, logits)
        (want_grad,) = torch.autograd.grad(want, logits)
        if not torch.allclose(grad, want_grad, atol=1e-5):
            raise Wrong(
                "the value is right but the gradient is not (softmax - one-hot, over "
                "the batch size): is part of the loss detached?"
            )
    logits, labels = _logits(3, 5, seed=3, scale=200.0)
    got = _one_loss(sentiment_loss, logits, labels).item()
    want = F.cross_entropy(logits, labels).item()
    if not math.isfinite(got):
        raise Wrong(
            f"on confident logits (about ±200) the loss is {got}, expected {want:.1f}: "
            "softmax rounds the wrong classes to exactly 0, and log(0) is -inf. Use "
            "log_softmax, which never forms the tiny probability"
        )
    if not math.isclose(got, want, rel_tol=1e-4):
        raise Wrong(f"on confident logits (about ±200) expected {want:.1f}, got {got:.1f}")
    return ["value and gradient match F.cross_entropy; confident logits stay finite"]


# -- Exercise 2.2: accuracy --------------------------------------------------------------------


def mtlab_accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """The share of rows whose highest logit is the true class."""
    return (logits.argmax(-1) == labels).float().mean().item()


def _accuracy_cases() -> list[tuple[torch.Tensor, torch.Tensor]]:
    """A square batch first (5 rows, 5 classes), where argmax over dim=0 runs without error."""
    cases = [_logits(5, 5, seed=4), _logits(8, 5, seed=5), _logits(7, 3, seed=6)]
    cases = [(logits.detach(), labels) for logits, labels in cases]
    logits, labels = cases[0]
    labels[:3] = logits[:3].argmax(-1)  # some right, some wrong: neither 0 nor 1
    return cases


@check("accuracy")
def check_accuracy(accuracy: Callable) -> list[str]:
    """A float share, argmax over the classes, on batches of several shapes."""
    for logits, labels in _accuracy_cases():
        got = accuracy(logits.clone(), labels.clone())
        want = mtlab_accuracy(logits, labels)
        rows = f"on {len(labels)} rows of {logits.shape[1]} logits"
        if isinstance(got, torch.Tensor):
            if got.numel() != 1:
                raise Wrong(
                    f"{rows} it returned a tensor of shape {tuple(got.shape)} "
                    f"({got.dtype}): one right-or-wrong per row. Accuracy is their mean, "
                    "as one number: .float().mean().item()"
                )
            got = got.item()
        if not isinstance(got, numbers.Real) or isinstance(got, bool):
            raise Wrong(f"{rows} it returned {got!r}, expected a number between 0 and 1")
        if math.isclose(got, want, abs_tol=1e-6):
            continue
        hint = ""
        if math.isclose(got, want * len(labels), abs_tol=1e-6):
            hint = ": that is the number of right answers, not their share"
        elif logits.shape[0] == logits.shape[1] and math.isclose(
            got, (logits.argmax(0) == labels).float().mean().item(), abs_tol=1e-6
        ):
            hint = (
                ": argmax over dim=0 picks, for each class, the row with the highest "
                "score. The predicted class of a row is its argmax over dim=-1"
            )
        elif got == 0:
            hint = (
                ": no row matched. Are you comparing scores or probabilities with class "
                "numbers? The predicted class is logits.argmax(-1)"
            )
        raise Wrong(f"{rows} expected {want:.3f}, got {got:.3f}{hint}")
    return [f"right on {len(_accuracy_cases())} batches, square and not"]


# -- Exercise 2.3: the head --------------------------------------------------------------------


@check("SentimentMLP")
def check_sentiment_head(head_class: type, hidden: int = 8) -> list[str]:
    """check_head, then: logits (no softmax at the end), not linear, and no dropout in eval."""
    torch.manual_seed(0)  # the same first weights, whatever ran before (check_head does too)
    head = head_class(hidden)
    head.eval()
    head(torch.randn(3, hidden))  # a stub raises NotImplementedError here
    if not isinstance(head, Head):
        raise Wrong(
            f"{type(head).__name__} is not an mtlab.Head: subclass Head, so the model "
            "knows its loss and its predictions"
        )
    found = check_head(head, "sst", hidden)
    if not found.ok:
        # Logits cut from the graph (mistake 7), not a wrong output that has no graph anyway.
        cut = [p for p in found.problems if "cut from the graph" in p] == found.problems
        if any("dtype" in problem for problem in found.problems):
            found.problems.append(
                "return the logits: the class (their argmax) is Head.predict's job"
            )
        raise Wrong("\n".join(found.problems), mistake=7 if cut else None)
    head.eval()
    generator = torch.Generator().manual_seed(0)
    a, b = (10 * torch.randn(6, hidden, generator=generator) for _ in range(2))
    with torch.no_grad():
        out, again = head(a), head(a)
        middle, ends = head((a + b) / 2), (head(a) + head(b)) / 2
    if not torch.equal(out, again):
        raise Wrong(
            "in eval mode the head gave two different outputs for the same input: "
            "F.dropout(x, p) keeps dropping after model.eval(). Use nn.Dropout, which "
            "eval() switches off"
        )
    if out.min() >= 0 and out.max() <= 1:
        end = "a softmax" if torch.allclose(out.sum(-1), torch.ones(len(out))) else "a squashing"
        raise Wrong(
            f"the head's outputs all lie in [0, 1]: it ends in {end}. Return the logits; "
            "cross-entropy applies (log-)softmax itself, and a second one keeps the "
            "loss near ln 5 with tiny gradients"
        )
    if torch.allclose(middle, ends, atol=1e-4):
        raise Wrong(
            "the head is linear: two Linear layers with nothing between them are one "
            "Linear layer. Put a ReLU between them"
        )
    return found.notes


def use_sentiment_head(head_class: type) -> type:
    """The student's head class, or mtlab's SentimentHead while the stub is unfilled."""
    return yours_or_mtlab(
        "SentimentMLP", head_class, SentimentHead, lambda cls: cls(8)(torch.randn(2, 8))
    )


def mtlab_confusion(
    labels: torch.Tensor, predictions: torch.Tensor, n_classes: int
) -> torch.Tensor:
    """Row i, column j: the share of class-i examples predicted as j (rows of absent classes 0)."""
    counts = torch.zeros(n_classes, n_classes)
    counts.index_put_((labels, predictions), torch.ones(len(labels)), accumulate=True)
    return counts / counts.sum(1, keepdim=True).clamp(min=1)


@check("confusion")
def check_confusion(confusion: Callable) -> list[str]:
    """A row-normalised confusion matrix: per-class accuracy on its diagonal."""
    labels = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2, 2, 4])
    predictions = torch.tensor([0, 1, 0, 1, 2, 2, 2, 1, 0, 4])
    got = confusion(labels, predictions, 5)
    want = mtlab_confusion(labels, predictions, 5)
    if not isinstance(got, torch.Tensor):
        raise Wrong(f"it returned a {type(got).__name__}, expected a (5, 5) tensor")
    if got.shape != (5, 5):
        raise Wrong(f"shape {tuple(got.shape)}, expected (5, 5): one row and one column per class")
    got = got.float()
    if torch.isnan(got).any():
        raise Wrong(
            "row 3 (a class with no examples) is nan: divide by the row count, but leave "
            "rows without examples at 0 (e.g. .clamp(min=1) on the counts)"
        )
    if torch.allclose(got, want.T, atol=1e-6) or torch.allclose(
        got, _by_columns(labels, predictions)
    ):
        raise Wrong(
            "the columns sum to 1, not the rows: rows are the true classes, so normalise "
            "each row by its own count (sum over dim=1)"
        )
    if torch.allclose(got.sum(), torch.tensor(1.0)):
        raise Wrong(
            "the whole matrix sums to 1: that is each cell's share of all examples; "
            "normalise each row by its own count instead"
        )
    if not torch.allclose(got, want, atol=1e-6):
        raise Wrong(
            f"row 0 (3 examples: predicted 0, 1, 0) should be {want[0].tolist()}, "
            f"got {got[0].tolist()}"
        )
    return ["rows sum to 1 (0 for a class without examples); diagonal = per-class accuracy"]


def _by_columns(labels: torch.Tensor, predictions: torch.Tensor) -> torch.Tensor:
    counts = torch.zeros(5, 5)
    counts.index_put_((labels, predictions), torch.ones(len(labels)), accumulate=True)
    return counts / counts.sum(0, keepdim=True).clamp(min=1)
