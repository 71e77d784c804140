"""Notebook 09's checks: the solution passes, a stub is "not done yet", wrong answers are named."""

import statistics

import numpy as np
import pytest
import torch

from mtlab.exercises import DONE, NOT_DONE, WRONG
from mtlab.exercises.extensions import (
    check_beyond_noise,
    check_cosent,
    mtlab_beyond_noise,
    mtlab_cosent,
    use_beyond_noise,
    use_cosent,
)


def stub(*_args, **_kwargs):
    raise NotImplementedError()


def pairwise(cosines, gold, scale=20.0, *, keep=lambda gi, gj: gi > gj, reverse=False):
    """CoSENT written out pair by pair, with knobs for the usual slips."""
    terms = [scale * ((cosines[i] - cosines[j]) if reverse else (cosines[j] - cosines[i]))
             for i in range(len(gold)) for j in range(len(gold))
             if i != j and keep(gold[i], gold[j])]  # fmt: skip
    return torch.logsumexp(torch.stack([cosines.new_zeros(()), *terms]), dim=0)


# ------------------------------------------------------------------ cosent


@pytest.mark.parametrize("answer", [mtlab_cosent, pairwise])
def test_cosent_solutions_pass(answer):
    assert check_cosent(answer).status == DONE


def test_cosent_stub_is_not_done():
    assert check_cosent(stub).status == NOT_DONE


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (lambda c, g: pairwise(c, g, reverse=True), "reversed order"),
        (lambda c, g: pairwise(c, g, keep=lambda gi, gj: gi >= gj), "equal gold"),
        (
            lambda c, g: torch.logsumexp(
                20 * (c[None, :] - c[:, None])[g[:, None] > g[None, :]], 0
            ),
            "1 inside log(1 + Σ) is missing",
        ),
        (lambda c, g: ((5 * c - g) ** 2).mean(), "never compares a cosine with its gold"),
        (lambda c, g: mtlab_cosent(c, g).detach(), "no grad_fn"),
        (lambda c, g: mtlab_cosent(c, g).item(), "expected a tensor"),
        (lambda c, g: torch.stack([mtlab_cosent(c, g)] * 2), "one number"),
    ],
)
def test_cosent_slips_are_named(answer, words):
    verdict = check_cosent(answer)
    assert verdict.status == WRONG and words in str(verdict), str(verdict)


def test_cosent_that_uses_distances_fails_the_order_only_test():
    def weighted(cosines, gold, scale=20.0):  # weighs each pair by its gold gap: not CoSENT
        gaps = (gold[:, None] - gold[None, :]).clamp(min=0)
        differences = scale * (cosines[None, :] - cosines[:, None]) + torch.log(gaps + 1e-9)
        return torch.logsumexp(torch.cat([cosines.new_zeros(1), differences.flatten()]), dim=0)

    verdict = check_cosent(weighted)
    assert verdict.status == WRONG


def test_cosent_overflow_is_named():
    def naive(cosines, gold, scale=20.0):
        differences = scale * (cosines[None, :] - cosines[:, None])
        return torch.log(1 + torch.exp(differences[gold[:, None] > gold[None, :]]).sum())

    verdict = check_cosent(naive)
    assert verdict.status == WRONG and "logsumexp" in str(verdict)


def test_use_cosent_falls_back_to_mtlab_while_stubbed(capsys):
    assert use_cosent(stub) is mtlab_cosent
    assert "not done yet" in capsys.readouterr().out
    assert use_cosent(pairwise) is pairwise


# ------------------------------------------------------------------ beyond_noise


def with_numpy(baseline, option):
    gap = abs(np.mean(option) - np.mean(baseline))
    error = np.sqrt(np.var(baseline, ddof=1) / len(baseline) + np.var(option, ddof=1) / len(option))
    return gap > 2 * error


@pytest.mark.parametrize("answer", [mtlab_beyond_noise, with_numpy])
def test_beyond_noise_solutions_pass(answer):
    assert check_beyond_noise(answer).status == DONE


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (lambda a, b: statistics.mean(b) > statistics.mean(a), "Compare the gap with the spread"),
        (lambda a, b: abs(np.mean(b) - np.mean(a)) > 2 * np.sqrt(np.var(a) / len(a) + np.var(b) / len(b)),
         "ddof=1"),
        (lambda a, b: (statistics.mean(b) - statistics.mean(a)) > 2 * statistics.stdev(a),
         "either direction"),
        (lambda a, b: 0.5, "expected True or False"),
    ],
)  # fmt: skip
def test_beyond_noise_slips_are_named(answer, words):
    verdict = check_beyond_noise(answer)
    assert verdict.status == WRONG and words in str(verdict), str(verdict)


def test_beyond_noise_stub_is_not_done_and_use_falls_back(capsys):
    assert check_beyond_noise(stub).status == NOT_DONE
    assert use_beyond_noise(stub) is mtlab_beyond_noise


# ------------------------------------------------------------------ paired_gaps


def test_paired_gaps_solution_passes_and_stub_is_not_done():
    from mtlab.exercises.extensions import check_paired_gaps, mtlab_paired_gaps

    assert check_paired_gaps(mtlab_paired_gaps).status == DONE
    assert check_paired_gaps(stub).status == NOT_DONE


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (lambda a, b: statistics.mean(b) - statistics.mean(a), "gap of the means"),
        (lambda a, b: [x - y for x, y in zip(a, b, strict=True)], "option minus baseline"),
        (lambda a, b: [y - x for x, y in zip(sorted(a), sorted(b), strict=False)], "sorting"),
        (lambda a, b: [y - x for x, y in zip(a, b, strict=False)], "ValueError"),
    ],
)
def test_paired_gaps_slips_are_named(answer, words):
    from mtlab.exercises.extensions import check_paired_gaps

    verdict = check_paired_gaps(answer)
    assert verdict.status == WRONG and words in str(verdict), str(verdict)
