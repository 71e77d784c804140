"""Notebook 09's checks: right answers pass in their several forms, a stub is "not done yet",
and each wrong answer, written as a student would, is rejected with its mistake named."""

import math
import statistics

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mtlab.exercises.extensions import (
    check_beyond_noise,
    check_cosent,
    check_paired_gaps,
    mtlab_beyond_noise,
    mtlab_cosent,
    mtlab_paired_gaps,
    use_beyond_noise,
    use_cosent,
)
from tests.verdicts import assert_done, assert_named, assert_not_done, row


def stub(*_args, **_kwargs):
    raise NotImplementedError()


# ------------------------------------------------------------------ cosent


def by_hand(cosines, gold, scale=20.0):  # the notebook's solution
    differences = scale * (cosines[None, :] - cosines[:, None])
    ranked = differences[gold[:, None] > gold[None, :]]
    return torch.logsumexp(torch.cat([cosines.new_zeros(1), ranked]), dim=0)


def pairwise(cosines, gold, scale=20.0):  # a double loop, as a first attempt would be
    terms = [
        scale * (cosines[j] - cosines[i])
        for i in range(len(gold))
        for j in range(len(gold))
        if gold[i] > gold[j]
    ]
    return torch.logsumexp(torch.stack([cosines.new_zeros(()), *terms]), dim=0)


def masked(cosines, gold, scale=20.0):  # -inf where a pair does not count
    differences = scale * (cosines[None, :] - cosines[:, None])
    differences = differences.masked_fill(~(gold[:, None] > gold[None, :]), -math.inf)
    return torch.logsumexp(torch.cat([differences.flatten(), cosines.new_zeros(1)]), 0)


@pytest.mark.parametrize("answer", [by_hand, pairwise, masked, mtlab_cosent])
def test_cosent_right_answers_pass(answer):
    assert_done(check_cosent(answer))


def test_cosent_stub_is_not_done():
    assert_not_done(check_cosent(stub))


def cosent_with(*, sign=1, one=True, ties=False, scale_used=True, reduce="sum", stable=True):
    """CoSENT written with one thing changed."""

    def cosent(cosines, gold, scale=20.0):
        s = scale if scale_used else 20.0
        differences = sign * s * (cosines[None, :] - cosines[:, None])
        keep = gold[:, None] >= gold[None, :] if ties else gold[:, None] > gold[None, :]
        if ties:
            keep &= ~torch.eye(len(gold), dtype=torch.bool)
        ranked = differences[keep]
        if not stable:
            return torch.log(1 + ranked.exp().sum())
        if reduce == "mean":
            return torch.log1p(ranked.exp().mean())
        if not one:
            return torch.logsumexp(ranked, dim=0)
        return torch.logsumexp(torch.cat([cosines.new_zeros(1), ranked]), dim=0)

    return cosent


def per_pair(cosines, gold, scale=20.0):
    differences = scale * (cosines[None, :] - cosines[:, None])
    return F.softplus(differences[gold[:, None] > gold[None, :]]).sum()


def unscaled(cosines, gold, scale=20.0):
    return by_hand(cosines, gold, 1.0)


def mse_like(cosines, gold, scale=20.0):
    return F.mse_loss(cosines, gold / 5)


def weighted(cosines, gold, scale=20.0):  # gold distances used as weights
    differences = scale * (cosines[None, :] - cosines[:, None])
    weights = (gold[:, None] - gold[None, :]).clamp(min=0)
    return torch.log1p((weights * differences.exp()).sum())


