"""Options that cannot work are refused before any work, naming the option; checkpoints whose
head options mtlab cannot rebuild are named too."""

import pytest
import torch

from mtlab.__main__ import main
from mtlab.training.checkpoints import CheckpointError, load_checkpoint, save_checkpoint


@pytest.mark.parametrize(
    "args, said",
    [
        (["--warmup", "1.5"], "warmup is the share of the steps with a rising learning rate, in [0, 1); got 1.5"),
        (["--finetune-warmup", "1"], "in [0, 1); got 1.0"),
        (["--dev-limit", "1"], "--dev-limit must be a whole number of rows, at least 2 (a dev score"),
        (["--output-dir", " "], "--output-dir is empty: name the folder"),
    ],
)  # fmt: skip
def test_refused_before_any_work(args, said, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("mtlab.experiment.load_task_data", _no_work)
    assert main(["--output-dir", str(tmp_path / "run"), *args]) == 2
    err = capsys.readouterr().err
    assert said in err and err.count("\n") == 2  # the error and the --debug hint, no traceback
    assert not (tmp_path / "run").exists()  # options first: not even the folder is made


def _no_work(*_args, **_kwargs):
    raise AssertionError("the run started working before its options were checked")


@pytest.mark.parametrize("warmup", [0.0, 0.5, 0.99])
def test_a_warmup_share_below_one_is_fine(warmup):
    from mtlab.training.config import TrainConfig

    assert TrainConfig(warmup=warmup).check().warmup == warmup


@pytest.mark.parametrize(
    "options, said",
    [
        ({"hidden": 32, "no_such_option": 1}, "unexpected keyword argument 'no_such_option'"),
        ({"hidden": 32, "variant": "no_such_variant"}, "unknown SentimentHead variant"),
        ("not a dict", "options are 'not a dict', not a dict"),
    ],
)
def test_a_checkpoint_with_head_options_mtlab_cannot_rebuild(tiny_folder, tmp_path, options, said):
    from mtlab.model import MultitaskBert

    path = tmp_path / "model.pt"
    save_checkpoint(MultitaskBert.from_pretrained(str(tiny_folder)), path)
    state = torch.load(path, weights_only=True)
    state["heads"]["sst"]["options"] = options
    torch.save(state, path)
    with pytest.raises(CheckpointError, match="'sst' head") as error:
        load_checkpoint(path)
    assert said in str(error.value)
