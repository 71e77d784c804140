"""Training: one phase (pretrain or finetune) over all tasks at once.

`train` returns the history: a row every `log_every` steps with each task's mean loss,
the learning rate and the gradient norm (the seed logged once per 1000 steps and could
not see training move: mistake 8), plus rows with dev scores when dev is scored.
`training_step` is one optimizer step, the loop a student writes by hand in notebook 06.
"""

from __future__ import annotations

import math
import random
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch.nn.parallel import DistributedDataParallel
from tqdm.auto import tqdm

from mtlab.batching import Batch, MultitaskBatches, multitask_batches
from mtlab.checkpoints import resume_training, save_training_state
from mtlab.distributed import distributed, global_mean, shard
from mtlab.early_stopping import DevScoring
from mtlab.hardware import resolve_precision
from mtlab.history import PhaseClock, TrainingLog
from mtlab.model import MultitaskBert
from mtlab.optimizer import make_optimizer
from mtlab.smart import smart_penalty
from mtlab.surgery import SURGERIES, surgery_backward

PRECISIONS = ("fp32", "bf16", "auto")  # auto: bf16 where the hardware has bf16 units


class NothingToTrainError(RuntimeError):
    """A task has no trainable parameter in this mode, so backward() would fail (mistake 4)."""


@dataclass
class TrainConfig:
    """Settings of one training phase. Defaults suit pretrain; finetune wants lr ~2e-5."""

    epochs: int = 1
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 0.01
    warmup: float = 0.1  # fraction of steps with a linearly rising learning rate
    schedule: str = "round_robin"
    log_every: int = 10
    max_steps: int | None = None  # stop early (quick runs); None = all epochs
    grad_clip: float = 1.0
    seed: int = 0
    checkpoint_every: int | None = None  # save the training state every N steps (see train)
    bucket: bool = True  # batches of similar-length sentences: less padding, faster
    eval_every: float | None = None  # with dev_sets: score dev every this many epochs (0.5: twice)
    keep_best: bool = True  # ... and end with the weights that scored best (early stopping)
    precision: str = (
        "fp32"  # "bf16": autocast the forward pass; "auto": bf16 if the hardware has it
    )
    budget_minutes: float | None = None  # stop the phase when this much time has passed
    # Extensions for finetuning, off by default (scripts/ablate_finetune.py compares them).
    layer_decay: float = 1.0  # encoder layer l of L trains at lr * layer_decay**(L - l); 1 = off
    head_lr: float | None = None  # the heads' learning rate; None = lr
    surgery: str | None = None  # combine the tasks' encoder gradients (mtlab.surgery); None = sum
    smart: float = 0.0  # weight of the SMART penalty (mtlab.smart); 0 = off

    def check(self) -> TrainConfig:
        """Refuse settings that would fail late or train on nonsense, naming the field."""
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        if self.surgery is not None and self.surgery not in SURGERIES:
            raise ValueError(f"surgery must be None or one of {SURGERIES}, got {self.surgery!r}")
        if self.surgery is not None and self.schedule != "round_robin":
            raise ValueError(
                "surgery trains one batch of every task at each step, so it needs "
                f"schedule='round_robin', got {self.schedule!r}"
            )
        if not 0 < self.layer_decay <= 1:
            raise ValueError(f"layer_decay must be in (0, 1] (1 = off), got {self.layer_decay}")
        if self.head_lr is not None and not (math.isfinite(self.head_lr) and self.head_lr > 0):
            raise ValueError(f"head_lr must be None (= lr) or a number > 0, got {self.head_lr}")
        if not math.isfinite(self.smart) or self.smart < 0:
            raise ValueError(f"smart must be a finite weight >= 0 (0 = off), got {self.smart}")
        if self.eval_every is not None and not self.eval_every > 0:
            raise ValueError(f"eval_every is in epochs and must be > 0, got {self.eval_every}")
        for name in ("lr", "weight_decay", "warmup", "grad_clip"):
            if not math.isfinite(getattr(self, name)) or getattr(self, name) < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {getattr(self, name)}")
        if self.budget_minutes is not None and not self.budget_minutes > 0:
            raise ValueError(f"budget_minutes must be > 0, got {self.budget_minutes}")
        for name in ("epochs", "batch_size", "log_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        return self


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and PyTorch so a run can be repeated number for number."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def check_trainable(model: MultitaskBert, tasks) -> None:
    """Fail early, in words, if some task's loss could not be backpropagated."""
    if model.mode == "finetune":
        return
    for task in tasks:
        if not any(p.requires_grad for p in model.head(task).parameters()):
            raise NothingToTrainError(
                f"In {model.mode} mode the encoder is frozen and the {task!r} head has no trainable "
                f"parameters, so its loss has no gradient and loss.backward() would fail with "
                "'element 0 of tensors does not require grad and does not have a grad_fn'. Give "
                "the head parameters (e.g. SimilarityHead(projection=True)), leave the task out "
                "of this phase, or use finetune mode."
            )


def all_sentences(datasets: Mapping) -> list[str]:
    """Every sentence of every dataset (for filling the frozen-encoder cache)."""
    keys = ("sentence", "sentence1", "sentence2")
    return [
        example[k]
        for dataset in datasets.values()
        for example in dataset
        for k in keys
        if k in example
    ]


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


def training_step(
    net, batches: Mapping[str, Batch], optimizer, scheduler, config: TrainConfig
) -> tuple[dict[str, float], float]:
    """One optimizer step on one batch per task; the mean loss per task and the gradient norm.

    The task losses are summed before backward(); with `config.surgery` a torchjd aggregator
    combines the tasks' gradients on the shared encoder instead (mtlab.surgery), and
    `config.smart` adds each task's SMART penalty (mtlab.smart) to its loss. Both run in one
    process (`net` is then the model itself).
    """
    rank, world = distributed()
    device = next(net.parameters()).device
    losses, weighted = {}, {}
    for task, batch in batches.items():
        part, weight = shard(batch, rank, world)
        labels = part["labels"].to(device)
        with torch.autocast(device.type, torch.bfloat16, enabled=config.precision == "bf16"):
            if config.smart:  # the penalty compares with the head's clean output
                vectors = net.vectors(task, part)
                loss = net.objective(task, vectors, labels)
                clean = net.heads[task](*vectors)
                penalty = smart_penalty(net, task, part, clean)
            else:
                loss = net(task, part, labels=labels)
        losses[task] = global_mean(loss.detach() * weight, world)  # the task's own loss
        if config.smart:
            loss = loss + config.smart * penalty
        weighted[task] = loss * weight
        if not math.isfinite(losses[task]):
            raise FloatingPointError(
                f"the {task!r} loss is {losses[task]} at this step: training diverged. Lower the "
                f"learning rate (now {config.lr:g}) or check the {task!r} labels and head."
            )
    optimizer.zero_grad()
    if config.surgery:
        surgery_backward(net, weighted, config.surgery)
    else:
        torch.stack(list(weighted.values())).sum().backward()
    params = [p for group in optimizer.param_groups for p in group["params"]]
    grad_norm = torch.nn.utils.clip_grad_norm_(params, config.grad_clip)
    optimizer.step()
    scheduler.step()
    return losses, float(grad_norm)


def train(
    model: MultitaskBert,
    train_sets: Mapping,
    config: TrainConfig | None = None,
    *,
    progress: bool = True,
    phase: str | None = None,
    on_log: Callable[[pd.DataFrame], None] | None = None,
    state_path: str | Path | None = None,
    resume: bool = False,
    dev_sets: Mapping | None = None,
) -> pd.DataFrame:
    """Train all tasks of `train_sets` together for one phase; return the history table.

    With `dev_sets` and `config.eval_every`, dev is scored during training and, with
    `config.keep_best`, the phase ends with the weights that scored best there (BestOnDev).
    `on_log` gets the history so far every `log_every` steps (live plots). With
    `state_path`, the training state is saved every `config.checkpoint_every` steps and
    `resume=True` continues from it to the numbers an unbroken run reaches. Under
    torchrun each process trains on its share of every batch (DistributedDataParallel).
    """
    config = (config or TrainConfig()).check()
    device = next(model.parameters()).device  # "auto" precision: bf16 if this device has bf16 units
    config = replace(config, precision=resolve_precision(config.precision, device))
    phase, (rank, world) = phase or model.mode, distributed()
    set_seed(config.seed)
    check_trainable(model, train_sets)
    check_extensions(model, config, world)
    if model.encoder.frozen and model.feature_cache is not None:
        model.feature_cache.warm(
            model.encoder, all_sentences(train_sets), progress=progress and rank == 0
        )
    batches = multitask_batches(train_sets, config, model)
    together = tasks_per_step(train_sets, config)
    total, per_epoch = phase_length(len(batches), together, config)
    optimizer, scheduler = make_optimizer(model, config, total)
    # One head per step: the other heads' parameters get no gradient that step.
    net = DistributedDataParallel(model, find_unused_parameters=True) if world > 1 else model
    log = TrainingLog(phase, per_epoch, config.log_every, on_log if rank == 0 else None)
    dev = DevScoring(dev_sets, config, per_epoch, per_head=model.encoder.frozen)
    stream, step = training_steps(batches, config.epochs, together), 0
    if resume and state_path is not None and Path(state_path).exists():
        step = resume_training(state_path, model, optimizer, scheduler, log, dev.best, stream)
    saved, clock = (
        step,
        PhaseClock(phase, step, total, config.budget_minutes, progress and rank == 0),
    )
    model.train()
    bar = tqdm(total=total, initial=step, desc=phase, disable=not progress or rank > 0, unit="step")
    try:
        while step < total and not clock.out_of_time(step):
            losses, grad_norm = training_step(net, next(stream), optimizer, scheduler, config)
            step += 1
            # the highest learning rate of the step (layer decay and head_lr set lower/higher ones)
            log.add_losses(step, total, losses, max(scheduler.get_last_lr()), grad_norm, bar)
            dev.score_if_due(model, step, total, log)
            if (
                state_path is not None
                and config.checkpoint_every
                and step % config.checkpoint_every == 0
            ):
                if rank == 0:
                    save_training_state(
                        state_path, model, optimizer, scheduler, step, log, dev.best
                    )
                saved = step
            bar.update()
    except FloatingPointError as error:  # say where it happened, not only what
        bar.close()
        raise FloatingPointError(f"{phase} step {step + 1} of {total}: {error}") from None
    except KeyboardInterrupt:
        bar.close()
        where = f"step {saved} is saved in {state_path}" if saved else "nothing was saved"
        print(f"\ninterrupted at step {step} of {total}; {where}", file=sys.stderr)
        raise
    bar.close()
    dev.score_if_due(
        model, step, step, log
    )  # a phase cut short by its budget: score where it ended
    dev.keep_best(model, phase, verbose=progress and rank == 0)
    model.eval()
    return log.table()


def check_extensions(model: MultitaskBert, config: TrainConfig, world: int) -> None:
    """Surgery and SMART act on the shared encoder, one process at a time: say so up front."""
    for name in ("surgery", "smart"):
        if not getattr(config, name):
            continue
        if model.encoder.frozen:
            raise ValueError(
                f"{name} acts on the shared encoder, which is frozen in {model.mode}: "
                f"use it in finetune (--finetune-{name})"
            )
        if world > 1:
            raise ValueError(f"{name} runs in one process; this run has {world} (torchrun)")


def tasks_per_step(train_sets: Mapping, config: TrainConfig) -> int:
    """1, or every task with gradient surgery (it combines all the tasks' gradients each step)."""
    return len(train_sets) if config.surgery else 1


def phase_length(batches_per_epoch: int, together: int, config: TrainConfig) -> tuple[int, int]:
    """(steps in the phase, steps per epoch) when `together` batches make one step."""
    per_epoch = math.ceil(batches_per_epoch / together)
    return min(per_epoch * config.epochs, config.max_steps or math.inf), per_epoch
