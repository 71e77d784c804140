"""Notebook 04's checks: the solution passes, a stub is "not done yet", wrong answers are named."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mtlab.exercises import DONE, NOT_DONE, WRONG
from mtlab.exercises.similarity import (
    check_cosine_score,
    check_regression_targets,
    check_scaled_dot,
    mtlab_cosine_score,
    mtlab_scaled_dot,
    use_cosine_score,
    use_scaled_dot,
)


def stub(*_args, **_kwargs):
    raise NotImplementedError()


# ------------------------------------------------------------------ scaled_dot


@pytest.mark.parametrize(
    "answer",
    [
        mtlab_scaled_dot,
        lambda pu, pv: torch.einsum("bd,bd->b", pu, pv) / pu.shape[-1] ** 0.5,
        lambda pu, pv: (pu * pv).sum(dim=1) * pu.size(1) ** -0.5,
    ],
)
def test_scaled_dot_solutions_pass(answer):
    assert check_scaled_dot(answer).status == DONE


def test_scaled_dot_stub_is_not_done():
    verdict = check_scaled_dot(stub)
    assert verdict.status == NOT_DONE and "not done yet" in str(verdict)


@pytest.mark.parametrize(
    "answer",
    [
        lambda pu, pv: (pu * pv).sum(-1),
        lambda pu, pv: torch.einsum("bd,bd->b", pu, pv),
        lambda pu, pv: torch.diagonal(pu @ pv.T),
    ],
)
def test_an_unscaled_dot_product_is_mistake_14_with_its_numbers(answer):
    verdict = check_scaled_dot(answer)
    assert verdict.status == WRONG and verdict.mistake == 14, str(verdict)
    assert "std 26.9" in str(verdict) and "MSE starts at 724" in str(verdict)


@pytest.mark.parametrize(
    "answer, says",
    [
        (lambda pu, pv: pu @ pv.T / math.sqrt(pu.shape[-1]), "every u against every v"),
        (lambda pu, pv: pu @ pv.T, "every u against every v"),
        (lambda pu, pv: (pu * pv).sum(0) / math.sqrt(pu.shape[-1]), "dim=0"),
        (lambda pu, pv: (pu * pv).sum(-1, keepdim=True) / 4, "broadcast"),
        (lambda pu, pv: (pu * pv).sum(-1) / pu.shape[-1], "divided by d = 16, not by √d = 4"),
        (lambda pu, pv: (pu * pv).sum(-1) / math.sqrt(384), "you divided by 19.60"),
        (lambda pu, pv: (pu * pv).sum(-1) / 4, "for d = 64 you divided by 4.00"),
        (lambda pu, pv: (pu - pv).pow(2).sum(-1) / math.sqrt(pu.shape[-1]), "expected ["),
        (lambda pu, pv: [1.0, 2.0, 3.0], "returned a list"),
    ],
)
def test_scaled_dot_wrong_answers_are_named(answer, says):
    verdict = check_scaled_dot(answer)
    assert verdict.status == WRONG and verdict.mistake is None and says in str(verdict), str(
        verdict
    )


@pytest.mark.parametrize(
    "answer",
    [
        lambda pu, pv: mtlab_scaled_dot(pu, pv).detach(),
        lambda pu, pv: torch.tensor(mtlab_scaled_dot(pu, pv).tolist()),
        lambda pu, pv: torch.from_numpy(mtlab_scaled_dot(pu, pv).detach().numpy()),
    ],
)
def test_scaled_dot_cut_from_the_graph_is_mistake_7(answer):
    verdict = check_scaled_dot(answer)
    assert verdict.status == WRONG and verdict.mistake == 7, str(verdict)


def test_use_scaled_dot_falls_back_and_says_so(capsys):
    assert use_scaled_dot(stub) is mtlab_scaled_dot
    assert "not done yet: the cells below use mtlab's version" in capsys.readouterr().out
    mine = lambda pu, pv: mtlab_scaled_dot(pu, pv)  # noqa: E731
    assert use_scaled_dot(mine) is mine


# ------------------------------------------------------------------ cosine_score


def by_hand(pu, pv):
    """Normalised by hand, lengths clamped as F.normalize does: also right."""
    return 5 * (F.normalize(pu, dim=-1) * F.normalize(pv, dim=-1)).sum(-1)


@pytest.mark.parametrize("answer", [mtlab_cosine_score, by_hand])
def test_cosine_score_solutions_pass(answer):
    assert check_cosine_score(answer).status == DONE
    assert check_cosine_score(stub).status == NOT_DONE


@pytest.mark.parametrize(
    "answer, says",
    [
        (lambda pu, pv: F.cosine_similarity(pu, pv, dim=-1), "multiply by 5"),
        (lambda pu, pv: 5 * F.cosine_similarity(pu, pv, dim=0), "dim=0"),
        (lambda pu, pv: 5 * (pu * pv).sum(-1), "not normalised"),
        (lambda pu, pv: (pu * pv).sum(-1) / pu.norm(dim=-1) * 5, "not normalised"),
        (lambda pu, pv: 5 * F.normalize(pu, dim=-1) @ F.normalize(pv, dim=-1).T, "every u"),
        (lambda pu, pv: 5 * F.cosine_similarity(pu, pv, dim=-1).unsqueeze(-1), "broadcast"),
        (lambda pu, pv: 5 - F.pairwise_distance(F.normalize(pu), F.normalize(pv)), "expected ["),
        (
            lambda pu, pv: 5 * (pu * pv).sum(-1) / (pu.norm(dim=-1) * pv.norm(dim=-1)),
            "zero vector",
        ),
    ],
)
def test_cosine_score_wrong_answers_are_named(answer, says):
    verdict = check_cosine_score(answer)
    assert verdict.status == WRONG and says in str(verdict), str(verdict)


def test_cosine_score_cut_from_the_graph_is_mistake_7():
    verdict = check_cosine_score(lambda pu, pv: mtlab_cosine_score(pu, pv).detach())
    assert verdict.status == WRONG and verdict.mistake == 7


def test_use_cosine_score_falls_back(capsys):
    assert use_cosine_score(stub) is mtlab_cosine_score
    assert use_cosine_score(by_hand) is by_hand
    assert "the cells below use your cosine_score" in capsys.readouterr().out


# ------------------------------------------------------------------ regression_targets


@pytest.mark.parametrize(
    "answer",
    [
        lambda labels: torch.tensor(labels, dtype=torch.float32),
        lambda labels: torch.tensor(labels),
        lambda labels: torch.as_tensor(np.array(labels), dtype=torch.float32),
        lambda labels: torch.tensor(labels, dtype=torch.float64).float(),
    ],
)
def test_regression_targets_solutions_pass(answer):
    assert check_regression_targets(answer).status == DONE


def test_regression_targets_stub_is_not_done():
    assert check_regression_targets(stub).status == NOT_DONE


@pytest.mark.parametrize(
    "answer, says",
    [
        (lambda labels: torch.tensor(labels, dtype=torch.long), "3.8 -> 3"),
        (lambda labels: torch.tensor(labels).long(), "3.8 -> 3"),
        (lambda labels: torch.tensor(labels).int(), "dtype torch.int32"),
        (lambda labels: torch.tensor([int(x) for x in labels], dtype=torch.float32), "3.8 -> 3"),
        (lambda labels: torch.tensor(labels).long().float(), "whole numbers"),
        (lambda labels: torch.tensor(labels).round(), "rounded"),
        (lambda labels: torch.tensor([round(x) for x in labels]), "rounded"),
    ],
)
def test_integer_or_truncated_targets_are_mistake_3(answer, says):
    verdict = check_regression_targets(answer)
    assert verdict.status == WRONG and verdict.mistake == 3 and says in str(verdict), str(verdict)


@pytest.mark.parametrize(
    "answer, says",
    [
        (lambda labels: torch.tensor(np.array(labels)), "dtype torch.float64"),
        (lambda labels: torch.tensor(labels, dtype=torch.float64), "float64"),
        (lambda labels: torch.tensor(labels, dtype=torch.float16), "dtype torch.float16"),
        (lambda labels: torch.tensor(labels).unsqueeze(1), "shape (6, 1)"),
        (lambda labels: torch.tensor(labels).view(-1, 1), "(B, B) table"),
        (lambda labels: torch.tensor(labels) / 5, "expected ["),
        (lambda labels: list(labels), "returned a list"),
        (lambda labels: np.array(labels, dtype=np.float32), "returned a ndarray"),
    ],
)
def test_regression_targets_dtype_and_shape_problems_are_named(answer, says):
    verdict = check_regression_targets(answer)
    assert verdict.status == WRONG and verdict.mistake is None and says in str(verdict), str(
        verdict
    )
