"""The finetuning extensions, one at a time, from the same pretrained heads, over three seeds.

    MTLAB_DATA_DIR=../shared/data python scripts/ablate_finetune.py          # every row, seeds 0-2
    MTLAB_DATA_DIR=../shared/data python scripts/ablate_finetune.py --rows defaults,cosent --seeds 0

Each seed pretrains the heads once on the frozen encoder (the lab's pretrain defaults: 10
epochs, lr 1e-3, dev every epoch, each head's best epoch kept) and keeps them in
CHECKPOINTS/pretrained-seed{S}.pt (default runs/ablate-finetune/, git-ignored). Every row of that seed starts from those weights, finetunes for
--steps steps (batches of 32 per task, lr 3e-5 with the lab's warmup and decay, no dev scoring
on the way, the last weights kept) with the row's one change, and is scored on dev (all of it,
or the same --dev-limit rows for every row). Surgery rows train one batch of every task per
step, so they take a third of the steps: every row sees the same number of batches. The mnrl
rows weigh the ranking loss 0.5 against Quora's cross-entropy; the mlm row runs the masked-LM
pass (mtlab.extensions.further_pretrain) on the pretrained model's encoder, then finetunes the same way.

After each row and seed, OUT/results.json, OUT/results.csv and OUT/COMMAND.md are written
again; rows and seeds already in results.json are skipped, so the run can be interrupted,
continued and spread over several sessions (with the same --steps, --dev-limit, --mlm-steps).
Seeds can also run in parallel processes, each with its own --out (and OMP_NUM_THREADS=1 on a
2-core machine); `--merge FOLDER ...` then adds their rows to --out. Every row runs in
float32 (the lab's finetune precision was float32 when these rows were measured; it is now
"auto"); the bf16 row is the defaults under bfloat16 autocast, checked for its effect on scores.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd
import torch

from bench.extension_table import EXTENSIONS, describe
from mtlab import TASKS, MultitaskBert, evaluate, load_checkpoint, load_dataset, save_checkpoint
from mtlab import train as train_phase
from mtlab.data.datasets import all_sentences, random_subset, resolve_data_dir
from mtlab.experiment import finetune_defaults, pretrain_defaults
from mtlab.extensions.further_pretrain import further_pretrain, task_sentences
from mtlab.feature_cache import FeatureCache, default_cache_dir
from mtlab.runtime import describe_cpu, set_seed

ROWS = EXTENSIONS  # name -> bench.extension_table.Extension, every one of them


def pretrained_heads(seed: int, folder: Path, train_sets, dev_sets, features) -> Path:
    """The heads after the lab's pretrain phase with this seed, trained once and kept."""
    path = folder / f"pretrained-seed{seed}.pt"
    if not path.exists():
        set_seed(seed)
        model = MultitaskBert.from_pretrained(features=features).set_mode("pretrain")
        sentences = [*all_sentences(train_sets), *all_sentences(dev_sets)]
        features.warm(model.encoder, sentences)  # from disk after any earlier run of the lab
        config = replace(pretrain_defaults(), seed=seed, checkpoint_every=None)
        train_phase(model, train_sets, config, dev_sets=dev_sets, progress=False)
        save_checkpoint(model, path, metrics=evaluate(model, dev_sets))
    return path


def run_row(name: str, seed: int, args, pretrained: Path, data, train_sets, dev_sets) -> dict:
    """Finetune from the pretrained heads with one row's change; dev scores and seconds."""
    row, started = ROWS[name], time.perf_counter()
    set_seed(seed)
    model = load_checkpoint(pretrained, MultitaskBert.from_pretrained(**row.heads))
    seconds = {}
    if row.mlm:
        summary = further_pretrain(model.encoder, task_sentences(data), steps=args.mlm_steps,
                                   seed=seed, progress=False)  # fmt: skip
        seconds["mlm"] = summary["seconds"]
    model.set_mode("finetune")
    steps = args.steps // len(TASKS) if row.train.get("surgery") else args.steps
    config = replace(finetune_defaults(), seed=seed, max_steps=steps, eval_every=None,
                     checkpoint_every=None, **{"precision": "fp32", **row.train})  # fmt: skip
    clock = time.perf_counter()
    train_phase(model, train_sets, config, progress=False)
    seconds["finetune"] = round(time.perf_counter() - clock, 1)
    clock = time.perf_counter()
    scores = evaluate(model, dev_sets)
    seconds["dev"] = round(time.perf_counter() - clock, 1)
    seconds["total"] = round(time.perf_counter() - started, 1)
    return {**scores, "steps": steps, "seconds": seconds}


