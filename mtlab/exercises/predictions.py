"""Notebook 07's exercise 7.3, the predictions file (imported from mtlab.exercises.tasks)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import torch

from mtlab import tasks as table
from mtlab.evaluation.submission import SubmissionError, read_predictions, write_course_file
from mtlab.exercises import Wrong, check, student, yours_or_mtlab
from mtlab.tasks import Task, get_task, register_task

# CFIMDB's files and entry, as notebook 07 registers them (its exercise checks the student's)
FILES = {
    "train": "ids-cfimdb-train.csv",
    "dev": "ids-cfimdb-dev.csv",
    "test": "ids-cfimdb-test-student.csv",
}


def mtlab_register_cfimdb() -> Task:
    """CFIMDB as the course ships it: one review, a 0/1 sentiment, three files."""
    return register_task(
        "cfimdb",
        text_columns=["sentence"],
        label_column="sentiment",
        num_classes=2,
        files=FILES,
        prediction_column="Predicted_Sentiment",
        label_names=["negative", "positive"],
    )


def mtlab_save_predictions(task: str, predictions: pd.DataFrame, path) -> pd.DataFrame:
    """The course's predictions file: id, then the task's prediction column; scores in range."""
    spec = get_task(task)
    values = predictions["prediction"]
    if not spec.is_classification:
        values = values.clip(*spec.score_range)
    write_course_file(path, spec.prediction_column, predictions["id"].tolist(), values.tolist())
    return pd.DataFrame({"id": predictions["id"], spec.prediction_column: values})


def _predictions(task: str, n: int = 6) -> pd.DataFrame:
    """What run_model gives: ids (hex, unsorted, as in the course), predictions, dev labels."""
    g, spec = torch.Generator().manual_seed(len(task)), get_task(task)
    ids = [f"{torch.randint(16**6, (1,), generator=g).item():06x}c" for _ in range(n)]
    if spec.is_classification:
        labels = torch.randint(spec.num_classes, (n,), generator=g).tolist()
        return pd.DataFrame({"id": ids, "prediction": labels})
    scores = [3.2, -0.7, 5.6, 0.0, 4.95, 2.437][:n]  # a cosine head's 5 x cos runs from -5 to 5
    return pd.DataFrame({"id": ids, "prediction": scores, "label": [2.5] * n})


def _read_back(path: Path) -> pd.DataFrame:
    """The file as the course's graders split it, or what keeps them from reading it."""
    if not path.is_file():
        raise Wrong(
            "nothing was written to the path it was given: write to `path`, not to a name "
            "of your own",
            id="save_predictions.nothing-written",
        )
    try:
        return read_predictions(path)
    except UnicodeDecodeError:
        raise Wrong(
            "the file is not text (UTF-8): write it with write_course_file",
            id="save_predictions.layout",
        ) from None
    except SubmissionError as error:
        first = (path.read_text(encoding="utf-8").splitlines() or [""])[0]
        if "," in first and "\t" not in first:
            raise Wrong(
                f"the file starts {first!r}: a pandas CSV (to_csv), which the course "
                "does not read. Write it with write_course_file",
                id="save_predictions.pandas-csv",
            ) from None
        raise Wrong(
            f"{error}: the course reads 'id \\t <column>' then '<id> , <value>' per row; "
            "write_course_file writes that",
            id="save_predictions.layout",
        ) from None


