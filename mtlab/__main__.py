"""Command line: `python -m mtlab [options]` runs the full lab (see `mtlab.experiment`).

python -m mtlab                                  # everything, default encoder
python -m mtlab --train-limit 2000 --finetune-limit 500 --output-dir runs/quick
python -m mtlab --encoder path/to/bert-base-uncased --device cuda
python -m mtlab download                         # the course files into data/ (see mtlab.data.download)
python -m mtlab submit                           # check the six prediction files, zip them
python -m mtlab further-pretrain --steps 300     # masked-LM pass; then --encoder runs/mlm-encoder
python -m mtlab class-view course                # after nbgrader autograde: mistakes per exercise
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import signal
import sys

from mtlab.batching import SCHEDULES
from mtlab.data.reader import DataFormatError
from mtlab.encoder import POOLINGS, ModelNotFoundError
from mtlab.experiment import LabConfig, comparison_table, run_lab
from mtlab.extensions.surgery import SURGERIES
from mtlab.heads.kinds import ParaphraseHead, SentimentHead, SimilarityHead
from mtlab.heads.losses import TaskLossError
from mtlab.training.checkpoints import CheckpointError
from mtlab.training.config import PRECISIONS, TrainConfig
from mtlab.training.loop import NothingToTrainError
from mtlab.training.output_folder import FolderInUseError, OutputWriteError

HELP = {
    "data_dir": "folder with the course's CSV files (default: $MTLAB_DATA_DIR, data/, sample)",
    "encoder": "Hugging Face folder or hub name (default: packaged all-MiniLM-L6-v2)",
    "pooling": "mean or cls",
    "train_limit": "use at most N training rows per task",
    "finetune_limit": "use at most N training rows per task when finetuning",
    "dev_limit": "evaluate on at most N dev rows per task",
    "device": "auto (cuda, then mps, then cpu), cpu, cuda, cuda:1, mps",
    "output_dir": "where results, chart, checkpoints and predictions go",
    "resume": "continue an interrupted run from the checkpoints in --output-dir; refused when "
    "they were saved with other options or data (without --resume a run starts over)",
    "feature_cache": "keep the frozen encoder's vectors in $MTLAB_CACHE_DIR "
    "(default ~/.cache/mtlab/features) so the next run skips encoding",
    "similarity_loss": "the STS head's training loss in both phases: mse, or cosent (ranks the "
    "batch's pairs by cosine)",
    "mnrl_weight": "weight of a multiple-negatives ranking loss added for Quora's duplicates, "
    "both phases (0: off)",
    # TrainConfig's fields: each is --NAME (both phases), --pretrain-NAME and --finetune-NAME
    "epochs": "passes over the training data",
    "batch_size": "examples per step",
    "lr": "peak learning rate (AdamW, linear warmup and decay)",
    "weight_decay": "AdamW weight decay",
    "warmup": "share of the steps with a rising learning rate, in [0, 1)",
    "schedule": "task sampling: round_robin or proportional",
    "log_every": "log the training losses every N steps",
    "max_steps": "stop after N steps",
    "grad_clip": "clip the gradient norm to this",
    "seed": "random seed (0 to 2**32 - 1)",
    "checkpoint_every": "save the training state every N steps",
    "bucket": "batch sentences of similar length together",
    "eval_every": "score dev every N epochs (0.25: four times an epoch)",
    "keep_best": "end with the weights that scored best on dev (early stopping)",
    "budget_minutes": "stop the phase after this many minutes (the estimate is printed first)",
    "precision": "fp32; bf16 (fast on GPUs and CPUs with AMX / AVX512-BF16, slow elsewhere); "
    "auto: bf16 where this machine has bf16 units",
    "layer_decay": "layer-wise lr decay: encoder layer l of L at lr * decay**(L - l) (1: off)",
    "head_lr": "the heads' learning rate (None: lr)",
    "surgery": "combine the tasks' encoder gradients with a torchjd aggregator, one batch of "
    "every task per step (finetune only; None: sum them)",
    "smart": "weight of the SMART adversarial smoothness penalty (finetune only; 0: off)",
}
CHOICES = {
    "pooling": POOLINGS,
    "sentiment_head": SentimentHead.variants,
    "paraphrase_head": ParaphraseHead.variants,
    "similarity_head": SimilarityHead.variants,
    "schedule": SCHEDULES,
    "precision": PRECISIONS,
    "similarity_loss": SimilarityHead.training_losses,
    "surgery": SURGERIES,
}
PHASES = ("pretrain", "finetune")
# Errors whose message already says what is wrong and where: shown as one line, no traceback.
MTLAB_ERRORS = (
    DataFormatError,
    ModelNotFoundError,
    CheckpointError,
    FolderInUseError,
    OutputWriteError,
    TaskLossError,
    NothingToTrainError,
    FloatingPointError,
    ValueError,
)
# every other number must be > 0
ALLOW_ZERO = {"weight_decay", "warmup", "seed", "smart", "mnrl_weight"}


def number(kind: type, name: str):
    """An argparse type for a finite number of `kind`, > 0 (or >= 0 where zero makes sense)."""

    def parse(text: str):
        value = kind(text)  # argparse turns a ValueError into "invalid int value: ..."
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
        if name in ALLOW_ZERO and value < 0 or name not in ALLOW_ZERO and value <= 0:
            least = "0 or more" if name in ALLOW_ZERO else "a positive number"
            raise argparse.ArgumentTypeError(f"must be {least}, got {text}")
        if name == "seed" and value >= 2**32:
            raise argparse.ArgumentTypeError(f"must be below 2**32, got {text}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in "invalid int value" errors
    return parse


def add_option(parser, flag: str, field: dataclasses.Field, default, help_text: str) -> None:
    """One --flag for a dataclass field, typed and checked by the field's type."""
    if field.type == "bool":
        parser.add_argument(
            flag, action=argparse.BooleanOptionalAction, default=default, help=help_text
        )
        return
    kind = {"int": int, "float": float}.get(str(field.type).split(" ")[0], str)
    parser.add_argument(
        flag,
        type=kind if kind is str else number(kind, field.name),
        choices=CHOICES.get(field.name),
        default=default,
        help=help_text,
    )


