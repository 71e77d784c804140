"""Notebook 02's checks: right answers pass in their several forms, a stub is "not done yet",
and each wrong answer, written as a student would, is rejected with its mistake named."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mtlab.exercises.sentiment import (
    check_accuracy,
    check_confusion,
    check_sentiment_head,
    check_sentiment_loss,
    mtlab_accuracy,
    mtlab_confusion,
    use_sentiment_head,
)
from mtlab.heads.kinds import Head, SentimentHead
from tests.verdicts import assert_done, assert_named, assert_not_done, row


def stub(*_args, **_kwargs):
    raise NotImplementedError()


# -- sentiment_loss ----------------------------------------------------------------------------


def by_hand(logits, labels):  # the notebook's solution
    return -logits.log_softmax(dim=-1)[torch.arange(len(labels)), labels].mean()


def gathered(logits, labels):
    return -logits.log_softmax(-1).gather(1, labels[:, None]).squeeze(1).mean()


def shifted_by_hand(logits, labels):  # the stable form written out, the shift detached
    shifted = logits - logits.max(dim=1, keepdim=True).values.detach()
    log_probabilities = shifted - shifted.exp().sum(1, keepdim=True).log()
    return -log_probabilities[range(len(labels)), labels].mean()


def one_hot_sum(logits, labels):
    one_hot = F.one_hot(labels, logits.shape[1])
    return -(one_hot * F.log_softmax(logits, dim=1)).sum(dim=1).mean()


RIGHT_LOSSES = [
    by_hand,
    F.cross_entropy,
    nn.CrossEntropyLoss(),
    lambda logits, labels: F.nll_loss(F.log_softmax(logits, dim=-1), labels),
    lambda logits, labels: (logits.logsumexp(-1) - logits[range(len(labels)), labels]).mean(),
    gathered,
    shifted_by_hand,
    one_hot_sum,
    lambda logits, labels: F.cross_entropy(logits.double(), labels),  # float64 and right
]


@pytest.mark.parametrize("answer", RIGHT_LOSSES)
def test_sentiment_loss_right_answers_pass(answer):
    assert_done(check_sentiment_loss(answer))


def test_sentiment_loss_stub_is_not_done():
    assert_not_done(check_sentiment_loss(stub))


def softmax_then_log(logits, labels):  # right value on small logits, -inf on confident ones
    return -logits.softmax(-1)[torch.arange(len(labels)), labels].log().mean()


def exp_by_hand(logits, labels):
    probabilities = torch.exp(logits) / torch.exp(logits).sum(dim=1, keepdim=True)
    return -torch.log(probabilities[range(len(labels)), labels]).mean()


def clamped_log(logits, labels):
    probabilities = logits.softmax(-1)[range(len(labels)), labels]
    return -probabilities.clamp(min=1e-8).log().mean()


def half_detached(logits, labels):  # right value, gradient only through the log-sum-exp
    picked = logits[torch.arange(len(labels)), labels].detach()
    return (logits.logsumexp(-1) - picked).mean()


def per_class_mean(logits, labels):
    return -(F.one_hot(labels, logits.shape[1]) * logits.log_softmax(-1)).mean()


def all_pairs(logits, labels):
    return -logits.log_softmax(-1)[:, labels].mean()


def loop_over_rows(logits, labels):  # a Python loop that ends in a float
    total = 0.0
    for row_, label in zip(logits, labels):
        total += -row_.log_softmax(-1)[label].item()
    return total / len(labels)


WRONG_LOSSES = [
    row(
        lambda x, y: F.cross_entropy(x, y, label_smoothing=0.1),
        "sentiment_loss.label-smoothing",
        "label smoothing",
        name="label-smoothing",
    ),
    row(
        lambda x, y: -(x.log_softmax(-1)[range(len(y)), y] / np.log(2)).mean(),
        "sentiment_loss.log-base",
        "base 2",
        name="log2",
    ),
    row(
        lambda x, y: F.cross_entropy(x.softmax(-1), y),
        "sentiment_loss.softmax-twice",
        "softmax was applied",
        "near ln C",
        name="softmax-first",
    ),
    row(
        lambda x, y: F.cross_entropy(nn.Softmax(dim=1)(x), y),
        "sentiment_loss.softmax-twice",
        "near ln C",
        name="softmax-module",
    ),
    row(
        lambda x, y: F.cross_entropy(x, y, reduction="sum"),
        "sentiment_loss.sum-not-mean",
        "sum over the batch",
        name="sum",
    ),
    row(
        lambda x, y: -x.log_softmax(0)[range(len(y)), y].mean(),
        "sentiment_loss.batch-dim",
        "over dim=0, the batch",
        name="dim-0",
    ),
    row(
        lambda x, y: F.nll_loss(x, y),
        "sentiment_loss.no-log-softmax",
        "log_softmax the logits first",
        name="nll-on-logits",
    ),
    row(
        lambda x, y: F.nll_loss(x.softmax(-1), y),
        "sentiment_loss.probabilities-not-logs",
        "the log is missing",
        name="nll-on-probabilities",
    ),
    row(
        lambda x, y: x.log_softmax(-1)[range(len(y)), y].mean(),
        "sentiment_loss.sign",
        "minus sign",
        name="no-minus",
    ),
    row(per_class_mean, "sentiment_loss.mean-over-classes", "divided by the number of classes"),
    row(all_pairs, "sentiment_loss.all-pairs", "torch.arange(B)"),
    row(
        lambda x, y: F.mse_loss(x, F.one_hot(y, x.shape[1]).float()),
        "sentiment_loss.mse",
        "MSE against one-hot",
        name="mse-one-hot",
    ),
    row(
        lambda x, y: F.binary_cross_entropy_with_logits(x, F.one_hot(y, x.shape[1]).float()),
        "sentiment_loss.binary",
        "binary cross-entropy",
        name="bce",
    ),
    row(
        lambda x, y: F.mse_loss(x.argmax(-1).float() + 0 * x.sum(), y.float()),
        "sentiment_loss.mse",
        "class number is not a score",
        name="mse-of-argmax",
    ),
    row(
        lambda x, y: F.mse_loss(x.argmax(-1).float(), y.float()),
        "graph.cut",
        "no grad_fn",
        name="mse-of-argmax-no-graph",
    ),
    row(
        lambda x, y: F.cross_entropy(x, y, reduction="none"),
        "sentiment_loss.per-example",
        "shape (4,)",
        name="reduction-none",
    ),
    row(
        lambda x, y: F.cross_entropy(x, y.float()),
        "sentiment_loss.float-labels",
        "Keep the labels torch.long",
        name="float-labels",
    ),
    row(
        lambda x, y: F.cross_entropy(x, y) + 1,
        "answer.wrong-value",
        "expected 2.5247, got 3.5247",
        name="plus-one",
    ),
    row(lambda x, y: [F.cross_entropy(x, y)], "answer.not-a-tensor", "a list", name="list"),
    row(lambda x, y: F.cross_entropy(x, y).item(), "graph.cut", "Python float", name="item"),
    row(lambda x, y: F.cross_entropy(x, y).detach(), "graph.cut", "value is right", name="detach"),
    row(
        lambda x, y: torch.tensor(F.cross_entropy(x, y).item()),
        "graph.cut",
        "no grad_fn",
        name="tensor-of-item",
    ),
    row(
        lambda x, y: float(by_hand(x, y).detach().numpy()),
        "graph.cut",
        "Python float",
        name="numpy-float",
    ),
    row(loop_over_rows, "graph.cut", "Python float"),
    row(softmax_then_log, "sentiment_loss.overflow", "log(0) is -inf"),
    row(exp_by_hand, "sentiment_loss.overflow", "log_softmax"),
    row(clamped_log, "sentiment_loss.overflow", "clamped"),
    row(half_detached, "graph.part-cut", "the gradient is not"),
    row(
        lambda x, y: -x.log_softmax(-1)[y].mean(),
        "code.raised",
        "IndexError",
        "test_exercises_sentiment.py line",
        name="rows-by-label-out-of-range",
    ),
]


@pytest.mark.parametrize("answer, mistake_id, words", WRONG_LOSSES)
def test_sentiment_loss_wrong_answers_are_named(answer, mistake_id, words):
    assert_named(check_sentiment_loss(answer), mistake_id, words)


# -- accuracy ----------------------------------------------------------------------------------

RIGHT_ACCURACIES = [
    mtlab_accuracy,
    lambda logits, labels: (logits.argmax(dim=1) == labels).float().mean(),  # a 0-dim tensor
    lambda logits, labels: float(np.mean(logits.numpy().argmax(1) == labels.numpy())),
    lambda logits, labels: (
        sum(int(p) == int(y) for p, y in zip(logits.argmax(-1), labels)) / len(labels)
    ),
    lambda logits, labels: (torch.max(logits, 1)[1] == labels).sum().item() / labels.size(0),
    lambda logits, labels: (logits.softmax(-1).argmax(-1) == labels).double().mean().item(),
    lambda logits, labels: torch.sum(logits.argmax(-1) == labels) / len(labels),
]


@pytest.mark.parametrize("answer", RIGHT_ACCURACIES)
def test_accuracy_right_answers_pass(answer):
    assert_done(check_accuracy(answer))


def test_accuracy_stub_is_not_done():
    assert_not_done(check_accuracy(stub))


WRONG_ACCURACIES = [
    row(
        lambda x, y: (x.argmin(-1) == y).float().mean().item(),
        "accuracy.argmin",
        "argmax",
        name="argmin",
    ),
    row(
        lambda x, y: round(mtlab_accuracy(x, y), 2),
        "answer.wrong-value",
        "expected 0.375",
        name="rounded",
    ),
    row(
        lambda x, y: (x.argmax(0) == y).float().mean().item(),
        "accuracy.argmax-batch-dim",
        "dim=0",
        name="argmax-dim-0",
    ),
    row(
        lambda x, y: x.argmax(-1) == y, "accuracy.per-row", "shape (5,) (torch.bool)", name="bools"
    ),
    row(
        lambda x, y: (x.argmax(-1) == y).float(),
        "accuracy.per-row",
        "one right-or-wrong",
        name="floats",
    ),
    row(
        lambda x, y: (x.argmax(-1) == y).sum().item(),
        "accuracy.count",
        "number of right",
        name="count",
    ),
    row(
        lambda x, y: (x.argmax(-1) == y).mean(),
        "accuracy.mean-of-bools",
        ".float().mean()",
        name="mean-of-bools",
    ),
    row(
        lambda x, y: (x.max(-1).values == y).float().mean().item(),
        "accuracy.scores-not-classes",
        "compared with class numbers",
        name="max-values",
    ),
    row(
        lambda x, y: (x.softmax(-1).max(-1).values == y).float().mean().item(),
        "accuracy.scores-not-classes",
        "argmax(-1)",
        name="probabilities",
    ),
    row(
        lambda x, y: bool((x.argmax(-1) == y).all()),
        "answer.wrong-type",
        "expected a number",
        name="all",
    ),
    row(
        lambda x, y: str(mtlab_accuracy(x, y)),
        "answer.wrong-type",
        "expected a number",
        name="string",
    ),
    row(
        lambda x, y: 1 - mtlab_accuracy(x, y),
        "accuracy.error-rate",
        "expected 0.600, got 0.400",
        name="error-rate",
    ),
    row(
        lambda x, y: 100 * mtlab_accuracy(x, y),
        "accuracy.percentage",
        "a percentage",
        name="percent",
    ),
    row(
        lambda x, y: (x.argmax(-1) == y).sum().item() // len(y),
        "accuracy.integer-division",
        "integer division",
        name="floor-division",
    ),
    row(
        lambda x, y: (x.argmax(-1, keepdim=True) == y).float().mean().item(),
        "accuracy.keepdim",
        "Drop keepdim",
        name="keepdim",
    ),
    row(
        lambda x, y: (x.argmax() == y).float().mean().item(),
        "accuracy.flat-argmax",
        "flattened",
        name="argmax-no-dim",
    ),
    row(
        lambda x, y: (torch.max(x, 1) == y).float().mean(),
        "code.raised",
        "AttributeError",
        name="max-pair",
    ),
]


@pytest.mark.parametrize("answer, mistake_id, words", WRONG_ACCURACIES)
def test_accuracy_wrong_answers_are_named(answer, mistake_id, words):
    assert_named(check_accuracy(answer), mistake_id, words)


# -- the head ----------------------------------------------------------------------------------


class GoodHead(Head):  # the notebook's solution
    def __init__(self, hidden, n_classes=5, dropout=0.1):
        super().__init__("sst", hidden=hidden, n_classes=n_classes, dropout=dropout)
        self.net = nn.Sequential(
            nn.Dropout(dropout),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, n_classes),
        )

    def forward(self, u):
        return self.net(u)


class NoDropout(GoodHead):
    def __init__(self, hidden, n_classes=5, dropout=0.1):
        super().__init__(hidden, n_classes, dropout)
        self.net = nn.Sequential(nn.Linear(hidden, 16), nn.GELU(), nn.Linear(16, n_classes))


class EndsInLogSoftmax(GoodHead):  # right: cross-entropy's log-softmax leaves it unchanged
    def forward(self, u):
        return self.net(u).log_softmax(-1)


class Layers(GoodHead):  # layers as attributes, functional ReLU and dropout done right
    def __init__(self, hidden, n_classes=5, dropout=0.1):
        super().__init__(hidden, n_classes, dropout)
        del self.net
        self.fc1, self.fc2 = nn.Linear(hidden, 2 * hidden), nn.Linear(2 * hidden, n_classes)
        self.p = dropout

    def forward(self, u):
        return self.fc2(F.dropout(F.relu(self.fc1(u)), self.p, training=self.training))


class WithLayerNorm(GoodHead):
    def __init__(self, hidden, n_classes=5, dropout=0.1):
        super().__init__(hidden, n_classes, dropout)
        self.net = nn.Sequential(
            nn.LayerNorm(hidden), nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, n_classes)
        )


class Float64Logits(GoodHead):  # float64 logits: cross-entropy takes them, and gradients flow
    def forward(self, u):
        return self.net(u).double()


@pytest.mark.parametrize(
    "head", [GoodHead, NoDropout, EndsInLogSoftmax, Layers, WithLayerNorm, Float64Logits]
)
def test_head_right_answers_pass(head):
    assert_done(check_sentiment_head(head))


def test_mtlabs_own_head_passes():
    assert_done(
        check_sentiment_head(lambda hidden, n_classes=5: SentimentHead(hidden, n_classes=n_classes))
    )


class StubInit(GoodHead):
    def __init__(self, hidden, n_classes=5, dropout=0.1):
        super().__init__(hidden, n_classes, dropout)
        raise NotImplementedError()


class StubForward(GoodHead):
    def forward(self, u):
        raise NotImplementedError()


@pytest.mark.parametrize("head", [StubInit, StubForward])
def test_head_stub_is_not_done(head):
    assert_not_done(check_sentiment_head(head))


class EndsInSoftmax(GoodHead):
    def forward(self, u):
        return self.net(u).softmax(-1)


class EndsInSoftmaxOverTheBatch(GoodHead):
    def forward(self, u):
        return F.softmax(self.net(u), dim=0)


class EndsInSigmoid(GoodHead):
    def forward(self, u):
        return torch.sigmoid(self.net(u))


class EndsInReLU(GoodHead):
    def __init__(self, hidden, n_classes=5, dropout=0.1):
        super().__init__(hidden, n_classes, dropout)
        self.net.append(nn.ReLU())


class EndsInTanh(GoodHead):
    def forward(self, u):
        return torch.tanh(self.net(u))


class EndsInExp(GoodHead):
    def forward(self, u):
        return self.net(u).exp()


class TwoLinear(GoodHead):
    def __init__(self, hidden, n_classes=5, dropout=0.1):
        super().__init__(hidden, n_classes, dropout)
        self.net = nn.Sequential(nn.Linear(hidden, hidden), nn.Linear(hidden, n_classes))


class OneLinear(GoodHead):
    def __init__(self, hidden, n_classes=5, dropout=0.1):
        super().__init__(hidden, n_classes, dropout)
        self.net = nn.Linear(hidden, n_classes)


class OneOutput(GoodHead):
    def __init__(self, hidden, n_classes=5, dropout=0.1):
        super().__init__(hidden, n_classes, dropout)
        self.net = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1))


class FiveFixed(GoodHead):  # n_classes ignored
    def __init__(self, hidden, n_classes=5, dropout=0.1):
        super().__init__(hidden, n_classes, dropout)
        self.net = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 5))


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
    def __init__(self, hidden, n_classes=5, dropout=0.1):
        super().__init__(hidden, n_classes, dropout)
        self.extra = nn.Linear(hidden, hidden)


class LayerInForward(GoodHead):
    def forward(self, u):
        hidden = nn.Linear(u.shape[-1], u.shape[-1])
        return self.net[4](torch.relu(hidden(u)))


class BatchStandardised(GoodHead):  # each feature standardised over the batch, by hand
    def forward(self, u):
        return self.net((u - u.mean(0)) / (u.std(0) + 1e-5))


class Transposed(GoodHead):  # the batch and the features swapped by a reshape
    def forward(self, u):
        return self.net(u.t().reshape(len(u), -1))


class DataInput(GoodHead):
    def forward(self, u):
        return self.net(u.data)


class NoParameters(GoodHead):
    def __init__(self, hidden, n_classes=5, dropout=0.1):
        super().__init__(hidden, n_classes, dropout)
        del self.net

    def forward(self, u):
        return u[:, :5]


class NotAHead(nn.Module):
    def __init__(self, hidden, n_classes=5, dropout=0.1):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 5))

    def forward(self, u):
        return self.net(u)


class Float64Weights(GoodHead):
    def __init__(self, hidden, n_classes=5, dropout=0.1):
        super().__init__(hidden, n_classes, dropout)
        self.net = self.net.double()


class OwnSoftmaxLoss(GoodHead):  # its own loss, with the softmax applied twice
    def loss(self, logits, labels):
        return F.cross_entropy(logits.softmax(-1), labels)


class Squeezed(GoodHead):  # right for batches of 2 or more, (C,) for a batch of one
    def forward(self, u):
        return self.net(u).squeeze()


class EndsInAbs(GoodHead):
    def forward(self, u):
        return self.net(u).abs()


class Thresholded(GoodHead):  # 0/1 per class: a comparison has no gradient
    def forward(self, u):
        return (self.net(u) > 0).float()


class SecondInput(GoodHead):  # a forward that wants two inputs
    def forward(self, u, v):
        return self.net(u + v)


WRONG_HEADS = [
    row(EndsInSoftmax, "head.softmax-at-end", "never negative", "softmax"),
    row(EndsInSoftmaxOverTheBatch, "head.rows-mixed", "softmax over dim=0"),
    row(EndsInSigmoid, "head.sigmoid-at-end", "sigmoid"),
    row(EndsInReLU, "head.relu-at-end", "ReLU"),
    row(EndsInTanh, "head.bounded-logits", "tanh"),
    row(EndsInExp, "head.never-negative", "exp"),
    row(TwoLinear, "head.linear", "the head is linear", "ReLU"),
    row(OneLinear, "head.linear", "the head is linear"),
    row(OneOutput, "head.output-shape", "output shape (4, 1)"),
    row(FiveFixed, "head.ignores-n-classes", "n_classes=3"),
    row(ReturnsClasses, "head.output-not-float", "the class (their argmax) is Head.predict's job"),
    row(Detached, "head.graph-cut", "detach()", "seed mistake 7"),
    row(NumpyRoundTrip, "head.graph-cut", "numpy", "seed mistake 7"),
    row(DropoutAlwaysOn, "head.dropout-in-eval", "keeps dropping after model.eval()"),
    row(
        UnusedLayer, "head.unused-parameters", "no gradient reaches ['extra.weight', 'extra.bias']"
    ),
    row(LayerInForward, "head.layer-in-forward", "in __init__"),
    row(BatchStandardised, "head.rows-mixed", "over dim=0"),
    row(Transposed, "head.rows-mixed", "reshape"),
    row(DataInput, "head.inputs-cut", "finetune mode", "seed mistake 7"),
    row(NoParameters, "head.no-parameters", "seed mistake 4"),
    row(NotAHead, "head.not-a-head", "not an mtlab Head"),
    row(Float64Weights, "head.dtype-mismatch", "float32", "test_exercises_sentiment.py line"),
    row(OwnSoftmaxLoss, "head.own-loss-differs", "cross-entropy"),
    row(SecondInput, "head.forward-failed", "TypeError"),
    row(Squeezed, "head.squeeze", ".squeeze(-1)"),
    row(EndsInAbs, "head.never-negative", "abs"),
    row(Thresholded, "head.graph-cut", "a comparison"),
]


@pytest.mark.parametrize("head, mistake_id, words", WRONG_HEADS)
def test_head_wrong_answers_are_named(head, mistake_id, words):
    assert_named(check_sentiment_head(head), mistake_id, words)


def test_head_check_leaves_the_random_numbers_as_check_head_does():
    torch.manual_seed(0)
    SentimentHead(8)
    from mtlab import check_head

    check_head(GoodHead(8), "sst", 8)
    after_check_head = torch.get_rng_state()
    check_sentiment_head(GoodHead)
    assert torch.equal(torch.get_rng_state(), after_check_head)


def test_use_sentiment_head_falls_back_and_says_so(capsys):
    assert use_sentiment_head(StubInit) is SentimentHead
    assert "not done yet: the cells below use mtlab's version" in capsys.readouterr().out
    assert use_sentiment_head(GoodHead) is GoodHead


# -- confusion ---------------------------------------------------------------------------------


def counts(labels, predictions, n):
    matrix = torch.zeros(n, n)
    for t, p in zip(labels.tolist(), predictions.tolist()):
        matrix[t, p] += 1
    return matrix


def by_crosstab(labels, predictions, n):  # pandas, then back to a tensor
    import pandas as pd

    table = pd.crosstab(pd.Series(labels.numpy()), pd.Series(predictions.numpy()))
    table = table.reindex(index=range(n), columns=range(n), fill_value=0)
    return torch.tensor(table.to_numpy(), dtype=torch.float64) / torch.tensor(
        table.to_numpy().sum(1, keepdims=True)
    ).clamp(min=1)


def with_bincount(labels, predictions, n):
    table = torch.bincount(labels * n + predictions, minlength=n * n).reshape(n, n).float()
    rows = table.sum(1, keepdim=True)
    return torch.where(rows > 0, table / rows, torch.zeros_like(table))


@pytest.mark.parametrize("answer", [mtlab_confusion, by_crosstab, with_bincount])
def test_confusion_right_answers_pass(answer):
    assert_done(check_confusion(answer))


def test_confusion_stub_is_not_done():
    assert_not_done(check_confusion(stub))


def transposed(labels, predictions, n):
    table = counts(predictions, labels, n)
    return table / table.sum(1, keepdim=True).clamp(min=1)


def integer_shares(labels, predictions, n):
    table = counts(labels, predictions, n).long()
    return table // table.sum(1, keepdim=True).clamp(min=1)


def uniform_for_empty(labels, predictions, n):
    table = counts(labels, predictions, n)
    shares = table / table.sum(1, keepdim=True).clamp(min=1)
    shares[table.sum(1) == 0] = 1 / n
    return shares


WRONG_MATRICES = [
    row(
        lambda y, p, n: counts(y, p, n) / counts(y, p, n).sum(0, keepdim=True).clamp(min=1),
        "confusion.by-columns",
        "columns sum to 1",
        name="by-columns",
    ),
    row(
        lambda y, p, n: counts(y, p, n) / counts(y, p, n).sum(1).clamp(min=1),
        "confusion.no-keepdim",
        "keepdim=True",
        name="no-keepdim",
    ),
    row(transposed, "confusion.transposed", "[label, prediction]"),
    row(
        lambda y, p, n: counts(y, p, n) / len(y),
        "confusion.whole-sum",
        "whole matrix sums to 1",
        name="whole",
    ),
    row(
        lambda y, p, n: counts(y, p, n) / counts(y, p, n).sum(1, keepdim=True),
        "confusion.nan-row",
        "is nan",
        name="no-clamp",
    ),
    row(lambda y, p, n: counts(y, p, n), "confusion.counts", "these are the counts", name="counts"),
    row(integer_shares, "confusion.integer-division", "integer division"),
    row(uniform_for_empty, "confusion.empty-row", "leave its row at 0"),
    row(
        lambda y, p, n: counts(y, p, len(y.unique())),
        "code.raised",
        "IndexError",
        name="classes-seen",
    ),
    row(
        lambda y, p, n: mtlab_confusion(y, p, n)[:4],
        "answer.wrong-shape",
        "expected (5, 5)",
        name="rows-cut",
    ),
    row(
        lambda y, p, n: mtlab_confusion(y, p, n).tolist(),
        "answer.not-a-tensor",
        "expected a (5, 5) tensor",
        name="list",
    ),
    row(
        lambda y, p, n: mtlab_confusion(y, p, n).numpy(),
        "answer.not-a-tensor",
        "NumPy",
        name="numpy",
    ),
]


@pytest.mark.parametrize("answer, mistake_id, words", WRONG_MATRICES)
def test_confusion_wrong_answers_are_named(answer, mistake_id, words):
    assert_named(check_confusion(answer), mistake_id, words)
