"""A full disk while writing: one line naming the file, the previous file intact, no half file."""

import errno
from pathlib import Path

import pytest
import torch

from mtlab.__main__ import main
from mtlab.data.datasets import SAMPLE_DIR
from mtlab.training import checkpoints
from mtlab.training.checkpoints import CheckpointError
from mtlab.training.output_folder import OutputWriteError, write_atomically

FULL = OSError(errno.ENOSPC, "No space left on device")


def _half_then_full(path, *_args, **_kwargs):
    Path(path).write_bytes(b"half a file")
    raise FULL


def test_a_checkpoint_on_a_full_disk_keeps_the_last_one(tmp_path, monkeypatch):
    path = tmp_path / "finetune-state.pt"
    checkpoints.write_atomically({"step": 50}, path)
    monkeypatch.setattr(checkpoints.torch, "save", lambda _state, path: _half_then_full(path))
    with pytest.raises(CheckpointError, match=f"could not write the checkpoint {path} .*No space"):
        checkpoints.write_atomically({"step": 100}, path)
    assert torch.load(path, weights_only=True) == {"step": 50}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["finetune-state.pt"]


def test_a_results_file_on_a_full_disk_keeps_the_last_one(tmp_path):
    path = tmp_path / "results.json"
    path.write_text("{}")
    with pytest.raises(OutputWriteError, match=f"could not write {path} \\(No space left"):
        write_atomically(path, _half_then_full)
    assert path.read_text() == "{}" and [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_the_command_says_it_in_one_line(tmp_path, tiny_folder, monkeypatch, capsys):
    real = Path.write_text

    def full_for_results(self, *args, **kwargs):
        if self.name == "results.json.tmp":
            real(self, "{half")
            raise FULL
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", full_for_results)
    out = tmp_path / "run"
    code = main(["--data-dir", str(SAMPLE_DIR), "--encoder", str(tiny_folder), "--train-limit", "20",
                 "--dev-limit", "10", "--epochs", "1", "--no-feature-cache", "--output-dir", str(out)])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and f"error: could not write {out / 'results.json'} (No space" in err
    assert "Traceback" not in err
    assert not (out / "results.json").exists() and not (out / "results.json.tmp").exists()
    assert (out / "checkpoints" / "finetune.pt").exists()  # --resume goes on from here