def build_parser() -> argparse.ArgumentParser:
    """One --option per LabConfig field, and three per TrainConfig field (both, each phase)."""
    parser = argparse.ArgumentParser(
        prog="python -m mtlab",
        description="Pretrain, evaluate, finetune, evaluate, compare.",
        epilog="To fetch the course's data files: python -m mtlab download --help. "
        "--debug shows the full traceback of an error.",
    )
    lab = LabConfig()
    for field in dataclasses.fields(LabConfig):
        if field.name in PHASES:
            continue
        default = getattr(lab, field.name)
        add_option(
            parser,
            "--" + field.name.replace("_", "-"),
            field,
            default,
            f"{HELP.get(field.name, '')} (default: {default})",
        )
    training = parser.add_argument_group(
        "training", "--NAME sets both phases; --pretrain-NAME and --finetune-NAME set one"
    )
    for field in dataclasses.fields(TrainConfig):
        flag = field.name.replace("_", "-")
        defaults = {phase: getattr(getattr(lab, phase), field.name) for phase in PHASES}
        add_option(
            training,
            f"--{flag}",
            field,
            None,
            f"{HELP[field.name]} (default: pretrain {defaults['pretrain']}, "
            f"finetune {defaults['finetune']})",
        )
        for phase in PHASES:
            add_option(training, f"--{phase}-{flag}", field, None, argparse.SUPPRESS)
    return parser


def parse_args(argv: list[str] | None = None) -> LabConfig:
    """The LabConfig the command line asks for: phase flags over shared ones over defaults."""
    args = vars(build_parser().parse_args(argv))
    config = LabConfig(
        **{f.name: args[f.name] for f in dataclasses.fields(LabConfig) if f.name not in PHASES}
    )
    for phase in PHASES:
        changes = {}
        for field in dataclasses.fields(TrainConfig):
            for key in (field.name, f"{phase}_{field.name}"):  # the phase's own flag wins
                if args[key] is not None:
                    changes[field.name] = args[key]
        setattr(config, phase, dataclasses.replace(getattr(config, phase), **changes))
    return config


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["download"]:
        from mtlab.data.download import main as download_main

        return download_main(argv[1:])
    if argv[:1] == ["submit"]:
        from mtlab.evaluation.submission import main as submit_main

        return submit_main(argv[1:])
    if argv[:1] == ["further-pretrain"]:
        from mtlab.extensions.further_pretrain import main as further_pretrain_main

        return further_pretrain_main(argv[1:])
    if argv[:1] == ["class-view"]:
        from mtlab.exercises.class_view import main as class_view_main

        return class_view_main(argv[1:])
    debug = "--debug" in argv  # a full traceback instead of one line, for mtlab's own errors
    config = parse_args([arg for arg in argv if arg != "--debug"])
    # `kill` (SIGTERM) stops a run the way Ctrl-C does: the last checkpoint stays intact.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        results = run_lab(config)
    except KeyboardInterrupt:
        print(
            f"stopped. Continue with: python -m mtlab --resume --output-dir {config.output_dir}"
            " (and the same options)",
            file=sys.stderr,
        )
        return 130
    except MTLAB_ERRORS as error:
        if debug:
            raise
        print(f"python -m mtlab: error: {error}", file=sys.stderr)
        print("(run again with --debug for the full traceback)", file=sys.stderr)
        return 2
    if not results:  # a torchrun process other than the first
        return 0
    table = comparison_table(results["metrics"])
    print()
    print(table.round(3).to_string())
    print(
        f"\nin {results['seconds']['total']:.0f} s, wrote to {config.output_dir}/: "
        + ", ".join(results["written"])
    )
    return 0


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
