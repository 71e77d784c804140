"""The `Head` interface: what every task head on the shared encoder provides.

A head knows its own loss and how to turn its output into a prediction, so the training
loop treats all tasks alike. The course's heads (mtlab.heads) and a student's own heads for
a new task subclass `Head`; `mlp` is the two-layer shape most of them use.
"""

from __future__ import annotations

import torch
from torch import nn

from mtlab.heads.losses import binary_loss, classification_loss, regression_loss
from mtlab.tasks import Task, get_task


def usual_loss(task: str | Task, output: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """A task's usual loss: cross-entropy for classes (BCE for one logit), MSE for scores."""
    spec = get_task(task)
    if not spec.is_classification:
        return regression_loss(spec.name, output, labels)
    if output.dim() == 1:
        return binary_loss(spec.name, output, labels)
    return classification_loss(spec.name, output, labels)


class Head(nn.Module):
    """What every task head has; subclass it (or a course head) for a task of your own.

    - `forward(u)` for one sentence vector per example, `forward(u, v)` for a pair
      (`inputs = 2`), or one vector per pair when the head `cross_encodes` (the encoder
      reads both sentences as one sequence);
    - `loss(output, labels)` and `predict(output)`: by default the task table's usual ones
      (cross-entropy and argmax for classes, MSE and the score itself for scores);
    - `objective(vectors, labels)`: the training loss from the sentence vectors. By
      default forward then loss; objectives that compare vectors across the batch
      (CoSENT, multiple-negatives ranking) override it;
    - `options()`: the keyword arguments that rebuild it, which checkpoints record;
      `training_options` names those that only change the training loss, so a checkpoint
      loads into a head that differs from it only there.
    """

    inputs = 1
    cross_encodes = False
    training_options: tuple[str, ...] = ()

    def __init__(self, task: str, **options) -> None:
        super().__init__()
        self.task = task
        self._options = options

    def loss(self, output: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return usual_loss(self.task, output, labels)

    def predict(self, output: torch.Tensor) -> torch.Tensor:
        """The most likely class (a positive logit for one-logit heads), or the score itself."""
        if not get_task(self.task).is_classification:
            return output
        return (output > 0).long() if output.dim() == 1 else output.argmax(-1)

    def objective(self, vectors: tuple[torch.Tensor, ...], labels: torch.Tensor) -> torch.Tensor:
        return self.loss(self(*vectors), labels)

    def options(self) -> dict:
        return {"task": self.task, **self._options}


def mlp(d_in: int, d_hidden: int, d_out: int, dropout: float) -> nn.Sequential:
    """Two linear layers with a ReLU between: the seed's corrected head shape."""
    return nn.Sequential(
        nn.Dropout(dropout),
        nn.Linear(d_in, d_hidden),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(d_hidden, d_out),
    )


def check_variant(head: nn.Module, variant: str) -> None:
    if variant not in head.variants:
        raise ValueError(
            f"unknown {type(head).__name__} variant {variant!r}; choose one of {head.variants}"
        )