def summary_table(results: dict) -> pd.DataFrame:
    """One line per row: each metric's mean and sd over the seeds, seconds against defaults.

    "gap" is the paired difference to the defaults: row minus defaults seed by seed (both
    start from that seed's pretrained heads), then its mean and sd over the seeds. The
    heads differ more between seeds than the rows differ within one, so the paired gap shows
    a consistent effect that the two means' spreads would hide.
    """
    lines, defaults = [], results["rows"].get("defaults", {})
    for name, seeds in results["rows"].items():
        line = {"row": name, "seeds": len(seeds)}
        for metric in (*TASKS, "seconds"):
            values = [r["seconds"]["total"] if metric == "seconds" else r[metric]
                      for r in seeds.values()]  # fmt: skip
            line[f"{metric} mean"] = statistics.mean(values)
            line[f"{metric} sd"] = statistics.stdev(values) if len(values) > 1 else float("nan")
        for task in TASKS:
            gaps = [r[task] - defaults[seed][task] for seed, r in seeds.items() if seed in defaults]
            line[f"{task} gap"] = statistics.mean(gaps) if gaps else float("nan")
            line[f"{task} gap sd"] = statistics.stdev(gaps) if len(gaps) > 1 else float("nan")
        lines.append(line)
    table = pd.DataFrame(lines).set_index("row")
    if "defaults" in table.index:
        table["seconds vs defaults"] = table["seconds mean"] / table.loc["defaults", "seconds mean"]
    return table


def write_outputs(out: Path, results: dict) -> pd.DataFrame:
    """results.json, results.csv and COMMAND.md, written again after every row and seed."""
    table = summary_table(results)
    results["summary"] = json.loads(table.round(4).to_json(orient="index"))  # cited by the README
    tmp = out / "results.json.tmp"
    tmp.write_text(json.dumps(results, indent=2))
    tmp.replace(out / "results.json")  # never half a file, even when interrupted
    table.round(4).to_csv(out / "results.csv")
    setup = results["setup"]
    lines = [
        "# Finetuning extensions, one at a time, over seeds",
        "",
        "Written by `scripts/ablate_finetune.py` (its docstring says what every row does). "
        f"Finetune: {setup['steps']} steps of batch 32 per task (surgery rows: a third as many "
        f"steps of every task), dev: {setup['dev']}; the MLM row first runs "
        f"{setup['mlm_steps']} masked-LM steps. Data: `{setup['data']}`.",
        "",
        "## Invocations",
        "",
    ]
    for run in results["runs"]:
        lines += [f"- {run['date']}, commit `{run['commit']}`, {run['machine']}:",
                  "", "  ```bash", f"  {run['command']}", "  ```", ""]  # fmt: skip
    lines += ["## Rows", "", "| row | change |", "|---|---|"]
    lines += [f"| {name} | {describe(name)} |" for name in results["rows"]]
    lines += ["", "## Dev scores (mean ± sd over seeds) and wall seconds per row and seed", ""]
    lines += ["```", table.round(3).to_string(), "```", ""]
    (out / "COMMAND.md").write_text("\n".join(lines))
    return table


def invocation(argv: list[str]) -> dict:
    """This command, the commit, the machine and the date, for COMMAND.md."""
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True,
                            text=True, check=False).stdout.strip() or "unknown"  # fmt: skip
    data = os.environ.get("MTLAB_DATA_DIR")
    return {
        "command": (f"MTLAB_DATA_DIR={data} " if data else "")
        + shlex.join(["python", "scripts/ablate_finetune.py", *argv]),
        "commit": commit,
        "machine": f"{describe_cpu()}; {torch.get_num_threads()} torch threads; torch "
        f"{torch.__version__}; Python {platform.python_version()}",
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
    }


