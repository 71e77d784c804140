"""How fast is the lab on this machine? `python -m bench` prints one table.

Each figure is measured next to its baseline in the same run, on the same data:

- pretrain (bench.baselines): the frozen encoder run on every step (what a student writes
  first) vs mtlab's cache, same epochs, scores compared: cold (each sentence encoded once,
  then kept in memory and on disk) and warm (a second run that reads the vectors from disk);
- finetune (bench.baselines): the Hugging Face course's loop (tokenize every step, pad to 128) vs
  mtlab's `train` (tokenize once, pad to the batch), sentences per second; then mtlab
  in float32 vs bfloat16 autocast (a gain only where the hardware has bf16 units);
- the limit: achieved training FLOP/s vs a plain matmul on the same cores (MFU, bench.flops),
  and where a finetune step's time goes (bench.step_profile): per stage, per kind of operation;
- with --extensions, the cost of each finetune extension (bench.extension_costs)
  in seconds per batch against the defaults, on the same rows;
- with --speed-options, finetuning with dropout off and under torch.compile (bench.speed_options),
  sentences per second against mtlab's own, in float32 and bf16;
- with --peers, the tools a student would pick instead (bench.peers), from the same
  encoder folder on the same rows: transformers' Trainer on SST (sentences per second and
  dev accuracy after the same steps) and on Quora as a cross-encoder, sentence-transformers
  on STS and Quora (wall time and dev score after the same steps), then each peer alone on
  its task for the wall time mtlab's multitask finetune gets (--peer-minutes), dev scores
  side by side, and the padding of the Trainer's and mtlab's SST batches. Needs
  `pip install -r requirements-peers.txt` (`make bench-peers`).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

import pandas as pd
import torch

from bench.baselines import naive_rows, sst_rows
from bench.peer_comparison import constant_guess, describe_runs, peer_comparison
from bench.step_profile import print_step_profile
from mtlab.data.datasets import load_dataset, random_subset, resolve_data_dir
from mtlab.runtime import describe_cpu
from mtlab.tasks import TASKS


def build_parser() -> argparse.ArgumentParser:
    """The bench's command line: the naive loops' settings, the optional rows, the peers'."""
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--rows", type=int, default=600, help="training rows per task")
    parser.add_argument("--epochs", type=int, default=10, help="pretrain epochs (the lab's: 10)")
    parser.add_argument("--steps", type=int, default=20, help="finetune steps per loop")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--dev-rows", type=int, default=300, help="dev rows per task")
    parser.add_argument(
        "--extensions",
        action="store_true",
        help="also time each finetune extension per batch against the defaults",
    )
    parser.add_argument(
        "--speed-options",
        action="store_true",
        help="also time finetuning with dropout off and under torch.compile",
    )
    add_peer_arguments(parser)
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    parser.add_argument("--json", type=Path, help="also write the table and runs to this file")
    return parser


