"""A course folder for the tests: the shipped nbgrader_config.py, the assignment, nbgrader's release."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from build_course import build  # noqa: E402


def nbgrader_env(kernels: Path) -> dict:
    """nbgrader (and the alembic it calls) from this Python's bin; the "mtlab" kernel in `kernels`."""
    subprocess.run([sys.executable, "-m", "ipykernel", "install", "--prefix", str(kernels),
                    "--name", "mtlab"], check=True, capture_output=True)  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MTLAB_", "NBGRADER"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env["JUPYTER_PATH"] = str(kernels / "share" / "jupyter")
    return env


def nbgrader(course: Path, *args: str, env: dict) -> subprocess.CompletedProcess:
    done = subprocess.run([Path(sys.executable).parent / "nbgrader", *args], cwd=course, env=env,
                          capture_output=True, text=True, timeout=900)  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def new_course(root: Path, notebooks: list[Path], env: dict) -> Path:
    """root/course with `notebooks` as the source assignment "mtlab" and nbgrader's release."""
    course = root / "course"
    course.mkdir()
    shutil.copy(ROOT / "course" / "nbgrader_config.py", course)
    build(course, notebooks)
    nbgrader(course, "generate_assignment", "mtlab", "--force", env=env)
    return course
