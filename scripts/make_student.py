"""Make the student version of the notebooks: solutions taken out, outputs cleared.

    python scripts/make_student.py --out student notebooks/*.ipynb      (or: make student)

The committed notebooks are the solved ones, so they render with outputs. nbgrader's
convention marks what the student writes: in a code cell, the lines from `### BEGIN SOLUTION`
to `### END SOLUTION` become `# YOUR CODE HERE` and `raise NotImplementedError()`, indented
as the solution was. Every output and execution count is cleared. The student version goes
outside notebooks/, so `pytest --nbval notebooks/` only ever sees the solved ones.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"


def strip_solutions(source: str, where: str) -> str:
    """Replace every marked solution in a cell's source with the stub a student fills in."""
    out, inside = [], False
    for number, line in enumerate(source.splitlines(), 1):
        marker = line.strip()
        if marker == BEGIN:
            if inside:
                raise ValueError(f"{where} line {number}: {BEGIN} inside another solution")
            inside, indent = True, re.match(r"\s*", line).group()
            out += [f"{indent}# YOUR CODE HERE", f"{indent}raise NotImplementedError()"]
        elif marker == END:
            if not inside:
                raise ValueError(f"{where} line {number}: {END} without {BEGIN}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"{where}: {BEGIN} is never closed by {END}")
    return "\n".join(out)


def student_version(path: Path) -> nbformat.NotebookNode:
    """The notebook at `path` with its solutions stripped and its outputs cleared."""
    notebook = nbformat.read(path, as_version=4)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        cell.source = strip_solutions(cell.source, f"{path.name} cell {index}")
        cell.outputs, cell.execution_count = [], None
    return notebook


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("student"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for path in args.notebooks:
        notebook = student_version(path)
        stubs = sum("raise NotImplementedError()" in c.source for c in notebook.cells)
        nbformat.write(notebook, args.out / path.name)
        print(f"{args.out / path.name}: {stubs} exercise stub(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
