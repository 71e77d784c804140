"""Notebook 09's exercises: the CoSENT loss, and telling a real gain from seed luck."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence

import numpy as np
import torch

from mtlab.exercises import Wrong, check, yours_or_mtlab
from mtlab.heads.losses import cosent_loss


def mtlab_cosent(cosines: torch.Tensor, gold: torch.Tensor, scale: float = 20.0) -> torch.Tensor:
    """log(1 + Σ exp(scale · (cos_j − cos_i))) over the pairs with gold_i > gold_j."""
    return cosent_loss("sts", cosines, gold, scale)


def mtlab_beyond_noise(baseline: Sequence[float], option: Sequence[float]) -> bool:
    """Whether the means differ by more than twice the standard error of their difference."""
    error = math.sqrt(
        statistics.variance(baseline) / len(baseline) + statistics.variance(option) / len(option)
    )
    return abs(statistics.mean(option) - statistics.mean(baseline)) > 2 * error


def _batch(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    cosines = (torch.rand(n, generator=generator) * 2 - 1).requires_grad_()
    gold = torch.randint(0, 6, (n,), generator=generator).float()  # ties, as STS has
    return cosines, gold


def _scalar(out: object) -> torch.Tensor:
    if not isinstance(out, torch.Tensor):
        raise Wrong(f"cosent returned a {type(out).__name__}, expected a tensor (one number)")
    if out.numel() != 1:
        raise Wrong(
            f"cosent returned shape {tuple(out.shape)}: one loss per pair or per (i, j). "
            "The loss of a batch is one number: log(1 + the sum over the ranked pairs)"
        )
    return out.reshape(())


@check("cosent")
def check_cosent(cosent: Callable) -> list[str]:
    """Equal to mtlab's CoSENT on batches with ties; only the order of the gold scores counts."""
    cosines, gold = _batch(8, seed=0)
    got = _scalar(cosent(cosines, gold))
    if got.grad_fn is None:
        raise Wrong(
            "the loss has no grad_fn: nothing before it would train. Use torch "
            "operations only (no .item(), .detach(), .numpy())",
            mistake=7,
        )
    want = mtlab_cosent(cosines, gold)
    if torch.isclose(got, want, atol=1e-4):
        pass
    elif torch.isclose(got, mtlab_cosent(cosines, -gold), atol=1e-4):
        raise Wrong(
            f"got {got.item():.4f}, expected {want.item():.4f}: that is the loss of the "
            "reversed order. A pair (i, j) with gold_i > gold_j costs exp(scale · "
            "(cos_j − cos_i)): large when the less similar pair j has the larger cosine"
        )
    elif torch.isclose(got, _without_one(cosines, gold), atol=1e-4):
        raise Wrong(
            f"got {got.item():.4f}, expected {want.item():.4f}: the 1 inside log(1 + Σ) "
            "is missing. It keeps the loss at 0 or above, and defined for a batch with "
            "no pair to rank; logsumexp over [0, terms] adds it stably"
        )
    elif torch.isclose(got, _with_ties(cosines, gold), atol=1e-4):
        raise Wrong(
            f"got {got.item():.4f}, expected {want.item():.4f}: pairs with equal gold "
            "scores are ranked too. Only pairs with gold_i > gold_j (strictly) say "
            "which cosine should be larger"
        )
    else:
        raise Wrong(
            f"on 8 pairs with gold scores {gold.int().tolist()} got {got.item():.4f}, "
            f"expected {want.item():.4f}: log(1 + Σ exp(scale · (cos_j − cos_i))) over "
            "every (i, j) with gold_i > gold_j, scale 20 by default. CoSENT compares the "
            "pairs with each other; it never compares a cosine with its gold score"
        )
    squashed = torch.sqrt(gold)  # the same order, other distances
    if not torch.isclose(_scalar(cosent(cosines, squashed)), want, atol=1e-4):
        raise Wrong(
            "the loss changed when the gold scores were replaced by their square roots, "
            "which keeps their order: CoSENT must depend only on which pair is more "
            "similar, not by how much (that is what sets it apart from MSE)"
        )
    same = _scalar(cosent(cosines, torch.full_like(gold, 3.0)))
    if same.item() == -math.inf:
        raise Wrong(
            "a batch whose gold scores are all equal gave -inf: the 1 inside log(1 + Σ) "
            "is missing, so an empty sum is log(0). logsumexp over [0, terms] adds it"
        )
    if not torch.isclose(same, torch.zeros(()), atol=1e-6):
        raise Wrong(
            f"a batch whose gold scores are all equal has no pair to rank, so its loss "
            f"is log(1 + 0) = 0; got {same.item():.4f}"
        )
    large = _batch(256, seed=1)
    if not torch.isfinite(_scalar(cosent(large[0] * 50, large[1]))):
        raise Wrong(
            "with large scaled differences the loss overflows to inf: sum the "
            "exponentials with torch.logsumexp, not torch.exp(...).sum()"
        )
    return [
        f"8 pairs with ties: {got.item():.4f}, as mtlab's; the same for gold scores in the "
        "same order; 0 for a batch with nothing to rank; finite for 256 pairs"
    ]


def _without_one(cosines: torch.Tensor, gold: torch.Tensor, scale: float = 20.0):
    differences = scale * (cosines[None, :] - cosines[:, None])
    return torch.logsumexp(differences[gold[:, None] > gold[None, :]], dim=0)


