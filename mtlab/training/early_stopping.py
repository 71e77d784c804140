"""Early stopping: score dev during training and end with the weights that scored best.

Dev is scored every `eval_every` epochs (`TrainConfig`); `BestOnDev` remembers the best
weights so far. In pretrain each head keeps its own best step; in finetune, where every
head depends on the shared encoder, the whole model keeps the step with the best mean.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping

import numpy as np
import torch

from mtlab.evaluation.predictions import evaluate
from mtlab.model import MultitaskBert


class DevScoring:
    """Score dev every `eval_every` epochs during training; keep the best weights (BestOnDev)."""

    def __init__(self, dev_sets, config, steps_per_epoch: int, per_head: bool) -> None:
        self.dev_sets, self.keep = dev_sets, config.keep_best
        on = dev_sets is not None and config.eval_every is not None
        self.interval = config.eval_every * steps_per_epoch if on else math.inf  # maybe fractional
        self.best = BestOnDev(per_head)
        self.last = 0  # the step dev was last scored at
        self.seconds = 0.0  # spent scoring dev, for the phase's clock

    def score_if_due(self, model: MultitaskBert, step: int, total: int, log) -> None:
        """At the first step past each interval mark, and at the last step."""
        if self.interval == math.inf or step == self.last:
            return
        if step // self.interval > (step - 1) // self.interval or step == total:
            started, self.last = time.perf_counter(), step
            self.best.update(model, step, log.add_dev(step, evaluate(model, self.dev_sets)))
            model.train()
            self.seconds += time.perf_counter() - started

    def keep_best(self, model: MultitaskBert, phase: str, verbose: bool) -> None:
        if self.interval == math.inf or not self.keep:
            return
        self.best.restore(model)
        if verbose:
            print(f"{phase}: kept the best dev scores: {self.best.describe()}")


class BestOnDev:
    """Early stopping's memory: the weights that scored best on dev so far.

    In pretrain the encoder is frozen and the heads share nothing, so each head keeps its
    own best step. In finetune every head depends on the shared encoder, so the whole
    model keeps the step with the best mean dev score.
    """

    def __init__(self, per_head: bool) -> None:
        self.per_head = per_head
        self.scores: dict[str, float] = {}  # task (or "mean") -> best score so far
        self.steps: dict[str, int] = {}
        self.states: dict[str, dict] = {}

    def update(self, model: MultitaskBert, step: int, scores: Mapping[str, float]) -> None:
        candidates = scores if self.per_head else {"mean": float(np.mean(list(scores.values())))}
        for key, value in candidates.items():
            if value > self.scores.get(key, -np.inf):
                self.scores[key], self.steps[key] = value, step
                state = self._module(model, key).state_dict()
                self.states[key] = {name: t.detach().clone() for name, t in state.items()}

    def restore(self, model: MultitaskBert) -> None:
        for key, state in self.states.items():
            self._module(model, key).load_state_dict(state)

    def describe(self) -> str:
        return ", ".join(f"{k} {self.scores[k]:.3f} at step {self.steps[k]}" for k in self.scores)

    def _module(self, model: MultitaskBert, key: str) -> torch.nn.Module:
        return model.heads[key] if self.per_head else model

    def state_dict(self) -> dict:
        return {"scores": self.scores, "steps": self.steps, "states": self.states}

    def load_state_dict(self, state: dict) -> None:
        self.scores, self.steps, self.states = state["scores"], state["steps"], state["states"]
