"""How close is the run estimate's price of a finetune step? Against one whole epoch, timed.

    MTLAB_DATA_DIR=../shared/data HF_HUB_OFFLINE=1 python scripts/estimate_accuracy.py --json results/estimate-accuracy/results.json

`mtlab.training.estimate` times a few steps and prices the rest by their characters. This measures,
on the run's own data and seed, the seconds per step it predicts (`--repeats` times) against
the mean of every step of one finetune epoch, and beside it the baseline it replaced: the
same price from the run's first steps (two untimed, eight timed), as the estimate did before.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
from dataclasses import replace
from pathlib import Path

from mtlab import TASKS, MultitaskBert, load_dataset
from mtlab.data.datasets import resolve_data_dir
from mtlab.experiment import finetune_defaults
from mtlab.runtime import describe_cpu
from mtlab.training.config import TrainConfig
from mtlab.training.estimate import (
    TIMED,
    UNTIMED,
    measure_rates,
    phase_epoch,
    phase_plan,
    time_training,
)


def fresh_epoch(base: MultitaskBert, config: TrainConfig, train_sets: dict):
    """A copy of the model set up for finetuning, its resolved config, one epoch's steps."""
    model = copy.deepcopy(base)
    return model, *phase_epoch(model, config, train_sets, "finetune")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=0, help="the run's seed (its batch order)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, help="write the numbers here too")
    args = parser.parse_args(argv)
    if args.repeats < 2:
        parser.error(f"--repeats must be at least 2 for a spread, got {args.repeats}")
    source = resolve_data_dir()
    train_sets = {task: load_dataset(task, "train", source.path) for task in TASKS}
    base = MultitaskBert.from_pretrained()
    config = replace(finetune_defaults(), seed=args.seed)
    _steps, _per_epoch, per_step = phase_plan(train_sets, config)
    print(f"machine: {describe_cpu()}; data: {source.path}; seed {args.seed}", flush=True)
    estimate, first_steps = [], []
    for repeat in range(args.repeats):
        model, resolved, epoch = fresh_epoch(base, config, train_sets)
        seconds, chars = time_training(model, resolved, epoch[: UNTIMED + TIMED], UNTIMED)
        first_steps.append(per_step * seconds / chars)
        estimate.append(
            per_step * measure_rates(base, {"finetune": (config, train_sets)}, {}).finetune
        )
        print(f"repeat {repeat}: s/step priced by the first steps {first_steps[-1]:.3f}, "
              f"by mtlab.training.estimate {estimate[-1]:.3f}", flush=True)  # fmt: skip
    model, resolved, epoch = fresh_epoch(base, config, train_sets)
    seconds, _chars = time_training(model, resolved, epoch, 0)
    real = seconds / len(epoch)
    results = {
        "machine": describe_cpu(),
        "seed": args.seed,
        "epoch steps": len(epoch),
        "real s per step": real,
        "estimate s per step": estimate,
        "first steps s per step": first_steps,
        "estimate / real": statistics.mean(estimate) / real,
        "estimate / real sd": statistics.stdev(estimate) / real,
        "first steps / real": statistics.mean(first_steps) / real,
        "first steps / real sd": statistics.stdev(first_steps) / real,
    }
    print(f"one epoch, {len(epoch)} steps: {real:.3f} s/step. Priced by mtlab.training.estimate "
          f"{results['estimate / real']:.2f} ± {results['estimate / real sd']:.2f} of it; by the "
          f"first steps {results['first steps / real']:.2f} ± {results['first steps / real sd']:.2f} "
          f"(mean ± sd over {args.repeats} repeats)")  # fmt: skip
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    main()
