"""The history of a training phase: each task's mean loss every few steps, dev scores, its time.

The seed logged one loss every 1000 steps and could not see training move (mistake 8): a row
here is the mean of every loss since the last row, per task, with the learning rate and the
gradient norm, and the table comes back from `train` as a pandas DataFrame.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Mapping

import numpy as np
import pandas as pd


class TrainingLog:
    """The history table: each task's mean loss every `log_every` steps, and dev scores."""

    def __init__(self, phase: str, steps_per_epoch: int, log_every: int, on_log=None) -> None:
        self.phase, self.steps_per_epoch, self.log_every, self.on_log = (
            phase,
            steps_per_epoch,
            log_every,
            on_log,
        )
        self.rows: list[dict] = []
        self.pending: dict[str, list[float]] = defaultdict(list)  # losses since the last row

    def add_losses(self, step, total, losses: Mapping[str, float], lr, grad_norm, bar) -> None:
        for task, loss in losses.items():
            self.pending[task].append(loss)
        if step % self.log_every and step != total:
            return
        for task, values in self.pending.items():
            self.rows.append(
                dict(
                    phase=self.phase,
                    step=step,
                    epoch=step / self.steps_per_epoch,
                    task=task,
                    loss=float(np.mean(values)),
                    lr=lr,
                    grad_norm=grad_norm,
                )
            )
        bar.set_postfix({t: f"{np.mean(v):.3f}" for t, v in self.pending.items()})
        self.pending.clear()
        if self.on_log is not None:
            self.on_log(self.table())

    def add_dev(self, step: int, scores: Mapping[str, float]) -> Mapping[str, float]:
        self.rows += [
            dict(phase=self.phase, step=step, epoch=step / self.steps_per_epoch, task=t, dev=v)
            for t, v in scores.items()
        ]
        return scores

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows)

    def state_dict(self) -> dict:
        return {"history": self.rows, "pending": dict(self.pending)}

    def load_state_dict(self, state: Mapping) -> None:
        self.rows = list(state["history"])
        self.pending = defaultdict(list, state["pending"])


class PhaseClock:
    """A phase's time: the plan, an estimate measured on its first steps, and its budget."""

    MEASURE = 10  # steps timed before estimating the rest

    def __init__(self, phase: str, start: int, total: int, budget_minutes, say: bool) -> None:
        self.phase, self.start, self.total, self.say = phase, start, total, say
        self.budget = budget_minutes * 60 if budget_minutes else math.inf
        self.started = time.perf_counter()
        if say:
            print(
                f"{phase}: {total - start:,} steps planned"
                + (f", at most {budget_minutes:g} min" if budget_minutes else "")
            )

    def out_of_time(self, step: int) -> bool:
        """Whether the budget is spent; says the estimate once the first steps are timed."""
        elapsed = time.perf_counter() - self.started
        if self.say and step == self.start + self.MEASURE and step < self.total:
            rest = elapsed / self.MEASURE * (self.total - step)
            print(
                f"{self.phase}: {self.MEASURE} steps took {elapsed:.1f} s; the other "
                f"{self.total - step:,} take about {rest / 60:.1f} min on this machine"
            )
        if elapsed < self.budget:
            return False
        if self.say:
            print(
                f"{self.phase}: the {self.budget / 60:g} min budget is spent after "
                f"{step - self.start:,} of {self.total - self.start:,} steps"
            )
        return True
