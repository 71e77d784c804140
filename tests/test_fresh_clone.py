"""A fresh clone has only requirements.txt: the suite must collect and skip without the extras.

The peers extra (`make setup-peers`: accelerate, datasets, sentence-transformers) is installed
for the slow tier and by developers who run the bench, so its absence is easy to stop noticing.
This test hides those packages from a child pytest and collects the whole suite there: every
test file must import, and the peers' tests must skip with one line naming the command.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
EXTRAS = ("accelerate", "datasets", "sentence_transformers")

pytestmark = pytest.mark.slow


def hide_packages(folder: Path, names: tuple[str, ...]) -> None:
    """A sitecustomize.py that makes the packages missing, as on a fresh clone.

    A None in sys.modules is how Python marks a module as unimportable: `import` raises
    ModuleNotFoundError and `importlib.util.find_spec` (which transformers asks) says None.
    """
    folder.mkdir(parents=True)
    (folder / "sitecustomize.py").write_text(
        f"import sys\n\nfor name in {names!r}:\n    sys.modules[name] = None\n"
    )


def test_the_suite_collects_without_the_optional_packages(tmp_path):
    hidden = tmp_path / "hidden"
    hide_packages(hidden, EXTRAS)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-rs", "-m", "", "tests/"],
        cwd=ROOT,
        env={**environment(), "PYTHONPATH": str(hidden)},
        capture_output=True,
        text=True,
    )
    out = run.stdout + run.stderr
    assert run.returncode == 0 and "error" not in out.splitlines()[-1], out[-3000:]
    skipped = [line for line in out.splitlines() if "test_peers.py" in line and "SKIPPED" in line]
    assert skipped, out[-3000:]
    assert "make setup-peers" in skipped[0]


def test_the_hidden_packages_really_are_hidden(tmp_path):
    """The check above means something only if the child cannot import the extras."""
    hidden = tmp_path / "hidden"
    hide_packages(hidden, EXTRAS)
    for name in EXTRAS:
        run = subprocess.run(
            [sys.executable, "-c", f"import {name}"],
            env={**environment(), "PYTHONPATH": str(hidden)},
            capture_output=True,
            text=True,
        )
        assert run.returncode == 1 and "ModuleNotFoundError" in run.stderr, run.stderr


def environment() -> dict[str, str]:
    """This process's environment without its PYTHONPATH (the child gets only the hidden one)."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