WRONG_COSENT = [
    row(cosent_with(sign=-1), "cosent.reversed", "reversed order", name="reversed"),
    row(cosent_with(one=False), "cosent.missing-one", "the 1 inside", name="no-one"),
    row(cosent_with(ties=True), "cosent.ties-ranked", "equal gold scores", name="ties"),
    row(unscaled, "cosent.scale-missing", "scale"),
    row(cosent_with(scale_used=False), "cosent.scale-ignored", "scale=10", name="scale-ignored"),
    row(cosent_with(reduce="mean"), "cosent.mean-inside", "mean of the exponentials", name="mean"),
    row(per_pair, "cosent.per-pair", "one log"),
    row(cosent_with(stable=False), "cosent.overflow", "logsumexp", name="exp-sum"),
    row(mse_like, "answer.wrong-value", "never compares a cosine with its gold score"),
    row(weighted, "answer.wrong-value", "expected"),
    row(
        lambda c, g, scale=20.0: by_hand(c, g, scale).detach(),
        "graph.cut",
        "grad_fn",
        name="detach",
    ),
    row(
        lambda c, g, scale=20.0: by_hand(c, g, scale).item(),
        "answer.not-a-tensor",
        "float",
        name="item",
    ),
    row(
        lambda c, g, scale=20.0: scale * (c[None, :] - c[:, None]),
        "cosent.not-one-number",
        "one number",
        name="table",
    ),
    row(
        lambda c, g, scale=20.0: by_hand(c.detach(), g, scale) + 0 * c.sum(),
        "graph.part-cut",
        "gradient",
        name="cosines-detached",
    ),
]


@pytest.mark.parametrize("answer, mistake_id, words", WRONG_COSENT)
def test_cosent_wrong_answers_are_named(answer, mistake_id, words):
    assert_named(check_cosent(answer), mistake_id, words)


def test_use_cosent_falls_back(capsys):
    assert use_cosent(stub) is mtlab_cosent
    assert use_cosent(by_hand) is by_hand
    assert "the cells below use your cosent" in capsys.readouterr().out


# ------------------------------------------------------------------ beyond_noise


def with_numpy(baseline, option):
    a, b = np.asarray(baseline), np.asarray(option)
    error = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    return bool(abs(b.mean() - a.mean()) > 2 * error)


def with_stdev(baseline, option):  # stdev squared: the same numbers
    error = math.hypot(
        statistics.stdev(baseline) / len(baseline) ** 0.5,
        statistics.stdev(option) / len(option) ** 0.5,
    )
    return abs(statistics.mean(option) - statistics.mean(baseline)) > 2 * error


@pytest.mark.parametrize("answer", [mtlab_beyond_noise, with_numpy, with_stdev])
def test_beyond_noise_right_answers_pass(answer):
    assert_done(check_beyond_noise(answer))


def test_beyond_noise_stub_is_not_done():
    assert_not_done(check_beyond_noise(stub))


def noise_test(error, gap=lambda a, b: abs(statistics.mean(b) - statistics.mean(a)), factor=2):
    """beyond_noise with its standard error computed by `error`."""

    def beyond_noise(baseline, option):
        return gap(baseline, option) > factor * error(baseline, option)

    return beyond_noise


def se(var=statistics.variance):
    return lambda a, b: math.sqrt(var(a) / len(a) + var(b) / len(b))


WRONG_NOISE = [
    row(
        noise_test(se(statistics.pvariance)),
        "beyond_noise.population-sd",
        "ddof=0",
        name="population",
    ),
    row(
        noise_test(lambda a, b: np.sqrt(np.var(a) / len(a) + np.var(b) / len(b))),
        "beyond_noise.population-sd",
        "ddof=1",
        name="numpy-default-ddof",
    ),
    row(
        noise_test(lambda a, b: math.sqrt(statistics.variance(a) + statistics.variance(b))),
        "beyond_noise.sd-not-se",
        "standard error belongs",
        name="sd",
    ),
    row(
        noise_test(lambda a, b: statistics.stdev(a) + statistics.stdev(b)),
        "beyond_noise.sd-not-se",
        "spread of one seed",
        name="sds-added",
    ),
    row(noise_test(se(), factor=1), "beyond_noise.one-error", "twice", name="one-error"),
    row(
        noise_test(
            lambda a, b: statistics.stdev(a) / len(a) ** 0.5 + statistics.stdev(b) / len(b) ** 0.5
        ),
        "beyond_noise.errors-added",
        "adds the variances",
        name="errors-added",
    ),
    row(
        noise_test(lambda a, b: statistics.variance(a) / len(a) + statistics.variance(b) / len(b)),
        "beyond_noise.no-square-root",
        "square root",
        name="no-sqrt",
    ),
    row(
        noise_test(se(), gap=lambda a, b: statistics.mean(b) - statistics.mean(a)),
        "beyond_noise.one-direction",
        "either direction",
        name="no-abs",
    ),
    row(
        lambda a, b: statistics.mean(a) != statistics.mean(b),
        "beyond_noise.any-gap",
        "not with 0",
        name="any-gap",
    ),
    row(
        lambda a, b: abs(statistics.mean(a) - statistics.mean(b)) > 0.01,
        "answer.wrong-value",
        "expected",
        name="fixed-threshold",
    ),
    row(lambda a, b: "yes", "answer.wrong-type", "True or False", name="string"),
    row(
        lambda a, b: abs(statistics.mean(b) - statistics.mean(a)),
        "answer.wrong-type",
        "True or False",
        name="the-gap",
    ),
]


