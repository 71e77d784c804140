"""The CS224N extensions as finetune options: one table that the ablation and the bench read.

Each entry is one change from the lab's defaults, written three ways: the `python -m mtlab`
flags a student types, the head options (`MultitaskBert.from_pretrained` keywords) and the
finetune `TrainConfig` fields those flags set. `scripts/ablate_finetune.py` scores every
entry over seeds (README, "The CS224N extensions"); `python -m bench --extensions`
times the ones that change a step's cost.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Extension:
    """One change from the defaults: head options, finetune settings, or a masked-LM pass first."""

    flags: str  # the same change on the command line of python -m mtlab
    note: str = ""  # what the flags alone do not say
    heads: dict = field(default_factory=dict)
    train: dict = field(default_factory=dict)
    mlm: bool = False  # a masked-LM pass before finetuning (mtlab.extensions.further_pretrain)


EXTENSIONS: dict[str, Extension] = {
    "defaults": Extension(""),
    "annealed": Extension("--finetune-schedule annealed", train={"schedule": "annealed"}),
    "cosent": Extension("--similarity-loss cosent", heads={"similarity_loss": "cosent"}),
    "mnrl": Extension("--mnrl-weight 0.5", heads={"mnrl_weight": 0.5}),
    "cosent+mnrl": Extension(
        "--similarity-loss cosent --mnrl-weight 0.5",
        heads={"similarity_loss": "cosent", "mnrl_weight": 0.5},
    ),
    "sum": Extension(
        "--finetune-surgery sum",
        "every task each step, summed: surgery's control",
        train={"surgery": "sum"},
    ),
    "pcgrad": Extension("--finetune-surgery pcgrad", train={"surgery": "pcgrad"}),
    "upgrad": Extension("--finetune-surgery upgrad", train={"surgery": "upgrad"}),
    "smart": Extension("--finetune-smart 1", train={"smart": 1.0}),
    "llrd": Extension("--finetune-layer-decay 0.9", train={"layer_decay": 0.9}),
    "head_lr": Extension("--finetune-head-lr 3e-4", "10x lr", train={"head_lr": 3e-4}),
    "llrd+head_lr": Extension(
        "--finetune-layer-decay 0.9 --finetune-head-lr 3e-4",
        train={"layer_decay": 0.9, "head_lr": 3e-4},
    ),
    "mlm": Extension(
        "python -m mtlab further-pretrain --steps MLM_STEPS",
        "first; then --encoder runs/mlm-encoder",
        mlm=True,
    ),
    "bf16": Extension(
        "--finetune-precision bf16",
        "bfloat16 autocast: a speed option, not a method",
        train={"precision": "bf16"},
    ),
}


def describe(name: str) -> str:
    """The entry's flags, with its note in brackets: what a results table prints."""
    extension = EXTENSIONS[name]
    flags = extension.flags or "(none)"
    return f"{flags} ({extension.note})" if extension.note else flags
