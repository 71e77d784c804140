"""Re-run notebooks in place in the fast profile, so their stored outputs match nbval.

MTLAB_FAST=1 python scripts/execute_notebooks.py notebooks/*.ipynb   (or: make notebooks)
"""

import os
import sys
import time

import nbformat
from nbclient import NotebookClient

if os.environ.get("MTLAB_FAST") != "1":
    sys.exit("set MTLAB_FAST=1: stored outputs must come from the fast profile nbval runs")
for path in sys.argv[1:]:
    started = time.perf_counter()
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={
        "metadata": {"path": os.path.dirname(path) or "."}}).execute()  # fmt: skip
    nbformat.write(notebook, path)
    print(f"{path}: {time.perf_counter() - started:.0f} s")
