"""Equal-time scores over training seeds: several peer benchmarks, summarised.

    python scripts/peer_seeds.py results/bench-peers-tokens*/results.json \\
        --json results/bench-peers-seeds/results.json

Each input is the `--json` of one `python -m bench --peers-only --peer-seed N` run. Its
equal-time rows pit a peer, alone on one task, against mtlab's multitask run for the same
minutes, on the same rows, machine and seed. For every such row this prints the peer's and
mtlab's mean ± sd over the runs and the paired gap (mtlab - peer, run by run), marked "beyond
noise" when a paired t-test at 5% says the gap is not zero (as in the README's ablation table).
The runs must differ only in their seed: other settings would mix two questions.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from scipy import stats

EQUAL_TIME = ("Trainer sst alone", "Trainer quora alone", "ST quora alone", "ST sts alone")
SAME_SETTINGS = ("rows", "steps", "batch_size", "dev_rows", "peer_minutes", "peer_rows",
                 "precision", "threads")  # fmt: skip


def load_runs(paths: list[Path]) -> list[dict]:
    """The benchmarks' results, checked to be the same setup with different seeds."""
    if len(paths) < 2:
        raise SystemExit(f"give at least 2 results.json files for a spread, got {len(paths)}")
    runs = []
    for path in paths:
        try:
            results = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise SystemExit(f"{path}: cannot read a benchmark's results.json ({error})") from None
        missing = [
            name for name in ("mtlab multitask", *EQUAL_TIME) if name not in results.get("runs", {})
        ]
        if missing:
            raise SystemExit(f"{path}: no equal-time runs {missing}; was it made with --peers or "
                             "--peers-only and --peer-minutes?")  # fmt: skip
        runs.append({"path": str(path), **results})
    first = runs[0]
    for run in runs[1:]:
        for key in SAME_SETTINGS:
            if run["arguments"].get(key) != first["arguments"].get(key):
                raise SystemExit(f"{run['path']}: --{key.replace('_', '-')} is "
                                 f"{run['arguments'].get(key)!r}, {first['path']} has "
                                 f"{first['arguments'].get(key)!r}: only the seed may differ")  # fmt: skip
    seeds = [seed_of(run) for run in runs]
    if len(set(seeds)) != len(seeds):
        raise SystemExit(f"each run needs its own --peer-seed, got {seeds}")
    return runs


def seed_of(run: dict) -> int:
    """The run's --peer-seed; runs made before the option existed used the seed 0."""
    return run["arguments"].get("peer_seed", 0)


def summarise(runs: list[dict]) -> dict:
    """Mean ± sd of each equal-time row over the runs, and of the paired gap mtlab - peer."""
    n = len(runs)
    critical = stats.t.ppf(0.975, n - 1)  # two-sided 5%: 4.30 for 3 runs
    rows = {}
    for name in EQUAL_TIME:
        (task,) = runs[0]["runs"][name]["tasks"]
        peer = [run["runs"][name]["scores"][task] for run in runs]
        ours = [run["runs"]["mtlab multitask"]["scores"][task] for run in runs]
        gaps = [b - a for a, b in zip(peer, ours)]
        gap_sd = statistics.stdev(gaps)
        beyond = abs(statistics.mean(gaps)) > critical * gap_sd / n**0.5
        rows[name] = {
            "task": task,
            "peer": runs[0]["runs"][name]["peer"],
            "peer mean": statistics.mean(peer), "peer sd": statistics.stdev(peer),
            "mtlab mean": statistics.mean(ours), "mtlab sd": statistics.stdev(ours),
            "gap mean": statistics.mean(gaps), "gap sd": gap_sd,
            "beyond noise": bool(beyond),
            "peer steps": [run["runs"][name]["steps"] for run in runs],
        }  # fmt: skip
    return {
        "seeds": [seed_of(run) for run in runs],
        "inputs": [run["path"] for run in runs],
        "machines": sorted({run["machine"] for run in runs}),
        "minutes": runs[0]["arguments"]["peer_minutes"],
        "mtlab steps": [run["runs"]["mtlab multitask"]["steps"] for run in runs],
        "rows": rows,
    }


def describe(summary: dict) -> str:
    """The summary as lines a reader can check against the inputs."""
    lines = [f"{len(summary['seeds'])} runs (seeds {summary['seeds']}), {summary['minutes']:g} min "
             f"each, on {', '.join(summary['machines'])}; mtlab's multitask steps "
             f"{summary['mtlab steps']}", "",
             f"{'equal-time row':<22} {'peer alone':>15} {'mtlab multitask':>16} "
             f"{'mtlab - peer, paired':>22}"]  # fmt: skip
    for name, row in summary["rows"].items():
        verdict = "beyond noise" if row["beyond noise"] else "noise"
        lines.append(f"{name:<22} {row['peer mean']:.3f} ± {row['peer sd']:.3f}  "
                     f"{row['mtlab mean']:.3f} ± {row['mtlab sd']:.3f}   "
                     f"{row['gap mean']:+.3f} ± {row['gap sd']:.3f} ({verdict})")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("results", nargs="+", type=Path, help="results.json of each bench run")
    parser.add_argument("--json", type=Path, help="write the summary here too")
    args = parser.parse_args(argv)
    summary = summarise(load_runs(args.results))
    print(describe(summary))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
    return summary


if __name__ == "__main__":
    main()
