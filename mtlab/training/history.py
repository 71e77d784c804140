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
    """A phase's time: the plan, an estimate measured on its own steps, its budget, the total.

    The first steps of a phase cost more than the rest (kernels for new shapes, caches that
    fill), so the estimate skips the first 5% of the steps (at least 2) and times the next 5%
    (at least 16: one finetune batch of long sentences costs several of short ones, and a few
    steps are a lottery), leaving out the time spent aside (`aside.seconds`: DevScoring's
    time scoring dev), and prices the rest at that rate. At the end it says what the steps
    took.
    """

    MEASURE = 16  # the estimate is timed on at least this many steps (5% on longer phases)

    def __init__(
        self, phase: str, start: int, total: int, budget_minutes, say: bool, aside=None
    ) -> None:
        self.phase, self.start, self.total, self.say = phase, start, total, say
        self.aside = (lambda: aside.seconds) if aside is not None else (lambda: 0.0)
        self.budget = budget_minutes * 60 if budget_minutes else math.inf
        steps = total - start
        self.warm = start + max(2, steps // 20)  # steps before the timed ones
        self.report = self.warm + max(self.MEASURE, steps // 20)  # when the estimate is said
        self.started = time.perf_counter()
        self.warmed = (self.started, 0.0)  # (clock, aside seconds) when the timed steps began
        if say:
            print(
                f"{phase}: {steps:,} steps planned"
                + (f", at most {budget_minutes:g} min" if budget_minutes else "")
            )

    def steps_seconds(self, since: tuple[float, float]) -> float:
        """Seconds spent in training steps since `since`, time spent aside left out."""
        return time.perf_counter() - since[0] - (self.aside() - since[1])

    def finished(self, step: int) -> bool:
        """Whether the phase is over: all steps done, or the budget spent (then it says so)."""
        if step == self.warm:
            self.warmed = (time.perf_counter(), self.aside())
        if self.say and step == self.report and step < self.total:
            seconds, timed = self.steps_seconds(self.warmed), step - self.warm
            rest = seconds / timed * (self.total - step)
            print(
                f"{self.phase}: {timed} steps took {seconds:.1f} s; the other "
                f"{self.total - step:,} take about {duration(rest)} on this machine"
                + (" (dev scoring not counted)" if self.aside() else "")
            )
        if step >= self.total:
            self.say_total(step)
            return True
        if time.perf_counter() - self.started < self.budget:
            return False
        if self.say:
            print(
                f"{self.phase}: the {self.budget / 60:g} min budget is spent after "
                f"{step - self.start:,} of {self.total - self.start:,} steps"
            )
        return True

    def say_total(self, step: int) -> None:
        """What the steps took in all, and the time spent aside, to read against the estimate."""
        if self.say and step > self.report:
            steps = self.steps_seconds((self.started, 0.0))
            print(
                f"{self.phase}: {step - self.start:,} steps took {duration(steps)}"
                + (f", dev scoring {duration(self.aside())}" if self.aside() else "")
            )


def duration(seconds: float) -> str:
    """Seconds under a minute and a half, minutes above: '0.3 min' could be 15 s or 21 s."""
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"
