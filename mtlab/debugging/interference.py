"""Do the tasks pull the shared encoder in the same direction? Compare their gradients.

The seed project saw sentiment accuracy drop when it was trained together with the
other two tasks, and concluded that the tasks interfere. One way to look: take a batch
of each task, backpropagate each task's loss on its own, and compare the gradients the
shared encoder receives. A positive cosine means the tasks push the encoder the same
way; a negative one means one task's step undoes part of the other's (the "conflicting
gradients" of Yu et al. 2020, "Gradient Surgery for Multi-Task Learning").

One batch says little: gradients are noisy. `compare_task_gradients` repeats the
comparison over several rounds of fresh batches, and as a yardstick it also compares
two different batches of the same task (the diagonal of the matrix): two tasks can
hardly agree more than a task agrees with itself.

Introduced in notebook 06.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import pandas as pd
import torch
import torch.nn.functional as F

from mtlab.batching import make_loader
from mtlab.model import MultitaskBert


def encoder_gradient(
    model: MultitaskBert, task: str, batch: Mapping, *, skip: Sequence[str] = ()
) -> torch.Tensor:
    """One task's loss on one batch, backpropagated alone: the encoder's gradient, flattened.

    Parameters whose name contains a string of `skip` are left out; a parameter the loss
    does not reach (BERT's unused pooler, say) contributes zeros. The model's gradients
    are cleared again afterwards, so this never leaks into a training step.
    """
    if model.encoder.frozen:
        raise ValueError(
            "the encoder is frozen (pretrain mode), so no task sends it a gradient: call "
            "model.set_mode('finetune') first (on a copy, if you want to keep the frozen model)"
        )
    named = [
        (name, p)
        for name, p in model.encoder.named_parameters()
        if p.requires_grad and not any(s in name for s in skip)
    ]
    model.zero_grad(set_to_none=True)
    device = named[0][1].device
    loss = model.loss(task, model(task, batch), batch["labels"].to(device))
    loss.backward()
    flat = torch.cat(
        [(p.grad if p.grad is not None else torch.zeros_like(p)).flatten() for _, p in named]
    )
    model.zero_grad(set_to_none=True)
    return flat


def _endless(dataset, batch_size: int, seed: int) -> Iterator:
    """Shuffled batches of a dataset, reshuffled and started again whenever it runs out."""
    loader = make_loader(dataset, batch_size, shuffle=True, seed=seed)
    while True:
        yield from loader


@dataclass
class GradientComparison:
    """Per-round cosines between tasks' encoder gradients, and each gradient's norm.

    cosines: one row per round and task pair (task_a, task_b, cosine); rows with
    task_a == task_b compare two different batches of the same task.
    norms: one row per round and task (grad_norm).
    """

    cosines: pd.DataFrame
    norms: pd.DataFrame

    @property
    def tasks(self) -> list[str]:
        return list(dict.fromkeys(self.norms["task"]))

    def _matrix(self, how: str) -> pd.DataFrame:
        stats = self.cosines.groupby(["task_a", "task_b"])["cosine"].agg(how)
        full = {}
        for (a, b), value in stats.items():
            full[(a, b)] = full[(b, a)] = value
        matrix = pd.Series(full).unstack().reindex(index=self.tasks, columns=self.tasks)
        matrix.index.name, matrix.columns.name = None, None
        return matrix

    def mean(self) -> pd.DataFrame:
        """Tasks × tasks: mean cosine over the rounds."""
        return self._matrix("mean")

    def std(self) -> pd.DataFrame:
        """Tasks × tasks: standard deviation of the cosine over the rounds."""
        return self._matrix("std")

    def summary(self, decimals: int = 3) -> pd.DataFrame:
        """One row per task pair: mean, std, min and max cosine over the rounds."""
        table = self.cosines.groupby(["task_a", "task_b"], sort=False)["cosine"].agg(
            ["mean", "std", "min", "max"]
        )
        table.insert(0, "rounds", self.cosines.groupby(["task_a", "task_b"], sort=False).size())
        return table.round(decimals)

    def plot(self, title: str = "cosine between tasks' encoder gradients"):
        """Heatmap of the mean cosine, each cell annotated with mean ± std."""
        mean, std = self.mean(), self.std()
        n = len(self.tasks)
        limit = max(0.05, float(mean.abs().max().max()))
        fig, ax = plt.subplots(figsize=(1.4 * n + 1.6, 1.2 * n + 0.8))
        image = ax.imshow(mean.to_numpy(), cmap="RdBu", vmin=-limit, vmax=limit)
        for i, j in itertools.product(range(n), range(n)):
            dark = abs(mean.iat[i, j]) > 0.6 * limit  # white text on the darkest cells
            ax.text(
                j,
                i,
                f"{mean.iat[i, j]:+.3f}\n± {std.iat[i, j]:.3f}",
                ha="center",
                va="center",
                fontsize=9,
                color="white" if dark else "black",
            )
        ax.set_xticks(range(n), self.tasks)
        ax.set_yticks(range(n), self.tasks)
        ax.set_title(title, fontsize=10)
        fig.colorbar(image, ax=ax, label="mean cosine (diagonal: two batches of one task)")
        fig.tight_layout()
        return fig


def compare_task_gradients(
    model: MultitaskBert,
    datasets: Mapping,
    *,
    rounds: int = 5,
    batch_size: int = 16,
    seed: int = 0,
    skip: Sequence[str] = (),
) -> GradientComparison:
    """Cosines between the tasks' encoder gradients over `rounds` rounds of fresh batches.

    Each round draws two batches per task (a and b). Between tasks it compares the
    a-batches; on the diagonal it compares a task's a-batch with its b-batch. Dropout is
    switched off while measuring (the model's train/eval state is restored afterwards), so
    the only noise left is which sentences the batches hold.
    """
    if rounds < 2:
        raise ValueError("rounds must be at least 2: the spread over rounds is the point")
    tasks = list(datasets)
    streams = {
        task: _endless(ds, batch_size, seed + i) for i, (task, ds) in enumerate(datasets.items())
    }
    was_training = model.training
    model.eval()
    cosine_rows, norm_rows = [], []
    try:
        for r in range(rounds):
            grads = {
                (task, draw): encoder_gradient(model, task, next(streams[task]), skip=skip)
                for task in tasks
                for draw in ("a", "b")
            }
            for task in tasks:
                norm_rows.append(dict(round=r, task=task, grad_norm=grads[task, "a"].norm().item()))
            for i, a in enumerate(tasks):
                for b in tasks[i:]:
                    u, v = grads[a, "a"], grads[b, "b" if a == b else "a"]
                    cosine = F.cosine_similarity(u, v, dim=0).item()
                    cosine_rows.append(dict(round=r, task_a=a, task_b=b, cosine=cosine))
    finally:
        model.train(was_training)
    return GradientComparison(pd.DataFrame(cosine_rows), pd.DataFrame(norm_rows))
