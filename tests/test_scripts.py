"""The scripts' settings are valid: a typo there would only surface after minutes of encoding."""

import importlib.util
from pathlib import Path

from mtlab import TrainConfig
from mtlab.model import MultitaskBert

SCRIPTS = Path(__file__).parents[1] / "scripts"


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_ablation_builds_its_config_and_head(tiny_encoder):
    ablate = load("ablate_pretrain")
    for name, (changes, head, dropout) in ablate.ABLATIONS.items():
        TrainConfig(**changes)  # an unknown field raises TypeError
        model = MultitaskBert(tiny_encoder, dropout=dropout)
        if head is not None:
            before = model.heads[head[0]]
            ablate.swap_head(model, *head)
            assert model.heads[head[0]] is not before, name
