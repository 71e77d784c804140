"""Notebook 09's exercises 9.2 and 9.3: a gap beyond seed noise, and gaps seed by seed
(imported from mtlab.exercises.extensions)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence

import numpy as np

from mtlab.exercises import StudentError, Wrong, check, student, yours_or_mtlab


def _gap(baseline: Sequence[float], option: Sequence[float]) -> float:
    return statistics.mean(option) - statistics.mean(baseline)


def _error(baseline: Sequence[float], option: Sequence[float], var=statistics.variance) -> float:
    """The standard error of the difference of the two means."""
    return math.sqrt(var(baseline) / len(baseline) + var(option) / len(option))


def mtlab_beyond_noise(baseline: Sequence[float], option: Sequence[float]) -> bool:
    """Whether the means differ by more than twice the standard error of their difference."""
    return abs(_gap(baseline, option)) > 2 * _error(baseline, option)


def _sds(baseline, option) -> tuple[float, float]:
    return statistics.stdev(baseline), statistics.stdev(option)


WRONG_TESTS = [  # (id, what the answers follow, the test they follow)
    (
        "beyond_noise.population-sd",
        "the population sd (ddof=0), which shrinks the spread of a few seeds: use "
        "statistics.stdev or np.std(..., ddof=1)",
        lambda a, b: abs(_gap(a, b)) > 2 * _error(a, b, statistics.pvariance),
    ),
    (
        "beyond_noise.sd-not-se",
        "the standard deviations where the standard error belongs: each variance divided "
        "by its number of seeds, sqrt(s_a²/n_a + s_b²/n_b). The mean of n seeds moves less "
        "than one seed does",
        lambda a, b: (
            abs(_gap(a, b)) > 2 * math.sqrt(statistics.variance(a) + statistics.variance(b))
        ),
    ),
    (
        "beyond_noise.sd-not-se",
        "the two standard deviations added: the spread of one seed, not of a mean. Use the "
        "standard error of the difference, sqrt(s_a²/n_a + s_b²/n_b)",
        lambda a, b: abs(_gap(a, b)) > 2 * sum(_sds(a, b)),
    ),
    (
        "beyond_noise.one-error",
        "a gap of more than one standard error: the test is twice the standard error",
        lambda a, b: abs(_gap(a, b)) > _error(a, b),
    ),
    (
        "beyond_noise.errors-added",
        "the two means' standard errors added, s_a/√n_a + s_b/√n_b: the error of a "
        "difference adds the variances, sqrt(s_a²/n_a + s_b²/n_b)",
        lambda a, b: (
            abs(_gap(a, b)) > 2 * sum(s / math.sqrt(len(x)) for s, x in zip(_sds(a, b), (a, b)))
        ),
    ),
    (
        "beyond_noise.no-square-root",
        "the variance of the difference, not its square root: compare the gap with "
        "2 · sqrt(s_a²/n_a + s_b²/n_b)",
        lambda a, b: (
            abs(_gap(a, b))
            > 2 * (statistics.variance(a) / len(a) + statistics.variance(b) / len(b))
        ),
    ),
    (
        "beyond_noise.one-direction",
        "only a gain counts as beyond noise: the test is about the size of the gap, in "
        "either direction (abs)",
        lambda a, b: _gap(a, b) > 2 * _error(a, b),
    ),
    (
        "beyond_noise.any-gap",
        "any gap at all counts: compare the gap with twice its standard error, not with 0",
        lambda a, b: _gap(a, b) != 0,
    ),
]

NOISE_CASES = [  # chosen so that each wrong test above answers one of them differently
    ([0.440, 0.446, 0.452], [0.444, 0.450, 0.456]),
    ([0.440, 0.441, 0.442], [0.450, 0.451, 0.452]),
    ([0.845, 0.855], [0.857, 0.867]),
    ([0.84, 0.85, 0.83, 0.84], [0.80, 0.81, 0.79, 0.80]),
    ([0.400, 0.413], [0.390, 0.386]),
    ([0.502, 0.485], [0.542, 0.519]),
    ([0.489, 0.492], [0.496, 0.491]),
    ([0.852, 0.849], [0.873, 0.829]),
    ([0.431, 0.430], [0.435, 0.433]),
]


def _why(baseline: list[float], option: list[float]) -> str:
    gap, error = _gap(baseline, option), _error(baseline, option)
    where = "beyond" if abs(gap) > 2 * error else "within"
    return (
        f"means {statistics.mean(baseline):.4f} and {statistics.mean(option):.4f}, a gap of "
        f"{gap:+.4f}; the standard error of the difference is {error:.4f}, so the gap is "
        f"{where} twice it ({2 * error:.4f})"
    )


@check("beyond_noise")
def check_beyond_noise(beyond_noise: Callable) -> list[str]:
    """True only when the gap of the means exceeds twice its standard error (sample sd, n-1)."""
    answers = []
    for baseline, option in NOISE_CASES:
        got = student(beyond_noise, list(baseline), list(option))
        if not isinstance(got, bool | np.bool_):
            raise Wrong(
                f"beyond_noise returned a {type(got).__name__} ({str(got)[:30]}), expected "
                "True or False: the comparison itself, gap > 2 * error",
                id="answer.wrong-type",
            )
        answers.append(bool(got))
    wants = [mtlab_beyond_noise(*case) for case in NOISE_CASES]
    if answers == wants:
        return [
            f"{len(NOISE_CASES)} comparisons of 2 to 4 seeds decided as a seeded comparison should be"
        ]
    i = next(i for i, (a, w) in enumerate(zip(answers, wants)) if a != w)
    baseline, option = NOISE_CASES[i]
    found = next(
        (
            (id, what)
            for id, what, test in WRONG_TESTS
            if answers == [test(*c) for c in NOISE_CASES]
        ),
        (
            "answer.wrong-value",
            "compare |mean(option) - mean(baseline)| with 2 · sqrt(s_a²/n_a + s_b²/n_b)",
        ),
    )
    raise Wrong(
        f"beyond_noise({baseline}, {option}) gave {answers[i]}, expected {wants[i]}: "
        f"{_why(baseline, option)}. Your answers follow {found[1]}",
        id=found[0],
    )


def use_beyond_noise(beyond_noise: Callable) -> Callable:
    return yours_or_mtlab(
        "beyond_noise", beyond_noise, mtlab_beyond_noise, lambda f: f([0.1, 0.2], [0.3, 0.4])
    )


def mtlab_paired_gaps(baseline: Sequence[float], option: Sequence[float]) -> list[float]:
    """Option minus baseline, seed by seed: both lists in seed order, same starts."""
    if len(baseline) != len(option):
        raise ValueError(f"one score per seed in each list: got {len(baseline)} and {len(option)}")
    return [b - a for a, b in zip(baseline, option, strict=True)]


WRONG_GAPS = [  # (id, what it is, the gaps it gives)
    (
        "paired_gaps.sign",
        "baseline minus option. The gap is option minus baseline, so that a "
        "loss shows as a negative number",
        lambda a, b: [x - y for x, y in zip(a, b)],
    ),
    (
        "paired_gaps.sorted",
        "the lists were sorted first: that pairs runs that did not start "
        "from the same heads. Subtract seed by seed, in the order given",
        lambda a, b: [y - x for x, y in zip(sorted(a), sorted(b))],
    ),
    (
        "paired_gaps.abs",
        "the sizes of the gaps without their signs: a loss and a gain look alike. Keep the sign",
        lambda a, b: [abs(y - x) for x, y in zip(a, b)],
    ),
    (
        "paired_gaps.relative",
        "relative gaps (divided by the baseline): the exercise's gaps are differences of scores",
        lambda a, b: [(y - x) / x for x, y in zip(a, b)],
    ),
    (
        "paired_gaps.ratio",
        "ratios option / baseline: the exercise's gaps are differences",
        lambda a, b: [y / x for x, y in zip(a, b)],
    ),
]


def _gaps_of(paired_gaps: Callable, baseline: list[float], option: list[float]) -> list[float]:
    got = student(paired_gaps, list(baseline), list(option))
    if isinstance(got, int | float | np.floating):
        raise Wrong(
            f"got one number, {float(got):.4f}: the gap of the means. The point of pairing is "
            "one gap per seed, each from runs that started from the same heads",
            id="paired_gaps.one-number",
        )
    try:
        return [float(x) for x in got]
    except (TypeError, ValueError):
        raise Wrong(
            f"got {str(got)[:60]!r}, expected a list of numbers, one gap per seed",
            id="answer.wrong-type",
        ) from None


@check("paired_gaps")
def check_paired_gaps(paired_gaps: Callable) -> list[str]:
    """Per seed, option minus baseline, in seed order; a clear error for lists of other lengths."""
    cases = [  # SMART's SST, seeds 0-2; then a gain, a loss and a tie
        ([0.443, 0.463, 0.460], [0.436, 0.445, 0.445]),
        ([0.40, 0.52, 0.45], [0.43, 0.48, 0.45]),
    ]
    _gap_problem([_gaps_of(paired_gaps, *case) for case in cases], cases)
    _refuses_other_lengths(paired_gaps)
    shown = [round(g, 3) for g in mtlab_paired_gaps(*cases[0])]
    return [f"SMART's SST, seed by seed: {shown}, a loss in every seed"]


def _close_all(got: list[float], want: list[float]) -> bool:
    return len(got) == len(want) and all(
        math.isclose(g, w, abs_tol=1e-9) for g, w in zip(got, want)
    )


def _gap_problem(answers: list[list[float]], cases) -> None:
    """Wrong naming the usual wrong gaps that give the student's lists on every case."""
    wants = [mtlab_paired_gaps(*case) for case in cases]
    for got, want in zip(answers, wants):
        if len(got) != len(want):
            raise Wrong(
                f"got {len(got)} gaps for {len(want)} seeds: one per seed", id="answer.wrong-shape"
            )
    wrong = [i for i, (got, want) in enumerate(zip(answers, wants)) if not _close_all(got, want)]
    if not wrong:
        return
    (baseline, option), shown = cases[wrong[0]], [round(g, 3) for g in answers[wrong[0]]]
    for id, what, gaps in WRONG_GAPS:
        if all(_close_all(got, gaps(*case)) for got, case in zip(answers, cases)):
            raise Wrong(f"for {baseline} and {option} got {shown}: {what}", id=id)
    raise Wrong(
        f"for {baseline} and {option} got {shown}, expected "
        f"{[round(w, 3) for w in wants[wrong[0]]]}: option minus baseline, seed by seed",
        id="answer.wrong-value",
    )


def _refuses_other_lengths(paired_gaps: Callable) -> None:
    try:
        student(paired_gaps, [0.4, 0.5], [0.4, 0.5, 0.6])
    except StudentError as raised:
        if isinstance(raised.error, ValueError):
            return
        raise Wrong(
            f"lists of 2 and 3 seeds raised {raised.describe()}: raise ValueError, with a "
            "message that says the lengths differ",
            id="paired_gaps.wrong-exception",
        ) from None
    raise Wrong(
        "lists of 2 and 3 seeds gave no error: a seed without its pair would be "
        "dropped silently (zip stops at the shorter list). Raise ValueError",
        id="paired_gaps.no-length-check",
    )


def use_paired_gaps(paired_gaps: Callable) -> Callable:
    return yours_or_mtlab(
        "paired_gaps", paired_gaps, mtlab_paired_gaps, lambda f: f([0.1, 0.2], [0.3, 0.4])
    )
