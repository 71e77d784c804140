"""Notebook 04's exercises: a scaled dot product, a cosine score, targets fit for MSE."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

from mtlab.exercises import Wrong, check, yours_or_mtlab
from mtlab.heads.losses import regression_loss


def mtlab_scaled_dot(pu: torch.Tensor, pv: torch.Tensor) -> torch.Tensor:
    """One score per pair: the dot product divided by √d, so it does not grow with d."""
    return (pu * pv).sum(-1) / math.sqrt(pu.shape[-1])


def mtlab_cosine_score(pu: torch.Tensor, pv: torch.Tensor) -> torch.Tensor:
    """5 · cos(pu, pv) per pair: in [-5, 5] whatever the vectors' lengths."""
    return 5 * F.cosine_similarity(pu, pv, dim=-1)


def _vectors(batch: int, dim: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    pu = torch.randn(batch, dim, generator=generator).requires_grad_()
    pv = torch.randn(batch, dim, generator=generator).requires_grad_()
    return pu, pv


def _as_scores(out: object, name: str, batch: int, dim: int) -> torch.Tensor:
    """The answer as a (batch,) tensor, or Wrong naming the shape it has instead."""
    if not isinstance(out, torch.Tensor):
        raise Wrong(f"{name} returned a {type(out).__name__}, expected a tensor")
    shape = tuple(out.shape)
    where = f"for {batch} pairs of {dim}-dim vectors you returned shape {shape}"
    if shape == (batch, batch):
        raise Wrong(
            f"{where}: every u against every v (pu @ pv.T), a table of {batch * batch} "
            "scores. One score per pair is the row-wise product, summed over the "
            "features: (pu * pv).sum(-1)"
        )
    if shape == (dim,):
        raise Wrong(
            f"{where}: one number per feature, so the sum (or the cosine) ran along "
            "dim=0, across the batch. Reduce along dim=-1, the features"
        )
    if shape == (batch, 1):
        raise Wrong(
            f"{where}: against ({batch},) targets, MSE would broadcast it to a "
            f"({batch}, {batch}) table. Return ({batch},): drop keepdim, or .squeeze(-1)"
        )
    if shape != (batch,):
        raise Wrong(f"{where}, expected ({batch},): one score per pair")
    return out


def _still_in_graph(out: torch.Tensor) -> None:
    if out.grad_fn is None:
        raise Wrong(
            "the scores have no grad_fn: the projection layers before them would never "
            "train. Use torch operations only (no .detach(), .item(), .numpy())",
            mistake=7,
        )


def _unscaled_is_mistake_14(scaled_dot: Callable) -> Wrong:
    """Mistake 14, with the numbers: unit-variance 768-dim vectors, targets spread over 0-5."""
    generator = torch.Generator().manual_seed(0)
    a, b = torch.randn(2, 256, 768, generator=generator)
    targets = torch.rand(256, generator=generator) * 5
    with torch.no_grad():
        scores = scaled_dot(a, b)
    right = mtlab_scaled_dot(a, b)
    return Wrong(
        "these are the plain dot products, not divided by √d. For 768-dim vectors with "
        f"unit-variance components your scores have std {scores.std():.1f} (scaled: "
        f"{right.std():.1f}) against targets in 0-5: the MSE starts at "
        f"{F.mse_loss(scores, targets):.0f} (scaled: {F.mse_loss(right, targets):.1f}), and its "
        "gradient, 2·(score − target), is as large as the scores: the targets barely count",
        mistake=14,
    )


@check("scaled_dot")
def check_scaled_dot(scaled_dot: Callable) -> list[str]:
    """(pu · pv) / √d for each pair, d read from the vectors (tried at d = 16 and d = 64)."""
    for batch, dim in ((3, 16), (5, 64)):
        pu, pv = _vectors(batch, dim)
        out = _as_scores(scaled_dot(pu, pv), "scaled_dot", batch, dim)
        want, dot = mtlab_scaled_dot(pu, pv), (pu * pv).sum(-1)
        if torch.allclose(out, want, atol=1e-5):
            _still_in_graph(out)
            continue
        if torch.allclose(out, dot, atol=1e-4):
            raise _unscaled_is_mistake_14(scaled_dot)
        if torch.allclose(out, dot / dim, atol=1e-5):
            raise Wrong(
                f"divided by d = {dim}, not by √d = {math.sqrt(dim):.0f}: the scores are "
                f"√d times too small, squeezed towards 0"
            )
        ratio = (dot / out).detach()
        if torch.allclose(ratio, ratio[0].expand_as(ratio), rtol=1e-4):
            raise Wrong(
                f"for d = {dim} you divided by {ratio[0]:.2f}, expected √{dim} = "
                f"{math.sqrt(dim):.2f}. Read d from the vectors: pu.shape[-1]"
            )
        raise Wrong(
            f"for d = {dim} expected {want.detach().numpy().round(3)}, got "
            f"{out.detach().numpy().round(3)}"
        )
    return ["right at d = 16 and d = 64, and still in the graph"]


def use_scaled_dot(scaled_dot: Callable) -> Callable:
    """The student's scaled_dot, or mtlab's while the stub is unfilled."""
    return yours_or_mtlab("scaled_dot", scaled_dot, mtlab_scaled_dot, lambda f: f(*_vectors(3, 16)))


@check("cosine_score")
def check_cosine_score(cosine_score: Callable) -> list[str]:
    """5 · cos per pair: the range, the length invariance, a zero vector, the graph."""
    batch, dim = 4, 6
    pu, pv = _vectors(batch, dim)
    with torch.no_grad():  # pair 0: the same direction (5), pair 1: opposite ones (-5)
        pv[0], pv[1] = 2 * pu[0], -3 * pu[1]
    out = _as_scores(cosine_score(pu, pv), "cosine_score", batch, dim)
    want = mtlab_cosine_score(pu, pv)
    for which, longer in (("u", cosine_score(3 * pu, pv)), ("v", cosine_score(pu, 3 * pv))):
        if (
            isinstance(longer, torch.Tensor)
            and longer.shape == out.shape
            and not torch.allclose(longer, out, atol=1e-5)
        ):
            raise Wrong(
                f"your score changed when {which} got 3 times longer: it is not normalised. A "
                "dot product grows with the vectors' lengths (mistake 14's problem); the cosine "
                "divides by both lengths, so only the angle counts"
            )
    if torch.allclose(out, want / 5, atol=1e-5):
        raise Wrong(
            f"that is cos itself, in [-1, 1] (pair 0 points the same way: you gave "
            f"{out[0]:.2f}). STS scores go up to 5: multiply by 5"
        )
    if not torch.allclose(out, want, atol=1e-5):
        raise Wrong(
            f"expected {want.detach().numpy().round(3)}, got {out.detach().numpy().round(3)}"
        )
    _still_in_graph(out)
    zero = cosine_score(torch.zeros(2, dim), torch.ones(2, dim))
    if not torch.isfinite(torch.as_tensor(zero)).all():
        raise Wrong(
            f"for a zero vector you returned {zero.tolist()}: dividing by a length of 0 "
            "gives nan, and one nan makes the whole loss nan. Clamp the lengths, as "
            "F.cosine_similarity and F.normalize do"
        )
    return ["5 for the same direction, -5 for opposite ones, the same for longer vectors"]


def use_cosine_score(cosine_score: Callable) -> Callable:
    """The student's cosine_score, or mtlab's while the stub is unfilled."""
    return yours_or_mtlab(
        "cosine_score", cosine_score, mtlab_cosine_score, lambda f: f(*_vectors(4, 6))
    )


@check("regression_targets")
def check_regression_targets(regression_targets: Callable) -> list[str]:
    """STS scores as a float32 (B,) tensor: not truncated, not float64, not (B, 1)."""
    labels = [3.8, 1.6, 5.0, 0.0, 2.4, 4.75]
    out = regression_targets(list(labels))
    want = torch.tensor(labels, dtype=torch.float32)
    if not isinstance(out, torch.Tensor):
        raise Wrong(f"regression_targets returned a {type(out).__name__}, expected a tensor")
    if out.numel() == len(labels) and torch.allclose(
        out.double().flatten(), want.double().trunc().flatten()
    ):
        raise Wrong(
            f"the scores became whole numbers, {out.flatten().tolist()}: 3.8 -> 3, "
            f"2.4 -> 2 (dtype {out.dtype}). MSE then teaches the head wrong targets",
            mistake=3,
        )
    if out.numel() == len(labels) and torch.allclose(
        out.double().flatten(), want.double().round().flatten()
    ):
        raise Wrong(
            f"the scores were rounded to whole numbers, {out.flatten().tolist()}: STS "
            "averages raters' scores, and 3.8 is not 4",
            mistake=3,
        )
    if not out.is_floating_point():
        raise Wrong(f"dtype {out.dtype}: MSE targets must be floats", mistake=3)
    if out.shape != (len(labels),):
        raise Wrong(
            f"shape {tuple(out.shape)} for {len(labels)} scores, expected "
            f"({len(labels)},): the head's scores are ({len(labels)},), and MSE between "
            f"(B,) and (B, 1) silently broadcasts to a (B, B) table"
        )
    if out.dtype != torch.float32:
        raise Wrong(
            f"dtype {out.dtype}: the heads' scores are float32. F.mse_loss would quietly "
            "compute the loss in float64 (from a NumPy array, torch.tensor keeps its "
            "float64), and regression_loss refuses the pair. Use dtype=torch.float32"
        )
    if not torch.allclose(out, want):
        raise Wrong(f"expected {want.tolist()}, got {out.tolist()}")
    regression_loss("sts", torch.zeros(len(labels)), out)  # accepts them as MSE targets
    return [f"{len(labels)} scores -> {tuple(out.shape)} {out.dtype}, fractions kept"]
