"""Notebook 03's checks: the solution passes, a stub is "not done yet", wrong answers are named."""

import pytest
import torch
from torch import nn

from mtlab.exercises import DONE, NOT_DONE, WRONG
from mtlab.exercises.pairs import (
    check_majority_baseline,
    check_pair_features,
    check_pair_head,
    mtlab_pair_features,
    use_pair_features,
)
from mtlab.heads.kinds import Head


def stub(*_args, **_kwargs):
    raise NotImplementedError()


def test_pair_features_solution_passes_and_stub_is_not_done():
    assert check_pair_features(mtlab_pair_features).status == DONE
    verdict = check_pair_features(stub)
    assert verdict.status == NOT_DONE and "not done yet" in str(verdict)


@pytest.mark.parametrize(
    "answer",
    [
        lambda u, v: torch.cat([u, v, (u - v).abs(), u * v], dim=0),
        lambda u, v: torch.cat([u, v], dim=0),
        lambda u, v: torch.stack([u, v]).reshape(-1, u.shape[1]),
    ],
)
def test_pair_features_along_the_batch_is_mistake_1(answer):
    verdict = check_pair_features(answer)
    assert verdict.status == WRONG and verdict.mistake == 1 and "dim=-1" in str(verdict)


@pytest.mark.parametrize(
    "answer, says",
    [
        (lambda u, v: torch.cat([u, v], dim=-1), "[u; v] alone"),
        (lambda u, v: torch.cat([u, v, u - v, u * v], dim=-1), "without the absolute value"),
        (lambda u, v: torch.cat([u, v, u * v, (u - v).abs()], dim=-1), "block 3 of 4"),
        (lambda u, v: torch.cat([v, u, (u - v).abs(), u * v], dim=-1), "block 1 of 4"),
        (lambda u, v: torch.cat([u, v, (u - v).abs(), u + v], dim=-1), "block 4 of 4"),
        (lambda u, v: (u * v).sum(-1), "expected shape (3, 20)"),
        (lambda u, v: [u, v], "returned a list"),
        (lambda u, v: mtlab_pair_features(u, v).numpy(force=True), "returned a ndarray"),
    ],
)
def test_pair_features_wrong_blocks_are_named(answer, says):
    verdict = check_pair_features(answer)
    assert verdict.status == WRONG and says in str(verdict), str(verdict)


@pytest.mark.parametrize(
    "answer",
    [
        lambda u, v: mtlab_pair_features(u, v).detach(),
        lambda u, v: torch.tensor(mtlab_pair_features(u, v).tolist()),
        lambda u, v: torch.from_numpy(mtlab_pair_features(u, v).detach().numpy()),
    ],
)
def test_pair_features_cut_from_the_graph_is_mistake_7(answer):
    verdict = check_pair_features(answer)
    assert verdict.status == WRONG and verdict.mistake == 7


class GoodHead(Head):
    def __init__(self, hidden):
        super().__init__("quora", hidden=hidden)
        self.net = nn.Sequential(nn.Linear(4 * hidden, hidden), nn.ReLU(), nn.Linear(hidden, 2))

    def forward(self, u, v):
        return self.net(mtlab_pair_features(u, v))


class LinearConcat(GoodHead):  # mistake 10: one linear layer on [u; v]
    def __init__(self, hidden):
        super().__init__(hidden)
        self.net = nn.Linear(2 * hidden, 2)

    def forward(self, u, v):
        return self.net(torch.cat([u, v], dim=-1))


class TwoLinearNoActivation(LinearConcat):  # still linear: two layers with nothing between
    def __init__(self, hidden):
        super().__init__(hidden)
        self.net = nn.Sequential(nn.Linear(2 * hidden, hidden), nn.Linear(hidden, 2))


class SeparateScores(Head):  # f(u) + g(v) through non-linear branches: still a sum
    def __init__(self, hidden):
        super().__init__("quora", hidden=hidden)
        self.f = nn.Sequential(nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, 2))
        self.g = nn.Sequential(nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, 2))

    def forward(self, u, v):
        return self.f(u) + self.g(v)


