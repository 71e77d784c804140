"""Notebook 04's exercises: a scaled dot product, a cosine score, targets fit for MSE."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

from mtlab.exercises import Wrong, check, student, yours_or_mtlab
from mtlab.exercises.probes import (
    close,
    follows_rows,
    gradients_match,
    require_dtype,
    require_graph,
    tensor_answer,
)
from mtlab.exercises.targets import check_regression_targets

__all__ = [  # exercise 4.3, the regression targets, lives in mtlab.exercises.targets
    "check_cosine_score",
    "check_regression_targets",
    "check_scaled_dot",
    "mtlab_cosine_score",
    "mtlab_scaled_dot",
    "use_cosine_score",
    "use_scaled_dot",
]


def mtlab_scaled_dot(pu: torch.Tensor, pv: torch.Tensor) -> torch.Tensor:
    """One score per pair: the dot product divided by √d, so it does not grow with d."""
    return (pu * pv).sum(-1) / math.sqrt(pu.shape[-1])


def mtlab_cosine_score(pu: torch.Tensor, pv: torch.Tensor) -> torch.Tensor:
    """5 · cos(pu, pv) per pair: in [-5, 5] whatever the vectors' lengths."""
    return 5 * F.cosine_similarity(pu, pv, dim=-1)


def _vectors(
    batch: int, dim: int, seed: int = 0, dtype=torch.float32
) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    pu = torch.randn(batch, dim, generator=generator, dtype=dtype).requires_grad_()
    pv = torch.randn(batch, dim, generator=generator, dtype=dtype).requires_grad_()
    return pu, pv


def _as_scores(out: object, name: str, batch: int, dim: int) -> torch.Tensor:
    """The answer as a (batch,) tensor, or Wrong naming the shape it has instead."""
    out = tensor_answer(out, name, f"a ({batch},) tensor, one score per pair")
    shape = tuple(out.shape)
    where = f"for {batch} pairs of {dim}-dim vectors you returned shape {shape}"
    if shape == (batch, batch):
        raise Wrong(
            f"{where}: every u against every v (pu @ pv.T), a table of {batch * batch} "
            "scores. One score per pair is the row-wise product, summed over the "
            "features: (pu * pv).sum(-1)",
            id="scores.all-pairs",
        )
    if shape == (dim,):
        raise Wrong(
            f"{where}: one number per feature, so the sum (or the cosine) ran along "
            "dim=0, across the batch. Reduce along dim=-1, the features",
            id="scores.batch-dim",
        )
    if shape in ((batch, 1), (1, batch)):
        raise Wrong(
            f"{where}: against ({batch},) targets, MSE would broadcast it to a "
            f"({batch}, {batch}) table. Return ({batch},): drop keepdim, or .squeeze(-1)",
            id="scores.column",
        )
    if shape == () or shape == (1,):
        raise Wrong(
            f"{where}: one number for the whole batch (a sum over everything, or torch.dot "
            "of flattened vectors). One score per pair: (pu * pv).sum(-1)",
            id="scores.one-number",
        )
    if shape != (batch,):
        raise Wrong(f"{where}, expected ({batch},): one score per pair", id="answer.wrong-shape")
    return out


def _scores(function: Callable, name: str, pu: torch.Tensor, pv: torch.Tensor) -> torch.Tensor:
    """The student's scores for (pu, pv): a (B,) tensor of the inputs' dtype."""
    batch, dim = pu.shape
    out = _as_scores(student(function, pu * 1, pv * 1), name, batch, dim)
    require_dtype(out, pu, "the scores are")
    return out


def _require_own_rows(function: Callable, pu: torch.Tensor, pv: torch.Tensor) -> None:
    if not follows_rows(function, pu, pv):
        raise Wrong(
            "each score is not its own pair's: reorder the pairs (or leave some out) and the "
            "scores of the others change. A sum over a (B, B) table (pu @ pv.T), or lengths "
            "of the whole batch, mix the pairs; keep to one row at a time",
            id="scores.rows-mixed",
        )


