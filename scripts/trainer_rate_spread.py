"""Is mtlab's finetune as fast as transformers' Trainer? The same SST steps, alternated, several times.

    MTLAB_DATA_DIR=../shared/data HF_HUB_OFFLINE=1 python scripts/trainer_rate_spread.py --precision bf16

The bench (`python -m bench --peers`) measures the Trainer and mtlab once each, one after
the other; on a shared CPU one such pair can be off by a tenth. This runs the pair (Trainer,
then mtlab, as in the bench) --repeats times on the same rows and prints each pair's sentences
per second and the mean ± sd of mtlab / Trainer.
Needs `pip install -r requirements-peers.txt`.
"""

from __future__ import annotations

import argparse
import statistics

from bench.contest import PeerConfig
from bench.peer_comparison import mtlab_run
from mtlab.data.datasets import load_dataset, random_subset, resolve_data_dir
from mtlab.runtime import describe_cpu


def rate_pairs(config: PeerConfig, repeats: int, dev_rows: int = 200) -> list[tuple[float, float]]:
    """(Trainer, mtlab) sentences per second on the same SST rows, `repeats` times."""
    from bench import peers

    source = resolve_data_dir()
    train_rows = random_subset(
        load_dataset("sst", "train", source.path), config.max_steps * config.batch_size
    )
    dev = random_subset(load_dataset("sst", "dev", source.path), dev_rows)
    pairs = []
    for repeat in range(repeats):
        trainer = peers.trainer_finetune("sst", train_rows, dev, config).examples_per_second
        ours = mtlab_run({"sst": train_rows}, {"sst": dev}, config).examples_per_second
        pairs.append((trainer, ours))
        print(f"pair {repeat}: Trainer {trainer:.1f}, mtlab {ours:.1f} sentences/s, "
              f"mtlab / Trainer {ours / trainer:.3f}", flush=True)  # fmt: skip
    return pairs


def main(argv: list[str] | None = None) -> list[float]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=40, help="timed steps (after 3 untimed)")
    parser.add_argument("--precision", choices=("fp32", "bf16"), default="fp32")
    parser.add_argument("--model-path", help="encoder folder (default: the packaged MiniLM)")
    args = parser.parse_args(argv)
    if args.repeats < 2:
        parser.error(f"--repeats must be at least 2 for a spread, got {args.repeats}")
    config = PeerConfig(
        steps=args.steps, precision=args.precision, model_path=args.model_path
    ).check()
    print(f"machine: {describe_cpu()}; {args.repeats} pairs of {config.max_steps} SST steps of "
          f"{config.batch_size}, {args.precision}")  # fmt: skip
    ratios = [ours / trainer for trainer, ours in rate_pairs(config, args.repeats)]
    print(f"mtlab / Trainer: {statistics.mean(ratios):.3f} ± {statistics.stdev(ratios):.3f} "
          f"(mean ± sd over {len(ratios)} pairs)")  # fmt: skip
    return ratios


if __name__ == "__main__":
    main()
