"""What each finetune extension costs on this machine: seconds per batch against the defaults.

`python -m bench --extensions` adds these rows. Every option trains the same rows of
the three tasks from the same start, a few untimed steps first; a step of the defaults trains
one batch of one task, a surgery step one batch of every task, so the figure is per batch.
Every row runs in float32 unless it says otherwise, so that the bf16 row shows what bfloat16
alone buys. The scores of the options come from `scripts/ablate_finetune.py` (README).
"""

from __future__ import annotations

import time
from dataclasses import replace

from bench.extension_table import EXTENSIONS
from mtlab.experiment import finetune_defaults
from mtlab.model import MultitaskBert
from mtlab.runtime import set_seed
from mtlab.tasks import TASKS
from mtlab.training.loop import train

# the extensions (bench.extension_table) that change what a finetune step computes or how fast
TIMED = ("cosent", "mnrl", "llrd+head_lr", "smart", "sum", "pcgrad", "upgrad", "bf16")


def seconds_per_batch(
    train_sets: dict,
    heads: dict,
    options: dict,
    steps: int,
    *,
    untimed: int = 2,
    seed: int = 0,
    encoder: str | None = None,
) -> float:
    """Mean seconds per training batch over `steps` timed steps, after `untimed` ones."""
    set_seed(seed)
    model = MultitaskBert.from_pretrained(encoder, **heads).set_mode("finetune")
    ends: list[float] = []
    # epochs: enough that max_steps, not the end of the data, ends the run (a step >= a batch)
    config = replace(
        finetune_defaults(),
        seed=seed,
        epochs=untimed + steps,
        max_steps=untimed + steps,
        log_every=1,
        eval_every=None,
        checkpoint_every=None,
        **{"precision": "fp32", **options},
    )
    train(
        model,
        train_sets,
        config,
        progress=False,
        on_log=lambda _history: ends.append(time.perf_counter()),
    )
    batches_per_step = len(TASKS) if options.get("surgery") else 1
    return (ends[-1] - ends[untimed - 1]) / (len(ends) - untimed) / batches_per_step


def extension_rows(train_sets: dict, steps: int, encoder: str | None = None) -> list[tuple]:
    """Bench rows (figure, defaults, option, option / defaults) in seconds per batch."""
    times = {
        name: seconds_per_batch(
            train_sets, EXTENSIONS[name].heads, EXTENSIONS[name].train, steps, encoder=encoder
        )
        for name in ("defaults", *TIMED)
    }
    base = times.pop("defaults")
    return [
        (
            f"  s per finetune batch: defaults vs {EXTENSIONS[name].flags}",
            base,
            seconds,
            seconds / base,
        )
        for name, seconds in times.items()
    ]
