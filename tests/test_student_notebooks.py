"""The student version of the notebooks runs: every check says "not done yet", nothing breaks.

nbgrader's release (`make student`) takes the solutions out; this test runs what a student gets,
top to bottom, in the fast profile. A check cell (tagged "check") must answer in words that
the exercise is not done yet, and the cells after an unfilled stub must still run (on
mtlab's own version, which they say they use).
"""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.nbgrader_course import nbgrader_env, new_course

ROOT = Path(__file__).parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
WITH_EXERCISES = [p for p in NOTEBOOKS if "### BEGIN SOLUTION" in p.read_text(encoding="utf-8")]


@pytest.fixture(scope="module")
def student_dir(tmp_path_factory):
    """What `make student` copies: nbgrader's release of the whole course."""
    env = nbgrader_env(tmp_path_factory.mktemp("kernels"))
    return new_course(tmp_path_factory.mktemp("course"), NOTEBOOKS, env) / "release" / "mtlab"


@pytest.mark.slow
@pytest.mark.parametrize("path", WITH_EXERCISES, ids=lambda p: p.stem)
def test_student_version_runs_and_every_check_says_not_done_yet(student_dir, path, monkeypatch):
    monkeypatch.setenv("MTLAB_FAST", "1")
    notebook = nbformat.read(student_dir / path.name, as_version=4)
    assert not any(cell.get("outputs") for cell in notebook.cells)
    assert "### BEGIN SOLUTION" not in nbformat.writes(notebook)
    NotebookClient(notebook, timeout=600, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(student_dir)}}).execute()  # fmt: skip
    checks = 0
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert not errors, f"{path.name} cell {index} failed: {errors[0].ename}: {errors[0].evalue}"
        text = "".join(o.get("text", "") + o.get("data", {}).get("text/plain", "")
                       for o in cell.outputs)  # fmt: skip
        assert "Traceback" not in text, f"{path.name} cell {index} printed a traceback"
        if "check" in cell.metadata.get("tags", []):
            checks += 1
            assert "not done yet" in text, f"{path.name} cell {index} check said: {text!r}"
    assert checks >= 3, f"{path.name} has {checks} check cells; every notebook wants 3 or more"


def test_solved_notebooks_pass_their_own_checks():
    for path in WITH_EXERCISES:
        notebook = nbformat.read(path, as_version=4)
        for index, cell in enumerate(notebook.cells):
            if "check" in cell.metadata.get("tags", []):
                text = "".join(o.get("text", "") + o.get("data", {}).get("text/plain", "")
                               for o in cell.outputs)  # fmt: skip
                assert ": done" in text and "wrong" not in text.split("\n")[0], (
                    f"{path.name} cell {index}: {text!r}"
                )
