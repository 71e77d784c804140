"""Notebook 03's exercise 3.3, the swap test (imported from `mtlab.exercises.pairs`)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from mtlab.exercises import Wrong, check, student, yours_or_mtlab
from mtlab.exercises.probes import as_number
from mtlab.heads.kinds import ParaphraseHead


def duplicate_scores(out: torch.Tensor) -> torch.Tensor:
    """A paraphrase head's raw score per pair: logit 1 - logit 0, or its single logit."""
    return out[:, 1] - out[:, 0] if out.dim() == 2 else out


def mtlab_swap_gap(head: nn.Module, u: torch.Tensor, v: torch.Tensor) -> float:
    """Total duplicate score of the pairs as given minus with v's partners shifted by one."""
    with torch.no_grad():
        given, swapped = head(u, v), head(u, v.roll(1, dims=0))
    return (duplicate_scores(given).sum() - duplicate_scores(swapped).sum()).item()


class _TwoScores(nn.Module):
    """Two logits that are f(u) + g(v), each through a non-linear branch: still a sum of parts."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.f = nn.Sequential(nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, 2))
        self.g = nn.Sequential(nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, 2))

    def forward(self, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return self.f(u) + self.g(v)


def _heads() -> list[tuple[str, nn.Module, bool]]:
    """(name, head, compares) for two heads that cannot compare and two that can."""
    with torch.random.fork_rng():
        torch.manual_seed(0)
        heads = [
            ("the linear [u; v] head", ParaphraseHead(6, variant="linear"), False),
            ("a head whose two logits are f(u) + g(v)", _TwoScores(6), False),
            ("mtlab's comparing head", ParaphraseHead(6), True),
            ("another comparing head", ParaphraseHead(6), True),
        ]
    return [(name, head.eval(), compares) for name, head, compares in heads]


def _vectors() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)  # 6 pairs on which each wrong gap is its own
    return tuple(torch.randn(6, 6, generator=generator) for _ in range(2))


def _total(head: nn.Module, u: torch.Tensor, v: torch.Tensor, score=duplicate_scores) -> float:
    with torch.no_grad():
        return score(head(u, v)).sum().item()


def _probability(out: torch.Tensor) -> torch.Tensor:
    return torch.sigmoid(out) if out.dim() == 1 else out.softmax(-1)[:, 1]


def _predicted(out: torch.Tensor) -> torch.Tensor:
    return (out > 0).float() if out.dim() == 1 else out.argmax(-1).float()


def _logit_one(out: torch.Tensor) -> torch.Tensor:
    return out if out.dim() == 1 else out[:, 1]


WRONG_GAPS = [  # (id, what the answer computed, the gap it gives)
    (
        "swap_gap.zero-for-comparing",
        "0 for heads that do compare their inputs: either nothing was swapped, or whole "
        "pairs were reordered (u and v together), which leaves every head's total unchanged. "
        "Shift only v's rows: v.roll(1, dims=0)",
        lambda h, u, v: 0.0,
    ),
    (
        "swap_gap.not-raw-scores",
        "a gap of probabilities (softmax or sigmoid), which are no sums of parts even for a "
        "head whose scores are: it is not 0 for the linear [u; v] head (mistake 10). Compare "
        "the raw scores, logit of 'duplicate' minus logit of 'not'",
        lambda h, u, v: _total(h, u, v, _probability) - _total(h, u, v.roll(1, 0), _probability),
    ),
    (
        "swap_gap.not-raw-scores",
        "a gap of predicted classes (argmax), which are no sums of parts even for a head "
        "whose scores are. Compare the raw scores, logit of 'duplicate' minus logit of 'not'",
        lambda h, u, v: _total(h, u, v, _predicted) - _total(h, u, v.roll(1, 0), _predicted),
    ),
    (
        "swap_gap.sign",
        "the gap with its sign flipped: the pairs as given minus the swapped ones (and the "
        "duplicate score is logit 1 - logit 0, not logit 0 - logit 1)",
        lambda h, u, v: -mtlab_swap_gap(h, u, v),
    ),
    (
        "swap_gap.mean-not-sum",
        "the difference of the mean scores: the exercise's gap is of the totals, .sum()",
        lambda h, u, v: mtlab_swap_gap(h, u, v) / len(u),
    ),
    (
        "swap_gap.wrong-shift",
        "v shifted the other way (or u shifted instead of v): shift v's rows by one, "
        "v.roll(1, dims=0)",
        lambda h, u, v: _total(h, u, v) - _total(h, u, v.roll(-1, 0)),
    ),
    (
        "swap_gap.wrong-shift",
        "v shifted the other way (or u shifted instead of v): shift v's rows by one, "
        "v.roll(1, dims=0)",
        lambda h, u, v: _total(h, u, v) - _total(h, u.roll(1, 0), v),
    ),
    (
        "swap_gap.wrong-shift",
        "v's rows reversed (v.flip(0)), not shifted by one: v.roll(1, dims=0)",
        lambda h, u, v: _total(h, u, v) - _total(h, u, v.flip(0)),
    ),
    (
        "swap_gap.one-logit",
        "the logit of 'duplicate' alone: a head's duplicate score is logit 1 - logit 0",
        lambda h, u, v: _total(h, u, v, _logit_one) - _total(h, u, v.roll(1, 0), _logit_one),
    ),
    (
        "swap_gap.sign",
        "the size of the gap without its sign (abs): a negative gap says something too",
        lambda h, u, v: abs(mtlab_swap_gap(h, u, v)),
    ),
]


def _fingerprint(answers: list[float], heads, u, v) -> tuple[str, str] | None:
    """The wrong computation that gives the student's number on every head, if any."""
    for id, what, gap in WRONG_GAPS:
        if all(abs(a - gap(h, u, v)) <= 1e-4 for a, (_, h, _) in zip(answers, heads)):
            return id, what
    return None


