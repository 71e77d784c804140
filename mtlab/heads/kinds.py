"""One small head per kind of task, on the shared encoder's sentence vectors.

The task table names each task's kind (`Task.head`: "sentiment", "paraphrase", "similarity",
"regression") and its size (`num_classes`, `score_range`); a head built without `task=` serves
the table's first task of its kind, and takes its size from that task's entry. Every head is
a `Head` (mtlab.heads.base), so the training loop treats all tasks alike. The `variant`
argument brings back the seed project's failed designs so the notebooks can put them side by
side:

| head           | default             | seed variants                                     |
|----------------|---------------------|---------------------------------------------------|
| SentimentHead  | "mlp"               | "linear"                                          |
| ParaphraseHead | "concat_diff_prod"  | "concat" (seed's fix), "linear" (10), "cross" (12) |
| SimilarityHead | "cosine"            | "scaled_dot" (seed's fix), "dot" (mistake 14)     |
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from mtlab.heads.base import Head, check_variant, mlp
from mtlab.heads.losses import (
    binary_loss,
    classification_loss,
    cosent_loss,
    ranking_loss,
    regression_loss,
)
from mtlab.tasks import Task, UnknownTaskError, get_task, known_tasks


class SentimentHead(Head):
    """Sentence vector -> one logit per class, trained with cross-entropy."""

    kind = "sentiment"
    variants = ("mlp", "linear")

    def __init__(
        self,
        hidden: int,
        *,
        n_classes: int | None = None,
        variant: str = "mlp",
        dropout: float = 0.1,
        task: str | None = None,
    ):
        task = task or first_task_of(self.kind)
        n_classes = get_task(task).num_classes if n_classes is None else n_classes
        super().__init__(task, hidden=hidden, n_classes=n_classes, variant=variant, dropout=dropout)
        check_variant(self, variant)
        self.variant = variant
        self.n_classes = n_classes
        if variant == "mlp":
            self.net = mlp(hidden, hidden, n_classes, dropout)
        else:
            self.net = nn.Linear(hidden, n_classes)

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        return self.net(u)

    def loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return classification_loss(self.task, logits, labels)

    def predict(self, logits: torch.Tensor) -> torch.Tensor:
        return logits.argmax(-1)


class ParaphraseHead(Head):
    """Two sentence vectors -> duplicate or not.

    - "concat_diff_prod": [u; v; |u-v|; u*v] -> two linear layers -> 2 logits. The
      difference and product let the head compare the sentences directly
      (Sentence-BERT, Reimers & Gurevych 2019).
    - "concat": the seed's corrected design, [u; v] -> two linear layers -> 2 logits.
    - "linear" (seed mistake 10): [u; v] -> one linear layer -> 1 logit. A linear score
      of [u; v] is a score of u plus a score of v: it cannot compare the two sentences,
      so it stays near the base rate (on [CLS] vectors, one class for almost every pair).
    - "cross" (seed mistake 12): both sentences packed into one sequence
      "[CLS] s1 [SEP] s2 [SEP]", one vector -> two linear layers -> 2 logits. A valid
      design (a cross-encoder), but not the one the seed meant to build, and it cannot
      reuse one vector per sentence across pairs.

    mnrl_weight > 0 adds a multiple-negatives ranking loss on the sentence vectors themselves
    (`mtlab.heads.losses.ranking_loss`): each duplicate's question 1 must pick its question 2 out of
    every question 2 in the batch. It shapes the encoder, so it matters in finetune.
    """

    kind = "paraphrase"
    inputs = 2
    variants = ("concat_diff_prod", "concat", "linear", "cross")
    training_options = ("mnrl_weight",)

    def __init__(
        self,
        hidden: int,
        *,
        variant: str = "concat_diff_prod",
        dropout: float = 0.1,
        n_classes: int | None = None,
        task: str | None = None,
        mnrl_weight: float = 0.0,
    ):
        task = task or first_task_of(self.kind)
        n_classes = get_task(task).num_classes if n_classes is None else n_classes
        super().__init__(
            task,
            hidden=hidden,
            variant=variant,
            dropout=dropout,
            n_classes=n_classes,
            mnrl_weight=mnrl_weight,
        )
        check_variant(self, variant)
        if variant == "linear" and n_classes != 2:
            raise ValueError(f"the single-logit 'linear' variant is for 2 classes, not {n_classes}")
        if not mnrl_weight >= 0 or (mnrl_weight and variant == "cross"):
            raise ValueError(
                f"mnrl_weight must be >= 0, and 0 for the 'cross' variant (it has "
                f"no vector per question to rank), got {mnrl_weight} ({variant!r})"
            )
        self.variant = variant
        self.mnrl_weight = mnrl_weight
        self.n_classes = n_classes
        self.cross_encodes = variant == "cross"
        d_in = {
            "concat_diff_prod": 4 * hidden,
            "concat": 2 * hidden,
            "linear": 2 * hidden,
            "cross": hidden,
        }[variant]
        if variant == "linear":
            self.net = nn.Linear(d_in, 1)
        else:
            self.net = mlp(d_in, hidden, n_classes, dropout)

    def forward(self, u: torch.Tensor, v: torch.Tensor | None = None) -> torch.Tensor:
        if self.variant == "cross":
            return self.net(u)  # u already encodes the pair
        if self.variant == "concat_diff_prod":
            features = torch.cat([u, v, (u - v).abs(), u * v], dim=-1)
        else:
            features = torch.cat([u, v], dim=-1)  # dim=-1: side by side, one row per pair
        out = self.net(features)
        return out.squeeze(-1) if self.variant == "linear" else out

    def loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if self.variant == "linear":
            return binary_loss(self.task, logits, labels)
        return classification_loss(self.task, logits, labels)

    def predict(self, logits: torch.Tensor) -> torch.Tensor:
        if self.variant == "linear":
            return (logits > 0).long()
        return logits.argmax(-1)

    def objective(self, vectors: tuple[torch.Tensor, ...], labels: torch.Tensor) -> torch.Tensor:
        loss = self.loss(self(*vectors), labels)
        if self.mnrl_weight:
            loss = loss + self.mnrl_weight * ranking_loss(self.task, *vectors, labels)
        return loss


class SimilarityHead(Head):
    """Two sentence vectors -> a similarity score on the task's scale, trained with MSE.

    Each vector goes through the same projection p (unless projection=False), then:
    - "cosine" (default): scale * cos(p(u), p(v)), bounded; the scale is the task's top score
      (STS: 5). On frozen features it beats "scaled_dot" (results/ablate-pretrain).
    - "scaled_dot": p(u) . p(v) / sqrt(d). A dot product of d-dimensional vectors grows
      like sqrt(d); dividing keeps scores near the 0-5 range at the start of training.
    - "dot" (seed mistake 14): the same without the scaling: huge scores, huge loss,
      gradients that swamp the learning rate.
    The projection is residual by default, p(u) = u + mlp(u) with mlp's last layer starting
    near zero: training starts from the encoder's own cosine and only learns a correction.
    residual=False is a plain mlp(u), as the seed had: it must relearn the geometry the
    encoder already has, and it scores lower (results/ablate-pretrain).
    With projection=False the head has no parameters at all: fine for a zero-shot cosine
    baseline, but in pretrain mode nothing is trainable and backward() fails (mistake 4).
    training_loss="cosent" trains the cosine variant with CoSENT (`mtlab.heads.losses.cosent_loss`)
    instead of MSE: it ranks the batch's pairs and never pulls a cosine towards score / 5.
    """

    kind = "similarity"
    inputs = 2
    variants = ("cosine", "scaled_dot", "dot")
    training_losses = ("mse", "cosent")
    training_options = ("training_loss",)

    def __init__(
        self,
        hidden: int,
        *,
        variant: str = "cosine",
        projection: bool = True,
        residual: bool = True,
        dropout: float = 0.1,
        scale: float | None = None,
        task: str | None = None,
        training_loss: str = "mse",
    ):
        task = task or first_task_of(self.kind)
        if scale is None:
            scale = max(abs(x) for x in get_task(task).score_range)
        super().__init__(
            task,
            hidden=hidden,
            variant=variant,
            projection=projection,
            residual=residual,
            dropout=dropout,
            scale=scale,
            training_loss=training_loss,
        )
        check_variant(self, variant)
        if training_loss not in self.training_losses or (
            training_loss == "cosent" and variant != "cosine"
        ):
            raise ValueError(
                f"training_loss must be one of {self.training_losses} ('cosent' with "
                f"the 'cosine' variant only), got {training_loss!r} ({variant!r})"
            )
        self.variant = variant
        self.training_loss = training_loss
        self.residual = projection and residual
        self.project = mlp(hidden, hidden, hidden, dropout) if projection else nn.Identity()
        if self.residual:  # start next to the identity, p(u) ~ u (not at it: exactly zero
            with torch.no_grad():  # weights would leave the first layer without a gradient)
                self.project[-1].weight.mul_(0.01)
                self.project[-1].bias.zero_()
        self.dim = hidden
        self.scale = scale  # cosine scores lie in [-scale, scale], the task's top score

    def forward(self, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        pu, pv = self.project(u), self.project(v)
        if self.residual:
            pu, pv = u + pu, v + pv
        if self.variant == "cosine":
            return self.scale * F.cosine_similarity(pu, pv, dim=-1)
        dot = (pu * pv).sum(-1)
        return dot / math.sqrt(self.dim) if self.variant == "scaled_dot" else dot

    def loss(self, scores: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return regression_loss(self.task, scores, targets)

    def predict(self, scores: torch.Tensor) -> torch.Tensor:
        return scores  # raw scores: clamping to 0-5 would flatten them and hurt Pearson r

    def objective(self, vectors: tuple[torch.Tensor, ...], labels: torch.Tensor) -> torch.Tensor:
        scores = self(*vectors)
        if self.training_loss == "cosent":
            return cosent_loss(self.task, scores / self.scale, labels)  # the cosines themselves
        return self.loss(scores, labels)


class RegressionHead(Head):
    """Sentence vector -> one score (a registered single-sentence task with a score range)."""

    kind = "regression"

    def __init__(self, hidden: int, *, dropout: float = 0.1, task: str | None = None) -> None:
        task = task or first_task_of(self.kind)
        super().__init__(task, hidden=hidden, dropout=dropout)
        self.net = mlp(hidden, hidden, 1, dropout)

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        return self.net(u).squeeze(-1)

    def loss(self, scores: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return regression_loss(self.task, scores, targets)

    def predict(self, scores: torch.Tensor) -> torch.Tensor:
        return scores


# The head classes a checkpoint may name: a fixed table, so loading never imports a name
# stored in a file (and torch.load(weights_only=True) keeps holding).
HEAD_CLASSES: dict[str, type[Head]] = {
    cls.__name__: cls for cls in (SentimentHead, ParaphraseHead, SimilarityHead, RegressionHead)
}
HEAD_KINDS: dict[str, type[Head]] = {cls.kind: cls for cls in HEAD_CLASSES.values()}


def first_task_of(kind: str) -> str:
    """The table's first task whose head is of this kind: the task a head serves by default."""
    for name in known_tasks():
        if get_task(name).head == kind:
            return name
    raise UnknownTaskError(
        f"no task in the table has a {kind!r} head: pass task=... (a registered task's name)"
    )


def default_head(task: str | Task, hidden: int, **options) -> Head:
    """The head the task table names for a task, sized from its entry (classes, score range)."""
    spec = get_task(task)
    return HEAD_KINDS[spec.head](hidden, task=spec.name, **options)
