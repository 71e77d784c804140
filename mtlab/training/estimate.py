"""How long will this run take here? Timed on a few of its own steps before it starts.

`python -m mtlab` prints the estimate before any real work. A throwaway copy of the model
warms up for two seconds, then encodes a few chunks of the run's sentences, trains a few
steps of each phase on the run's own batches (the first two untimed; the timed ones spread
over the epoch's short and long steps), saves each phase's training state, and predicts a
few batches of dev. Each timed piece runs twice and only the second run counts: the first
run of a new shape pays one-off costs (kernel choice, memory) that the real run pays once
per shape over hundreds of steps (without this, the estimate priced the default run a
third too long: results/estimate-pairs-xeon). That prices encoding, a finetune step and
predicting per character of text, a pretrain step (heads on cached vectors) per step, and
a checkpoint per save. The run's own counts do the rest: the sentences the feature cache
still lacks, each phase's steps and saves, how often dev is scored, the dev and test rows
to predict. Each phase checks the estimate again after its first steps
(mtlab.training.history.PhaseClock).
"""

from __future__ import annotations

import copy
import functools
import math
import random
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch
from torch.utils.data import Subset

from mtlab.batching import MultitaskBatches, text_length
from mtlab.data.datasets import all_sentences
from mtlab.evaluation.predictions import run_model
from mtlab.feature_cache import FeatureCache
from mtlab.model import MultitaskBert
from mtlab.runtime import describe_cpu, resolve_precision
from mtlab.training.config import TrainConfig
from mtlab.training.loop import training_step
from mtlab.training.optimizer import make_optimizer
from mtlab.training.steps import multitask_batches, phase_length, tasks_per_step, training_steps

UNTIMED, TIMED = 2, 8  # steps (or chunks of sentences): the first ones warm the kernels up
WARM_UP = 2.0  # seconds of untimed work before the first timed piece
PRETRAIN_TIMED = 32  # a pretrain step takes milliseconds: more of them, for a steadier rate


@dataclass(frozen=True)
class Rates:
    """Seconds on this machine, measured on the run's own data."""

    encode: float  # per character: the frozen encoder filling the feature cache
    pretrain_step: float  # per step: the heads on cached vectors
    finetune: float  # per character of a finetune step's text: forward, backward, optimizer
    score: float = 0.0  # per character of dev or test text: the whole model predicting
    saves: Mapping[str, float] = field(default_factory=dict)  # phase -> seconds per checkpoint


def measure_rates(
    model: MultitaskBert, phases: Mapping[str, tuple[TrainConfig, Mapping]], dev_sets: Mapping
) -> Rates:
    """Time a copy of the model: encoding, a few steps and a checkpoint of each phase, then
    scoring a few batches of dev; the model is untouched."""
    cache, model.feature_cache = model.feature_cache, None  # not copied: it can be large
    try:
        twin = copy.deepcopy(model)
    finally:
        model.feature_cache = cache
    sentences = [s for _config, sets in phases.values() for s in all_sentences(sets)]
    encode, pretrain_step, finetune, saves = time_encoding(twin, sentences), 0.0, 0.0, {}
    if "pretrain" in phases:
        seconds, _chars = time_steps(twin, *phases["pretrain"], "pretrain", PRETRAIN_TIMED)
        pretrain_step, saves["pretrain"] = (
            seconds / PRETRAIN_TIMED,
            time_checkpoint(twin, phases["pretrain"][0]),
        )
    if "finetune" in phases:
        seconds, chars = time_steps(twin, *phases["finetune"], "finetune")
        finetune, saves["finetune"] = (
            seconds / max(1, chars),
            time_checkpoint(twin, phases["finetune"][0]),
        )
    score = time_scoring(twin, dev_sets) if dev_sets else encode
    return Rates(encode, pretrain_step, finetune, score, saves)


def time_encoding(twin: MultitaskBert, sentences: list[str], chunk: int = 64) -> float:
    """Seconds per character for the frozen encoder on chunks of similar-length sentences.

    The feature cache encodes all sentences sorted by length, so a chunk wastes little on
    padding; random chunks of the length-sorted sentences price that, short and long alike.
    """
    ordered = sorted(set(sentences), key=lambda s: (len(s), s))
    rng = random.Random(0)
    starts = [rng.randrange(max(1, len(ordered) - chunk)) for _ in range(UNTIMED + TIMED)]
    twin.set_mode("pretrain")
    warm_up(twin, ordered[-chunk:])
    seconds, chars = 0.0, 0
    for i, start in enumerate(starts):
        part = ordered[start : start + chunk]
        encode = functools.partial(encode_afresh, twin, part)
        if i < UNTIMED:
            encode()
        else:
            seconds += second_run(encode)
            chars += sum(len(s) for s in part)
    return seconds / max(1, chars)


def encode_afresh(twin: MultitaskBert, sentences: list[str]) -> None:
    """Encode `sentences` into a new in-memory cache: these vectors only, none reused."""
    twin.feature_cache = FeatureCache()
    twin.feature_cache.warm(twin.encoder, sentences, progress=False)


