"""Two CPU processes under torchrun (gloo) train to the same numbers as one process."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

WORKER = Path(__file__).with_name("ddp_worker.py")
TORCHRUN = shutil.which("torchrun", path=str(Path(sys.executable).parent))

# Gradients are averaged across processes in a different order of float additions.
TOLERANCE = 1e-4


@pytest.mark.slow
@pytest.mark.skipif(TORCHRUN is None, reason="torchrun not found next to this Python")
def test_two_processes_match_one(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1]), "OMP_NUM_THREADS": "1"}
    single, double = tmp_path / "single.json", tmp_path / "double.json"
    subprocess.run([sys.executable, str(WORKER), str(single)], env=env, check=True, timeout=300)
    subprocess.run(
        [TORCHRUN, "--standalone", "--nproc_per_node", "2", str(WORKER), str(double)],
        env=env, check=True, timeout=300,
    )  # fmt: skip
    one, two = json.loads(single.read_text()), json.loads(double.read_text())
    assert len(one["loss"]) == len(two["loss"]) == 16
    assert max(abs(a - b) for a, b in zip(one["loss"], two["loss"])) < TOLERANCE
    assert max(abs(a - b) for a, b in zip(one["weights"], two["weights"])) < TOLERANCE