def merge(out: Path, folders: list[Path]) -> pd.DataFrame:
    """Rows and seeds of other runs' results.json (same setup) added to OUT's; outputs rewritten."""
    results = json.loads((out / "results.json").read_text())
    for folder in folders:
        other = json.loads((folder / "results.json").read_text())
        if other["setup"] != results["setup"]:
            raise SystemExit(f"{folder} was made with {other['setup']}, {out} with "
                             f"{results['setup']}: only runs of the same setup can be merged")  # fmt: skip
        results["runs"] += [run for run in other["runs"] if run not in results["runs"]]
        for name, seeds in other["rows"].items():
            results["rows"].setdefault(name, {}).update(seeds)
    results["rows"] = {name: dict(sorted(results["rows"][name].items()))
                       for name in ROWS if name in results["rows"]}  # fmt: skip
    return write_outputs(out, results)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default=",".join(ROWS), help=f"comma-separated, of {list(ROWS)}")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds")
    parser.add_argument("--steps", type=int, default=200, help="finetune steps per row")
    parser.add_argument("--mlm-steps", type=int, default=220, help="masked-LM steps (mlm row)")
    parser.add_argument("--dev-limit", type=int, help="score this many dev rows per task")
    parser.add_argument("--out", default="results/ablate-finetune", help="the results")
    parser.add_argument("--checkpoints", default="runs/ablate-finetune",
                        help="where each seed's pretrained heads are kept")  # fmt: skip
    parser.add_argument("--merge", nargs="+", metavar="FOLDER",
                        help="only merge these runs' results (other --out folders, same "
                        "settings, e.g. seeds run in parallel) into --out, then stop")  # fmt: skip
    argv = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(argv)
    if args.merge:
        print(merge(Path(args.out), [Path(folder) for folder in args.merge]).round(3).to_string())
        return 0
    rows, seeds = args.rows.split(","), [int(s) for s in args.seeds.split(",")]
    unknown = [r for r in rows if r not in ROWS]
    if unknown:
        parser.error(f"unknown rows {unknown}; choose from {list(ROWS)}")

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    source = resolve_data_dir()
    setup = {"steps": args.steps, "mlm_steps": args.mlm_steps, "data": str(source.path),
             "dev": f"{args.dev_limit} rows per task" if args.dev_limit else "all rows"}  # fmt: skip
    results = {"setup": setup, "runs": [], "rows": {}}
    if (out / "results.json").exists():
        results = json.loads((out / "results.json").read_text())
        if results["setup"] != setup:
            parser.error(f"{out}/results.json was made with {results['setup']}, not {setup}: "
                         "use the same settings to continue it, or another --out")  # fmt: skip
    results["runs"].append(invocation(argv))

    train_sets = {t: load_dataset(t, "train", source.path) for t in TASKS}
    dev_sets = {t: random_subset(load_dataset(t, "dev", source.path), args.dev_limit, 0)
                for t in TASKS}  # fmt: skip
    features = FeatureCache(default_cache_dir())  # the frozen vectors, shared by the seeds
    for seed in seeds:
        pretrained = pretrained_heads(seed, Path(args.checkpoints), train_sets, dev_sets, features)
        for name in rows:
            if str(seed) in results["rows"].get(name, {}):
                continue  # done in an earlier invocation
            r = run_row(name, seed, args, pretrained, source.path, train_sets, dev_sets)
            results["rows"].setdefault(name, {})[str(seed)] = r
            print(f"{name:>13} seed {seed}: sst {r['sst']:.3f} quora {r['quora']:.3f} "
                  f"sts {r['sts']:.3f}  {r['seconds']['total']:.0f} s", flush=True)  # fmt: skip
            write_outputs(out, results)
    print(write_outputs(out, results).round(3).to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
