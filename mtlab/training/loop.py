"""Training: one phase (pretrain or finetune) over all tasks at once.

`train` returns the history: a row every `log_every` steps with each task's mean loss,
the learning rate and the gradient norm (the seed logged once per 1000 steps and could
not see training move: mistake 8), plus rows with dev scores when dev is scored.
`training_step` is one optimizer step, the loop a student writes by hand in notebook 06.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pandas as pd
import torch
from torch.nn.parallel import DistributedDataParallel
from tqdm.auto import tqdm

from mtlab.batching import Batch
from mtlab.data.datasets import all_sentences
from mtlab.extensions.smart import smart_penalty
from mtlab.extensions.surgery import surgery_backward
from mtlab.model import MultitaskBert
from mtlab.runtime import distributed, global_mean, resolve_precision, set_seed, shard
from mtlab.training.checkpoints import resume_training, save_training_state
from mtlab.training.config import TrainConfig
from mtlab.training.early_stopping import DevScoring
from mtlab.training.history import PhaseClock, TrainingLog
from mtlab.training.optimizer import make_optimizer
from mtlab.training.steps import multitask_batches, phase_length, tasks_per_step, training_steps


class NothingToTrainError(RuntimeError):
    """A task has no trainable parameter in this mode, so backward() would fail (mistake 4)."""


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


def training_step(
    net, batches: Mapping[str, Batch], optimizer, scheduler, config: TrainConfig
) -> tuple[dict[str, float], float]:
    """One optimizer step on one batch per task; the mean loss per task and the gradient norm.

    The task losses are summed before backward(); with `config.surgery` a torchjd aggregator
    combines the tasks' gradients on the shared encoder instead (mtlab.extensions.surgery), and
    `config.smart` adds each task's SMART penalty (mtlab.extensions.smart) to its loss. Both run in one
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
    record: dict | None = None,
) -> pd.DataFrame:
    """Train all tasks of `train_sets` together for one phase; return the history table.
    With `dev_sets` and `config.eval_every` dev is scored during training, and with
    `config.keep_best` the phase ends with the best weights there. `on_log` gets the history
    every `log_every` steps (live plots). With `state_path` the training state (and `record`,
    see run_record) is saved every `config.checkpoint_every` steps; `resume=True` goes on
    from it to the same numbers.
    """
    # settings checked, "auto" precision resolved for this device, seeds set, tasks trainable
    config, phase, (rank, world), talk = prepare(model, train_sets, config, phase, progress)
    # pretrain: every sentence through the frozen encoder once, into the feature cache
    if model.encoder.frozen and model.feature_cache is not None:
        model.feature_cache.warm(model.encoder, all_sentences(train_sets), progress=talk)
    # the phase's steps, one stream over all epochs, and the optimizer sized to them
    batches = multitask_batches(train_sets, config, model)
    together = tasks_per_step(train_sets, config)
    total, per_epoch = phase_length(len(batches), together, config)
    optimizer, scheduler = make_optimizer(model, config, total)
    # torchrun: DDP averages the gradients; a step trains one head, the others get none
    net = DistributedDataParallel(model, find_unused_parameters=True) if world > 1 else model
    # the history table, dev scoring for early stopping
    log = TrainingLog(phase, per_epoch, config.log_every, on_log if rank == 0 else None)
    dev = DevScoring(dev_sets, config, per_epoch, per_head=model.encoder.frozen)
    # resume: the saved weights, optimizer, history, best dev, and the stream fast-forwarded
    stream, step = training_steps(batches, config.epochs, together), 0
    if resume and state_path is not None and Path(state_path).exists():
        step = resume_training(state_path, model, optimizer, scheduler, log, dev.best, stream)
    clock, saved = PhaseClock(phase, step, total, config.budget_minutes, talk, dev), step
    model.train()
    with progress_bar(phase, step, total, talk, lambda: (step, saved, state_path)) as bar:
        while not clock.finished(step):
            # one optimizer step; the history row with the step's highest learning rate
            losses, grad_norm = training_step(net, next(stream), optimizer, scheduler, config)
            step += 1
            log.add_losses(step, total, losses, max(scheduler.get_last_lr()), grad_norm, bar)
            # dev when due; the training state every checkpoint_every steps
            dev.score_if_due(model, step, total, log)
            if state_path and config.checkpoint_every and step % config.checkpoint_every == 0:
                if rank == 0:
                    state = (model, optimizer, scheduler, step, log, dev.best, record)
                    save_training_state(state_path, *state)
                saved = step
            bar.update()
    # a phase cut short by its budget is scored where it ended; then keep the best weights
    dev.score_if_due(model, step, step, log)
    dev.keep_best(model, phase, verbose=talk)
    model.eval()
    return log.table()


def prepare(
    model: MultitaskBert,
    train_sets: Mapping,
    config: TrainConfig | None,
    phase: str | None,
    progress: bool,
) -> tuple[TrainConfig, str, tuple[int, int], bool]:
    """The phase's settings, checked, with "auto" precision resolved for the model's device
    (bf16 where it has bf16 units); the seeds set; each task checked to have something to
    train. Also the phase's name, (rank, world size), and whether this process reports."""
    config = (config or TrainConfig()).check()
    device = next(model.parameters()).device
    config = replace(config, precision=resolve_precision(config.precision, device))
    phase, (rank, world) = phase or model.mode, distributed()
    set_seed(config.seed)
    check_trainable(model, train_sets)
    check_extensions(model, config, world)
    return config, phase, (rank, world), progress and rank == 0


@contextmanager
def progress_bar(
    phase: str, start: int, total: int, show: bool, where: Callable[[], tuple]
) -> Iterator[tqdm]:
    """The phase's progress bar, closed however the loop ends; says at which step a loss went
    non-finite and, on Ctrl-C, which step is saved (where(): the step, the saved one, the file)."""
    bar = tqdm(total=total, initial=start, desc=phase, disable=not show, unit="step")
    try:
        yield bar
    except FloatingPointError as error:  # say where it happened, not only what
        bar.close()
        raise FloatingPointError(f"{phase} step {where()[0] + 1} of {total}: {error}") from None
    except KeyboardInterrupt:
        bar.close()
        step, saved, state_path = where()
        place = f"step {saved} is saved in {state_path}" if saved else "nothing was saved"
        print(f"\ninterrupted at step {step} of {total}; {place}", file=sys.stderr)
        raise
    bar.close()


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