def _check_file(task: str, given: pd.DataFrame, written: pd.DataFrame) -> None:
    """The file as the course reads it: column, one row per id in order, values of the task."""
    spec, column = get_task(task), get_task(task).prediction_column
    if written.columns[1] != column:
        raise Wrong(
            f"for {task!r} the prediction column must be {column!r} (the task table's "
            f"prediction_column), not {written.columns[1]!r}",
            id="save_predictions.column",
        )
    ids, want = written["id"].tolist(), given["id"].tolist()
    if len(ids) != len(want):
        raise Wrong(
            f"the file has {len(ids)} rows for {len(want)} predictions: one per example",
            id="save_predictions.rows",
        )
    if ids != want:
        how = "in another order" if sorted(ids) == sorted(want) else "with other ids"
        raise Wrong(
            f"the rows are {how} than given: keep the ids, in the order given",
            id="save_predictions.order",
        )
    if spec.is_classification:
        if not all(v.lstrip("-").isdigit() for v in written[column]):
            raise Wrong(
                f"the {task!r} predictions are written as {written[column].iloc[0]!r}: "
                "write class numbers as integers (0, 1, ...)",
                id="save_predictions.float-classes",
            )
        if [int(v) for v in written[column]] != given["prediction"].tolist():
            raise Wrong(
                f"the {task!r} values in the file are not the predictions given",
                id="save_predictions.values",
            )
        return
    values, (low, high) = pd.to_numeric(written[column], errors="coerce"), spec.score_range
    if values.isna().any():
        raise Wrong(
            f"the {task!r} values are written as {written[column].iloc[0]!r}: write plain "
            "numbers (values.tolist(), not tensors or strings of them)",
            id="save_predictions.values",
        )
    if "label" in given and (values - given["label"]).abs().max() < 1e-3:
        raise Wrong(
            f"the {task!r} values in the file are the labels, not the predictions",
            id="save_predictions.labels",
        )
    if values.min() < low or values.max() > high:
        raise Wrong(
            f"{task!r} predictions run from {values.min():g} to {values.max():g}; the "
            f"task's scores lie from {low:g} to {high:g}: clip to "
            "get_task(task).score_range",
            id="save_predictions.not-clipped",
        )
    clipped = given["prediction"].clip(low, high)
    if (values - clipped.round()).abs().max() < 1e-9 and (values - clipped).abs().max() > 1e-3:
        raise Wrong(
            f"the {task!r} scores in the file are rounded to whole numbers: Pearson r is "
            "computed from the scores themselves; write them as they are",
            id="save_predictions.rounded",
        )
    if not (values - clipped).abs().max() < 1e-3:
        raise Wrong(
            f"the {task!r} values in the file are not the predictions given (clipped "
            f"to {low:g}-{high:g})",
            id="save_predictions.values",
        )


@check("save_predictions")
def check_save_predictions(save_predictions: Callable) -> list[str]:
    """cfimdb (classes), sts (scores outside 0-5, a label column) and a made-up 5-class task."""
    with table.table_restored(), tempfile.TemporaryDirectory() as folder:
        mtlab_register_cfimdb()
        register_task(
            "stars",
            text_columns=["text"],
            num_classes=5,
            prediction_column="Predicted_Stars",
            rows={"train": [{"id": "x", "text": "fine", "label": 4}]},
        )
        for task in ("cfimdb", "sts", "stars"):
            given = _predictions(task)
            kept = given.copy()
            path = Path(folder) / f"{task}-test-output.csv"
            returned = student(save_predictions, task, given, path)
            _check_file(task, kept, _read_back(path))
            if not given.equals(kept):
                raise Wrong(
                    "it changed the DataFrame it was given: work on a copy (the caller's "
                    "predictions are not yours to change)",
                    id="save_predictions.changed-input",
                )
            column = get_task(task).prediction_column
            if not isinstance(returned, pd.DataFrame) or list(returned.columns) != ["id", column]:
                raise Wrong(
                    f"return the table you wrote: a DataFrame with columns id, {column}",
                    id="save_predictions.returned",
                )
    return [
        "read back as the course does: cfimdb (classes), sts (scores clipped to 0-5, not the "
        "labels) and a 5-class task with a prediction column of its own"
    ]


def use_save_predictions(save_predictions: Callable) -> Callable:
    """The student's save_predictions, or mtlab's while the stub is unfilled."""

    def probe(f):
        with tempfile.TemporaryDirectory() as folder:
            f("cfimdb", pd.DataFrame({"id": ["a"], "prediction": [1]}), Path(folder) / "p.csv")

    return yours_or_mtlab("save_predictions", save_predictions, mtlab_save_predictions, probe)