class StackedBatch(GoodHead):  # mistake 1 inside a head
    def forward(self, u, v):
        return self.net(torch.cat([u, v, (u - v).abs(), u * v], dim=0))


class Detached(GoodHead):  # mistake 7 inside a head
    def forward(self, u, v):
        return self.net(mtlab_pair_features(u, v)).detach()


class StubHead(GoodHead):
    def forward(self, u, v):
        raise NotImplementedError()


def test_pair_head_solution_passes_and_stub_is_not_done():
    assert check_pair_head(GoodHead).status == DONE
    assert check_pair_head(StubHead).status == NOT_DONE


@pytest.mark.parametrize("head", [LinearConcat, TwoLinearNoActivation, SeparateScores])
def test_a_head_that_adds_a_score_of_u_and_a_score_of_v_is_mistake_10(head):
    verdict = check_pair_head(head)
    assert verdict.status == WRONG and verdict.mistake == 10, str(verdict)


def test_pair_head_shape_and_graph_problems_are_named():
    stacked = check_pair_head(StackedBatch)
    assert stacked.status == WRONG and "shape" in str(stacked)
    detached = check_pair_head(Detached)
    assert detached.status == WRONG and "cut from the graph" in str(detached)


def test_use_pair_features_falls_back_and_says_so(capsys):
    assert use_pair_features(stub) is mtlab_pair_features
    assert "not done yet: the cells below use mtlab's version" in capsys.readouterr().out
    mine = lambda u, v: mtlab_pair_features(u, v)  # noqa: E731
    assert use_pair_features(mine) is mine


def test_majority_baseline():
    def right(labels):
        return torch.bincount(labels).max().item() / len(labels)

    assert check_majority_baseline(right).status == DONE
    assert check_majority_baseline(stub).status == NOT_DONE
    mean = check_majority_baseline(lambda labels: labels.float().mean().item())
    assert mean.status == WRONG and "mean label" in str(mean)
    argmax = check_majority_baseline(lambda labels: torch.bincount(labels).argmax().item())
    assert argmax.status == WRONG
    zero = check_majority_baseline(lambda labels: 0.5)
    assert zero.status == WRONG and "expected 0.750" in str(zero)


def test_swap_gap_solution_passes_and_wrong_tests_are_named():
    from mtlab.exercises.pairs import check_swap_gap, mtlab_swap_gap

    assert check_swap_gap(mtlab_swap_gap).status == DONE
    assert check_swap_gap(stub).status == NOT_DONE

    def no_swap(head, u, v):
        return 0.0

    def whole_pairs(head, u, v):
        with torch.no_grad():
            out, other = head(u, v), head(u.roll(1, 0), v.roll(1, 0))
        score = lambda o: o[:, 1] - o[:, 0] if o.dim() == 2 else o  # noqa: E731
        return (score(out).sum() - score(other).sum()).item()

    def probabilities(head, u, v):
        with torch.no_grad():
            p = lambda o: torch.sigmoid(o) if o.dim() == 1 else o.softmax(-1)[:, 1]  # noqa: E731
            return (p(head(u, v)).sum() - p(head(u, v.roll(1, 0))).sum()).item()

    def classes(head, u, v):
        with torch.no_grad():
            c = lambda o: (o > 0).float() if o.dim() == 1 else o.argmax(-1).float()  # noqa: E731
            return (c(head(u, v)).sum() - c(head(u, v.roll(1, 0))).sum()).item()

    for answer, says in ((no_swap, "nothing was swapped"), (whole_pairs, "whole pairs")):
        verdict = check_swap_gap(answer)
        assert verdict.status == WRONG and says in str(verdict), str(verdict)
    for answer in (probabilities, classes):
        verdict = check_swap_gap(answer)
        assert verdict.status == WRONG, str(verdict)
    assert check_swap_gap(lambda head, u, v: torch.tensor(1.0)).status == WRONG
