"""A resumed run goes on only from its own checkpoints; one output folder, one run at a time."""

import dataclasses
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from transformers import AutoTokenizer

from mtlab.data.datasets import SAMPLE_DIR
from mtlab.encoder import default_model_path
from mtlab.experiment import LabConfig, run_lab
from mtlab.training.checkpoints import CheckpointError
from mtlab.training.config import TrainConfig
from mtlab.training.output_folder import FolderInUseError, check_writable_folder, hold_folder
from tests.conftest import make_tiny_encoder


@pytest.fixture(scope="module")
def finished_once(tmp_path_factory):
    """A tiny run that finished, once for the module: (its config, its output folder)."""
    tmp = tmp_path_factory.mktemp("finished")
    tiny_folder = tmp / "tiny-bert"
    encoder = make_tiny_encoder(AutoTokenizer.from_pretrained(default_model_path()))
    encoder.bert.save_pretrained(tiny_folder)
    encoder.tokenizer.save_pretrained(tiny_folder)
    phase = TrainConfig(epochs=1, batch_size=8, checkpoint_every=2)
    config = LabConfig(
        data_dir=str(SAMPLE_DIR), encoder=str(tiny_folder), train_limit=40, dev_limit=20,
        output_dir=str(tmp / "run"), feature_cache=False, pretrain=phase,
        finetune=dataclasses.replace(phase, lr=3e-5),
    )  # fmt: skip
    run_lab(config, progress=False)
    return config


@pytest.fixture
def finished(finished_once, tmp_path):
    """A copy of that run and its encoder, for one test to change: (config, output folder)."""
    for name in ("run", "tiny-bert"):
        shutil.copytree(Path(finished_once.output_dir).parent / name, tmp_path / name)
    config = dataclasses.replace(
        finished_once, output_dir=str(tmp_path / "run"), encoder=str(tmp_path / "tiny-bert")
    )
    return config, tmp_path / "run"


def _resume(config, **changes):
    return run_lab(dataclasses.replace(config, resume=True, **changes), progress=False)


def _other_data(tmp_path, edit):
    """A copy of the sample data with one file changed by `edit(path)`."""
    folder = tmp_path / "other-data"
    shutil.copytree(SAMPLE_DIR, folder)
    edit(folder / "ids-sst-train.csv")
    return str(folder)


def test_the_same_options_resume_and_reporting_options_may_change(finished, capsys):
    config, out = finished
    metrics = _resume(config, finetune=dataclasses.replace(config.finetune, log_every=3))
    assert "finished earlier" in capsys.readouterr().out
    assert metrics["metrics"] == _resume(config)["metrics"]


@pytest.mark.parametrize(
    "change, named",
    [
        ({"train_limit": 30}, ["--train-limit: saved 40, now 30", "sst train data: rows 40 -> 30"]),
        ({"similarity_head": "dot"}, ["--similarity-head: saved 'cosine', now 'dot'"]),
        ({"pooling": "cls"}, ["--pooling"]),
        ({"dev_limit": 10}, ["--dev-limit", "sts dev data"]),
    ],
)
def test_other_options_are_refused_one_line_each(finished, change, named):
    config, _ = finished
    with pytest.raises(CheckpointError, match="saved by another run") as error:
        _resume(config, **change)
    for line in named:
        assert f"  - {line}" in str(error.value)
    assert "drop --resume" in str(error.value)


def test_a_phase_option_is_refused_where_it_matters(finished, capsys):
    config, out = finished
    (out / "checkpoints" / "finetune.pt").unlink()  # as if finetune was cut short
    with pytest.raises(CheckpointError, match="--pretrain-lr: saved 0.001, now 0.002"):
        _resume(config, pretrain=dataclasses.replace(config.pretrain, lr=2e-3))
    # finetune's options never changed pretrain's result: its checkpoint is reused
    _resume(config, finetune=dataclasses.replace(config.finetune, lr=1e-4))
    assert "pretrain: finished earlier" in capsys.readouterr().out


@pytest.mark.parametrize(
    "edit",
    [
        lambda p: p.write_text(p.read_text().replace("\t1\n", "\t2\n", 1)),  # one label
        lambda p: p.write_text(p.read_text().replace("a", "e", 1)),  # one letter
    ],
    ids=["a-label", "a-letter"],
)
def test_other_data_is_refused_even_with_the_same_row_count(finished, tmp_path, edit):
    config, _ = finished
    with pytest.raises(
        CheckpointError,
        match="sst train data: path .* -> .*other-data/ids-sst-train.csv; other contents\n",
    ):
        _resume(config, data_dir=_other_data(tmp_path, edit))


