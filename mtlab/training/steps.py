"""A phase's steps: which batch of which task each step trains on, and how many steps there are.

`multitask_batches` makes one shuffled, length-bucketed loader per task and interleaves them
by the config's schedule; `training_steps` turns that into the stream of steps a phase runs
(one task's batch a step, or every task's with gradient surgery).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping

from mtlab.batching import Batch, MultitaskBatches, make_loader
from mtlab.model import MultitaskBert
from mtlab.training.config import TrainConfig


def multitask_batches(
    train_sets: Mapping, config: TrainConfig, model: MultitaskBert | None = None
) -> MultitaskBatches:
    """One shuffled (length-bucketed) loader per task, interleaved by the config's schedule.

    With `model`, the buckets sort by the tokens its encoder makes of each example (the
    padding a batch really gets); without, by characters.
    """

    def lengths(task, dataset):
        return model.example_lengths(task, dataset) if model is not None and config.bucket else None

    loaders = {
        task: make_loader(
            ds,
            config.batch_size,
            shuffle=True,
            seed=config.seed + i,
            bucket=config.bucket,
            lengths=lengths(task, ds),
        )
        for i, (task, ds) in enumerate(train_sets.items())
    }
    return MultitaskBatches(loaders, config.schedule, seed=config.seed)


def training_steps(
    batches: MultitaskBatches, epochs: int, together: int = 1
) -> Iterator[dict[str, Batch]]:
    """Every step's {task: batch} of every epoch, in order: one stream a run can fast-forward.

    A step trains one task's batch, or `together` tasks' (gradient surgery: every task, taking
    turns round robin); an epoch that does not divide evenly ends with a smaller step.
    """
    for _ in range(epochs):
        step = {}
        for task, batch in batches:
            step[task] = batch
            if len(step) == together:
                yield step
                step = {}
        if step:
            yield step


def tasks_per_step(train_sets: Mapping, config: TrainConfig) -> int:
    """1, or every task with gradient surgery (it combines all the tasks' gradients each step)."""
    return len(train_sets) if config.surgery else 1


def phase_length(batches_per_epoch: int, together: int, config: TrainConfig) -> tuple[int, int]:
    """(steps in the phase, steps per epoch) when `together` batches make one step."""
    per_epoch = math.ceil(batches_per_epoch / together)
    return min(per_epoch * config.epochs, config.max_steps or math.inf), per_epoch
