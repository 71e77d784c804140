"""The benchmark's peer rows: mtlab against the tools a student would pick instead.

`peer_comparison` trains transformers' Trainer and sentence-transformers (bench.peers) and
mtlab on the same rows for the same steps, then each peer alone on its task for the wall time
mtlab's multitask run gets, and returns the table rows `python -m bench --peers` prints.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace

import pandas as pd
import torch

from bench.contest import PeerRun, StepClock, scored
from mtlab.batching import LengthBuckets
from mtlab.encoder import Encoder
from mtlab.evaluation.predictions import run_model
from mtlab.model import MultitaskBert
from mtlab.runtime import set_seed
from mtlab.tasks import TASKS, get_task
from mtlab.training.config import TrainConfig
from mtlab.training.loop import train
from mtlab.training.steps import multitask_batches

# Equal-time runs plan a quarter more steps than their measured step time fits into the
# budget, so that none stops early if the machine runs faster than when it was measured.
PLAN_MARGIN = 1.25


def mtlab_run(train_sets: dict, dev_sets: dict, config, **heads):
    """mtlab's `train` in finetune mode on these tasks, timed step by step like the peers.

    `config` is a `bench.contest.PeerConfig`: the same steps, batch, rate, precision, budget
    and encoder folder the peers get; `heads` picks head variants (paraphrase="cross").
    """
    set_seed(config.seed)
    model = MultitaskBert.from_pretrained(config.model_path, **heads).set_mode("finetune")
    budget = config.budget_seconds / 60 if config.budget_seconds else None
    settings = TrainConfig(
        batch_size=config.batch_size,
        lr=config.lr,
        max_steps=config.max_steps,
        precision=config.precision,
        seed=config.seed,
        log_every=1,
        budget_minutes=budget,
    )
    per_epoch = len(multitask_batches(train_sets, settings))
    settings = replace(settings, epochs=math.ceil(config.max_steps / per_epoch))
    clock = StepClock(config.untimed_steps)
    train(model, train_sets, settings, progress=False, on_log=lambda _history: clock.tick())
    seconds = time.perf_counter() - clock.started
    notes = {task: model.head_config()[task] for task in train_sets}  # the heads trained
    scores = {
        task: scored(task, run_model(model, task, dev_set), notes)
        for task, dev_set in dev_sets.items()
    }
    return PeerRun(
        peer="mtlab",
        tasks=tuple(train_sets),
        scores=scores,
        steps=len(clock.ends),
        seconds=seconds,
        examples_per_second=clock.examples_per_second(settings.batch_size),
        batch_size=settings.batch_size,
        model_path=config.folder,
        notes=notes,
    )


def _ratio(top: float, bottom: float) -> float:
    return top / bottom if bottom else math.nan


def padding(train_set, folder: str, batch_size: int, seed: int = 0) -> tuple[float, float]:
    """Token slots per real token in one epoch's batches: (the Trainer's, mtlab's).

    Both sort by tokens: the Trainer's `LengthGroupedSampler` in pools of 50 batches with the
    longest batch first, mtlab's `LengthBuckets` in pools of 50 batches (`train` gives them
    `MultitaskBert.example_lengths`). Each batch is padded to its longest row, so every extra
    slot is work that changes nothing. The README ("Against the tools a student would pick
    instead") has what this row measured, and how it explained mtlab's lower rate when mtlab
    sorted by characters.
    """
    from transformers.trainer_pt_utils import LengthGroupedSampler

    lengths = Encoder.from_pretrained(folder).token_lengths([e["sentence"] for e in train_set])

    def slots_per_token(batches) -> float:
        return sum(len(b) * max(lengths[i] for i in b) for b in batches) / sum(lengths)

    order = list(
        LengthGroupedSampler(
            batch_size, lengths=lengths, generator=torch.Generator().manual_seed(seed)
        )
    )
    theirs = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    ours = list(LengthBuckets(lengths, batch_size, seed))
    return slots_per_token(theirs), slots_per_token(ours)


def seconds_per_step(run) -> float:
    return run.batch_size / run.examples_per_second


# What a table row compares: the ratio of times (and of padding) is the peer's over mtlab's, how
# many times less mtlab takes; of rates and scores it is mtlab's over the peer's.
RATE, SECONDS, SCORE = "rate", "seconds", "score"


def same_step_runs(same_steps: dict, dev: dict, config) -> dict:
    """Each peer and mtlab on the same rows of one task for `config.max_steps` steps."""
    from bench import peers

    def one(task):
        return {task: same_steps[task]}, {task: dev[task]}

    return {
        "Trainer sst": peers.trainer_finetune("sst", same_steps["sst"], dev["sst"], config),
        "mtlab sst": mtlab_run(*one("sst"), config),
        "Trainer quora": peers.trainer_finetune("quora", same_steps["quora"], dev["quora"], config),
        "mtlab quora cross": mtlab_run(*one("quora"), config, paraphrase="cross"),
        "ST sts": peers.sentence_transformers_finetune(
            "sts", same_steps["sts"], dev["sts"], config
        ),
        "mtlab sts": mtlab_run(*one("sts"), config),
        "ST quora": peers.sentence_transformers_finetune(
            "quora", same_steps["quora"], dev["quora"], config
        ),
        "mtlab quora": mtlab_run(*one("quora"), config),
    }


def within_budget(config, budget_seconds: float, step_seconds: float):
    """`config` with the steps that fit `budget_seconds` at this step time, PLAN_MARGIN more."""
    steps = max(1, int(PLAN_MARGIN * budget_seconds / step_seconds))
    return replace(
        config,
        untimed_steps=min(config.untimed_steps, steps - 1),
        steps=steps - min(config.untimed_steps, steps - 1),
        budget_seconds=budget_seconds,
    )


def equal_time_runs(runs: dict, equal_time: dict, dev: dict, config, budget_seconds: float):
    """mtlab on all tasks, then each peer on its task alone, each for `budget_seconds`.

    Each plans its steps from its own step time in `runs`, the same-step runs.
    """
    from bench import peers

    multitask_step = sum(seconds_per_step(runs[f"mtlab {t}"]) for t in TASKS) / len(TASKS)
    multitask = within_budget(config, budget_seconds, multitask_step)
    found = {"mtlab multitask": mtlab_run(equal_time, dev, multitask)}
    for name, task, finetune in (
        ("Trainer", "sst", peers.trainer_finetune),
        ("Trainer", "quora", peers.trainer_finetune),
        ("ST", "sts", peers.sentence_transformers_finetune),
        ("ST", "quora", peers.sentence_transformers_finetune),
    ):
        budget = within_budget(config, budget_seconds, seconds_per_step(runs[f"{name} {task}"]))
        found[f"{name} {task} alone"] = finetune(task, equal_time[task], dev[task], budget)
    return found


def same_step_rows(r: dict, config) -> list[tuple]:
    """Rows (figure, kind, peer, mtlab) of the same-step runs: rate or time, then dev score."""
    after = f"after {config.max_steps} steps"
    return [
        (
            f"Trainer vs mtlab: SST sentences/s ({config.untimed_steps} untimed + {config.steps} "
            "timed steps)",
            RATE,
            r["Trainer sst"].examples_per_second,
            r["mtlab sst"].examples_per_second,
        ),
        (f"  SST dev accuracy {after}", SCORE, *dev_scores(r, "Trainer sst", "mtlab sst", "sst")),
        (
            f"Trainer cross-encoder vs mtlab cross head: Quora training s, {config.max_steps} steps",
            SECONDS,
            r["Trainer quora"].seconds,
            r["mtlab quora cross"].seconds,
        ),
        (
            f"  Quora dev accuracy {after}",
            SCORE,
            *dev_scores(r, "Trainer quora", "mtlab quora cross", "quora"),
        ),
        (
            f"sentence-transformers CoSENT vs mtlab: STS training s, {config.max_steps} steps",
            SECONDS,
            r["ST sts"].seconds,
            r["mtlab sts"].seconds,
        ),
        (f"  STS dev Pearson r {after}", SCORE, *dev_scores(r, "ST sts", "mtlab sts", "sts")),
        (
            f"sentence-transformers OnlineContrastive vs mtlab: Quora training s, "
            f"{config.max_steps} steps",
            SECONDS,
            r["ST quora"].seconds,
            r["mtlab quora"].seconds,
        ),
        (
            f"  Quora dev accuracy {after} (threshold from train)",
            SCORE,
            *dev_scores(r, "ST quora", "mtlab quora", "quora"),
        ),
    ]


def dev_scores(runs: dict, peer: str, ours: str, task: str) -> tuple[float, float]:
    """The dev scores on `task` of two runs: the peer's, mtlab's."""
    return runs[peer].scores[task], runs[ours].scores[task]


def equal_time_rows(r: dict, budget_seconds: float) -> list[tuple]:
    """Rows (figure, kind, peer alone, mtlab multitask) of the equal-time runs' dev scores."""
    multitask, minutes = r["mtlab multitask"].scores, budget_seconds / 60
    return [
        (
            f"equal time ({minutes:g} min): SST dev, Trainer alone vs mtlab multitask",
            SCORE,
            r["Trainer sst alone"].scores["sst"],
            multitask["sst"],
        ),
        (
            "  Quora dev, Trainer cross-encoder alone vs mtlab multitask",
            SCORE,
            r["Trainer quora alone"].scores["quora"],
            multitask["quora"],
        ),
        (
            "  Quora dev, sentence-transformers alone vs mtlab multitask",
            SCORE,
            r["ST quora alone"].scores["quora"],
            multitask["quora"],
        ),
        (
            "  STS dev, sentence-transformers alone vs mtlab multitask",
            SCORE,
            r["ST sts alone"].scores["sts"],
            multitask["sts"],
        ),
    ]


def with_ratios(rows: list[tuple]) -> list[tuple]:
    """(figure, peer, mtlab, ratio): the ratio each row's kind asks for (RATE, SECONDS, SCORE)."""
    return [
        (figure, peer, ours, _ratio(peer, ours) if kind == SECONDS else _ratio(ours, peer))
        for figure, kind, peer, ours in rows
    ]


def peer_comparison(same_steps: dict, equal_time: dict, dev: dict, config, budget_seconds: float):
    """Table rows (figure, peer, mtlab, ratio) and every run, mtlab's and the peers'.

    same_steps: per task, the rows of one epoch of `config.max_steps` batches, trained by
    every contestant. equal_time: per task, the rows for the equal wall-clock runs, where
    mtlab trains all three tasks together and each peer its own task alone; each plans its
    learning-rate schedule from its own step time measured here (PLAN_MARGIN more steps
    than fit) and stops at `budget_seconds`.
    """
    runs = same_step_runs(same_steps, dev, config)
    runs.update(equal_time_runs(runs, equal_time, dev, config, budget_seconds))
    padded = (
        "padded / real tokens of the SST rows' batches: Trainer vs mtlab (both by tokens)",
        SECONDS,
        *padding(same_steps["sst"], config.folder, config.batch_size),
    )
    rows = [*same_step_rows(runs, config), *equal_time_rows(runs, budget_seconds), padded]
    return with_ratios(rows), runs


def constant_guess(dev: dict) -> dict[str, float]:
    """Accuracy of always guessing the commonest class, per classification task on these rows."""
    guesses = {}
    for task, dataset in dev.items():
        if get_task(task).is_classification:
            labels = pd.Series([dataset[i]["label"] for i in range(len(dataset))])
            guesses[task] = float(labels.value_counts(normalize=True).iloc[0])
    return guesses


def describe_runs(runs: dict) -> str:
    """One line per run: steps, seconds, rate, and what the peer chose (loss, threshold)."""
    lines = []
    for name, run in runs.items():
        notes = ", ".join(
            f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in run.notes.items()
        )
        lines.append(
            f"  {name:20} {run.steps:4} steps {run.seconds:7.1f} s "
            f"{run.examples_per_second:7.1f} examples/s  {notes}"
        )
    return "\n".join(lines)
