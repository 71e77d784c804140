"""Notebook 02's checks: the solution passes, a stub is "not done yet", wrong answers are named."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mtlab.exercises import DONE, NOT_DONE, WRONG
from mtlab.exercises.sentiment import (
    check_accuracy,
    check_sentiment_head,
    check_sentiment_loss,
    mtlab_accuracy,
    use_sentiment_head,
)
from mtlab.heads.kinds import Head, SentimentHead


def stub(*_args, **_kwargs):
    raise NotImplementedError()


# -- sentiment_loss ----------------------------------------------------------------------------


def by_hand(logits, labels):  # the notebook's solution
    return -logits.log_softmax(dim=-1)[torch.arange(len(labels)), labels].mean()


@pytest.mark.parametrize("answer", [by_hand, F.cross_entropy, nn.CrossEntropyLoss()])
def test_sentiment_loss_solutions_pass(answer):
    assert check_sentiment_loss(answer).status == DONE


def test_sentiment_loss_stub_is_not_done():
    assert check_sentiment_loss(stub).status == NOT_DONE


@pytest.mark.parametrize(
    "answer",
    [
        lambda logits, labels: F.cross_entropy(logits, labels).item(),
        lambda logits, labels: F.cross_entropy(logits, labels).detach(),
        lambda logits, labels: torch.tensor(F.cross_entropy(logits, labels).item()),
        lambda logits, labels: float(by_hand(logits, labels).detach().numpy()),
    ],
)
def test_sentiment_loss_cut_from_the_graph_is_mistake_7(answer):
    verdict = check_sentiment_loss(answer)
    assert verdict.status == WRONG and verdict.mistake == 7, str(verdict)


def softmax_then_log(logits, labels):  # right value on small logits, -inf on confident ones
    return -logits.softmax(-1)[torch.arange(len(labels)), labels].log().mean()


def half_detached(logits, labels):  # right value, gradient only through the log-sum-exp
    picked = logits[torch.arange(len(labels)), labels].detach()
    return (logits.logsumexp(-1) - picked).mean()


@pytest.mark.parametrize(
    "answer, says",
    [
        (lambda logits, labels: F.cross_entropy(logits.softmax(-1), labels), "softmax was applied"),
        (lambda logits, labels: F.cross_entropy(nn.Softmax(dim=1)(logits), labels), "near ln C"),
        (lambda logits, labels: F.cross_entropy(logits, labels, reduction="sum"), "sum over"),
        (
            lambda logits, labels: -logits.log_softmax(0)[range(len(labels)), labels].mean(),
            "over dim=0, the batch",
        ),
        (lambda logits, labels: F.nll_loss(logits, labels), "log_softmax the logits first"),
        (
            lambda logits, labels: F.mse_loss(logits, F.one_hot(labels, logits.shape[1]).float()),
            "MSE against one-hot",
        ),
        (
            lambda logits, labels: F.mse_loss(logits.argmax(-1).float(), labels.float()),
            "has no grad_fn",
        ),
        (
            lambda logits, labels: F.mse_loss(
                logits.argmax(-1).float() + 0 * logits.sum(), labels.float()
            ),
            "class number is not a score",
        ),  # fmt: skip
        (lambda logits, labels: F.cross_entropy(logits, labels, reduction="none"), "shape (4,)"),
        (lambda logits, labels: F.cross_entropy(logits, labels.float()), "Keep the labels"),
        (lambda logits, labels: F.cross_entropy(logits, labels) + 1, "expected 2.5247, got 3.5247"),
        (lambda logits, labels: [F.cross_entropy(logits, labels)], "a list"),
        (softmax_then_log, "log(0) is -inf"),
        (half_detached, "the gradient is not"),
    ],
)
def test_sentiment_loss_wrong_answers_are_named(answer, says):
    verdict = check_sentiment_loss(answer)
    assert verdict.status == WRONG and says in str(verdict), str(verdict)


# -- accuracy ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        mtlab_accuracy,
        lambda logits, labels: (logits.argmax(dim=1) == labels).float().mean(),  # a 0-dim tensor
        lambda logits, labels: float(np.mean(logits.numpy().argmax(1) == labels.numpy())),
        lambda logits, labels: (
            sum(int(p) == int(y) for p, y in zip(logits.argmax(-1), labels)) / len(labels)
        ),
    ],
)
def test_accuracy_solutions_pass(answer):
    assert check_accuracy(answer).status == DONE


def test_accuracy_stub_is_not_done():
    assert check_accuracy(stub).status == NOT_DONE


@pytest.mark.parametrize(
    "answer, says",
    [
        (lambda logits, labels: (logits.argmax(0) == labels).float().mean().item(), "dim=0"),
        (lambda logits, labels: logits.argmax(-1) == labels, "shape (5,) (torch.bool)"),
        (lambda logits, labels: (logits.argmax(-1) == labels).float(), "one right-or-wrong"),
        (lambda logits, labels: (logits.argmax(-1) == labels).sum().item(), "number of right"),
        (
            lambda logits, labels: (logits.max(-1).values == labels).float().mean().item(),
            "comparing scores or probabilities",
        ),
        (
            lambda logits, labels: (
                (logits.softmax(-1).max(-1).values == labels).float().mean().item()
            ),
            "comparing scores or probabilities",
        ),
        (lambda logits, labels: bool((logits.argmax(-1) == labels).all()), "expected a number"),
        (lambda logits, labels: str(mtlab_accuracy(logits, labels)), "expected a number"),
        (lambda logits, labels: 1 - mtlab_accuracy(logits, labels), "expected 0.600, got 0.400"),
    ],
)
def test_accuracy_wrong_answers_are_named(answer, says):
    verdict = check_accuracy(answer)
    assert verdict.status == WRONG and says in str(verdict), str(verdict)


# -- the head ----------------------------------------------------------------------------------


class GoodHead(Head):  # the notebook's solution
    def __init__(self, hidden, n_classes=5, dropout=0.1):
        super().__init__("sst", hidden=hidden, n_classes=n_classes, dropout=dropout)
        self.net = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden, n_classes),
        )  # fmt: skip

    def forward(self, u):
        return self.net(u)


class NoDropout(GoodHead):
    def __init__(self, hidden):
        super().__init__(hidden)
        self.net = nn.Sequential(nn.Linear(hidden, 16), nn.GELU(), nn.Linear(16, 5))


class EndsInSoftmax(GoodHead):
    def forward(self, u):
        return self.net(u).softmax(-1)


class EndsInSigmoid(GoodHead):
    def forward(self, u):
        return torch.sigmoid(self.net(u))


class EndsInLogSoftmax(GoodHead):  # harmless: cross-entropy's log-softmax leaves it unchanged
    def forward(self, u):
        return self.net(u).log_softmax(-1)


class TwoLinear(GoodHead):
    def __init__(self, hidden):
        super().__init__(hidden)
        self.net = nn.Sequential(nn.Linear(hidden, hidden), nn.Linear(hidden, 5))


class OneOutput(GoodHead):
    def __init__(self, hidden):
        super().__init__(hidden)
        self.net = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1))


class ReturnsClasses(GoodHead):
    def forward(self, u):
        return self.net(u).argmax(-1)


class Detached(GoodHead):
    def forward(self, u):
        return self.net(u).detach()


class NumpyRoundTrip(GoodHead):
    def forward(self, u):
        return torch.from_numpy(self.net(u).detach().numpy())


class DropoutAlwaysOn(GoodHead):
    def forward(self, u):
        return self.net[4](F.relu(self.net[1](F.dropout(u, 0.5))))


class UnusedLayer(GoodHead):
    def __init__(self, hidden):
        super().__init__(hidden)
        self.extra = nn.Linear(hidden, hidden)


class NotAHead(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 5))

    def forward(self, u):
        return self.net(u)


class StubHead(GoodHead):
    def __init__(self, hidden):
        super().__init__(hidden)
        raise NotImplementedError()


@pytest.mark.parametrize("head", [GoodHead, NoDropout, EndsInLogSoftmax, SentimentHead])
def test_head_solutions_pass(head):
    verdict = check_sentiment_head(head)
    assert verdict.status == DONE, str(verdict)


def test_head_stub_is_not_done():
    assert check_sentiment_head(StubHead).status == NOT_DONE


@pytest.mark.parametrize("head", [Detached, NumpyRoundTrip])
def test_head_cut_from_the_graph_is_mistake_7(head):
    verdict = check_sentiment_head(head)
    assert verdict.status == WRONG and verdict.mistake == 7, str(verdict)


@pytest.mark.parametrize(
    "head, says",
    [
        (EndsInSoftmax, "ends in a softmax"),
        (EndsInSigmoid, "ends in a squashing"),
        (TwoLinear, "the head is linear"),
        (OneOutput, "output shape (4, 1)"),
        (ReturnsClasses, "the class (their argmax) is Head.predict's job"),
        (DropoutAlwaysOn, "keeps dropping after model.eval()"),
        (UnusedLayer, "no gradient reaches ['extra.weight', 'extra.bias']"),
        (NotAHead, "not an mtlab.Head"),
    ],
)
def test_head_wrong_answers_are_named(head, says):
    verdict = check_sentiment_head(head)
    assert verdict.status == WRONG and says in str(verdict) and verdict.mistake is None, str(
        verdict
    )


def test_use_sentiment_head_falls_back_and_says_so(capsys):
    assert use_sentiment_head(StubHead) is SentimentHead
    assert "not done yet: the cells below use mtlab's version" in capsys.readouterr().out
    assert use_sentiment_head(GoodHead) is GoodHead


def test_confusion_solution_stub_and_wrong_normalisations():
    from mtlab.exercises.sentiment import check_confusion, mtlab_confusion

    def counts(labels, predictions, n):
        matrix = torch.zeros(n, n)
        for t, p in zip(labels.tolist(), predictions.tolist()):
            matrix[t, p] += 1
        return matrix

    def stub(*_):
        raise NotImplementedError()

    assert check_confusion(mtlab_confusion).status == "done"
    assert check_confusion(stub).status == "not done yet"
    wrong = {
        "columns sum to 1": lambda y, p, n: (
            counts(y, p, n) / counts(y, p, n).sum(0, keepdim=True).clamp(min=1)
        ),
        "whole matrix sums to 1": lambda y, p, n: counts(y, p, n) / len(y),
        "is nan": lambda y, p, n: counts(y, p, n) / counts(y, p, n).sum(1, keepdim=True),
        "should be": lambda y, p, n: counts(y, p, n),
        "expected (5, 5)": lambda y, p, n: counts(y, p, n)[:4],
        "expected a (5, 5) tensor": lambda y, p, n: counts(y, p, n).tolist(),
    }
    for says, answer in wrong.items():
        verdict = check_confusion(answer)
        assert verdict.status == "wrong" and says in str(verdict), (says, str(verdict))
