"""Loss functions that check their inputs first.

PyTorch's losses accept a surprising amount of wrong input. `mse_loss` on a (B, 1)
prediction and a (B,) target broadcasts to (B, B) and returns a plausible-looking,
meaningless number; an integer regression target fails later, deep inside autograd.
The seed project hit both (mistakes 1 and 3). These wrappers name the task, the shapes
and dtypes they got, and the usual fix, before any arithmetic happens.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


class TaskLossError(ValueError):
    """The tensors handed to a task's loss do not fit together."""


def _describe(name: str, t: torch.Tensor) -> str:
    return f"{name} shape {tuple(t.shape)} dtype {t.dtype}"


def _fail(task: str, problem: str, fix: str, **tensors: torch.Tensor) -> None:
    got = ", ".join(_describe(n, t) for n, t in tensors.items())
    raise TaskLossError(f"[{task}] {problem}\n  got: {got}\n  fix: {fix}")


def classification_loss(task: str, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy for (batch, classes) logits and (batch,) integer class labels."""
    if logits.dim() != 2:
        _fail(
            task,
            "logits must be 2-D (batch, classes).",
            "check the head's last layer and any reshape/torch.cat on its output.",
            logits=logits,
            labels=labels,
        )
    if labels.dim() != 1 or labels.shape[0] != logits.shape[0]:
        _fail(
            task,
            f"labels must be 1-D with one class index per row of logits ({logits.shape[0]}).",
            "use labels.view(-1); check that both sentences of a pair were concatenated along "
            "dim=-1 (features), not dim=0 (batch).",
            logits=logits,
            labels=labels,
        )
    if labels.is_floating_point():
        _fail(
            task,
            "class labels must be integers (torch.long), not floats.",
            "labels.long() (Quora's 0.0/1.0 labels are classes, not scores).",
            logits=logits,
            labels=labels,
        )
    n_classes = logits.shape[1]
    if labels.numel() and (labels.min() < 0 or labels.max() >= n_classes):
        _fail(
            task,
            f"labels must lie in 0..{n_classes - 1}, found {labels.min()}..{labels.max()}.",
            "check the label column and the head's number of outputs.",
            logits=logits,
            labels=labels,
        )
    return F.cross_entropy(logits, labels)


def binary_loss(task: str, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy for one logit per example (the single-output paraphrase head)."""
    if logits.shape != labels.shape or logits.dim() != 1:
        _fail(
            task,
            "one logit per example: logits and labels must both be 1-D of the same length.",
            "squeeze the head's (batch, 1) output with .squeeze(-1), not .squeeze().",
            logits=logits,
            labels=labels,
        )
    return F.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype))


def regression_loss(task: str, predictions: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean squared error for (batch,) float predictions and targets."""
    if not targets.is_floating_point():
        _fail(
            task,
            "a regression target must be a float tensor, not integers (seed mistake 3).",
            f"targets.to({predictions.dtype}) (or build the labels with dtype=torch.float32).",
            predictions=predictions,
            targets=targets,
        )
    if predictions.shape != targets.shape:
        _fail(
            task,
            "predictions and targets must have the same shape; MSE would silently broadcast "
            f"{tuple(predictions.shape)} against {tuple(targets.shape)}.",
            "make both (batch,): predictions.squeeze(-1) or targets.view(-1).",
            predictions=predictions,
            targets=targets,
        )
    if targets.dtype != predictions.dtype:
        _fail(
            task,
            "predictions and targets must have the same float dtype.",
            f"targets.to({predictions.dtype}).",
            predictions=predictions,
            targets=targets,
        )
    return F.mse_loss(predictions, targets)


def cosent_loss(task: str, cosines: torch.Tensor, targets: torch.Tensor, scale: float = 20.0):
    """CoSENT (Su 2022): rank the batch's pairs by cosine as the gold scores rank them.

    log(1 + sum over pairs (i, j) with gold_i > gold_j of exp(scale * (cos_j - cos_i))): only
    the order of the cosines counts, never their distance to a target, which is all Pearson r
    asks of them. A batch whose gold scores are all equal has no pair to rank: the loss is 0.
    """
    if cosines.dim() != 1 or cosines.shape != targets.shape:
        _fail(
            task,
            "CoSENT takes one cosine and one gold score per pair, both 1-D.",
            "pass the head's cosines (batch,) and the labels (batch,).",
            cosines=cosines,
            targets=targets,
        )
    differences = scale * (cosines[None, :] - cosines[:, None])  # [i, j]: scale * (cos_j - cos_i)
    ranked = differences[targets[:, None] > targets[None, :]]  # pairs where i is the more similar
    return torch.logsumexp(torch.cat([cosines.new_zeros(1), ranked]), dim=0)  # log(1 + sum exp)


def ranking_loss(
    task: str, u: torch.Tensor, v: torch.Tensor, labels: torch.Tensor, scale: float = 20.0
) -> torch.Tensor:
    """Multiple-negatives ranking (Henderson et al. 2017): find each duplicate's partner.

    For every duplicate pair (u_i, v_i) of the batch, a softmax over the cosines of u_i with
    every v_j of the batch (times `scale`) should pick v_i: the batch's other questions are
    the negatives, for free. Pairs that are not duplicates serve only as negatives; a batch
    without duplicates gives 0.
    """
    if u.shape != v.shape or u.dim() != 2 or labels.shape != u.shape[:1]:
        _fail(
            task,
            "the ranking loss takes (batch, hidden) vectors for both sides and (batch,) labels.",
            "pass the two sentence vectors of each pair, not the head's logits.",
            u=u,
            v=v,
            labels=labels,
        )
    duplicates = labels.bool()
    if not duplicates.any():
        return u.new_zeros(())
    cosines = F.normalize(u[duplicates], dim=-1) @ F.normalize(v, dim=-1).T  # (duplicates, batch)
    partners = duplicates.nonzero().squeeze(-1)  # where each duplicate's own v sits
    return F.cross_entropy(scale * cosines, partners)
