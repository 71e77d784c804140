"""The course's full-size Quora on this machine: does a finetune run keep its time budget, and
do SST and STS still get their steps when Quora is ten times larger?

    MTLAB_DATA_DIR=../shared/data python scripts/bench_course_quora.py --budget-minutes 2

The course's quora-train.csv has 141,506 pairs; the development data here has ~14,700. This
script builds a stand-in of the course's size in memory by recombining the development pairs
(question 1 of one pair with question 2 of another) with made-up labels: it measures time and
step counts only, never scores, and nothing is written to disk. Then it prints how many steps
each schedule would plan for one finetune epoch, and finetunes under the chosen schedule with
a time budget, reporting the wall time and the steps each task got.
"""

from __future__ import annotations

import argparse
import platform
import random
import time
from collections import Counter

import torch

from mtlab import MultitaskBert, TrainConfig, load_dataset, resolve_data_dir, train
from mtlab.batching import SCHEDULES, MultitaskBatches
from mtlab.training.steps import multitask_batches

COURSE_QUORA_ROWS = 141_506


def course_size_quora(pairs, rows: int = COURSE_QUORA_ROWS, seed: int = 0) -> list[dict]:
    """`rows` pairs recombined from `pairs`, with random labels: the course's size, not its data."""
    rng = random.Random(seed)
    firsts = [p["sentence1"] for p in pairs]
    seconds = [p["sentence2"] for p in pairs]
    return [{"id": f"q{i}", "sentence1": rng.choice(firsts), "sentence2": rng.choice(seconds),
             "label": rng.randint(0, 1)} for i in range(rows)]  # fmt: skip


def cpu_name() -> str:
    """The processor's model name (timings depend on it), from /proc/cpuinfo where there is one."""
    try:
        with open("/proc/cpuinfo") as info:
            return next(
                line.split(":", 1)[1].strip() for line in info if line.startswith("model name")
            )
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budget-minutes", type=float, default=2.0)
    parser.add_argument("--schedule", choices=SCHEDULES, default="annealed")
    args = parser.parse_args(argv)
    source = resolve_data_dir()
    sets = {t: load_dataset(t, "train", source.path) for t in ("sst", "quora", "sts")}
    sets["quora"] = course_size_quora(sets["quora"])
    config = TrainConfig(
        epochs=1, lr=3e-5, schedule=args.schedule, budget_minutes=args.budget_minutes
    )
    print(f"data: {source.path}; rows: " + ", ".join(f"{t} {len(d):,}" for t, d in sets.items()))
    print(f"machine: {cpu_name()}, torch threads {torch.get_num_threads()}")
    for schedule in SCHEDULES:
        loaders = multitask_batches(sets, TrainConfig(schedule=schedule)).loaders
        order = MultitaskBatches(loaders, schedule, seed=0).task_order()
        print(
            f"one finetune epoch, {schedule:>12}: {len(order):,} steps, per task {dict(Counter(order))}"
        )
    model = MultitaskBert.from_pretrained().set_mode("finetune")
    started = time.perf_counter()
    history = train(model, sets, config, progress=False)
    wall = time.perf_counter() - started
    done = int(history["step"].max()) if not history.empty else 0
    plan = MultitaskBatches(multitask_batches(sets, config).loaders, args.schedule, seed=0)
    steps = Counter(plan.task_order()[:done])
    print(f"finetune under {args.schedule}, budget {args.budget_minutes:g} min: {done:,} steps "
          f"in {wall:.0f} s ({wall / 60:.2f} min), per task {dict(steps)}")  # fmt: skip


if __name__ == "__main__":
    main()