def _in_graph(out: torch.Tensor, want: torch.Tensor, inputs) -> None:
    require_graph(out, "the scores have")
    if not gradients_match(out, want, list(inputs)):
        raise Wrong(
            "the values are right, but the gradient that reaches pu and pv is not: part of "
            "the computation was cut from the graph (.data, .detach(), a NumPy round trip)",
            id="graph.part-cut",
        )


def _unscaled_is_mistake_14(scaled_dot: Callable) -> Wrong:
    """Mistake 14, with the numbers: unit-variance 768-dim vectors, targets spread over 0-5."""
    generator = torch.Generator().manual_seed(0)
    a, b = torch.randn(2, 256, 768, generator=generator)
    targets = torch.rand(256, generator=generator) * 5
    with torch.no_grad():
        scores = student(scaled_dot, a, b).to(torch.float32)
    right = mtlab_scaled_dot(a, b)
    return Wrong(
        "these are the plain dot products, not divided by √d. For 768-dim vectors with "
        f"unit-variance components your scores have std {scores.std():.1f} (scaled: "
        f"{right.std():.1f}) against targets in 0-5: the MSE starts at "
        f"{F.mse_loss(scores, targets):.0f} (scaled: {F.mse_loss(right, targets):.1f}), and its "
        "gradient, 2·(score − target), is as large as the scores: the targets barely count",
        id="scaled_dot.unscaled",
    )


SCALED_CASES = ((5, 16, 0, torch.float32), (6, 64, 1, torch.float32), (4, 36, 2, torch.float64))


def _ratio(out: torch.Tensor, dot: torch.Tensor) -> float | None:
    """The one number the student's scores were divided by, if there is one."""
    ratio = (dot / out).detach().double()
    if not torch.isfinite(ratio).all() or not torch.allclose(ratio, ratio[0].expand_as(ratio)):
        return None
    return ratio[0].item()


def _scaling_problem(scaled_dot: Callable, outs, cases) -> Wrong:
    """Wrong naming what the scores were divided by, when it is one number per case."""
    dims = [pu.shape[-1] for pu, _ in cases]
    dots = [(pu * pv).sum(-1) for pu, pv in cases]
    ratios = [_ratio(out, dot) for out, dot in zip(outs, dots)]
    if any(r is None for r in ratios):
        cosines = [F.cosine_similarity(pu, pv, dim=-1) for pu, pv in cases]
        if all(close(out, cos) for out, cos in zip(outs, cosines)):
            return Wrong(
                "these are cosines: the dot product divided by both vectors' lengths. The "
                "exercise divides by √d, one number for every pair: (pu * pv).sum(-1) / √d",
                id="scaled_dot.cosine",
            )
        _require_own_rows(scaled_dot, *cases[0])
        d, out, want = dims[0], outs[0], mtlab_scaled_dot(*cases[0])
        return Wrong(
            f"for d = {d} expected {want.detach().numpy().round(3)}, got "
            f"{out.detach().numpy().round(3)}: the dot product of each pair, divided by √d",
            id="answer.wrong-value",
        )
    if all(abs(r - 1) < 1e-4 for r in ratios):
        return _unscaled_is_mistake_14(scaled_dot)
    if all(abs(r - d) < 1e-3 * d for r, d in zip(ratios, dims)):
        return Wrong(
            f"divided by d = {dims[0]}, not by √d = {math.sqrt(dims[0]):.0f} (a mean over the "
            "features, or each vector scaled by √d): the scores are √d times too small, "
            "squeezed towards 0",
            id="scaled_dot.divided-by-d",
        )
    if all(abs(r - math.sqrt(len(pu))) < 1e-4 for r, (pu, _) in zip(ratios, cases)):
        return Wrong(
            f"you divided by √{len(cases[0][0])}, the square root of the batch size: len(pu) "
            "counts the pairs. d is the length of each vector, pu.shape[-1]",
            id="scaled_dot.batch-size",
        )
    if all(abs(r - 1 / math.sqrt(d)) < 1e-4 for r, d in zip(ratios, dims)):
        return Wrong(
            "multiplied by √d instead of divided by it: the scores grow with d even faster",
            id="scaled_dot.multiplied",
        )
    if abs(ratios[0] - ratios[1]) < 1e-4:
        return Wrong(
            f"for d = {dims[0]} and d = {dims[1]} alike you divided by {ratios[0]:.2f}: the "
            "scale is a fixed number. Read d from the vectors: pu.shape[-1]",
            id="scaled_dot.hard-coded",
        )
    i = next((i for i, (r, d) in enumerate(zip(ratios, dims)) if abs(r - math.sqrt(d)) > 1e-4), 0)
    return Wrong(
        f"for d = {dims[i]} you divided by {ratios[i]:.2f}, expected √{dims[i]} = "
        f"{math.sqrt(dims[i]):.2f}",
        id="scaled_dot.wrong-scale",
    )


