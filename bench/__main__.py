"""How fast is the lab on this machine? `python -m bench` prints one table.

Each figure is measured next to its baseline in the same run, on the same data:

- pretrain: the frozen encoder run on every step (what a student writes first) vs
  mtlab's cache, same epochs, scores compared: cold (each sentence encoded once, then
  kept in memory and on disk) and warm (a second run that reads the vectors from disk);
- finetune: the Hugging Face course's loop (tokenize every step, pad to 128) vs
  mtlab's `train` (tokenize once, pad to the batch), sentences per second; then mtlab
  in float32 vs bfloat16 autocast (a gain only where the hardware has bf16 units);
- the limit: achieved training FLOP/s vs a plain matmul on the same cores (MFU), and
  where a finetune step's time goes: per stage, and per kind of operation;
- with --extensions, the cost of each finetune extension (bench.extension_costs) in seconds
  per batch against the defaults, on the same rows;
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
import tempfile
import time
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

import pandas as pd
import torch
from torch.utils.data import Subset

from bench.peer_comparison import constant_guess, describe_runs, peer_comparison
from bench.step_profile import print_step_profile
from mtlab.batching import make_loader
from mtlab.data import load_dataset, resolve_data_dir
from mtlab.evaluation import evaluate
from mtlab.experiment import random_subset
from mtlab.feature_cache import FeatureCache
from mtlab.hardware import describe_cpu, has_fast_bf16
from mtlab.model import TASKS, MultitaskBert
from mtlab.training import TrainConfig, set_seed, train


def matmul_flops(
    rows: int = 1024,
    inner: int = 1024,
    cols: int = 1024,
    repeats: int = 20,
    dtype: torch.dtype = torch.float32,
) -> float:
    """FLOP/s of a (rows x inner) @ (inner x cols) product in `dtype` on these threads.

    1024^3 is about the most this CPU does; the model's own shapes show what it can get.
    """
    a, b = torch.randn(rows, inner, dtype=dtype), torch.randn(inner, cols, dtype=dtype)
    a @ b  # warm-up
    started = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * rows * inner * cols * repeats / (time.perf_counter() - started)


def training_flops_per_token(model: MultitaskBert, seq_len: float) -> float:
    """~6 FLOPs per weight per token (forward 2, backward 4), plus attention's scores."""
    config = model.encoder.bert.config
    weights = sum(
        p.numel() for n, p in model.encoder.bert.named_parameters() if "embeddings" not in n
    )
    attention = 4 * config.num_hidden_layers * seq_len * config.hidden_size
    return 3 * (2 * weights + attention)


def time_pretrain(
    sets, dev, epochs: int, seed: int, *, cached: bool, cache_dir: Path | None = None
) -> tuple[float, dict]:
    """Seconds for one pretrain phase (model loading excluded), then the dev scores."""
    set_seed(seed)
    model = MultitaskBert.from_pretrained().set_mode("pretrain")
    # None: every step runs the frozen encoder again; a folder: vectors kept on disk too
    model.feature_cache = FeatureCache(cache_dir) if cached else None
    started = time.perf_counter()
    train(model, sets, TrainConfig(epochs=epochs, seed=seed), progress=False)
    seconds = time.perf_counter() - started
    return seconds, evaluate(model, dev)


def naive_finetune(model: MultitaskBert, dataset, steps: int, batch_size: int) -> tuple[float, int]:
    """The course-style loop on SST: tokenize each step, pad to max_length (128), no caching."""
    tokenizer, encoder, head = model.encoder.tokenizer, model.encoder, model.heads["sst"]
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5)
    loader = make_loader(dataset, batch_size, shuffle=True, seed=0)
    sentences, started = 0, time.perf_counter()
    for step, batch in enumerate(loader):
        if step == steps:
            break
        inputs = tokenizer(
            batch["sentences"],
            padding="max_length",
            truncation=True,
            max_length=encoder.max_length,
            return_tensors="pt",
        )
        loss = head.loss(head(encoder(**inputs)), batch["labels"])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        sentences += len(batch["ids"])
    return time.perf_counter() - started, sentences


def mtlab_finetune(
    model: MultitaskBert, dataset, steps: int, batch_size: int, precision: str = "fp32"
) -> tuple[float, int]:
    """mtlab's train() on SST: tokenized once, padded per batch."""
    model.set_mode("finetune")
    config = TrainConfig(
        epochs=1, batch_size=batch_size, lr=2e-5, max_steps=steps, precision=precision
    )
    started = time.perf_counter()
    train(model, {"sst": dataset}, config, progress=False)
    return time.perf_counter() - started, steps * batch_size


