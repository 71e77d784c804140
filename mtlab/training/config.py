"""The settings of one training phase, checked before any work starts."""

from __future__ import annotations

import math
from dataclasses import dataclass

from mtlab.extensions.surgery import SURGERIES

PRECISIONS = ("fp32", "bf16", "auto")  # auto: bf16 where the hardware has bf16 units


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
    surgery: str | None = (
        None  # combine the tasks' encoder gradients (mtlab.extensions.surgery); None = sum
    )
    smart: float = 0.0  # weight of the SMART penalty (mtlab.extensions.smart); 0 = off

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
        if not 0 <= self.warmup < 1:
            raise ValueError(
                f"warmup is the share of the steps with a rising learning rate, in [0, 1); "
                f"got {self.warmup} (0.1: the first tenth of the steps)"
            )
        for name in ("lr", "weight_decay", "warmup", "grad_clip"):
            if not math.isfinite(getattr(self, name)) or getattr(self, name) < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {getattr(self, name)}")
        if self.budget_minutes is not None and not self.budget_minutes > 0:
            raise ValueError(f"budget_minutes must be > 0, got {self.budget_minutes}")
        for name in ("epochs", "batch_size", "log_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        return self
