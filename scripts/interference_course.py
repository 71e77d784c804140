"""Notebook 06's two interference experiments at course-data scale, on this machine's CPU.

    MTLAB_DATA_DIR=../shared/data python scripts/interference_course.py --out results/interference-course

The notebook runs them on the sample in seconds, which shows the method but cannot show an
effect. This script runs the same code with the settings 06's prose quotes: 3,000 random
training rows per task (the notebook's full profile), the heads pretrained on the frozen
encoder (10 epochs, lr 1e-3, batch 32, each head's best epoch kept), then from that one
pretrained model:

(a) SST alone vs SST with Quora and STS: finetune arms with lr 3e-5, batch 16, the same
    number of SST steps (--sst-steps, default 100; 100,300 runs both) and the same seed;
    round robin gives the multitask arm 3x as many steps in all. Seeds 0, 1, 2 (--seeds).
    SST dev accuracy of each arm.
(b) cosines between the tasks' encoder gradients: 30 rounds of 16 examples at the start of
    finetuning; then 10 rounds of 64 after the first multitask arm (seed 0).

It writes results.json to --out; 06 shows it and its prose cites it key by key.
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from pathlib import Path

import torch

from mtlab import TASKS, MultitaskBert, TrainConfig, evaluate, load_dataset, resolve_data_dir, train
from mtlab.debugging.interference import GradientComparison, compare_task_gradients
from mtlab.runtime import describe_cpu

TRAIN_ROWS = 3000


def random_rows(dataset, n: int):
    """n rows drawn at random with generator seed 0, as notebook 06's `random_rows` does."""
    if n >= len(dataset):
        return dataset
    keep = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(0))[:n]
    return torch.utils.data.Subset(dataset, sorted(keep.tolist()))


def pretrained_model(train_sets, dev_sets) -> MultitaskBert:
    """The heads trained on the frozen encoder, as 06's pretrain cell trains them."""
    torch.manual_seed(0)
    model = MultitaskBert.from_pretrained().set_mode("pretrain")
    config = TrainConfig(epochs=10, batch_size=32, lr=1e-3, eval_every=1)
    train(model, train_sets, config, progress=False, dev_sets=dev_sets)
    return model


def finetune_arm(pretrained, train_sets, steps: int, seed: int) -> MultitaskBert:
    """A copy of the pretrained model finetuned with 06's settings for `steps` steps."""
    model = copy.deepcopy(pretrained).set_mode("finetune")
    config = TrainConfig(lr=3e-5, batch_size=16, max_steps=steps, seed=seed)
    train(model, train_sets, config, progress=False)
    return model


def cosine_summary(comparison: GradientComparison) -> dict:
    """{"sst-quora": {"mean": .., "std": ..}, ..., "norms": {"sst": {"mean": .., ...}}}."""
    table = comparison.cosines.groupby(["task_a", "task_b"], sort=False)["cosine"]
    stats = table.agg(["mean", "std"])
    cosines = {
        f"{a}-{b}": {k: float(v) for k, v in row.items()} for (a, b), row in stats.iterrows()
    }
    norms = comparison.norms.groupby("task", sort=False)["grad_norm"].agg(["mean", "std"])
    return {
        **cosines,
        "norms": {t: {k: float(v) for k, v in row.items()} for t, row in norms.iterrows()},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("results/interference-course"))
    parser.add_argument("--sst-steps", default="100", help="comma-separated, e.g. 100,300")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds")
    args = parser.parse_args(argv)
    sst_steps = [int(n) for n in args.sst_steps.split(",")]
    seeds = [int(n) for n in args.seeds.split(",")]
    source = resolve_data_dir()
    if source.is_sample:
        raise SystemExit("set MTLAB_DATA_DIR to the course data: this is a course-data run")
    started = time.perf_counter()
    train_sets = {t: random_rows(load_dataset(t, "train", source.path), TRAIN_ROWS) for t in TASKS}
    dev_sets = {t: load_dataset(t, "dev", source.path) for t in TASKS}
    sst_dev = {"sst": dev_sets["sst"]}

    pretrained = pretrained_model(train_sets, dev_sets)
    results: dict = {"pretrain": evaluate(pretrained, dev_sets), "arms": {}}
    print("after pretrain:", {k: round(v, 3) for k, v in results["pretrain"].items()}, flush=True)

    first_multitask = None
    for steps in sst_steps:
        arms = {"alone": {}, "multitask": {}, "difference": {}}
        for seed in seeds:
            alone = finetune_arm(pretrained, {"sst": train_sets["sst"]}, steps, seed)
            multitask = finetune_arm(pretrained, train_sets, 3 * steps, seed)
            arms["alone"][f"seed{seed}"] = evaluate(alone, sst_dev)["sst"]
            arms["multitask"][f"seed{seed}"] = evaluate(multitask, sst_dev)["sst"]
            arms["difference"][f"seed{seed}"] = (
                arms["multitask"][f"seed{seed}"] - arms["alone"][f"seed{seed}"]
            )
            if first_multitask is None:
                first_multitask = multitask
            print(f"{steps} SST steps, seed {seed}:", {k: round(v[f"seed{seed}"], 3)
                                                       for k, v in arms.items()}, flush=True)  # fmt: skip
        for arm in arms.values():
            arm["mean"] = sum(arm.values()) / len(seeds)
        results["arms"][f"steps{steps}"] = arms

    probe = copy.deepcopy(pretrained).set_mode("finetune")
    start = compare_task_gradients(probe, train_sets, rounds=30, batch_size=16)
    later = compare_task_gradients(first_multitask, train_sets, rounds=10, batch_size=64)
    results["gradients"] = {
        "start_30x16": cosine_summary(start),
        f"after{sst_steps[0]}_10x64": cosine_summary(later),
    }
    results["settings"] = {
        "train_rows_per_task": TRAIN_ROWS,
        "seeds": seeds,
        "sst_steps": sst_steps,
        "finetune": "lr 3e-5, batch 16, round robin, linear warmup 10% then decay",
        "dev_sst_sentences": len(dev_sets["sst"]),
    }
    results["machine"] = describe_cpu()
    results["seconds"] = round(time.perf_counter() - started)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results["gradients"], indent=1))
    print(f"wrote {args.out / 'results.json'} in {results['seconds']} s")


if __name__ == "__main__":
    main()
