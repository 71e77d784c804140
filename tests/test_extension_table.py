"""The extension table: each entry's flags do on the command line what the entry says."""

import shlex

import pytest

from bench.extension_costs import TIMED
from bench.extension_table import EXTENSIONS, describe
from mtlab import MultitaskBert
from mtlab.__main__ import parse_args
from mtlab.experiment import LabConfig
from mtlab.training.config import TrainConfig

FLAG_ENTRIES = [name for name, extension in EXTENSIONS.items() if not extension.mlm]


@pytest.mark.parametrize("name", FLAG_ENTRIES)
def test_the_flags_set_exactly_the_entrys_options(name):
    extension, defaults = EXTENSIONS[name], LabConfig()
    config = parse_args(shlex.split(extension.flags))
    changed = {field: getattr(config.finetune, field) for field in extension.train}
    assert changed == extension.train
    assert {k: v for k, v in vars(config.finetune).items() if k not in extension.train} == {
        k: v for k, v in vars(defaults.finetune).items() if k not in extension.train
    }, f"{extension.flags!r} changes more finetune settings than {extension.train}"
    for option, value in extension.heads.items():
        assert getattr(config, option) == value
        assert getattr(defaults, option) != value, f"{option}={value!r} is already the default"


@pytest.mark.parametrize("name", list(EXTENSIONS))
def test_every_entry_builds_its_model_and_settings(name, tiny_encoder):
    extension = EXTENSIONS[name]
    TrainConfig(**extension.train).check()  # an unknown field or value raises
    MultitaskBert(tiny_encoder, **extension.heads)
    assert describe(name).strip()


def test_the_mlm_entry_names_its_command():
    (mlm,) = [e for e in EXTENSIONS.values() if e.mlm]
    assert mlm.flags.startswith("python -m mtlab further-pretrain")


def test_the_bench_times_entries_of_the_table():
    assert set(TIMED) <= set(EXTENSIONS) and "defaults" not in TIMED


def test_describe_adds_the_note_in_brackets():
    assert describe("defaults") == "(none)"
    assert describe("head_lr") == "--finetune-head-lr 3e-4 (10x lr)"
