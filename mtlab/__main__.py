"""Command line: `python -m mtlab [options]` runs the full lab (see `mtlab.experiment`).

python -m mtlab                                  # everything, default encoder
python -m mtlab --train-limit 2000 --finetune-limit 500 --output-dir runs/quick
python -m mtlab --encoder path/to/bert-base-uncased --device cuda
python -m mtlab download --base-url URL          # the course files into data/ (see mtlab.download)
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

from mtlab.experiment import LabConfig, comparison_table, run_lab

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
}


def parse_args(argv: list[str] | None = None) -> LabConfig:
    """One --option per LabConfig field, with the field's default."""
    parser = argparse.ArgumentParser(
        prog="python -m mtlab",
        description="Pretrain, evaluate, finetune, evaluate, compare.",
        epilog="To fetch the course's data files: python -m mtlab download --help",
    )
    for field in dataclasses.fields(LabConfig):
        kind = {"int": int, "float": float}.get(str(field.type).split(" ")[0], str)
        parser.add_argument(
            "--" + field.name.replace("_", "-"),
            type=kind,
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
    results = run_lab(config)
    table = comparison_table(results["metrics"])
    print()
    print(table.round(3).to_string())
    print(
        f"\nwrote {config.output_dir}/results.json, results.csv, comparison.png, checkpoints/, "
        f"predictions/ in {results['seconds']['total']:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
