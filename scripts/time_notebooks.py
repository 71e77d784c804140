"""Time each notebook as a student runs it: top to bottom, full profile, cold feature cache.

    make student
    MTLAB_DATA_DIR=../shared/data python scripts/time_notebooks.py --label course student/*.ipynb
    python scripts/time_notebooks.py --label sample student/*.ipynb

Writes results/notebook-times/LABEL.json: minutes per notebook, its slowest cells, the CPU,
the data; the executed notebooks go to runs/notebook-times/LABEL/ (to read the estimates they
printed against their real times). The feature cache is a fresh empty folder for every notebook (a first run), and
MTLAB_FAST is unset (the profile a student gets in JupyterLab).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from datetime import datetime
from pathlib import Path

import nbformat
import torch
from nbclient import NotebookClient

from mtlab.runtime import describe_cpu

ROOT = Path(__file__).resolve().parents[1]


def cell_seconds(cell: nbformat.NotebookNode) -> float:
    timing = cell.metadata.get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not (start and end):
        return 0.0
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def time_notebook(path: Path, keep: Path) -> dict:
    notebook = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory() as cache:
        os.environ["MTLAB_CACHE_DIR"] = cache
        started = time.perf_counter()
        NotebookClient(notebook, timeout=1800, kernel_name="python3", allow_errors=True,
                       resources={"metadata": {"path": str(path.parent)}}).execute()  # fmt: skip
        seconds = time.perf_counter() - started
    keep.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, keep / path.name)
    cells = sorted(((cell_seconds(c), i) for i, c in enumerate(notebook.cells)), reverse=True)
    errors = [i for i, c in enumerate(notebook.cells) for o in c.get("outputs", [])
              if o.output_type == "error"]  # fmt: skip
    return {
        "seconds": round(seconds, 1),
        "minutes": round(seconds / 60, 1),
        "slowest_cells": {f"cell {i}": round(s, 1) for s, i in cells[:5] if s >= 1},
        "cells_with_errors": errors,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--label", required=True, help="course or sample: the output's name")
    args = parser.parse_args(argv)
    os.environ.pop("MTLAB_FAST", None)
    if os.environ.get("MTLAB_DATA_DIR"):  # the kernels start in the notebooks' folder
        os.environ["MTLAB_DATA_DIR"] = str(Path(os.environ["MTLAB_DATA_DIR"]).resolve())
    out = ROOT / "results" / "notebook-times" / f"{args.label}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "cpu": describe_cpu(),
        "cores": os.cpu_count(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "data": os.environ.get("MTLAB_DATA_DIR", "the shipped sample"),
        "date": datetime.now().strftime("%Y-%m-%d"),
        "notebooks": {},
    }
    for path in args.notebooks:
        record["notebooks"][path.stem] = time_notebook(
            path, ROOT / "runs" / "notebook-times" / args.label
        )
        print(f"{path.name}: {record['notebooks'][path.stem]}", flush=True)
        out.write_text(json.dumps(record, indent=1) + "\n")
    total = sum(n["seconds"] for n in record["notebooks"].values())
    print(f"in all {total / 60:.1f} min; wrote {out}")


if __name__ == "__main__":
    main()