@check("scaled_dot")
def check_scaled_dot(scaled_dot: Callable) -> list[str]:
    """(pu · pv) / √d for each pair, d read from the vectors (d = 16, 64; float32 and float64)."""
    cases = [_vectors(batch, dim, seed, dtype) for batch, dim, seed, dtype in SCALED_CASES]
    outs = [_scores(scaled_dot, "scaled_dot", *case) for case in cases]
    wants = [mtlab_scaled_dot(*case) for case in cases]
    if not all(close(out, want) for out, want in zip(outs, wants)):
        raise _scaling_problem(scaled_dot, outs, cases)
    for out, want, case in zip(outs, wants, cases):
        _in_graph(out, want, case)
    return ["right at d = 16, 36 and 64, float32 and float64, and still in the graph"]


def use_scaled_dot(scaled_dot: Callable) -> Callable:
    """The student's scaled_dot, or mtlab's while the stub is unfilled."""
    return yours_or_mtlab("scaled_dot", scaled_dot, mtlab_scaled_dot, lambda f: f(*_vectors(3, 16)))


def _cosine_cases() -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Pair 0 points the same way (5), pair 1 the opposite way (-5); then a float64 batch."""
    pu, pv = _vectors(5, 6)
    with torch.no_grad():
        pv[0], pv[1] = 2 * pu[0], -3 * pu[1]
    return [(pu, pv), _vectors(4, 7, seed=1, dtype=torch.float64)]


def _cosine_scores(cosine_score: Callable, pu: torch.Tensor, pv: torch.Tensor) -> torch.Tensor:
    return _as_scores(student(cosine_score, pu * 1, pv * 1), "cosine_score", *pu.shape)


def _dot(pu: torch.Tensor, pv: torch.Tensor) -> torch.Tensor:
    return (pu * pv).sum(-1)


WRONG_COSINES = [  # (id, what it is, its scores)
    (
        "cosine_score.missing-5",
        "that is cos itself, in [-1, 1] (pair 0 points the same way). STS scores go up "
        "to 5: multiply by 5",
        lambda pu, pv: F.cosine_similarity(pu, pv, dim=-1),
    ),
    (
        "cosine_score.not-normalised",
        "that is 5 times the dot product: it grows with the vectors' lengths (mistake 14's "
        "problem). The cosine divides by both lengths, so only the angle counts",
        lambda pu, pv: 5 * _dot(pu, pv),
    ),
    (
        "cosine_score.one-length",
        "the dot product divided by one vector's length only: the score still grows with "
        "the other's. Divide by both: pu.norm(dim=-1) * pv.norm(dim=-1)",
        lambda pu, pv: 5 * _dot(pu, pv) / pu.norm(dim=-1),
    ),
    (
        "cosine_score.one-length",
        "the dot product divided by one vector's length only: the score still grows with "
        "the other's. Divide by both: pu.norm(dim=-1) * pv.norm(dim=-1)",
        lambda pu, pv: 5 * _dot(pu, pv) / pv.norm(dim=-1),
    ),
    (
        "cosine_score.batch-norm",
        "the lengths are those of the whole batch (.norm() without dim): each pair's score "
        "then depends on the other pairs. Divide by each pair's own lengths, norm(dim=-1)",
        lambda pu, pv: 5 * _dot(pu, pv) / (pu.norm() * pv.norm()),
    ),
    (
        "cosine_score.shifted",
        "5 · (cos + 1) / 2 maps the cosine to 0..5; the exercise's score is 5 · cos, -5 for "
        "opposite vectors (a head learns its own offset)",
        lambda pu, pv: 5 * (F.cosine_similarity(pu, pv, dim=-1) + 1) / 2,
    ),
    (
        "cosine_score.abs",
        "5 · |cos|: opposite vectors (pair 1) score 5, as if they were the same. Drop the abs",
        lambda pu, pv: 5 * F.cosine_similarity(pu, pv, dim=-1).abs(),
    ),
    (
        "cosine_score.scaled-dot",
        "that is the scaled dot product of exercise 4.1, (pu · pv) / √d: it still grows with "
        "the lengths. Divide by the two lengths instead",
        mtlab_scaled_dot,
    ),
]


def _named_cosine_problem(out: torch.Tensor, case) -> None:
    """Wrong naming the usual wrong score that gives these values, if one does."""
    for id, words, wrong in WRONG_COSINES:
        if close(out, wrong(*case)):
            raise Wrong(words, id=id)


def _require_normalised(cosine_score: Callable, pu: torch.Tensor, pv: torch.Tensor, out) -> None:
    longer = torch.arange(1.0, len(pu) + 1, dtype=pu.dtype)[:, None]  # pair i's: i + 1 times
    for which, args in (("u", (longer * pu, pv)), ("v", (pu, longer * pv))):
        if not close(_cosine_scores(cosine_score, *args), out):
            raise Wrong(
                f"your scores changed when the vectors {which} got longer (pair i's i + 1 "
                "times): they are not normalised. A dot product grows with the vectors' "
                "lengths (mistake 14's problem); the cosine divides by both lengths, so only "
                "the angle counts",
                id="cosine_score.not-normalised",
            )


@check("cosine_score")
def check_cosine_score(cosine_score: Callable) -> list[str]:
    """5 · cos per pair: the values, each pair's own lengths, a zero vector, the graph."""
    cases = _cosine_cases()
    outs = [_cosine_scores(cosine_score, *case) for case in cases]
    require_dtype(outs[0], cases[0][0], "the scores are")
    wants = [mtlab_cosine_score(*case) for case in cases]
    for out, want, case in zip(outs, wants, cases):
        if not close(out, want):
            _named_cosine_problem(out, case)
            _require_normalised(cosine_score, *case, out)
            _require_own_rows(cosine_score, *case)
            raise Wrong(
                f"expected {want.detach().numpy().round(3)}, got "
                f"{out.detach().numpy().round(3)}: 5 · (pu · pv) / (|pu| |pv|) for each pair",
                id="answer.wrong-value",
            )
    for out, want, case in zip(outs, wants, cases):
        _in_graph(out, want, case)
    zero = student(cosine_score, torch.zeros(2, 6), torch.ones(2, 6))
    if not isinstance(zero, torch.Tensor) or not torch.isfinite(zero).all():
        shown = zero.tolist() if isinstance(zero, torch.Tensor) else zero
        raise Wrong(
            f"for a zero vector you returned {shown}: dividing by a length of 0 gives nan, "
            "and one nan makes the whole loss nan. Clamp the lengths, as "
            "F.cosine_similarity and F.normalize do",
            id="cosine_score.zero-vector",
        )
    return ["5 for the same direction, -5 for opposite ones, the same for longer vectors"]


def use_cosine_score(cosine_score: Callable) -> Callable:
    """The student's cosine_score, or mtlab's while the stub is unfilled."""
    return yours_or_mtlab(
        "cosine_score", cosine_score, mtlab_cosine_score, lambda f: f(*_vectors(4, 6))
    )
