"""Notebook 03's checks: right answers pass in their several forms, a stub is "not done yet",
and each wrong answer, written as a student would, is rejected with its mistake named."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mtlab.exercises.pairs import (
    check_majority_baseline,
    check_pair_features,
    check_pair_head,
    check_swap_gap,
    mtlab_pair_features,
    mtlab_swap_gap,
    use_pair_features,
)
from mtlab.heads.kinds import Head
from tests.verdicts import assert_done, assert_named, assert_not_done, row


def stub(*_args, **_kwargs):
    raise NotImplementedError()


# ------------------------------------------------------------------ pair_features

RIGHT_FEATURES = [
    mtlab_pair_features,
    lambda u, v: torch.cat((u, v, torch.abs(u - v), torch.mul(u, v)), dim=1),
    lambda u, v: torch.hstack([u, v, (v - u).abs(), v * u]),
    lambda u, v: torch.stack([u, v, (u - v).abs(), u * v], dim=1).reshape(len(u), -1),
    lambda u, v: torch.cat([u, v, (u - v).abs(), u * v], -1).double().float(),
]


@pytest.mark.parametrize("answer", RIGHT_FEATURES)
def test_pair_features_right_answers_pass(answer):
    assert_done(check_pair_features(answer))


def test_pair_features_stub_is_not_done():
    assert_not_done(check_pair_features(stub))


WRONG_FEATURES = [
    row(
        lambda u, v: torch.cat([u, v, (u - v).abs(), u * v], dim=0),
        "pair_features.cat-batch",
        "stacked along dim=0",
        "dim=-1",
        "seed mistake 1",
        name="cat-dim0",
    ),
    row(
        lambda u, v: torch.cat([u, v], dim=0),
        "pair_features.cat-batch",
        "2 rows",
        name="cat-u-v-dim0",
    ),
    row(
        lambda u, v: torch.stack([u, v, (u - v).abs(), u * v]),
        "pair_features.stacked",
        "torch.stack adds",
        name="stack",
    ),
    row(
        lambda u, v: torch.cat([u, v], dim=-1),
        "pair_features.only-u-v",
        "[u; v] alone",
        name="u-v-only",
    ),
    row(
        lambda u, v: torch.cat([u, v, (u - v).abs(), (u * v).sum(-1, keepdim=True)], -1),
        "pair_features.dot-product",
        "element-wise product",
        "one column",
        name="dot-product",
    ),
    row(
        lambda u, v: torch.cat([u, v, (u - v).abs(), u @ v.T], -1),
        "pair_features.dot-product",
        "element-wise product",
        "u @ v.T",
        name="matmul",
    ),
    row(
        lambda u, v: torch.cat([u, v, (u - v).abs()], -1),
        "pair_features.missing-block",
        "three blocks",
        name="no-product",
    ),
    row(
        lambda u, v: torch.cat([u, v, (u - v).abs(), u * v]).view(len(u), -1),
        "pair_features.rows-mixed",
        "rows are mixed",
        "dim=-1",
        name="cat-then-view",
    ),
    row(
        lambda u, v: torch.cat([u, v, (u - v).abs(), u * v]).reshape(-1, 4 * u.shape[1]),
        "pair_features.rows-mixed",
        "rows are mixed",
        name="cat-then-reshape",
    ),
    row(
        lambda u, v: torch.cat([u, v, u - v, u * v], dim=-1),
        "pair_features.no-abs",
        "without the absolute value",
        name="no-abs",
    ),
    row(
        lambda u, v: torch.cat([u, v, v - u, u * v], dim=-1),
        "pair_features.no-abs",
        "v - u",
        name="v-minus-u",
    ),
    row(
        lambda u, v: torch.cat([u, v, (u - v) ** 2, u * v], dim=-1),
        "pair_features.squared-difference",
        "squared",
        name="squared",
    ),
    row(
        lambda u, v: torch.cat([u, v, u.abs() - v.abs(), u * v], dim=-1),
        "pair_features.wrong-block",
        "difference first",
        name="abs-first",
    ),
    row(
        lambda u, v: torch.cat([u, v, u * v, (u - v).abs()], dim=-1),
        "pair_features.block-order",
        "block 3 of 4",
        "holds u * v",
        name="swapped-blocks",
    ),
    row(
        lambda u, v: torch.cat([v, u, (u - v).abs(), u * v], dim=-1),
        "pair_features.block-order",
        "block 1 of 4",
        "[v; u; |u - v|; u * v]",
        name="v-first",
    ),
    row(
        lambda u, v: torch.cat([u, v, (u - v).abs(), u + v], dim=-1),
        "pair_features.wrong-block",
        "u + v",
        name="sum",
    ),
    row(
        lambda u, v: torch.cat([u, v, (u - v).abs(), u / v], dim=-1),
        "pair_features.wrong-block",
        "block 4 of 4",
        name="quotient",
    ),
    row(
        lambda u, v: [u, v, (u - v).abs(), u * v],
        "answer.not-a-tensor",
        "returned a list",
        "torch.cat",
        name="list",
    ),
    row(
        lambda u, v: mtlab_pair_features(u, v).numpy(force=True),
        "answer.not-a-tensor",
        "ndarray",
        name="numpy",
    ),
    row(
        lambda u, v: None if torch.cat([u, v]) is None else None,
        "answer.not-a-tensor",
        "`return` missing",
        name="no-return",
    ),
    row(
        lambda u, v: mtlab_pair_features(u, v).double(),
        "answer.dtype",
        "torch.float64",
        name="double",
    ),
    row(
        lambda u, v: mtlab_pair_features(u, v).detach(),
        "graph.cut",
        "grad_fn",
        "seed mistake 7",
        name="detach",
    ),
    row(
        lambda u, v: torch.tensor(mtlab_pair_features(u, v).tolist()),
        "graph.cut",
        "grad_fn",
        name="tolist",
    ),
    row(
        lambda u, v: torch.from_numpy(mtlab_pair_features(u, v).detach().numpy()),
        "graph.cut",
        "grad_fn",
        name="numpy-round-trip",
    ),
    row(
        lambda u, v: torch.cat([u.data, v.data, (u - v).abs(), u * v], dim=-1),
        "graph.part-cut",
        "part of the result",
        name="data",
    ),
    row(
        lambda u, v: torch.cat([u, v, (u - v).abs().detach(), u * v], dim=-1),
        "graph.part-cut",
        "gradient",
        name="one-block-detached",
    ),
    row(
        lambda u, v: torch.cat([u, v, np.abs(u - v), u * v], dim=-1),
        "code.raised",
        "your code raised",
        "test_exercises_pairs.py line",
        name="numpy-abs",
    ),
    row(
        lambda u, v: torch.cat(u, v, (u - v).abs(), u * v),
        "code.raised",
        "TypeError",
        name="cat-without-list",
    ),
]


@pytest.mark.parametrize("answer, mistake_id, words", WRONG_FEATURES)
def test_pair_features_wrong_answers_are_named(answer, mistake_id, words):
    assert_named(check_pair_features(answer), mistake_id, words)


def test_use_pair_features_falls_back_and_says_so(capsys):
    assert use_pair_features(stub) is mtlab_pair_features
    assert "not done yet: the cells below use mtlab's version" in capsys.readouterr().out
    mine = lambda u, v: mtlab_pair_features(u, v)  # noqa: E731
    assert use_pair_features(mine) is mine


# ------------------------------------------------------------------ PairHead


class GoodHead(Head):  # the notebook's solution
    def __init__(self, hidden, dropout=0.1):
        super().__init__("quora", hidden=hidden, dropout=dropout)
        self.net = nn.Sequential(
            nn.Dropout(dropout),
            nn.Linear(4 * hidden, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, 2),
        )

    def forward(self, u, v):
        return self.net(mtlab_pair_features(u, v))


class LogSoftmaxAtTheEnd(GoodHead):  # right: cross-entropy of log-probabilities is the same
    def forward(self, u, v):
        return self.net(mtlab_pair_features(u, v)).log_softmax(-1)


class FunctionalDropoutDoneRight(GoodHead):
    def __init__(self, hidden, dropout=0.1):
        super().__init__(hidden, dropout)
        del self.net
        self.first, self.last = nn.Linear(4 * hidden, hidden), nn.Linear(hidden, 2)

    def forward(self, u, v):
        h = F.relu(self.first(mtlab_pair_features(u, v)))
        return self.last(F.dropout(h, 0.3, training=self.training))


class BilinearHead(GoodHead):  # another head that compares: a bilinear layer
    def __init__(self, hidden, dropout=0.1):
        super().__init__(hidden, dropout)
        self.net = nn.Bilinear(hidden, hidden, 2)

    def forward(self, u, v):
        return self.net(u, v)


class ConcatMLP(GoodHead):  # the seed's fix, [u; v] through a hidden layer: it can compare
    def __init__(self, hidden, dropout=0.1):
        super().__init__(hidden, dropout)
        self.net = nn.Sequential(nn.Linear(2 * hidden, hidden), nn.ReLU(), nn.Linear(hidden, 2))

    def forward(self, u, v):
        return self.net(torch.cat([u, v], dim=1))


@pytest.mark.parametrize(
    "head", [GoodHead, LogSoftmaxAtTheEnd, FunctionalDropoutDoneRight, BilinearHead, ConcatMLP]
)
def test_pair_head_right_answers_pass(head):
    assert_done(check_pair_head(head))


class StubForward(GoodHead):  # __init__ filled in, forward not yet
    def forward(self, u, v):
        raise NotImplementedError()


class StubInit(GoodHead):
    def __init__(self, hidden, dropout=0.1):
        super().__init__(hidden, dropout)
        raise NotImplementedError()


@pytest.mark.parametrize("head", [StubForward, StubInit])
def test_pair_head_stub_is_not_done(head):
    assert_not_done(check_pair_head(head))


class Softmax(GoodHead):
    def forward(self, u, v):
        return self.net(mtlab_pair_features(u, v)).softmax(dim=-1)


class Sigmoid(GoodHead):
    def forward(self, u, v):
        return torch.sigmoid(self.net(mtlab_pair_features(u, v)))


class ReluAtTheEnd(GoodHead):
    def __init__(self, hidden, dropout=0.1):
        super().__init__(hidden, dropout)
        self.net = nn.Sequential(
            nn.Linear(4 * hidden, hidden), nn.ReLU(), nn.Linear(hidden, 2), nn.ReLU()
        )


class TanhAtTheEnd(GoodHead):
    def forward(self, u, v):
        return torch.tanh(self.net(mtlab_pair_features(u, v)))


class FunctionalDropout(FunctionalDropoutDoneRight):
    def forward(self, u, v):
        h = F.relu(self.first(mtlab_pair_features(u, v)))
        return self.last(F.dropout(h, 0.3))


class CatAlongTheBatch(GoodHead):  # mistake 1
    def forward(self, u, v):
        return self.net(torch.cat([u, v, (u - v).abs(), u * v], dim=0))


class CatBatchIntoLinear(ConcatMLP):  # mistake 1, with a layer that then fails
    def forward(self, u, v):
        return self.net(torch.cat([u, v]))


class CatThenView(ConcatMLP):  # the rows of u and v mixed: right shape, wrong rows
    def forward(self, u, v):
        return self.net(torch.cat([u, v]).view(len(u), -1))


class StackThenReshape(ConcatMLP):
    def forward(self, u, v):
        return self.net(torch.stack([u, v]).reshape(-1, 2 * u.shape[-1]))


class BatchMean(GoodHead):  # rows depend on the rest of the batch
    def forward(self, u, v):
        features = mtlab_pair_features(u, v)
        return self.net(features - features.mean(0))


class LinearConcat(GoodHead):  # mistake 10: one linear layer on [u; v]
    def __init__(self, hidden, dropout=0.1):
        super().__init__(hidden, dropout)
        self.net = nn.Linear(2 * hidden, 2)

    def forward(self, u, v):
        return self.net(torch.cat([u, v], dim=-1))


class TwoLinearNoActivation(LinearConcat):  # still linear: two layers with nothing between
    def __init__(self, hidden, dropout=0.1):
        super().__init__(hidden, dropout)
        self.net = nn.Sequential(nn.Linear(2 * hidden, hidden), nn.Linear(hidden, 2))


class SeparateScores(GoodHead):  # f(u) + g(v) through non-linear branches: still a sum
    def __init__(self, hidden, dropout=0.1):
        super().__init__(hidden, dropout)
        self.f = nn.Sequential(nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, 2))
        self.g = nn.Sequential(nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, 2))
        del self.net

    def forward(self, u, v):
        return self.f(u) + self.g(v)


class OnlyU(GoodHead):  # v never reaches the layers
    def forward(self, u, v):
        return self.net(mtlab_pair_features(u, u))


class Detached(GoodHead):  # mistake 7 inside a head
    def forward(self, u, v):
        return self.net(mtlab_pair_features(u, v)).detach()


class DataInputs(GoodHead):  # the head trains, the encoder would not
    def forward(self, u, v):
        return self.net(mtlab_pair_features(u.data, v.data))


class Argmax(GoodHead):
    def forward(self, u, v):
        return self.net(mtlab_pair_features(u, v)).argmax(-1)


class ThreeLogits(GoodHead):
    def __init__(self, hidden, dropout=0.1):
        super().__init__(hidden, dropout)
        self.net = nn.Sequential(nn.Linear(4 * hidden, hidden), nn.ReLU(), nn.Linear(hidden, 3))


class LayerInForward(GoodHead):
    def forward(self, u, v):
        return nn.Linear(4 * u.shape[1], 2)(mtlab_pair_features(u, v))


class CosineLogits(Head):  # no parameter at all
    def __init__(self, hidden, dropout=0.1):
        super().__init__("quora", hidden=hidden, dropout=dropout)

    def forward(self, u, v):
        cos = F.cosine_similarity(u, v, dim=-1)
        return torch.stack([-cos, cos], dim=-1)


class PlainModule(nn.Module):  # not an mtlab Head
    def __init__(self, hidden, dropout=0.1):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4 * hidden, hidden), nn.ReLU(), nn.Linear(hidden, 2))

    def forward(self, u, v):
        return self.net(mtlab_pair_features(u, v))


class WrongTask(GoodHead):
    def __init__(self, hidden, dropout=0.1):
        super().__init__(hidden, dropout)
        self.task = "sst"


class SmoothedLoss(GoodHead):  # its own loss, not the usual cross-entropy
    def loss(self, logits, labels):
        return F.cross_entropy(logits, labels, label_smoothing=0.1)


class FloatLabelsLoss(GoodHead):  # binary cross-entropy on the 'duplicate' logit alone
    def loss(self, logits, labels):
        return F.binary_cross_entropy_with_logits(logits[:, 1], labels.float())


class Misnamed(GoodHead):  # forward spelt wrong
    forward = nn.Module.forward

    def foward(self, u, v):
        return self.net(mtlab_pair_features(u, v))


class WrongInputSize(GoodHead):  # the layer sized for [u; v], fed all four blocks
    def __init__(self, hidden, dropout=0.1):
        super().__init__(hidden, dropout)
        self.net = nn.Sequential(nn.Linear(2 * hidden, hidden), nn.ReLU(), nn.Linear(hidden, 2))


WRONG_HEADS = [
    row(Softmax, "head.softmax-at-end", "never negative", "softmax", "logits"),
    row(Sigmoid, "head.sigmoid-at-end", "never negative", "sigmoid"),
    row(ReluAtTheEnd, "head.relu-at-end", "never negative", "ReLU"),
    row(TanhAtTheEnd, "head.bounded-logits", "tanh"),
    row(FunctionalDropout, "head.dropout-in-eval", "eval mode", "nn.Dropout"),
    row(CatAlongTheBatch, "head.cat-batch", "dim=-1", "seed mistake 1"),
    row(CatBatchIntoLinear, "head.cat-batch", "torch.cat(dim=0) stacks", "seed mistake 1"),
    row(CatThenView, "head.rows-mixed", "rows got mixed", "dim=-1"),
    row(StackThenReshape, "head.rows-mixed", "rows got mixed"),
    row(BatchMean, "head.rows-mixed", "reordered or left out"),
    row(LinearConcat, "pair_head.sum-of-parts", "score of u plus a score of v", "mistake 10"),
    row(TwoLinearNoActivation, "pair_head.sum-of-parts", "non-linearity"),
    row(SeparateScores, "pair_head.sum-of-parts", "swapping the partners"),
    row(OnlyU, "head.ignores-input", "v (the second sentence)"),
    row(Detached, "head.graph-cut", "cut from the graph", "detach()", "seed mistake 7"),
    row(DataInputs, "head.inputs-cut", "encoder would never train", "seed mistake 7"),
    row(Argmax, "head.output-not-float", "argmax", "Head.predict"),
    row(ThreeLogits, "head.output-shape", "output shape (4, 3)"),
    row(LayerInForward, "head.layer-in-forward", "__init__"),
    row(CosineLogits, "head.no-parameters", "no trainable parameter", "seed mistake 4"),
    row(PlainModule, "head.not-a-head", "subclass Head"),
    row(WrongTask, "head.wrong-task", "'quora'"),
    row(SmoothedLoss, "head.own-loss-differs", "usual loss (cross-entropy)"),
    row(FloatLabelsLoss, "head.own-loss-differs", "Delete the loss method"),
    row(Misnamed, "head.no-forward", "named forward"),
    row(WrongInputSize, "head.forward-failed", "forward failed", "test_exercises_pairs.py line"),
]


@pytest.mark.parametrize("head, mistake_id, words", WRONG_HEADS)
def test_pair_head_wrong_answers_are_named(head, mistake_id, words):
    assert_named(check_pair_head(head), mistake_id, words)


# ------------------------------------------------------------------ majority_baseline

RIGHT_BASELINES = [
    lambda labels: torch.bincount(labels).max().item() / len(labels),
    lambda labels: (labels == labels.mode().values).float().mean().item(),
    lambda labels: max(labels.tolist().count(c) for c in set(labels.tolist())) / len(labels),
    lambda labels: torch.bincount(labels).max() / labels.numel(),  # a one-number tensor
    lambda labels: np.bincount(labels.numpy()).max() / len(labels),  # a NumPy float
]


@pytest.mark.parametrize("answer", RIGHT_BASELINES)
def test_majority_baseline_right_answers_pass(answer):
    assert_done(check_majority_baseline(answer))


def test_majority_baseline_stub_is_not_done():
    assert_not_done(check_majority_baseline(stub))


WRONG_BASELINES = [
    row(
        lambda labels: labels.float().mean().item(),
        "majority_baseline.mean-label",
        "mean label",
        name="mean",
    ),
    row(
        lambda labels: torch.bincount(labels).argmax().item(),
        "majority_baseline.majority-class",
        "majority class itself",
        name="argmax",
    ),
    row(
        lambda labels: labels.mode().values.item(),
        "majority_baseline.majority-class",
        "majority class itself",
        name="mode",
    ),
    row(
        lambda labels: torch.bincount(labels).max().item(),
        "majority_baseline.count",
        "count of the majority class",
        name="count",
    ),
    row(
        lambda labels: torch.bincount(labels).max().item() // len(labels),
        "majority_baseline.integer-division",
        "integer division",
        name="floor-division",
    ),
    row(
        lambda labels: (labels == 0).float().mean().item(),
        "majority_baseline.share-of-0",
        "share of class 0",
        name="share-of-0",
    ),
    row(
        lambda labels: 1 - labels.float().mean().item(),
        "majority_baseline.share-of-0",
        "share of class 0",
        name="one-minus-mean",
    ),
    row(
        lambda labels: torch.bincount(labels).min().item() / len(labels),
        "majority_baseline.minority",
        "least common",
        name="min",
    ),
    row(
        lambda labels: 1 / len(labels.unique()),
        "majority_baseline.uniform",
        "uniform",
        name="uniform",
    ),
    row(lambda labels: 0.5, "majority_baseline.uniform", "a uniform guess", name="coin-flip"),
    row(lambda labels: 0.9, "answer.wrong-value", "expected 0.750", name="constant"),
    row(lambda labels: labels.mode(), "answer.wrong-type", "expected a number", name="mode-tuple"),
    row(
        lambda labels: torch.bincount(labels) / len(labels),
        "answer.wrong-type",
        "expected a number",
        name="all-shares",
    ),
    row(
        lambda labels: max(set(labels), key=labels.count),
        "code.raised",
        "your code raised",
        name="list-method-on-tensor",
    ),
]


@pytest.mark.parametrize("answer, mistake_id, words", WRONG_BASELINES)
def test_majority_baseline_wrong_answers_are_named(answer, mistake_id, words):
    assert_named(check_majority_baseline(answer), mistake_id, words)


# ------------------------------------------------------------------ swap_gap


def scores(out):
    return out[:, 1] - out[:, 0] if out.dim() == 2 else out


def right_by_loop(head, u, v):  # one pair at a time
    with torch.no_grad():
        given = sum(scores(head(u[i : i + 1], v[i : i + 1])).item() for i in range(len(u)))
        shifted = v.roll(1, dims=0)
        swapped = sum(scores(head(u[i : i + 1], shifted[i : i + 1])).item() for i in range(len(u)))
    return given - swapped


def right_with_index(head, u, v):
    index = torch.arange(len(v)) - 1  # row i gets partner i - 1, as roll(1) does
    with torch.no_grad():
        return float(scores(head(u, v)).sum() - scores(head(u, v[index])).sum())


@pytest.mark.parametrize("answer", [mtlab_swap_gap, right_by_loop, right_with_index])
def test_swap_gap_right_answers_pass(answer):
    assert_done(check_swap_gap(answer))


def test_swap_gap_stub_is_not_done():
    assert_not_done(check_swap_gap(stub))


def gap(score=scores, shift=lambda u, v: (u, v.roll(1, dims=0)), total=torch.sum):
    """A student's swap gap: `score` of the outputs, `shift` of the pairs, `total` over them."""

    def swap_gap(head, u, v):
        with torch.no_grad():
            return (total(score(head(u, v))) - total(score(head(*shift(u, v))))).item()

    return swap_gap