def add_peer_arguments(parser: argparse.ArgumentParser) -> None:
    """The peer rows' options, in a group of their own in --help."""
    peers = parser.add_argument_group("peers (bench.peers; pip install -r requirements-peers.txt)")
    peers.add_argument(
        "--peers",
        action="store_true",
        help="also run transformers' Trainer and sentence-transformers",
    )
    peers.add_argument("--peers-only", action="store_true", help="--peers without the naive loops")
    peers.add_argument(
        "--untimed-steps",
        type=int,
        default=3,
        help="steps before the --steps that are timed (default 3)",
    )
    peers.add_argument(
        "--peer-minutes",
        type=float,
        default=1.0,
        help="wall time of the equal-time runs (mtlab multitask, each peer)",
    )
    peers.add_argument(
        "--peer-rows",
        type=int,
        default=None,
        help="training rows per task in the equal-time runs (default: all)",
    )
    peers.add_argument(
        "--precision",
        choices=("fp32", "bf16"),
        default="fp32",
        help="of mtlab and the peers in the peer rows",
    )
    peers.add_argument(
        "--peer-seed",
        type=int,
        default=0,
        help="training seed of every contestant in the peer rows (same rows)",
    )


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    """The arguments, checked; --threads is applied here, before anything is timed."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.peer_minutes <= 0:
        parser.error(f"--peer-minutes must be > 0, got {args.peer_minutes}")
    if args.threads is not None:
        if args.threads < 1:
            parser.error(f"--threads must be at least 1, got {args.threads}")
        torch.set_num_threads(args.threads)
    return args


def option_rows(sets: dict, args: argparse.Namespace) -> list[tuple]:
    """The rows of --extensions and --speed-options, each under its heading row."""
    rows = []
    if args.extensions:
        from bench.extension_costs import extension_rows

        rows.append(("finetune extensions, s per batch (baseline: the defaults)", None, None, None))
        rows += extension_rows(sets, args.steps)
    if args.speed_options:
        from bench.speed_options import speed_option_rows

        sst = sst_rows(sets, args.steps, args.batch_size)
        rows.append(("speed options (baseline: mtlab's finetune)", None, None, None))
        rows += speed_option_rows(sst, args.steps, args.batch_size)
    return rows


def peer_rows(train_sets: dict, dev: dict, args: argparse.Namespace) -> tuple[list, dict, str]:
    """The peer rows, every run behind them, and the rows they trained on, in words."""
    from bench.peers import PeerConfig  # the peers extra, or its error before anything runs

    config = PeerConfig(
        steps=args.steps,
        untimed_steps=args.untimed_steps,
        batch_size=args.batch_size,
        precision=args.precision,
        seed=args.peer_seed,
    ).check()
    rows_needed = config.max_steps * config.batch_size  # one epoch of exactly these steps
    same_steps = {t: random_subset(train_sets[t], rows_needed) for t in TASKS}
    equal_time = {t: random_subset(train_sets[t], args.peer_rows) for t in TASKS}
    table, runs = peer_comparison(same_steps, equal_time, dev, config, args.peer_minutes * 60)
    described = (
        f" (naive loops), peers {rows_needed} (same steps) and "
        f"{args.peer_rows or 'all'} (equal time)"
    )
    return table, runs, described


def print_report(table, runs: dict, dev: dict, source, described: str, args, started) -> None:
    """The machine, the data, the table; the peer runs, if any; the wall time so far."""
    print(f"machine: {describe_cpu()}; torch {torch.__version__}")
    print(
        f"data: {source.reason}; {described}, {args.dev_rows} dev rows; "
        f"torch threads {torch.get_num_threads()}"
    )
    print(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    if runs:
        print(f"\npeer rows: baseline = the peer; precision {args.precision}; the runs:")
        print(describe_runs(runs))
        guesses = ", ".join(f"{task} {share:.3f}" for task, share in constant_guess(dev).items())
        print(f"always guessing the commonest class scores, on these dev rows: {guesses}")
    print(f"wall time so far: {time.perf_counter() - started:.0f} s")


def write_report(path: Path, table, runs: dict, dev: dict, source, args, started) -> None:
    """The printed table, the arguments, the machine and every peer run, as JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "seconds_until_table": round(time.perf_counter() - started, 1),
        "machine": describe_cpu(),
        "torch": torch.__version__,
        "data": source.reason,
        "torch_threads": torch.get_num_threads(),
        "arguments": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "table": table.astype(object).where(table.notna(), None).to_dict("records"),
        "constant_guess": constant_guess(dev),
        "runs": {name: asdict(run) for name, run in runs.items()},
    }
    path.write_text(json.dumps(report, indent=2) + "\n")


def main(argv: list[str] | None = None) -> None:
    args = parse_arguments(argv)
    started, source = time.perf_counter(), resolve_data_dir()
    train_sets = {t: load_dataset(t, "train", source.path) for t in TASKS}
    sets = {t: random_subset(train_sets[t], args.rows) for t in TASKS}
    dev = {t: random_subset(load_dataset(t, "dev", source.path), args.dev_rows) for t in TASKS}
    rows, runs, described = [], {}, f"{args.rows} rows per task"
    if not args.peers_only:
        rows, model, sst = naive_rows(sets, dev, args)
    rows += option_rows(sets, args)
    if args.peers or args.peers_only:
        peer_table, runs, on_rows = peer_rows(train_sets, dev, args)
        rows += peer_table
        described += on_rows

    table = pd.DataFrame(rows, columns=["figure", "baseline", "mtlab", "ratio"])
    print_report(table, runs, dev, source, described, args, started)
    if args.json:
        write_report(args.json, table, runs, dev, source, args, started)
    if not args.peers_only:
        print_step_profile(model, sst, args)


if __name__ == "__main__":
    main()
