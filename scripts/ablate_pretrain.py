"""Ablations on the frozen encoder: which head and training settings help, one change at a time.

    MTLAB_DATA_DIR=../shared/data python scripts/ablate_pretrain.py --out results/ablate-pretrain

Every row starts from the same defaults (10 epochs, lr 1e-3, round robin, dropout 0.1, the
default heads) and changes one thing. Dev is scored after every epoch: the table shows the last
epoch's scores and the best epoch's (what early stopping keeps), as mean ± sd over the seeds
(--seeds, default 0,1,2). With the feature cache warm (any earlier `python -m mtlab` run) a row
takes about 30 s a seed on 2 cores. --out writes results.json, which the README cites.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd
import torch

from mtlab import TASKS, MultitaskBert, TrainConfig, load_dataset, resolve_data_dir, train
from mtlab.data.datasets import all_sentences
from mtlab.feature_cache import FeatureCache, default_cache_dir
from mtlab.heads.kinds import ParaphraseHead, SimilarityHead
from mtlab.runtime import describe_cpu, set_seed

# name -> (TrainConfig changes, head to swap in or None, dropout)
ABLATIONS = {
    "defaults": ({}, None, 0.1),
    "20 epochs": ({"epochs": 20}, None, 0.1),
    "lr 3e-3": ({"lr": 3e-3}, None, 0.1),
    "proportional schedule": ({"schedule": "proportional"}, None, 0.1),
    "dropout 0.3": ({}, None, 0.3),
    "paraphrase head [u; v] (seed's fix)": ({}, ("quora", "concat"), 0.1),
    "similarity head plain projection": ({}, ("sts", "plain"), 0.1),
    "similarity head scaled_dot": ({}, ("sts", "scaled_dot"), 0.1),
}


def swap_head(model: MultitaskBert, task: str, variant: str) -> None:
    hidden = model.encoder.hidden_size
    if task == "quora":
        model.add_head("quora", ParaphraseHead(hidden, variant=variant))
    elif variant == "plain":
        model.add_head("sts", SimilarityHead(hidden, residual=False))
    else:
        model.add_head("sts", SimilarityHead(hidden, variant=variant))


def run_row(encoder, features, train_sets, dev_sets, name: str, seed: int) -> dict:
    """One ablation row, one seed: the dev scores of the last and the best epoch per task."""
    changes, head, dropout = ABLATIONS[name]
    set_seed(seed)
    model = MultitaskBert(encoder, dropout=dropout).set_mode("pretrain")
    model.feature_cache = features
    if head is not None:
        swap_head(model, *head)
    config = TrainConfig(**{"epochs": 10, "eval_every": 1.0, "keep_best": False, "seed": seed,
                            **changes})  # fmt: skip
    started = time.perf_counter()
    history = train(model, train_sets, config, progress=False, dev_sets=dev_sets)
    dev = history.dropna(subset=["dev"]).pivot(index="step", columns="task", values="dev")
    return {"seconds": time.perf_counter() - started,
            **{f"{t} last": dev[t].iloc[-1] for t in TASKS},
            **{f"{t} best": dev[t].max() for t in TASKS}}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default 0,1,2)")
    parser.add_argument("--out", type=Path, help="folder for results.json (default: print only)")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    source = resolve_data_dir()
    train_sets = {t: load_dataset(t, "train", source.path) for t in TASKS}
    dev_sets = {t: load_dataset(t, "dev", source.path) for t in TASKS}
    encoder = MultitaskBert.from_pretrained().set_mode("pretrain").encoder
    features = FeatureCache(default_cache_dir())  # one cache, shared by every row's model
    features.warm(encoder, [*all_sentences(train_sets), *all_sentences(dev_sets)])
    torch.set_num_threads(1)  # small matrices only from here on: one thread is faster

    runs = []
    for name in ABLATIONS:
        for seed in seeds:
            runs.append({"ablation": name, "seed": seed,
                         **run_row(encoder, features, train_sets, dev_sets, name, seed)})  # fmt: skip
            print(pd.DataFrame(runs[-1:]).round(3).to_string(index=False, header=len(runs) == 1))
    table = pd.DataFrame(runs).drop(columns="seed").groupby("ablation", sort=False)
    mean, sd = table.mean(), table.std()
    print()
    print((mean.round(3).astype(str) + " ± " + sd.round(3).astype(str)).to_string())
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        results = {
            "seeds": seeds,
            "machine": describe_cpu(),
            "mean": mean.to_dict(orient="index"),
            "sd": sd.to_dict(orient="index"),
            "runs": runs,
        }
        (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
        print(f"wrote {args.out / 'results.json'}")


if __name__ == "__main__":
    main()
