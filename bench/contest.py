"""What a benchmark run against a peer is: its settings, its result, its step clock, its score.

Shared by bench.peers (transformers' Trainer, sentence-transformers) and bench.peer_comparison
(mtlab's own runs timed the same way); nothing here needs the peers' optional packages.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from mtlab.encoder import default_model_path
from mtlab.evaluation.predictions import score
from mtlab.tasks import get_task

PRECISIONS = ("fp32", "bf16")
TRAINER_TASKS = ("sst", "quora")  # classes: a classification head on the encoder
SENTENCE_TRANSFORMERS_TASKS = ("sts", "quora")  # pairs: one vector per sentence, compared


@dataclass(frozen=True)
class PeerConfig:
    """What every contestant shares: mtlab's bench settings, checked before anything loads."""

    steps: int = 20  # timed optimizer steps (the bench's finetune steps)
    untimed_steps: int = 3  # steps first, not timed: first-batch allocations and set-up
    batch_size: int = 32  # mtlab's TrainConfig default
    lr: float = 2e-5  # mtlab's finetune rate in the bench
    precision: str = "fp32"  # "bf16": autocast, as mtlab's --precision bf16
    budget_seconds: float | None = None  # stop training here, whatever steps are left
    seed: int = 0
    model_path: str | Path | None = None  # None: mtlab's packaged all-MiniLM-L6-v2 folder
    threshold_rows: int = 1000  # Quora bi-encoder: training pairs its threshold is picked on

    def check(self) -> PeerConfig:
        """Refuse a setting that would fail late or measure nothing, naming the field."""
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        for name, least in (
            ("steps", 1),
            ("untimed_steps", 0),
            ("batch_size", 1),
            ("threshold_rows", 1),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ValueError(f"{name} must be a whole number >= {least}, got {value!r}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be a finite number > 0, got {self.lr!r}")
        if self.budget_seconds is not None and not self.budget_seconds > 0:
            raise ValueError(f"budget_seconds must be > 0, got {self.budget_seconds!r}")
        return self

    @property
    def max_steps(self) -> int:
        return self.untimed_steps + self.steps

    @property
    def folder(self) -> str:
        """The encoder folder every contestant loads (mtlab's own by default)."""
        return str(self.model_path or default_model_path())


@dataclass
class PeerRun:
    """One contestant's run on one task (or, for mtlab multitask, several)."""

    peer: str  # who trained: "transformers Trainer", "sentence-transformers", "mtlab"
    tasks: tuple[str, ...]
    scores: dict[str, float]  # dev score per task (accuracy, or Pearson r for STS)
    steps: int  # optimizer steps taken
    seconds: float  # wall time of the training call, its set-up included; loading, scoring not
    examples_per_second: float  # sentences (SST) or pairs, over the timed steps only
    batch_size: int  # as the library itself reports it
    model_path: str  # the folder its weights were loaded from, as the library reports it
    notes: dict = field(default_factory=dict)  # e.g. the Quora threshold


def scored(task: str, predictions: pd.DataFrame, notes: dict) -> float:
    """The task's dev score; for classes, notes also get how often the commonest guess is made.

    A share near 1.0 means one class for (almost) every dev row: a short run that has not
    yet left the constant guess, whatever its accuracy.
    """
    if get_task(task).is_classification:
        share = predictions["prediction"].value_counts(normalize=True).iloc[0]
        notes[f"{task} top class share"] = float(share)
    return score(task, predictions)


class StepClock:
    """The time at the end of every optimizer step; says when a budget is spent."""

    def __init__(self, untimed_steps: int, budget_seconds: float | None = None) -> None:
        self.untimed, self.budget = untimed_steps, budget_seconds or math.inf
        self.started = time.perf_counter()
        self.ends: list[float] = []

    def start(self) -> None:
        self.started, self.ends = time.perf_counter(), []

    def tick(self) -> bool:
        """Record a finished step; True once the budget is spent."""
        self.ends.append(time.perf_counter())
        return self.ends[-1] - self.started >= self.budget

    def examples_per_second(self, batch_size: int) -> float:
        """Examples per second over the steps after the untimed ones (all steps if too few)."""
        skip = self.untimed if len(self.ends) > self.untimed else 0
        begin = self.ends[skip - 1] if skip else self.started
        steps = len(self.ends) - skip
        return steps * batch_size / (self.ends[-1] - begin) if steps else 0.0