@pytest.mark.parametrize("answer, mistake_id, words", WRONG_NOISE)
def test_beyond_noise_wrong_answers_are_named(answer, mistake_id, words):
    assert_named(check_beyond_noise(answer), mistake_id, words)


def test_use_beyond_noise_falls_back(capsys):
    assert use_beyond_noise(stub) is mtlab_beyond_noise
    assert "not done yet" in capsys.readouterr().out


# ------------------------------------------------------------------ paired_gaps


def strict_zip(baseline, option):  # zip(strict=True) raises ValueError itself
    return [b - a for a, b in zip(baseline, option, strict=True)]


@pytest.mark.parametrize("answer", [mtlab_paired_gaps, strict_zip])
def test_paired_gaps_right_answers_pass(answer):
    assert_done(check_paired_gaps(answer))


def numpy_checked(baseline, option):
    if len(baseline) != len(option):
        raise ValueError("lengths differ")
    return np.asarray(option) - np.asarray(baseline)


def test_paired_gaps_numpy_array_passes():
    assert_done(check_paired_gaps(numpy_checked))


def test_paired_gaps_stub_is_not_done():
    assert_not_done(check_paired_gaps(stub))


def checked(gaps):
    def paired_gaps(baseline, option):
        if len(baseline) != len(option):
            raise ValueError("one score per seed in each list")
        return gaps(baseline, option)

    return paired_gaps


def asserted(baseline, option):
    assert len(baseline) == len(option), "lengths differ"
    return [b - a for a, b in zip(baseline, option)]


WRONG_PAIRED = [
    row(
        lambda a, b: statistics.mean(b) - statistics.mean(a),
        "paired_gaps.one-number",
        "gap of the means",
        name="mean-gap",
    ),
    row(
        checked(lambda a, b: [x - y for x, y in zip(a, b)]),
        "paired_gaps.sign",
        "baseline minus option",
        name="sign",
    ),
    row(
        checked(lambda a, b: [y - x for x, y in zip(sorted(a), sorted(b))]),
        "paired_gaps.sorted",
        "sorted",
        name="sorted",
    ),
    row(
        checked(lambda a, b: [abs(y - x) for x, y in zip(a, b)]),
        "paired_gaps.abs",
        "Keep the sign",
        name="abs",
    ),
    row(
        checked(lambda a, b: [(y - x) / x for x, y in zip(a, b)]),
        "paired_gaps.relative",
        "relative",
        name="relative",
    ),
    row(
        checked(lambda a, b: [y / x for x, y in zip(a, b)]),
        "paired_gaps.ratio",
        "ratios",
        name="ratio",
    ),
    row(
        lambda a, b: [y - x for x, y in zip(a, b)],
        "paired_gaps.no-length-check",
        "zip stops at the shorter list",
        name="no-check",
    ),
    row(asserted, "paired_gaps.wrong-exception", "AssertionError"),
    row(
        checked(lambda a, b: [y - x for x, y in zip(a, b)][:2]),
        "answer.wrong-shape",
        "got 2 gaps",
        name="short",
    ),
    row(checked(lambda a, b: {"gaps": 1}), "answer.wrong-type", "list of numbers", name="dict"),
]


@pytest.mark.parametrize("answer, mistake_id, words", WRONG_PAIRED)
def test_paired_gaps_wrong_answers_are_named(answer, mistake_id, words):
    assert_named(check_paired_gaps(answer), mistake_id, words)
