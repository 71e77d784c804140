"""Notebook 09's exercises: the CoSENT loss, and telling a real gain from seed luck."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

from mtlab.exercises import Wrong, check, student, yours_or_mtlab
from mtlab.exercises.probes import gradients_match, require_graph, tensor_answer
from mtlab.exercises.seeds import (
    check_beyond_noise,
    check_paired_gaps,
    mtlab_beyond_noise,
    mtlab_paired_gaps,
    use_beyond_noise,
    use_paired_gaps,
)
from mtlab.heads.losses import cosent_loss

__all__ = [  # exercises 9.2 and 9.3, on seeds, live in mtlab.exercises.seeds
    "check_beyond_noise",
    "check_cosent",
    "check_paired_gaps",
    "mtlab_beyond_noise",
    "mtlab_cosent",
    "mtlab_paired_gaps",
    "use_beyond_noise",
    "use_cosent",
    "use_paired_gaps",
]


def mtlab_cosent(cosines: torch.Tensor, gold: torch.Tensor, scale: float = 20.0) -> torch.Tensor:
    """log(1 + Σ exp(scale · (cos_j − cos_i))) over the pairs with gold_i > gold_j."""
    return cosent_loss("sts", cosines, gold, scale)


def _batch(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    cosines = (torch.rand(n, generator=generator) * 2 - 1).requires_grad_()
    gold = torch.randint(0, 6, (n,), generator=generator).float()  # ties, as STS has
    return cosines, gold


def _scalar(out: object) -> torch.Tensor:
    out = tensor_answer(out, "cosent", "a tensor (one number)")
    if out.numel() != 1:
        raise Wrong(
            f"cosent returned shape {tuple(out.shape)}: one loss per pair or per (i, j). "
            "The loss of a batch is one number: log(1 + the sum over the ranked pairs)",
            id="cosent.not-one-number",
        )
    return out.reshape(())


def _differences(cosines: torch.Tensor, scale: float) -> torch.Tensor:
    return scale * (cosines[None, :] - cosines[:, None])  # [i, j] = s · (cos_j - cos_i)


def _without_one(cosines: torch.Tensor, gold: torch.Tensor, scale: float = 20.0):
    return torch.logsumexp(_differences(cosines, scale)[gold[:, None] > gold[None, :]], dim=0)


def _with_ties(cosines: torch.Tensor, gold: torch.Tensor, scale: float = 20.0):
    off_diagonal = ~torch.eye(len(gold), dtype=torch.bool)
    ranked = _differences(cosines, scale)[(gold[:, None] >= gold[None, :]) & off_diagonal]
    return torch.logsumexp(torch.cat([cosines.new_zeros(1), ranked]), dim=0)


def _mean_inside(cosines: torch.Tensor, gold: torch.Tensor, scale: float = 20.0):
    ranked = _differences(cosines, scale)[gold[:, None] > gold[None, :]]
    return torch.log1p(ranked.exp().mean())


def _per_pair(cosines: torch.Tensor, gold: torch.Tensor, scale: float = 20.0):
    return F.softplus(_differences(cosines, scale)[gold[:, None] > gold[None, :]]).sum()


WRONG_LOSSES = [  # (id, what it is, the loss it gives)
    (
        "cosent.reversed",
        "the loss of the reversed order. A pair (i, j) with gold_i > gold_j costs "
        "exp(scale · (cos_j − cos_i)): large when the less similar pair j has the larger cosine",
        lambda c, g: mtlab_cosent(c, -g),
    ),
    (
        "cosent.missing-one",
        "the 1 inside log(1 + Σ) is missing. It keeps the loss at 0 or above, and defined for "
        "a batch with no pair to rank; logsumexp over [0, terms] adds it stably",
        _without_one,
    ),
    (
        "cosent.ties-ranked",
        "pairs with equal gold scores are ranked too. Only pairs with gold_i > gold_j "
        "(strictly) say which cosine should be larger",
        _with_ties,
    ),
    (
        "cosent.scale-missing",
        "the scale is missing (or 1): the differences are multiplied by scale = 20 before the "
        "exp, which makes the loss care about the worst-ranked pairs",
        lambda c, g: mtlab_cosent(c, g, scale=1.0),
    ),
    (
        "cosent.mean-inside",
        "the mean of the exponentials, not their sum: log(1 + Σ exp(...))",
        _mean_inside,
    ),
    (
        "cosent.per-pair",
        "log(1 + e^x) for each ranked pair, summed: CoSENT puts the whole sum inside one log",
        _per_pair,
    ),
]


def _value_problem(got: torch.Tensor, cosines: torch.Tensor, gold: torch.Tensor) -> None:
    want = mtlab_cosent(cosines, gold)
    if torch.isclose(got.double(), want.double(), atol=1e-4):
        return
    for id, what, wrong in WRONG_LOSSES:
        with torch.no_grad():
            if torch.isclose(got.double(), wrong(cosines, gold).double(), atol=1e-4):
                raise Wrong(f"got {got.item():.4f}, expected {want.item():.4f}: {what}", id=id)
    raise Wrong(
        f"on {len(gold)} pairs with gold scores {gold.int().tolist()} got {got.item():.4f}, "
        f"expected {want.item():.4f}: log(1 + Σ exp(scale · (cos_j − cos_i))) over every "
        "(i, j) with gold_i > gold_j, scale 20 by default. CoSENT compares the pairs with "
        "each other; it never compares a cosine with its gold score",
        id="answer.wrong-value",
    )


def _loss(cosent: Callable, cosines: torch.Tensor, gold: torch.Tensor, **scale) -> torch.Tensor:
    return _scalar(student(cosent, cosines * 1, gold.clone(), **scale))


@check("cosent")
def check_cosent(cosent: Callable) -> list[str]:
    """Equal to mtlab's CoSENT on batches with ties; only the order of the gold scores counts."""
    cosines, gold = _batch(8, seed=0)
    got = _loss(cosent, cosines, gold)
    require_graph(got, "the loss has")
    _value_problem(got, cosines, gold)
    _value_problem(_loss(cosent, *_batch(6, seed=2)), *_batch(6, seed=2))
    want = mtlab_cosent(cosines, gold)
    if not gradients_match(got, want, [cosines]):
        raise Wrong(
            "the value is right, but the gradient that reaches the cosines is not: part of "
            "the loss was cut from the graph (.detach(), .item())",
            id="graph.part-cut",
        )
    if not torch.isclose(
        _loss(cosent, cosines, gold, scale=10.0), mtlab_cosent(cosines, gold, 10.0), atol=1e-4
    ):
        raise Wrong(
            "with scale=10 the loss is not the one of scale 10: the function ignores its "
            "scale argument (20 written in). Use `scale` in the exp",
            id="cosent.scale-ignored",
        )
    if not torch.isclose(_loss(cosent, cosines, torch.sqrt(gold)), want, atol=1e-4):
        raise Wrong(
            "the loss changed when the gold scores were replaced by their square roots, "
            "which keeps their order: CoSENT must depend only on which pair is more "
            "similar, not by how much (that is what sets it apart from MSE)",
            id="cosent.uses-distances",
        )
    same = _loss(cosent, cosines, torch.full_like(gold, 3.0))
    if same.item() == -math.inf:
        raise Wrong(
            "a batch whose gold scores are all equal gave -inf: the 1 inside log(1 + Σ) "
            "is missing, so an empty sum is log(0). logsumexp over [0, terms] adds it",
            id="cosent.missing-one",
        )
    if not torch.isclose(same, torch.zeros((), dtype=same.dtype), atol=1e-6):
        raise Wrong(
            f"a batch whose gold scores are all equal has no pair to rank, so its loss "
            f"is log(1 + 0) = 0; got {same.item():.4f}",
            id="cosent.nothing-to-rank",
        )
    large = _batch(256, seed=1)
    if not torch.isfinite(_loss(cosent, large[0] * 50, large[1])):
        raise Wrong(
            "with large scaled differences the loss overflows to inf: sum the "
            "exponentials with torch.logsumexp, not torch.exp(...).sum()",
            id="cosent.overflow",
        )
    return [
        f"8 pairs with ties: {got.item():.4f}, as mtlab's; the same for gold scores in the "
        "same order; 0 for a batch with nothing to rank; finite for 256 pairs"
    ]


def use_cosent(cosent: Callable) -> Callable:
    return yours_or_mtlab("cosent", cosent, mtlab_cosent, lambda f: f(*_batch(4, seed=0)))