@check("swap_gap")
def check_swap_gap(swap_gap: Callable) -> list[str]:
    """The swap test: zero for any head whose score is f(u) + g(v), non-zero for one that compares."""
    heads, (u, v) = _heads(), _vectors()
    answers = []
    for name, head, _ in heads:
        out = student(swap_gap, head, u.clone(), v.clone())
        got = as_number(out)
        if got is None:
            raise Wrong(
                f"for {name} it returned {type(out).__name__} {str(out)[:40]}, expected a "
                "number (a float: .item() of the difference)",
                id="answer.wrong-type",
            )
        answers.append(got)
    again = as_number(student(swap_gap, heads[2][1], u.clone(), v.clone()))
    if again is None or not abs(again - answers[2]) <= 1e-6:  # NaN differs from itself
        raise Wrong(
            "two calls on the same head and vectors gave different gaps: a random shuffle "
            "(torch.randperm) or dropout left on. Shift v's rows by one, v.roll(1, dims=0), "
            "under head.eval()",
            id="swap_gap.random-shuffle",
        )
    wants = [mtlab_swap_gap(h, u, v) for _, h, _ in heads]
    if all(abs(a - w) <= 1e-4 for a, w in zip(answers, wants)):
        return ["0 for the two heads that cannot compare, non-zero for the two that can"]
    found = _fingerprint(answers, heads, u, v)
    if found is not None:
        raise Wrong(f"your gaps are {_shown(answers)}: {found[1]}", id=found[0])
    i = next(i for i, (a, w) in enumerate(zip(answers, wants)) if not abs(a - w) <= 1e-4)
    name, _, compares = heads[i]
    raise Wrong(
        f"for {name} expected a gap of {wants[i]:.4f}, got {answers[i]:.4f}"
        + ("" if compares else " (it cannot compare: its gap is 0)")
        + ": sum the duplicate scores (logit 1 - logit 0) of the pairs as given, minus the "
        "same sum with v.roll(1, dims=0)",
        id="answer.wrong-value",
    )


def _shown(answers: list[float]) -> str:
    return "[" + ", ".join(f"{a:+.4f}" for a in answers) + "] for the four heads"


def use_swap_gap(swap_gap: Callable) -> Callable:
    """The student's swap_gap, or mtlab's while the stub is unfilled."""
    head, (u, v) = _heads()[0][1], _vectors()
    return yours_or_mtlab("swap_gap", swap_gap, mtlab_swap_gap, lambda f: f(head, u, v))