def _with_ties(cosines: torch.Tensor, gold: torch.Tensor, scale: float = 20.0):
    differences = scale * (cosines[None, :] - cosines[:, None])
    off_diagonal = ~torch.eye(len(gold), dtype=torch.bool)
    ranked = differences[(gold[:, None] >= gold[None, :]) & off_diagonal]
    return torch.logsumexp(torch.cat([cosines.new_zeros(1), ranked]), dim=0)


def use_cosent(cosent: Callable) -> Callable:
    return yours_or_mtlab("cosent", cosent, mtlab_cosent, lambda f: f(*_batch(4, seed=0)))


@check("beyond_noise")
def check_beyond_noise(beyond_noise: Callable) -> list[str]:
    """True only when the gap of the means exceeds twice its standard error (sample sd, n-1)."""
    cases = [  # (baseline, option, answer, what a wrong answer there means)
        (
            [0.440, 0.446, 0.452],
            [0.444, 0.450, 0.456],
            False,
            "means 0.446 and 0.450, seeds spread by 0.006 each: a gap of 0.004 is well inside what "
            "reseeding alone moves. Compare the gap with the spread, not with 0",
        ),
        (
            [0.440, 0.441, 0.442],
            [0.450, 0.451, 0.452],
            True,
            "means 0.441 and 0.451, each seed within 0.001 of its mean: a gap of 0.010 is ten "
            "standard deviations, beyond noise",
        ),
        (
            [0.845, 0.855],
            [0.857, 0.867],
            False,
            "two seeds each, means 0.850 and 0.862, sd 0.007: a gap of 0.012 is less than twice "
            "the standard error of the difference (2 x 0.007 = 0.014)",
        ),
        (
            [0.84, 0.85, 0.83, 0.84],
            [0.80, 0.81, 0.79, 0.80],
            True,
            "the option is lower by 0.04 with spreads of 0.008: beyond noise; the test is about "
            "the size of the gap, in either direction",
        ),
    ]
    for baseline, option, answer, why in cases:
        got = beyond_noise(baseline, option)
        if not isinstance(got, bool | np.bool_):
            raise Wrong(f"beyond_noise returned a {type(got).__name__}, expected True or False")
        if bool(got) != answer:
            hint = ""
            if answer is False and bool(mtlab_beyond_noise_population(baseline, option)):
                hint = (
                    " (with the population sd, ddof=0, which shrinks the spread of a few "
                    "seeds: use statistics.stdev or np.std(..., ddof=1))"
                )
            raise Wrong(
                f"beyond_noise({baseline}, {option}) gave {got}, expected {answer}: {why}{hint}"
            )
    return ["four comparisons of 2 to 4 seeds decided as a seeded comparison should be"]


def mtlab_beyond_noise_population(baseline: Sequence[float], option: Sequence[float]) -> bool:
    """The same test with the population sd (ddof=0): too eager with 2 or 3 seeds."""
    error = math.sqrt(
        statistics.pvariance(baseline) / len(baseline) + statistics.pvariance(option) / len(option)
    )
    return abs(statistics.mean(option) - statistics.mean(baseline)) > 2 * error


def use_beyond_noise(beyond_noise: Callable) -> Callable:
    return yours_or_mtlab(
        "beyond_noise", beyond_noise, mtlab_beyond_noise, lambda f: f([0.1, 0.2], [0.3, 0.4])
    )


def mtlab_paired_gaps(baseline: Sequence[float], option: Sequence[float]) -> list[float]:
    """Option minus baseline, seed by seed: both lists in seed order, same starts."""
    if len(baseline) != len(option):
        raise ValueError(f"one score per seed in each list: got {len(baseline)} and {len(option)}")
    return [b - a for a, b in zip(baseline, option, strict=True)]


@check("paired_gaps")
def check_paired_gaps(paired_gaps: Callable) -> list[str]:
    """Per seed, option minus baseline, in seed order; a clear error for lists of other lengths."""
    baseline, option = [0.443, 0.463, 0.460], [0.436, 0.445, 0.445]  # SMART's SST, seeds 0-2
    got = paired_gaps(baseline, option)
    if isinstance(got, int | float):
        raise Wrong(
            f"got one number, {got:.4f}: the gap of the means. The point of pairing is one "
            "gap per seed, each from runs that started from the same heads"
        )
    got = [float(x) for x in got]
    want = mtlab_paired_gaps(baseline, option)
    if len(got) != len(want):
        raise Wrong(f"got {len(got)} gaps for 3 seeds")
    if all(math.isclose(g, -w, abs_tol=1e-9) for g, w in zip(got, want, strict=True)):
        raise Wrong(
            f"got {[round(g, 3) for g in got]}: baseline minus option. The gap is option "
            "minus baseline, so that a loss shows as a negative number"
        )
    if not all(math.isclose(g, w, abs_tol=1e-9) for g, w in zip(got, want, strict=True)):
        raise Wrong(
            f"got {[round(g, 3) for g in got]}, expected {[round(w, 3) for w in want]}: "
            "subtract seed by seed, in the order given (sorting either list first pairs "
            "runs that did not start from the same heads)"
        )
    try:
        paired_gaps([0.4, 0.5], [0.4, 0.5, 0.6])
    except ValueError:
        pass
    else:
        raise Wrong(
            "lists of 2 and 3 seeds gave no error: a seed without its pair would be "
            "dropped silently (zip stops at the shorter list). Raise ValueError"
        )
    return [f"SMART's SST, seed by seed: {[round(g, 3) for g in got]}, a loss in every seed"]


def use_paired_gaps(paired_gaps: Callable) -> Callable:
    return yours_or_mtlab(
        "paired_gaps", paired_gaps, mtlab_paired_gaps, lambda f: f([0.1, 0.2], [0.3, 0.4])
    )
