"""Lay the notebooks out as nbgrader's source assignment: course/source/mtlab/.

    python scripts/build_course.py                     (or: make course, which then runs
                                                        nbgrader generate_assignment)

The notebooks already are an nbgrader source assignment: their solution cells and graded
check cells carry nbgrader's cell metadata. What nbgrader cannot do is gather the files a
notebook reaches outside its own folder. The notebooks link recorded numbers in the repo's
results/ (`../results/minilm-full/results.json`); here those files are copied into the
assignment and the links rewritten to `results/...`, so that the released folder works
wherever a student puts it. The folders in KEEP (answers/) are copied beside the notebooks;
their markdown links results/ one folder further up (`../../results/X`, from
notebooks/answers/), rewritten to `../results/X` and copied the same way. nbgrader then copies
every file of the assignment into the release and the graded folders.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "mtlab"
OUTSIDE = re.compile(r"\.\./results/([\w./-]+\.\w+)")  # a file in the repo's results/
OUTSIDE_KEPT = re.compile(r"\.\./\.\./results/([\w./-]+\.\w+)")  # the same, from answers/
KEEP = ("answers",)  # folders of notebooks/ the assignment ships


def gather(notebook: nbformat.NotebookNode, results: Path, into: Path) -> set[str]:
    """Rewrite `../results/X` to `results/X` in every cell; copy each X into `into/results`."""
    used: set[str] = set()
    for cell in notebook.cells:
        used.update(OUTSIDE.findall(cell.source))
        cell.source = OUTSIDE.sub(r"results/\1", cell.source)
    copy_results(used, results, into)
    return used


def gather_kept(folder: Path, results: Path, into: Path) -> set[str]:
    """In the markdown of a kept folder (answers/), `../../results/X` to `../results/X`; copy X."""
    used: set[str] = set()
    for page in sorted(folder.glob("*.md")):
        text = page.read_text(encoding="utf-8")
        used.update(OUTSIDE_KEPT.findall(text))
        page.write_text(OUTSIDE_KEPT.sub(r"../results/\1", text), encoding="utf-8")
    copy_results(used, results, into)
    return used


def copy_results(names: set[str], results: Path, into: Path) -> None:
    """Copy each results/X named into `into/results/X`."""
    for name in names:
        source = results / name
        if not source.is_file():
            raise FileNotFoundError(f"a link refers to {source}, which does not exist")
        (into / "results" / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, into / "results" / name)


def build(course: Path, notebooks: list[Path]) -> Path:
    """Write course/source/mtlab/ from `notebooks`; returns that folder."""
    source = course / "source" / ASSIGNMENT
    if source.exists():
        shutil.rmtree(source)
    source.mkdir(parents=True)
    for folder in KEEP:
        if (ROOT / "notebooks" / folder).is_dir():
            shutil.copytree(ROOT / "notebooks" / folder, source / folder)
            gather_kept(source / folder, ROOT / "results", source)
    for path in notebooks:
        notebook = nbformat.read(path, as_version=4)
        used = gather(notebook, ROOT / "results", source)
        nbformat.write(notebook, source / path.name)
        print(f"{source / path.name}: {len(used)} recorded result file(s) copied")
    return source


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/*.ipynb")
    parser.add_argument("--course", type=Path, default=ROOT / "course")
    args = parser.parse_args(argv)
    build(args.course, args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
