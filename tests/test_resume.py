"""Interrupt and resume: a stopped run continues to the same numbers as one never stopped."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from mtlab import CheckpointError, TrainConfig, evaluate, load_checkpoint, train
from mtlab.data.datasets import SAMPLE_DIR
from mtlab.model import MultitaskBert
from tests.conftest import make_tiny_encoder
from tests.test_train import _tiny_sets

CONFIG = TrainConfig(epochs=2, batch_size=4, log_every=2, checkpoint_every=3, seed=1)


def _fresh(tokenizer):
    return MultitaskBert(make_tiny_encoder(tokenizer)).set_mode("finetune")


class StopAt:
    """An on_log callback that presses Ctrl-C once the history reaches a step."""

    def __init__(self, step):
        self.step = step

    def __call__(self, history):
        if history["step"].iloc[-1] >= self.step:
            raise KeyboardInterrupt


@pytest.mark.parametrize("scored", [False, True], ids=["plain", "dev-scored-keep-best"])
def test_resume_reaches_the_same_numbers(tokenizer, tmp_path, scored):
    sets = _tiny_sets()
    config = TrainConfig(**{**vars(CONFIG), "eval_every": 0.5 if scored else None})
    dev = _tiny_sets(6) if scored else None
    straight = _fresh(tokenizer)
    expected = train(straight, sets, config, progress=False, dev_sets=dev)

    state = tmp_path / "state.pt"
    stopped = _fresh(tokenizer)
    with pytest.raises(KeyboardInterrupt):
        train(stopped, sets, config, progress=False, state_path=state, on_log=StopAt(8),
              dev_sets=dev)  # fmt: skip
    assert torch.load(state, weights_only=True)["step"] == 6  # the last checkpoint before step 8

    resumed = _fresh(tokenizer)  # a new process would start from scratch like this
    history = train(resumed, sets, config, progress=False, state_path=state, resume=True,
                    dev_sets=dev)  # fmt: skip
    assert history.equals(expected)
    assert evaluate(resumed, sets) == evaluate(straight, sets)
    for a, b in zip(resumed.parameters(), straight.parameters()):
        assert torch.equal(a, b)


def test_truncated_checkpoint_is_detected(tiny_model, tmp_path):
    from mtlab import save_checkpoint

    path = tmp_path / "model.pt"
    save_checkpoint(tiny_model, path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="truncated or corrupted"):
        load_checkpoint(path, tiny_model)
    path.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match=str(path.stat().st_size)):
        load_checkpoint(path, tiny_model)
    path.write_bytes(b"reported as damaged if it were read")  # torch's unpickler: IndexError
    with pytest.raises(CheckpointError, match="truncated or corrupted"):
        load_checkpoint(path, tiny_model)


def _cli(tiny_folder, out, *extra):
    return [sys.executable, "-m", "mtlab", "--data-dir", str(SAMPLE_DIR), "--encoder", str(tiny_folder),
            "--pretrain-epochs", "2", "--finetune-epochs", "3", "--finetune-limit", "40",
            "--batch-size", "8", "--checkpoint-every", "2", "--output-dir", str(out), *extra]  # fmt: skip


@pytest.mark.slow
def test_sigterm_then_resume_matches_an_uninterrupted_run(tmp_path, tiny_folder):
    env = {**os.environ, "PYTHONPATH": os.getcwd(), "OMP_NUM_THREADS": "1"}
    subprocess.run(
        _cli(tiny_folder, tmp_path / "straight"), env=env, check=True, capture_output=True
    )

    out = tmp_path / "stopped"
    process = subprocess.Popen(_cli(tiny_folder, out), env=env, stderr=subprocess.PIPE, text=True)
    state = out / "checkpoints" / "finetune-state.pt"
    deadline = time.monotonic() + 120
    while not state.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.poll() is None, "the run ended before it could be interrupted"
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130 and "--resume" in err
    torch.load(state, weights_only=True)  # the last checkpoint is intact

    subprocess.run(_cli(tiny_folder, out, "--resume"), env=env, check=True, capture_output=True)
    straight = json.loads((tmp_path / "straight" / "results.json").read_text())["metrics"]
    resumed = json.loads((out / "results.json").read_text())["metrics"]
    assert resumed == straight
    assert not state.exists()  # a finished phase leaves only its final checkpoint
