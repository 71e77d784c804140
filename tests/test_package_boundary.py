"""The lab package holds what a student uses: it never imports the measurement tools in bench/.

bench/ (`python -m bench`) imports mtlab to measure it; the other way round would put the
bench's code, and the peers extra's error, in every student's `import mtlab`.
"""

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import mtlab

ROOT = Path(__file__).parents[1]

# Imports the package and every module under it, then names any bench module that came along.
IMPORT_EVERY_MODULE = """
import importlib, importlib.util, pkgutil, sys
assert importlib.util.find_spec("bench") is not None, "bench must be importable here"
import mtlab
names = ["mtlab"]
for module in pkgutil.walk_packages(mtlab.__path__, "mtlab."):
    importlib.import_module(module.name)
    names.append(module.name)
print(len(names), "modules")
print("bench modules:", sorted(m for m in sys.modules if m == "bench" or m.startswith("bench.")))
"""


def test_no_mtlab_module_imports_bench():
    path = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    run = subprocess.run(
        [sys.executable, "-c", IMPORT_EVERY_MODULE],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    count = int(run.stdout.split()[0])
    assert count > 40, run.stdout  # every module was walked, not only the package
    assert "bench modules: []" in run.stdout, run.stdout


def test_the_package_map_names_only_modules_of_the_lab():
    """Each `mtlab.x` in the package's docstring imports: a module moved to bench/ would not."""
    named = sorted(set(re.findall(r"`(mtlab\.\w+)`", mtlab.__doc__)))
    assert "mtlab.training" in named
    for name in named:
        importlib.import_module(name)
