"""Command line: `python -m mtlab [options]` runs the full lab (see `mtlab.experiment`).

python -m mtlab                                  # everything, default encoder
python -m mtlab --train-limit 2000 --finetune-limit 500 --output-dir runs/quick
python -m mtlab --encoder path/to/bert-base-uncased --device cuda
python -m mtlab download --base-url URL          # the course files into data/ (see mtlab.download)
"""

from __future__ import annotations

import argparse
import dataclasses
import signal
import sys

from mtlab.batching import SCHEDULES
from mtlab.encoder import POOLINGS
from mtlab.experiment import LabConfig, comparison_table, run_lab
from mtlab.heads import ParaphraseHead, SentimentHead, SimilarityHead
from mtlab.train import PRECISIONS

HELP = {
    "data_dir": "folder with the course's CSV files (default: $MTLAB_DATA_DIR, data/, sample)",
    "encoder": "Hugging Face folder or hub name (default: packaged all-MiniLM-L6-v2)",
    "pooling": "mean or cls",
    "train_limit": "use at most N training rows per task",
    "finetune_limit": "use at most N training rows per task when finetuning",
    "dev_limit": "evaluate on at most N dev rows per task",
    "schedule": "task sampling: round_robin or proportional",
    "log_every": "log the training losses every N steps",
    "device": "auto (cuda, then mps, then cpu), cpu, cuda, cuda:1, mps",
    "output_dir": "where results, chart, checkpoints and predictions go",
    "checkpoint_every": "save the training state every N steps",
    "pretrain_eval_every": "score dev every N epochs of pretraining",
    "finetune_eval_every": "score dev every N epochs of finetuning (0.25: four times an epoch)",
    "precision": "fp32, or bf16 for faster training on GPUs and on CPUs with AMX / AVX512-BF16",
    "keep_best": "end each phase with the weights that scored best on dev (early stopping)",
    "resume": "continue an interrupted run from the checkpoints in --output-dir",
    "feature_cache": "keep the frozen encoder's vectors in $MTLAB_CACHE_DIR "
    "(default ~/.cache/mtlab/features) so the next run skips encoding",
}


CHOICES = {
    "pooling": POOLINGS,
    "sentiment_head": SentimentHead.variants,
    "paraphrase_head": ParaphraseHead.variants,
    "similarity_head": SimilarityHead.variants,
    "schedule": SCHEDULES,
    "precision": PRECISIONS,
}


def positive(kind: type):
    """An argparse type that refuses zero and negative numbers, naming what it got."""

    def parse(text: str):
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in "invalid int value" errors
    return parse


def parse_args(argv: list[str] | None = None) -> LabConfig:
    """One --option per LabConfig field, with the field's default."""
    parser = argparse.ArgumentParser(
        prog="python -m mtlab",
        description="Pretrain, evaluate, finetune, evaluate, compare.",
        epilog="To fetch the course's data files: python -m mtlab download --help",
    )
    for field in dataclasses.fields(LabConfig):
        name = "--" + field.name.replace("_", "-")
        if field.type == "bool":
            parser.add_argument(name, action=argparse.BooleanOptionalAction, default=field.default,
                                help=HELP.get(field.name))  # fmt: skip
            continue
        kind = {"int": int, "float": float}.get(str(field.type).split(" ")[0], str)
        if kind is not str and field.name != "seed":
            kind = positive(kind)
        parser.add_argument(
            name,
            type=kind,
            choices=CHOICES.get(field.name),
            default=field.default,
            help=f"{HELP.get(field.name, '')} (default: {field.default})".strip(),
        )
    return LabConfig(**vars(parser.parse_args(argv)))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["download"]:
        from mtlab.download import main as download_main

        return download_main(argv[1:])
    config = parse_args(argv)
    # `kill` (SIGTERM) stops a run the way Ctrl-C does: the last checkpoint stays intact.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        results = run_lab(config)
    except KeyboardInterrupt:
        print(f"stopped. Continue with: python -m mtlab --resume --output-dir {config.output_dir}"
              " (and the same options)", file=sys.stderr)  # fmt: skip
        return 130
    if not results:  # a torchrun process other than the first
        return 0
    table = comparison_table(results["metrics"])
    print()
    print(table.round(3).to_string())
    print(
        f"\nwrote {config.output_dir}/results.json, results.csv, comparison.png, checkpoints/, "
        f"predictions/ in {results['seconds']['total']:.0f} s"
    )
    return 0


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
