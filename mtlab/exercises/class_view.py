"""The class view: per exercise, how many students made which mistake, read from graded notebooks.

    python -m mtlab class-view course            (after `nbgrader autograde mtlab` in course/)

nbgrader gives points; this says why points were lost. Every check leaves its verdict's record
in the graded notebook (see `mtlab.exercises`): in a passing grade cell, in the metadata of its
output; in a failing one, as the JSON message of ExerciseNotPassed. Each student gets one
outcome per exercise (per grade cell): the first verdict that is not "done", else "done".
A cell that failed without a verdict (the student's cell above it raised, the notebook timed
out) is "no verdict", with the error's name; a notebook not handed in is "missing".
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import nbformat
import pandas as pd

from mtlab.exercises import DONE, MISTAKES, NOT_DONE, VERDICT_KEY

MISSING, NO_VERDICT = "missing", "no verdict"


def cell_verdicts(cell: nbformat.NotebookNode) -> tuple[list[dict], str | None]:
    """The verdict records a graded cell's outputs hold, and the name of an error without one."""
    records, error = [], None
    for output in cell.get("outputs", []):
        if VERDICT_KEY in output.get("metadata", {}):
            records.append(output["metadata"][VERDICT_KEY])
        elif output.get("output_type") == "error":
            if output.get("ename") == "ExerciseNotPassed":
                records.append(json.loads(output["evalue"]))
            else:
                error = output.get("ename", "an error")
    return records, error


def outcome(records: list[dict], error: str | None) -> dict:
    """One exercise's outcome for one student: the first verdict that is not done, else done."""
    for record in records:
        if record["status"] != DONE:
            label = record["mistake_id"] or record["status"]
            return {"outcome": label, "status": record["status"], "seed": record["seed"]}
    if error is not None or not records:
        return {"outcome": f"{NO_VERDICT} ({error or 'no output'})", "status": NO_VERDICT}
    return {"outcome": DONE, "status": DONE}


def exercise_name(grade_id: str) -> str:
    """'ex3_1' -> '3.1' (the notebooks' grade ids); any other id as it is."""
    return grade_id[2:].replace("_", ".") if grade_id.startswith("ex") else grade_id


def read_class(course: Path, assignment: str = "mtlab") -> pd.DataFrame:
    """One row per student and exercise: student, notebook, exercise, outcome, status, seed.

    The exercises are the grade cells of the source assignment (course/source/ASSIGNMENT), so
    a notebook a student did not hand in still counts, as "missing".
    """
    source = course / "source" / assignment
    graded = sorted((course / "autograded").glob(f"*/{assignment}"))
    if not source.is_dir():
        raise FileNotFoundError(f"no source assignment {source}: run `make course` first")
    if not graded:
        raise FileNotFoundError(
            f"no graded notebooks in {course / 'autograded'}: run `nbgrader autograde {assignment}`"
        )
    rows = []
    for path in sorted(source.glob("*.ipynb")):
        exercises = grade_cells(nbformat.read(path, as_version=4))
        for folder in graded:
            student = folder.parent.name
            mine = folder / path.name
            cells = grade_cells(nbformat.read(mine, as_version=4)) if mine.exists() else {}
            for grade_id in exercises:
                where = {
                    "student": student,
                    "notebook": path.stem,
                    "exercise": exercise_name(grade_id),
                }
                if grade_id in cells:
                    rows.append(where | outcome(*cell_verdicts(cells[grade_id])))
                else:
                    rows.append(where | {"outcome": MISSING, "status": MISSING})
    table = pd.DataFrame(
        rows, columns=["student", "notebook", "exercise", "outcome", "status", "seed"]
    )
    return table.astype({"seed": "Int64"})


def grade_cells(notebook: nbformat.NotebookNode) -> dict[str, nbformat.NotebookNode]:
    """A notebook's autograded cells (nbgrader's `grade`, not `solution`), by grade id."""
    return {
        cell.metadata.nbgrader.grade_id: cell
        for cell in notebook.cells
        if cell.metadata.get("nbgrader", {}).get("grade")
        and not cell.metadata.nbgrader.get("solution")
    }


def class_table(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Per exercise and outcome: how many students, who, and the seed's number for a seed mistake."""
    table = (
        outcomes.groupby(["exercise", "outcome"], sort=False)
        .agg(students=("student", "size"), seed=("seed", "first"), who=("student", ", ".join))
        .reset_index()
    )
    table["mistake"] = table["outcome"].map(
        lambda key: MISTAKES[key].name if key in MISTAKES else ""
    )
    order = {DONE: 0, NOT_DONE: 2}
    table["_rank"] = table["outcome"].map(lambda key: order.get(key, 1))
    table = table.sort_values(["exercise", "_rank", "students"], ascending=[True, True, False])
    return table.drop(columns="_rank").reset_index(drop=True)


def plot_class(table: pd.DataFrame, title: str = "the class, exercise by exercise"):
    """One stacked bar per exercise: done, each named mistake (seed mistakes red), not done, other."""
    import matplotlib.pyplot as plt

    exercises = list(dict.fromkeys(table["exercise"]))
    fig, ax = plt.subplots(figsize=(9, 0.42 * len(exercises) + 1.6))
    shown = set()
    for y, exercise in enumerate(exercises):
        left = 0
        for row in table[table["exercise"] == exercise].itertuples():
            kind = _kind(row.outcome, row.seed)
            label = None if kind in shown else kind
            shown.add(kind)
            ax.barh(y, row.students, left=left, color=COLOURS[kind], edgecolor="white", label=label)
            if kind in ("seed mistake", "named mistake"):
                text = f"seed {row.seed}" if kind == "seed mistake" else row.outcome.split(".")[-1]
                ax.text(left + row.students / 2, y, text, ha="center", va="center", fontsize=7)
            left += row.students
    ax.set_yticks(range(len(exercises)), [f"Ex {e}" for e in exercises])
    ax.invert_yaxis()
    ax.set_xlabel("students")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_title(title)
    ax.legend(
        loc="upper center",
        bbox_to_anchor=(0.5, -0.12 - 1.5 / len(exercises)),
        ncol=5,
        frameon=False,
    )
    fig.tight_layout()
    return fig


COLOURS = {
    "done": "tab:green",
    "seed mistake": "tab:red",
    "named mistake": "tab:orange",
    "not done yet": "lightgrey",
    "no verdict or missing": "dimgrey",
}


def _kind(label: str, seed) -> str:
    if label == DONE:
        return "done"
    if label in MISTAKES:
        return "seed mistake" if pd.notna(seed) else "named mistake"
    if label == NOT_DONE:
        return "not done yet"
    return "no verdict or missing"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mtlab class-view", description=__doc__.splitlines()[0]
    )
    parser.add_argument("course", type=Path, help="the nbgrader course folder (holds autograded/)")
    parser.add_argument("--assignment", default="mtlab")
    parser.add_argument(
        "--out", type=Path, help="where class.csv and class.png go (default: COURSE)"
    )
    args = parser.parse_args(argv)
    try:
        outcomes = read_class(args.course, args.assignment)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    out = args.out or args.course
    out.mkdir(parents=True, exist_ok=True)
    table = class_table(outcomes)
    table.to_csv(out / "class.csv", index=False)
    plot_class(table).savefig(out / "class.png", dpi=120)
    students = outcomes["student"].nunique()
    print(f"{students} students, {outcomes['exercise'].nunique()} exercises ({args.assignment})")
    with pd.option_context("display.max_rows", None, "display.width", 140):
        print(table.drop(columns="who").to_string(index=False))
    print(f"wrote {out / 'class.csv'} and {out / 'class.png'}")
    return 0
