"""Prediction files exactly as the course writes them, and the checked zip a student hands in.

The course's `evaluation.py` writes, for each task and split, `predictions/<name>-<split>-output.csv`
(names `sst`, `para`, `sts`) with a header `id \\t Predicted_Sentiment ` and one row per example,
`<id> , <value> `. `write_course_file` writes that layout; `read_predictions` reads it back the
way the course's graders split it. `python -m mtlab submit` checks the six files (every input id
once, values in range) and zips the folder.

    python -m mtlab submit --predictions runs/latest/predictions --out submission.zip
"""

from __future__ import annotations

import argparse
import math
import sys
import zipfile
from collections import Counter
from pathlib import Path

import pandas as pd

from mtlab.data.datasets import load_dataset, resolve_data_dir
from mtlab.tasks import COURSE_TASKS, Task, get_task

SPLITS = ("dev", "test")


class SubmissionError(ValueError):
    """A prediction file is missing or does not match its input file; the message says how."""


def output_file(task: str | Task, split: str) -> str:
    """The course's name for a task's predictions: sst-dev-output.csv, para-test-output.csv, ..."""
    return f"{get_task(task).output_name}-{split}-output.csv"


def write_course_file(path: str | Path, column: str, ids: list, values: list) -> None:
    """`id \\t <column> ` then `<id> , <value> ` per row: the course's evaluation.py layout."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [f"id \t {column} \n", *(f"{i} , {v} \n" for i, v in zip(ids, values))]
    path.write_text("".join(rows), encoding="utf-8")


def read_predictions(path: str | Path) -> pd.DataFrame:
    """A course-layout predictions file as a DataFrame (columns: id and the prediction column)."""
    path = Path(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines:
        raise SubmissionError(f"{path} is empty: expected the header 'id \\t Predicted_...'")
    header = [name.strip() for name in lines[0].split("\t")]
    if len(header) != 2 or header[0] != "id":
        raise SubmissionError(f"{path} line 1: expected 'id \\t Predicted_...', got {lines[0]!r}")
    rows = []
    for number, line in enumerate(lines[1:], 2):
        fields = [field.strip() for field in line.split(",")]
        if len(fields) != 2 or not fields[0]:
            raise SubmissionError(f"{path} line {number}: expected '<id> , <value>', got {line!r}")
        rows.append(fields)
    return pd.DataFrame(rows, columns=header)


def check_predictions(path: Path, task: str, split: str, data_dir: Path) -> list[str]:
    """Problems with one predictions file: ids against the input file, values in range."""
    spec = get_task(task)
    predicted = read_predictions(path)
    expected = [example["id"] for example in load_dataset(task, split, data_dir)]
    problems = []
    counts = Counter(predicted["id"])
    missing = [i for i in expected if i not in counts]
    extra = [i for i in counts if i not in set(expected)]
    repeated = [i for i, n in counts.items() if n > 1]
    for what, ids in (
        ("missing ids", missing),
        ("ids not in the input", extra),
        ("ids given more than once", repeated),
    ):
        if ids:
            problems.append(f"{len(ids)} {what} (e.g. {ids[:3]})")
    if predicted.columns[1] != spec.prediction_column:
        problems.append(f"column {predicted.columns[1]!r}, expected {spec.prediction_column!r}")
    bad = [v for v in predicted.iloc[:, 1] if not _in_range(v, spec)]
    if bad:
        problems.append(
            f"{len(bad)} value(s) out of range, e.g. {bad[:3]}; expected {spec.describe_labels()}"
        )
    return problems


def _in_range(text: str, spec: Task) -> bool:
    try:
        value = float(text)
    except ValueError:
        return False
    if spec.is_classification:
        return value.is_integer() and 0 <= value < spec.num_classes
    return math.isfinite(value) and spec.score_range[0] <= value <= spec.score_range[1]


def submit(predictions: Path, data_dir: Path, out: Path) -> list[str]:
    """Check the six course files in `predictions`, then zip the folder; the names zipped."""
    missing = [
        output_file(t, s)
        for t in COURSE_TASKS
        for s in SPLITS
        if not (predictions / output_file(t, s)).is_file()
    ]
    if missing:
        raise SubmissionError(
            f"{predictions} lacks {len(missing)} of the 6 course files: {', '.join(missing)}"
        )
    problems = [
        f"{output_file(t, s)}: {p}"
        for t in COURSE_TASKS
        for s in SPLITS
        for p in check_predictions(predictions / output_file(t, s), t, s, data_dir)
    ]
    if problems:
        raise SubmissionError("; ".join(problems))
    names = sorted(p.name for p in predictions.glob("*-output.csv"))
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in names:
            archive.write(predictions / name, f"predictions/{name}")
    return names


def main(argv: list[str] | None = None) -> int:
    """`python -m mtlab submit`: 0 when the zip was written, 2 with one line saying what is wrong."""
    parser = argparse.ArgumentParser(
        prog="python -m mtlab submit", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--predictions",
        type=Path,
        default=Path("runs/latest/predictions"),
        help="the folder a run wrote (default: runs/latest/predictions)",
    )
    parser.add_argument(
        "--data-dir",
        help="the course data the predictions are for (default: $MTLAB_DATA_DIR, data/, sample)",
    )
    parser.add_argument("--out", type=Path, default=Path("submission.zip"))
    args = parser.parse_args(argv)
    try:
        names = submit(args.predictions, resolve_data_dir(args.data_dir).path, args.out)
    except (SubmissionError, ValueError) as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 2
    print(f"checked {len(names)} files, wrote {args.out}: {', '.join(names)}")
    print("Add your own .py files to the zip as the course's prepare_submit.py does.")
    return 0