def naive_rows(sets, dev, args) -> tuple[list, MultitaskBert, Subset]:
    """The rows against the loops a student writes first; the finetuned model and its SST rows."""
    rows = []
    naive_s, naive_scores = time_pretrain(sets, dev, args.epochs, 0, cached=False)
    with tempfile.TemporaryDirectory() as cache_dir:  # an empty disk cache, then a filled one
        cold_s, _ = time_pretrain(sets, dev, args.epochs, 0, cached=True, cache_dir=Path(cache_dir))
        warm_s, warm_scores = time_pretrain(
            sets, dev, args.epochs, 0, cached=True, cache_dir=Path(cache_dir)
        )
    rows.append(
        ("pretrain s: encoder every step vs cache (cold)", naive_s, cold_s, naive_s / cold_s)
    )
    rows.append(
        ("pretrain s: encoder every step vs disk cache (warm)", naive_s, warm_s, naive_s / warm_s)
    )
    for task in TASKS:
        rows.append((f"  after pretrain: {task} dev", naive_scores[task], warm_scores[task], None))

    sst = Subset(sets["sst"], range(min(len(sets["sst"]), args.steps * args.batch_size)))
    set_seed(0)
    model = MultitaskBert.from_pretrained().set_mode("finetune")
    naive_t, naive_n = naive_finetune(model, sst, args.steps, args.batch_size)
    ours_t, ours_n = mtlab_finetune(model, sst, args.steps, args.batch_size)
    naive_rate, ours_rate = naive_n / naive_t, ours_n / ours_t
    rows.append(("finetune sentences/s (SST)", naive_rate, ours_rate, ours_rate / naive_rate))
    bf16_t, bf16_n = mtlab_finetune(model, sst, args.steps, args.batch_size, precision="bf16")
    rows.append(
        (
            "  finetune sentences/s: mtlab fp32 vs --precision bf16",
            ours_rate,
            bf16_n / bf16_t,
            bf16_n / bf16_t / ours_rate,
        )
    )

    lengths = [len(model.encoder.tokenize([e["sentence"]])["input_ids"][0]) for e in sst]
    seq = sum(lengths) / len(lengths)
    achieved = ours_rate * seq * training_flops_per_token(model, seq)
    peak = matmul_flops()
    rows.append(
        ("training GFLOP/s vs matmul GFLOP/s (MFU)", peak / 1e9, achieved / 1e9, achieved / peak)
    )
    if has_fast_bf16(torch.device("cpu")):  # MFU at the same precision: bf16 against bf16
        achieved_bf16 = bf16_n / bf16_t * seq * training_flops_per_token(model, seq)
        peak_bf16 = matmul_flops(dtype=torch.bfloat16)
        rows.append(
            (
                "  bf16: training GFLOP/s vs bf16 matmul GFLOP/s (MFU)",
                peak_bf16 / 1e9,
                achieved_bf16 / 1e9,
                achieved_bf16 / peak_bf16,
            )
        )
    hidden = model.encoder.hidden_size
    at_shape = matmul_flops(args.batch_size * round(seq), hidden, 4 * hidden)
    rows.append(
        (
            f"  matmul GFLOP/s: 1024^3 vs the model's ({args.batch_size}x{round(seq)}) "
            f"x {hidden} x {4 * hidden}",
            peak / 1e9,
            at_shape / 1e9,
            at_shape / peak,
        )
    )
    return rows, model, sst


def main(argv: list[str] | None = None) -> None:
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
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    parser.add_argument("--json", type=Path, help="also write the table and runs to this file")
    args = parser.parse_args(argv)
    if args.peer_minutes <= 0:
        parser.error(f"--peer-minutes must be > 0, got {args.peer_minutes}")
    if args.threads is not None:
        if args.threads < 1:
            parser.error(f"--threads must be at least 1, got {args.threads}")
        torch.set_num_threads(args.threads)

    started, source = time.perf_counter(), resolve_data_dir()
    train_sets = {t: load_dataset(t, "train", source.path) for t in TASKS}
    sets = {t: random_subset(train_sets[t], args.rows) for t in TASKS}
    dev = {t: random_subset(load_dataset(t, "dev", source.path), args.dev_rows) for t in TASKS}
    rows, runs, described = [], {}, f"{args.rows} rows per task"
    if not args.peers_only:
        rows, model, sst = naive_rows(sets, dev, args)
    if args.extensions:
        from bench.extension_costs import extension_rows

        rows.append(("finetune extensions, s per batch (baseline: the defaults)", None, None, None))
        rows += extension_rows(sets, args.steps)
    if args.speed_options:
        from bench.speed_options import speed_option_rows

        sst = Subset(sets["sst"], range(min(len(sets["sst"]), args.steps * args.batch_size)))
        rows.append(("speed options (baseline: mtlab's finetune)", None, None, None))
        rows += speed_option_rows(sst, args.steps, args.batch_size)
    if args.peers or args.peers_only:
        from bench.peers import PeerConfig

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
        peer_table, runs = peer_comparison(
            same_steps, equal_time, dev, config, args.peer_minutes * 60
        )
        rows += peer_table
        described += (
            f" (naive loops), peers {rows_needed} (same steps) and "
            f"{args.peer_rows or 'all'} (equal time)"
        )

    table = pd.DataFrame(rows, columns=["figure", "baseline", "mtlab", "ratio"])
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
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
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
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    if not args.peers_only:
        print_step_profile(model, sst, args)


if __name__ == "__main__":
    main()