def second_run(work) -> float:
    """Seconds of `work`'s second run: the first run of a new shape pays one-off costs
    (kernel choice, memory) that the real run pays once per shape, over hundreds of steps."""
    work()
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def warm_up(twin: MultitaskBert, sentences: list[str], seconds: float = WARM_UP) -> None:
    """Encode `sentences` over and over for `seconds`, untimed, before anything is timed.

    The first second or two of work in a fresh process runs slow (threads start, caches
    fill): without this, whichever piece came first was priced far too high.
    """
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        encode_afresh(twin, sentences)


def time_scoring(twin: MultitaskBert, dev_sets: Mapping, chunk: int = 64) -> float:
    """Seconds per character for the finetuned model predicting (dev scoring, predictions).

    run_model batches rows of similar length in tokens, so the timed rows are runs of `chunk`
    neighbours in that order, at the middle of each quarter of each task's dev set, predicted
    in one call (as run_model is called once per task). Rows picked by their length in
    characters instead would pad more than run_model does, and price scoring too high. Each
    task's rate counts as much as its share of the dev text.
    """
    twin.set_mode("finetune")
    seconds, total = 0.0, 0
    for task, dataset in dev_sets.items():
        lengths = twin.example_lengths(task, dataset)
        order = sorted(range(len(dataset)), key=lengths.__getitem__)
        rows = [r for j in range(4) for r in order[(2 * j + 1) * len(order) // 8 :][:chunk]]
        part = Subset(dataset, sorted(set(rows)))
        rate = second_run(functools.partial(run_model, twin, task, part)) / max(1, chars(part))
        seconds += rate * chars(dataset)
        total += chars(dataset)
    return seconds / max(1, total)


def time_checkpoint(twin: MultitaskBert, config: TrainConfig) -> float:
    """Seconds to save the phase's training state once: its weights and the optimizer's moments
    (what train writes every `checkpoint_every` steps)."""
    optimizer, _scheduler = make_optimizer(twin, config, 1)
    for parameter in twin.parameters():
        if parameter.requires_grad:
            parameter.grad = torch.zeros_like(parameter)
    optimizer.step()  # AdamW's moments exist now, as in a real checkpoint
    optimizer.zero_grad(set_to_none=True)
    state = {"model": twin.state_dict(), "optimizer": optimizer.state_dict()}
    with tempfile.TemporaryDirectory() as folder:
        return second_run(functools.partial(torch.save, state, Path(folder) / "s.pt"))


def time_steps(
    twin: MultitaskBert, config: TrainConfig, train_sets: Mapping, phase: str, count: int = TIMED
) -> tuple[float, int]:
    """Seconds of `count` timed steps of the phase (after UNTIMED), and their characters.

    A step's time varies with its task and its batch's length (0.3 to 2.7 s for a finetune
    step on a 2-core CPU). The run's first steps are a lottery: on the course data they priced
    the finetune at 0.9 to 1.5 times its cost, depending on the seed. So the timed steps are
    the epoch's own steps at `count` evenly spaced ranks by characters, short to long.
    """
    config, epoch = phase_epoch(twin, config, train_sets, phase)
    by_length = sorted(epoch, key=step_chars)
    timed = [by_length[(2 * i + 1) * len(epoch) // (2 * count)] for i in range(count)]
    return time_training(twin, config, [*epoch[:UNTIMED], *timed], UNTIMED)


def phase_epoch(
    twin: MultitaskBert, config: TrainConfig, train_sets: Mapping, phase: str
) -> tuple[TrainConfig, list[dict]]:
    """Set the twin up for the phase (an empty in-memory cache); return the config with its
    precision resolved as `train` resolves it, and one epoch's steps in the run's order."""
    twin.set_mode(phase)
    twin.feature_cache = FeatureCache()
    config = replace(
        config, precision=resolve_precision(config.precision, next(twin.parameters()).device)
    )
    together = tasks_per_step(train_sets, config)
    return config, list(training_steps(multitask_batches(train_sets, config, twin), 1, together))


def time_training(
    twin: MultitaskBert, config: TrainConfig, steps: list[dict], untimed: int
) -> tuple[float, int]:
    """Train the twin on `steps` in order: seconds and characters of all but the first `untimed`,
    each of those run twice and timed the second time (a shape's first run pays one-off costs)."""
    optimizer, scheduler = make_optimizer(twin, config, 2 * len(steps))  # timed steps run twice
    twin.train()
    seconds, chars = 0.0, 0
    for i, batches in enumerate(steps):
        if twin.encoder.frozen:  # pretrain: the vectors come from the cache, not timed here
            twin.feature_cache.warm(twin.encoder, step_texts(batches), progress=False)
        step = functools.partial(training_step, twin, batches, optimizer, scheduler, config)
        if i < untimed:
            step()
        else:
            seconds += second_run(step)
            chars += step_chars(batches)
    return seconds, chars


def step_texts(batches: Mapping) -> list[str]:
    """Every sentence a step encodes (both sides of each pair)."""
    return [
        s
        for b in batches.values()
        for key in ("sentences", "sentences1", "sentences2")
        for s in b.get(key, [])
    ]


def step_chars(batches: Mapping) -> int:
    """Characters of text in a step."""
    return sum(len(s) for s in step_texts(batches))


def phase_plan(train_sets: Mapping, config: TrainConfig) -> tuple[int, int, float]:
    """A phase's steps and steps per epoch (as `train` counts them), and its characters per step."""
    sizes = {task: math.ceil(len(ds) / config.batch_size) for task, ds in train_sets.items()}
    order = MultitaskBatches(
        {task: range(n) for task, n in sizes.items()}, config.schedule, seed=config.seed
    ).task_order()
    steps, per_epoch = phase_length(len(order), tasks_per_step(train_sets, config), config)
    per_example = {task: chars(ds) / max(1, len(ds)) for task, ds in train_sets.items()}
    if config.surgery:  # every task in every step
        per_step = sum(per_example.values()) * config.batch_size
    else:
        per_step = sum(per_example[task] for task in order) / len(order) * config.batch_size
    return steps, per_epoch, per_step


def chars(dataset) -> int:
    """Characters of text in a dataset (both sentences of a pair)."""
    return sum(text_length(example) for example in dataset)


def scorings(steps: int, per_epoch: int, config: TrainConfig) -> int:
    """How often DevScoring scores dev in a phase: at each interval mark, and at the end."""
    if config.eval_every is None:
        return 0
    interval = config.eval_every * per_epoch
    marks = int(steps // interval)
    return marks + (0 if marks * interval == steps else 1)


def estimate_run(
    model: MultitaskBert,
    phases: Mapping[str, tuple[TrainConfig, Mapping]],
    dev_sets: Mapping,
    test_sets: Mapping,
    new_chars: int,
) -> list[tuple[str, float]]:
    """(what, seconds) for the phases to run, dev scoring, and the dev and test predictions.

    phases: {"pretrain" / "finetune": (config, train_sets)}, those still to run, in order;
    new_chars: characters of the sentences the frozen encoder must still encode (not cached).
    """
    rates = measure_rates(model, phases, dev_sets)
    device = next(model.parameters()).device
    dev_chars = sum(chars(ds) for ds in dev_sets.values())
    lines = []
    for phase, (config, train_sets) in phases.items():
        steps, per_epoch, per_step = phase_plan(train_sets, config)
        budget = config.budget_minutes * 60 if config.budget_minutes else math.inf
        if phase == "pretrain":
            lines.append(
                (
                    "pretrain: encode the sentences not in the feature cache",
                    new_chars * rates.encode,
                )
            )
            lines.append(
                (
                    f"pretrain: {steps:,} steps of the heads (dev from the cache)",
                    min(budget, steps * rates.pretrain_step + saving(steps, config, rates, phase)),
                )
            )
            continue
        precision = resolve_precision(config.precision, device)
        extras = "".join(
            [
                ", SMART" if config.smart else "",
                f", surgery {config.surgery}" if config.surgery else "",
            ]
        )
        lines.append(
            (
                f"{phase}: {steps:,} steps in {precision}{extras}",
                min(
                    budget, steps * per_step * rates.finetune + saving(steps, config, rates, phase)
                ),
            )
        )
        times = scorings(steps, per_epoch, config) if dev_sets else 0
        lines.append(
            (
                f"{phase}: dev scored {times} times during training, once after",
                (times + 1) * dev_chars * rates.score,
            )
        )
    test_chars = sum(chars(ds) for ds in test_sets.values())
    lines.append(("predictions for dev and test", (dev_chars + test_chars) * rates.score))
    return lines


def saving(steps: int, config: TrainConfig, rates: Rates, phase: str) -> float:
    """Seconds a phase spends writing its training state, every `checkpoint_every` steps."""
    if not config.checkpoint_every:
        return 0.0
    return steps // config.checkpoint_every * rates.saves.get(phase, 0.0)


def describe(lines: list[tuple[str, float]]) -> str:
    """One line per part, minutes, and the sum."""
    total = sum(seconds for _what, seconds in lines)
    parts = [f"  {what:<62} {seconds / 60:5.1f} min" for what, seconds in lines]
    return "\n".join([*parts, f"  {'in all, about':<62} {total / 60:5.1f} min"])


def print_estimate(
    phases: dict, model: MultitaskBert, dev_sets: dict, test_sets: dict, sentences: list[str]
) -> None:
    """Print how long the phases still to run should take here, timed as described above.

    sentences: those the pretrain phase encodes unless the feature cache has them.
    """
    if not phases:  # both finished before an interruption: only the predictions are left
        return
    new_chars = 0
    if "pretrain" in phases and model.feature_cache is not None:
        new_chars = sum(
            len(key[0]) for key in model.feature_cache.missing(model.encoder, sentences)
        )
    started = time.perf_counter()
    lines = estimate_run(model, phases, dev_sets, test_sets, new_chars)
    print(
        f"estimated time on this machine ({describe_cpu()}), from steps timed in "
        f"{time.perf_counter() - started:.0f} s:"
    )
    print(describe(lines))
