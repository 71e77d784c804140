"""Notebook 04's checks: right answers pass in their several forms, a stub is "not done yet",
and each wrong answer, written as a student would, is rejected with its mistake named."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mtlab.exercises.similarity import (
    check_cosine_score,
    check_regression_targets,
    check_scaled_dot,
    mtlab_cosine_score,
    mtlab_scaled_dot,
    use_cosine_score,
    use_scaled_dot,
)
from tests.verdicts import assert_done, assert_named, assert_not_done, row


def stub(*_args, **_kwargs):
    raise NotImplementedError()


# ------------------------------------------------------------------ scaled_dot

RIGHT_SCALED = [
    mtlab_scaled_dot,
    lambda pu, pv: torch.einsum("bd,bd->b", pu, pv) / pu.shape[-1] ** 0.5,
    lambda pu, pv: (pu * pv).sum(dim=1) * pu.size(1) ** -0.5,
    lambda pu, pv: torch.diagonal(pu @ pv.T) / math.sqrt(pu.shape[1]),
    lambda pu, pv: torch.bmm(pu[:, None, :], pv[:, :, None]).view(-1) / math.sqrt(pu.shape[-1]),
    lambda pu, pv: (pu / pu.shape[-1] ** 0.25 * (pv / pv.shape[-1] ** 0.25)).sum(-1),
    lambda pu, pv: (pu * pv).sum(-1) / torch.tensor(pu.shape[-1], dtype=pu.dtype).sqrt(),
]


@pytest.mark.parametrize("answer", RIGHT_SCALED)
def test_scaled_dot_right_answers_pass(answer):
    assert_done(check_scaled_dot(answer))


def test_scaled_dot_stub_is_not_done():
    assert_not_done(check_scaled_dot(stub))


WRONG_SCALED = [
    row(
        lambda pu, pv: (pu * pv).sum(-1),
        "scaled_dot.unscaled",
        "std 26.9",
        "MSE starts at 724",
        "seed mistake 14",
        name="unscaled",
    ),
    row(
        lambda pu, pv: torch.einsum("bd,bd->b", pu, pv),
        "scaled_dot.unscaled",
        "not divided",
        name="einsum-unscaled",
    ),
    row(
        lambda pu, pv: torch.diagonal(pu @ pv.T),
        "scaled_dot.unscaled",
        "√d",
        name="diagonal-unscaled",
    ),
    row(
        lambda pu, pv: pu @ pv.T / math.sqrt(pu.shape[-1]),
        "scores.all-pairs",
        "every u against every v",
        name="matmul",
    ),
    row(
        lambda pu, pv: (pu * pv).sum(0) / math.sqrt(pu.shape[-1]),
        "scores.batch-dim",
        "dim=0",
        name="sum-dim-0",
    ),
    row(
        lambda pu, pv: (pu * pv).sum(-1, keepdim=True) / 4,
        "scores.column",
        "broadcast",
        name="keepdim",
    ),
    row(
        lambda pu, pv: torch.dot(pu.flatten(), pv.flatten()) / 4,
        "scores.one-number",
        "one number for the whole batch",
        name="dot-flattened",
    ),
    row(lambda pu, pv: torch.dot(pu, pv), "code.raised", "RuntimeError", name="torch-dot"),
    row(
        lambda pu, pv: (pu * pv).sum(-1) / pu.shape[-1],
        "scaled_dot.divided-by-d",
        "divided by d = 16, not by √d = 4",
        name="by-d",
    ),
    row(
        lambda pu, pv: (pu * pv).mean(-1),
        "scaled_dot.divided-by-d",
        "a mean over the features",
        name="mean",
    ),
    row(
        lambda pu, pv: (pu * pv).sum(-1) / math.sqrt(len(pu)),
        "scaled_dot.batch-size",
        "batch size",
        name="by-sqrt-batch",
    ),
    row(
        lambda pu, pv: (pu * pv).sum(-1) * math.sqrt(pu.shape[-1]),
        "scaled_dot.multiplied",
        "multiplied",
        name="times-sqrt-d",
    ),
    row(
        lambda pu, pv: (pu * pv).sum(-1) / math.sqrt(384),
        "scaled_dot.hard-coded",
        "you divided by 19.60",
        name="sqrt-384",
    ),
    row(
        lambda pu, pv: (pu * pv).sum(-1) / 4, "scaled_dot.hard-coded", "a fixed number", name="four"
    ),
    row(
        lambda pu, pv: (pu * pv).sum(-1) / math.log(pu.shape[-1]),
        "scaled_dot.wrong-scale",
        "expected √16 = 4.00",
        name="log-d",
    ),
    row(lambda pu, pv: F.cosine_similarity(pu, pv), "scaled_dot.cosine", "cosines", name="cosine"),
    row(
        lambda pu, pv: (pu @ pv.T).sum(-1) / math.sqrt(pu.shape[-1]),
        "scores.rows-mixed",
        "(B, B) table",
        name="matmul-summed",
    ),
    row(
        lambda pu, pv: (pu - pv).pow(2).sum(-1) / math.sqrt(pu.shape[-1]),
        "answer.wrong-value",
        "expected [",
        name="distance",
    ),
    row(lambda pu, pv: [1.0, 2.0, 3.0], "answer.not-a-tensor", "returned a list", name="list"),
    row(
        lambda pu, pv: mtlab_scaled_dot(pu, pv).double(),
        "answer.dtype",
        "torch.float64",
        name="double",
    ),
    row(
        lambda pu, pv: torch.tensor(np.array(mtlab_scaled_dot(pu, pv).tolist())),
        "answer.dtype",
        "float64",
        name="numpy-float64",
    ),
    row(
        lambda pu, pv: mtlab_scaled_dot(pu, pv).detach(),
        "graph.cut",
        "grad_fn",
        "seed mistake 7",
        name="detach",
    ),
    row(
        lambda pu, pv: torch.tensor(mtlab_scaled_dot(pu, pv).tolist(), dtype=pu.dtype),
        "graph.cut",
        "grad_fn",
        name="tolist",
    ),
    row(
        lambda pu, pv: torch.from_numpy(mtlab_scaled_dot(pu, pv).detach().numpy()),
        "graph.cut",
        "grad_fn",
        name="numpy",
    ),
    row(
        lambda pu, pv: (pu.detach() * pv).sum(-1) / math.sqrt(pu.shape[-1]),
        "graph.part-cut",
        "gradient",
        name="one-side-detached",
    ),
]


@pytest.mark.parametrize("answer, mistake_id, words", WRONG_SCALED)
def test_scaled_dot_wrong_answers_are_named(answer, mistake_id, words):
    assert_named(check_scaled_dot(answer), mistake_id, words)


def test_use_scaled_dot_falls_back_and_says_so(capsys):
    assert use_scaled_dot(stub) is mtlab_scaled_dot
    assert "not done yet: the cells below use mtlab's version" in capsys.readouterr().out
    mine = lambda pu, pv: mtlab_scaled_dot(pu, pv)  # noqa: E731
    assert use_scaled_dot(mine) is mine


# ------------------------------------------------------------------ cosine_score


def by_hand(pu, pv):
    """Normalised by hand, lengths clamped as F.normalize does: also right."""
    return 5 * (F.normalize(pu, dim=-1) * F.normalize(pv, dim=-1)).sum(-1)


def with_eps(pu, pv):
    return 5 * (pu * pv).sum(-1) / (pu.norm(dim=-1) * pv.norm(dim=-1) + 1e-8)


def clamped(pu, pv):
    lengths = (pu.norm(dim=1) * pv.norm(dim=1)).clamp(min=1e-8)
    return 5.0 * torch.einsum("bd,bd->b", pu, pv) / lengths


RIGHT_COSINES = [
    mtlab_cosine_score,
    by_hand,
    with_eps,
    clamped,
    lambda pu, pv: 5 * torch.cosine_similarity(pu, pv),
    lambda pu, pv: F.cosine_similarity(pu, pv, dim=1) * 5,
]


@pytest.mark.parametrize("answer", RIGHT_COSINES)
def test_cosine_score_right_answers_pass(answer):
    assert_done(check_cosine_score(answer))


def test_cosine_score_stub_is_not_done():
    assert_not_done(check_cosine_score(stub))


WRONG_COSINES = [
    row(
        lambda pu, pv: F.cosine_similarity(pu, pv, dim=-1),
        "cosine_score.missing-5",
        "multiply by 5",
        name="no-5",
    ),
    row(
        lambda pu, pv: 5 * F.cosine_similarity(pu, pv, dim=0),
        "scores.batch-dim",
        "dim=0",
        name="dim-0",
    ),
    row(lambda pu, pv: 5 * (pu * pv).sum(-1), "cosine_score.not-normalised", "lengths", name="dot"),
    row(
        lambda pu, pv: (pu * pv).sum(-1) / pu.norm(dim=-1) * 5,
        "cosine_score.one-length",
        "Divide by both",
        name="one-length",
    ),
    row(
        lambda pu, pv: 5 * (pu * pv).sum(-1) / (pu.norm() * pv.norm()),
        "cosine_score.batch-norm",
        "norm(dim=-1)",
        name="whole-batch-norms",
    ),
    row(
        lambda pu, pv: 5 * (pu * pv).sum(-1) / (pu.norm(dim=-1) + pv.norm(dim=-1)),
        "cosine_score.not-normalised",
        "got longer",
        name="sum-of-lengths",
    ),
    row(
        lambda pu, pv: 5 * F.normalize(pu, dim=-1) @ F.normalize(pv, dim=-1).T,
        "scores.all-pairs",
        "every u",
        name="matmul",
    ),
    row(
        lambda pu, pv: 5 * F.cosine_similarity(pu, pv, dim=-1).unsqueeze(-1),
        "scores.column",
        "broadcast",
        name="unsqueeze",
    ),
    row(
        lambda pu, pv: 5 * (F.cosine_similarity(pu, pv) + 1) / 2,
        "cosine_score.shifted",
        "0..5",
        name="shifted",
    ),
    row(
        lambda pu, pv: 5 * F.cosine_similarity(pu, pv).abs(),
        "cosine_score.abs",
        "Drop the abs",
        name="abs",
    ),
    row(mtlab_scaled_dot, "cosine_score.scaled-dot", "exercise 4.1", name="scaled-dot"),
    row(
        lambda pu, pv: 5 - F.pairwise_distance(F.normalize(pu), F.normalize(pv)),
        "answer.wrong-value",
        "expected [",
        name="distance",
    ),
    row(
        lambda pu, pv: 5 * (pu * pv).sum(-1) / (pu.norm(dim=-1) * pv.norm(dim=-1)),
        "cosine_score.zero-vector",
        "zero vector",
        name="no-clamp",
    ),
    row(
        lambda pu, pv: 5 * F.cosine_similarity(pu, pv).detach(),
        "graph.cut",
        "grad_fn",
        name="detach",
    ),
    row(
        lambda pu, pv: 5 * F.cosine_similarity(pu.double(), pv.double()),
        "answer.dtype",
        "float64",
        name="double",
    ),
]


@pytest.mark.parametrize("answer, mistake_id, words", WRONG_COSINES)
def test_cosine_score_wrong_answers_are_named(answer, mistake_id, words):
    assert_named(check_cosine_score(answer), mistake_id, words)


def test_use_cosine_score_falls_back(capsys):
    assert use_cosine_score(stub) is mtlab_cosine_score
    assert use_cosine_score(by_hand) is by_hand
    assert "the cells below use your cosine_score" in capsys.readouterr().out


# ------------------------------------------------------------------ regression_targets

RIGHT_TARGETS = [
    lambda labels: torch.tensor(labels, dtype=torch.float32),
    lambda labels: torch.tensor(labels),
    lambda labels: torch.as_tensor(np.array(labels), dtype=torch.float32),
    lambda labels: torch.tensor(labels, dtype=torch.float64).float(),
    lambda labels: torch.FloatTensor(labels),
    lambda labels: torch.from_numpy(np.array(labels, dtype=np.float32)),
    lambda labels: torch.stack([torch.tensor(x) for x in labels]),
]


@pytest.mark.parametrize("answer", RIGHT_TARGETS)
def test_regression_targets_right_answers_pass(answer):
    assert_done(check_regression_targets(answer))


def test_regression_targets_stub_is_not_done():
    assert_not_done(check_regression_targets(stub))


WRONG_TARGETS = [
    row(
        lambda labels: torch.tensor(labels).half().float(),
        "regression_targets.precision",
        "float16",
        name="through-half",
    ),
    row(
        lambda labels: torch.tensor(labels, dtype=torch.long),
        "regression_targets.truncated",
        "3.8 -> 3",
        "seed mistake 3",
        name="long",
    ),
    row(
        lambda labels: torch.tensor(labels).long(),
        "regression_targets.truncated",
        "3.8 -> 3",
        name="dot-long",
    ),
    row(
        lambda labels: torch.tensor(labels).int(),
        "regression_targets.truncated",
        "dtype torch.int32",
        name="int",
    ),
    row(
        lambda labels: torch.tensor([int(x) for x in labels], dtype=torch.float32),
        "regression_targets.truncated",
        "3.8 -> 3",
        name="int-each",
    ),
    row(
        lambda labels: torch.tensor(labels).long().float(),
        "regression_targets.truncated",
        "whole numbers",
        name="long-then-float",
    ),
    row(
        lambda labels: torch.tensor(labels).round(),
        "regression_targets.rounded",
        "rounded",
        name="round",
    ),
    row(
        lambda labels: torch.tensor([round(x) for x in labels]),
        "regression_targets.rounded",
        "rounded",
        name="python-round",
    ),
    row(
        lambda labels: torch.tensor(np.array(labels)),
        "regression_targets.dtype",
        "dtype torch.float64",
        name="numpy",
    ),
    row(
        lambda labels: torch.tensor(labels, dtype=torch.float64),
        "regression_targets.dtype",
        "float64",
        name="float64",
    ),
    row(
        lambda labels: torch.tensor(labels, dtype=torch.float16),
        "regression_targets.dtype",
        "dtype torch.float16",
        name="float16",
    ),
    row(
        lambda labels: torch.tensor(labels).unsqueeze(1),
        "regression_targets.column",
        "shape (6, 1)",
        name="unsqueeze",
    ),
    row(
        lambda labels: torch.tensor(labels).view(-1, 1),
        "regression_targets.column",
        "(B, B) table",
        name="view-column",
    ),
    row(
        lambda labels: torch.tensor(labels) / 5,
        "regression_targets.scaled",
        "divided by 5",
        name="divided-by-5",
    ),
    row(
        lambda labels: torch.tensor(sorted(labels)),
        "regression_targets.reordered",
        "another order",
        name="sorted",
    ),
    row(
        lambda labels: torch.tensor(labels[:-1]),
        "answer.wrong-shape",
        "expected (6,)",
        name="one-short",
    ),
    row(lambda labels: list(labels), "answer.not-a-tensor", "returned a list", name="list"),
    row(
        lambda labels: np.array(labels, dtype=np.float32),
        "answer.not-a-tensor",
        "returned a ndarray",
        name="ndarray",
    ),
    row(
        lambda labels: torch.tensor(labels, dtype=float),
        "regression_targets.dtype",
        "float64",
        name="dtype-float",
    ),
]


@pytest.mark.parametrize("answer, mistake_id, words", WRONG_TARGETS)
def test_regression_targets_wrong_answers_are_named(answer, mistake_id, words):
    assert_named(check_regression_targets(answer), mistake_id, words)