def test_a_moved_data_folder_holding_the_same_rows_resumes(finished, tmp_path):
    config, _ = finished
    _resume(config, data_dir=_other_data(tmp_path, lambda p: None))


def test_other_encoder_weights_under_the_same_name_are_refused(finished):
    config, _ = finished
    from transformers import BertModel

    bert = BertModel.from_pretrained(config.encoder)
    with torch.no_grad():
        bert.embeddings.word_embeddings.weight[5] += 1
    bert.save_pretrained(config.encoder)
    with pytest.raises(CheckpointError, match="--encoder: other weights or tokenizer"):
        _resume(config)


def test_a_checkpoint_without_a_record_resumes_with_a_warning(finished, capsys):
    config, out = finished
    for path in (out / "checkpoints").glob("*.pt"):
        state = torch.load(path, weights_only=True)
        del state["run"]
        torch.save(state, path)
    _resume(config)
    said = capsys.readouterr().out
    assert said.count("did not record its run's options and data: nothing could be compared") == 2


def test_another_precision_is_reported_not_refused(finished, capsys):
    config, out = finished
    path = out / "checkpoints" / "finetune.pt"
    state = torch.load(path, weights_only=True)
    state["run"]["machine"]["finetune precision"] = "bf16"
    torch.save(state, path)
    _resume(config)
    assert "saved with finetune precision bf16; here it is fp32" in capsys.readouterr().out


def test_an_interrupted_state_is_checked_too(finished, tmp_path):
    config, out = finished
    checkpoints = out / "checkpoints"
    state = torch.load(checkpoints / "finetune.pt", weights_only=True)
    (checkpoints / "finetune.pt").unlink()
    torch.save({"model": {}, "run": state["run"]}, checkpoints / "finetune-state.pt")
    with pytest.raises(CheckpointError, match="finetune-state.pt was saved by another run"):
        _resume(config, finetune=dataclasses.replace(config.finetune, lr=1e-4))


def test_a_second_run_into_a_held_folder_stops_at_once_naming_the_holder(finished):
    config, out = finished
    with hold_folder(out), pytest.raises(FolderInUseError, match=f"pid {os.getpid()}"):
        run_lab(config, progress=False)
    with hold_folder(out):  # released when the first block ended
        pass


def test_the_lock_goes_with_a_killed_process(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; "
         "from mtlab.training.output_folder import hold_folder\n"
         "with hold_folder(Path(sys.argv[1])):\n print('held', flush=True); time.sleep(60)",
         str(tmp_path)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout.readline() == "held\n"
    with pytest.raises(FolderInUseError, match=f"pid {holder.pid}"), hold_folder(tmp_path):
        pass
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    with hold_folder(tmp_path):  # no stale lock after kill -9
        pass


def test_an_unwritable_output_folder_is_named_before_any_work(tmp_path):
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(ValueError, match="--output-dir .*a-file is a file"):
        check_writable_folder(tmp_path / "a-file", "--output-dir")
    with pytest.raises(ValueError, match="--output-dir .*a-file/run cannot be written"):
        check_writable_folder(tmp_path / "a-file" / "run", "--output-dir")


def test_a_read_only_output_folder_is_named(tmp_path):
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    if os.access(folder, os.W_OK):  # root writes anywhere: take a folder the kernel refuses
        folder = next((Path(p) for p in ("/sys", "/proc/self") if not _can_write(p)), None)
        if folder is None:
            pytest.skip("no read-only folder on this machine")
    with pytest.raises(ValueError, match="cannot be written .*choose a folder you can write"):
        check_writable_folder(folder, "--output-dir")


def _can_write(folder) -> bool:
    try:
        check_writable_folder(Path(folder), "x")
    except ValueError:
        return False
    return True


def test_resume_with_nothing_saved_says_it_starts_from_the_beginning(finished, capsys):
    config, out = finished
    for path in (out / "checkpoints").glob("*.pt"):
        path.rename(path.with_suffix(".bak"))
    (out / "checkpoints" / "my-own-model.pt").write_bytes(b"not mtlab's")  # never read
    _resume(config)
    assert f"--resume: no checkpoints in {out / 'checkpoints'}: starting from the beginning" in (
        capsys.readouterr().out
    )