WRONG_GAPS = [
    row(
        lambda head, u, v: 0.0, "swap_gap.zero-for-comparing", "nothing was swapped", name="no-swap"
    ),
    row(
        gap(shift=lambda u, v: (u.roll(1, 0), v.roll(1, 0))),
        "swap_gap.zero-for-comparing",
        "whole pairs",
        name="whole-pairs",
    ),
    row(
        gap(score=lambda o: torch.sigmoid(o) if o.dim() == 1 else o.softmax(-1)[:, 1]),
        "swap_gap.not-raw-scores",
        "probabilities",
        name="probabilities",
    ),
    row(
        gap(score=lambda o: (o > 0).float() if o.dim() == 1 else o.argmax(-1).float()),
        "swap_gap.not-raw-scores",
        "predicted classes",
        name="classes",
    ),
    row(gap(score=lambda o: -scores(o)), "swap_gap.sign", "sign flipped", name="logit-0-minus-1"),
    row(
        lambda head, u, v: -mtlab_swap_gap(head, u, v),
        "swap_gap.sign",
        "sign flipped",
        name="swapped-minus-given",
    ),
    row(gap(total=torch.mean), "swap_gap.mean-not-sum", "mean scores", name="mean"),
    row(
        gap(shift=lambda u, v: (u, v.roll(-1, 0))),
        "swap_gap.wrong-shift",
        "other way",
        name="roll-back",
    ),
    row(
        gap(shift=lambda u, v: (u.roll(1, 0), v)),
        "swap_gap.wrong-shift",
        "u shifted",
        name="roll-u",
    ),
    row(gap(shift=lambda u, v: (u, v.flip(0))), "swap_gap.wrong-shift", "v.flip(0)", name="flip"),
    row(
        gap(score=lambda o: o if o.dim() == 1 else o[:, 1]),
        "swap_gap.one-logit",
        "logit of 'duplicate' alone",
        name="logit-1-alone",
    ),
    row(lambda head, u, v: abs(mtlab_swap_gap(head, u, v)), "swap_gap.sign", "abs", name="abs"),
    row(
        gap(shift=lambda u, v: (u, v[torch.randperm(len(v))])),
        "swap_gap.random-shuffle",
        "random shuffle",
        name="randperm",
    ),
    row(lambda head, u, v: torch.ones(3), "answer.wrong-type", "expected a number", name="tensor"),
    row(
        gap(shift=lambda u, v: (u, v.roll(2, 0))),
        "answer.wrong-value",
        "v.roll(1, dims=0)",
        name="roll-2",
    ),
]


@pytest.mark.parametrize("answer, mistake_id, words", WRONG_GAPS)
def test_swap_gap_wrong_answers_are_named(answer, mistake_id, words):
    assert_named(check_swap_gap(answer), mistake_id, words)
