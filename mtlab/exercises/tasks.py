"""Notebook 07's exercises: register CFIMDB, a head that follows the task table, a predictions file."""

from __future__ import annotations

import difflib
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import torch
from torch import nn

from mtlab import tasks as table
from mtlab.data.datasets import SAMPLE_DIR, load_dataset
from mtlab.debugging.checks import check_head
from mtlab.evaluation.submission import SubmissionError, read_predictions, write_course_file
from mtlab.exercises import Wrong, check, yours_or_mtlab
from mtlab.heads.base import Head
from mtlab.tasks import Task, get_task, known_tasks, register_task, unregister_task

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


def _header(split: str, file: str) -> list[str]:
    """The column names in the first line of a split's file (in mtlab's sample folder)."""
    path = Path(file).expanduser()
    path = path if path.is_absolute() else SAMPLE_DIR / path
    if not path.is_file():
        raise Wrong(
            f"files[{split!r}] is {file!r}: no such file in the data folder (the sample "
            f"has {FILES[split]})"
        )
    return [name.strip() for name in path.read_text(encoding="utf-8").splitlines()[0].split("\t")]


def _check_columns(spec: Task, header: list[str]) -> None:
    """Each column the entry names is one the file has, and the right one."""
    if spec.text_columns == ("sentiment",) and spec.label_column == "sentence":
        raise Wrong(
            "text_columns and label_column are swapped: the review is in 'sentence', "
            "its label in 'sentiment'"
        )
    if spec.is_pair:
        raise Wrong(
            f"text_columns={list(spec.text_columns)} makes CFIMDB a pair task; each "
            "example is one review: text_columns=['sentence']"
        )
    for role, column in [
        ("text_columns", spec.text_columns[0]),
        ("label_column", spec.label_column),
        ("id_column", spec.id_column),
    ]:
        if column in header:
            continue
        close = difflib.get_close_matches(column, [h for h in header if h], n=1)
        if close:
            raise Wrong(f"{role} is {column!r}, the file's column is {close[0]!r}", mistake=2)
        default = " (register_task's default)" if column == "label" else ""
        raise Wrong(
            f"{role} is {column!r}{default}, but the file has no such column; its "
            f"columns are {[h for h in header if h]}"
        )
    if spec.text_columns != ("sentence",):
        raise Wrong(f"text_columns={list(spec.text_columns)}: the review is in 'sentence'")


@check("register_cfimdb")
def check_register_cfimdb(register_cfimdb: Callable) -> list[str]:
    """The entry register_cfimdb() makes: name, label kind, files, columns, predictions column."""
    with table.table_restored():
        if "cfimdb" in known_tasks():
            unregister_task("cfimdb")
        before = set(known_tasks())
        register_cfimdb()
        added = [name for name in known_tasks() if name not in before]
        if "cfimdb" not in added:
            if not added:
                raise Wrong("no task was registered: call register_task(...) in the function")
            close = difflib.get_close_matches("cfimdb", [added[0].lower()], n=1, cutoff=0.6)
            raise Wrong(
                f"you registered {added[0]!r}; the cells below ask the task table for 'cfimdb'",
                mistake=2 if close else None,
            )
        spec = get_task("cfimdb")
        if not spec.is_classification:
            raise Wrong(
                "the labels are classes (0 negative, 1 positive): give num_classes=2. "
                "With a score_range the task would train with squared error and be "
                "scored by Pearson r"
            )
        missing = [split for split in FILES if split not in spec.files]
        if missing:
            raise Wrong(
                f"files has no {missing} split: give train, dev and test (the test file "
                "is the one you write predictions for)"
            )
        for split, file in spec.files.items():
            other = [s for s, name in FILES.items() if name == Path(file).name and s != split]
            if other:
                raise Wrong(f"files[{split!r}] is {file!r}, the {other[0]} file")
        headers = {split: _header(split, spec.files[split]) for split in FILES}
        _check_columns(spec, headers["train"])
        labels = pd.read_csv(SAMPLE_DIR / FILES["train"], sep="\t")["sentiment"]
        if spec.num_classes != labels.nunique():
            raise Wrong(
                f"num_classes={spec.num_classes}, but the labels are "
                f"{sorted(labels.unique().tolist())}: {labels.nunique()} classes"
            )
        if spec.prediction_column != "Predicted_Sentiment":
            raise Wrong(
                f"prediction_column is {spec.prediction_column!r}: the course reads "
                "sentiment predictions (SST's and CFIMDB's) from 'Predicted_Sentiment'"
            )
        sizes = {split: len(load_dataset("cfimdb", split, SAMPLE_DIR)) for split in FILES}
    return [
        f"cfimdb: text 'sentence', label 'sentiment', {spec.num_classes} classes scored by "
        f"{spec.metric}; the sample's files read: "
        + ", ".join(f"{split} {n} rows" for split, n in sizes.items())
    ]


def use_register_cfimdb(register_cfimdb: Callable) -> Task:
    """Register CFIMDB with the student's function, or mtlab's while the stub is unfilled."""
    chosen = yours_or_mtlab(
        "register_cfimdb", register_cfimdb, mtlab_register_cfimdb, lambda f: f()
    )
    chosen()
    return get_task("cfimdb")


class ReviewHead(Head):
    """Review vector -> one logit per class of the cfimdb entry (2: negative, positive)."""

    def __init__(self, hidden: int, n_classes: int | None = None, dropout: float = 0.1):
        n_classes = n_classes or get_task("cfimdb").num_classes
        super().__init__("cfimdb", hidden=hidden, n_classes=n_classes, dropout=dropout)
        self.net = nn.Sequential(
            nn.Dropout(dropout),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, n_classes),
        )

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        return self.net(u)


def _output(head_class: type, hidden: int, **options) -> torch.Tensor:
    """A fresh head's output for 16 random vectors (the notebook's random numbers kept)."""
    with torch.random.fork_rng(), torch.no_grad():
        head = head_class(hidden, **options).eval()
        return head(torch.randn(16, hidden, generator=torch.Generator().manual_seed(0)))


@check("ReviewHead")
def check_review_head(head_class: type, hidden: int = 8) -> list[str]:
    """check_head against the cfimdb entry, then: logits, classes from the table, options."""
    with (
        table.table_restored(),
        torch.random.fork_rng(),
    ):  # check_head seeds: keep the notebook's RNG
        mtlab_register_cfimdb()
        head = head_class(hidden)  # a stub raises NotImplementedError here
        if not isinstance(head, Head):
            raise Wrong(f"{head_class.__name__} is not an mtlab Head: subclass Head")
        if head.task != "cfimdb":
            raise Wrong(
                f"it passes task {head.task!r} to Head.__init__: pass 'cfimdb', so its "
                "loss and predictions follow the cfimdb entry"
            )
        found = check_head(head, "cfimdb", hidden)
        if not found.ok:
            cut = any("cut from the graph" in problem for problem in found.problems)
            if any("dtype" in problem for problem in found.problems):
                found.problems.append("return the logits: the class is Head.predict's job")
            raise Wrong("\n".join(found.problems), mistake=7 if cut else None)
        out = _output(head_class, hidden)
        if ((out >= 0) & (out <= 1)).all():
            raise Wrong(
                "its outputs all lie between 0 and 1: probabilities (softmax or sigmoid). "
                "Return logits: cross-entropy applies log-softmax itself"
            )
        if _output(head_class, hidden, n_classes=5).shape != (16, 5):
            raise Wrong(
                f"{head_class.__name__}(hidden, n_classes=5) does not give 5 logits: use "
                "the n_classes it is given"
            )
        table.replace_task("cfimdb", num_classes=3)
        three = _output(head_class, hidden).shape
        if three != (16, 3):
            raise Wrong(
                f"with the task table saying 3 classes, {head_class.__name__}(hidden) gives "
                f"{tuple(three)}: it hard-codes the classes. Without n_classes, take "
                "get_task('cfimdb').num_classes"
            )
        options = {k: v for k, v in head.options().items() if k != "task"}
        try:
            head_class(**options).load_state_dict(head.state_dict())
        except Exception:
            raise Wrong(
                f"rebuilt from its options ({options}), the head does not take its own "
                "weights: pass hidden, n_classes and dropout to Head.__init__ "
                "(checkpoints rebuild heads from them)"
            ) from None
    return found.notes


def use_review_head(head_class: type) -> type:
    """The student's head class, or mtlab's ReviewHead while the stub is unfilled."""
    return yours_or_mtlab("ReviewHead", head_class, ReviewHead, lambda cls: _output(cls, 8))


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
        raise Wrong("nothing was written to the path it was given")
    try:
        return read_predictions(path)
    except SubmissionError as error:
        first = (path.read_text(encoding="utf-8").splitlines() or [""])[0]
        if "," in first and "\t" not in first:
            raise Wrong(
                f"the file starts {first!r}: a pandas CSV (to_csv), which the course "
                "does not read. Write it with write_course_file"
            ) from None
        raise Wrong(str(error)) from None


def _check_file(task: str, given: pd.DataFrame, written: pd.DataFrame) -> None:
    """The file as the course reads it: column, one row per id in order, values of the task."""
    spec, column = get_task(task), get_task(task).prediction_column
    if written.columns[1] != column:
        raise Wrong(
            f"for {task!r} the prediction column must be {column!r} (the task table's "
            f"prediction_column), not {written.columns[1]!r}"
        )
    ids, want = written["id"].tolist(), given["id"].tolist()
    if len(ids) != len(want):
        raise Wrong(f"the file has {len(ids)} rows for {len(want)} predictions: one per example")
    if ids != want:
        how = "in another order" if sorted(ids) == sorted(want) else "with other ids"
        raise Wrong(f"the rows are {how} than given: keep the ids, in the order given")
    if spec.is_classification:
        if not all(v.lstrip("-").isdigit() for v in written[column]):
            raise Wrong(
                f"the {task!r} predictions are written as {written[column].iloc[0]!r}: "
                "write class numbers as integers (0, 1, ...)"
            )
        if [int(v) for v in written[column]] != given["prediction"].tolist():
            raise Wrong(f"the {task!r} values in the file are not the predictions given")
        return
    values, (low, high) = written[column].astype(float), spec.score_range
    if "label" in given and (values - given["label"]).abs().max() < 1e-3:
        raise Wrong(f"the {task!r} values in the file are the labels, not the predictions")
    if values.min() < low or values.max() > high:
        raise Wrong(
            f"{task!r} predictions run from {values.min():g} to {values.max():g}; the "
            f"task's scores lie from {low:g} to {high:g}: clip to "
            "get_task(task).score_range"
        )
    if not (values - given["prediction"].clip(low, high)).abs().max() < 1e-3:
        raise Wrong(
            f"the {task!r} values in the file are not the predictions given (clipped "
            f"to {low:g}-{high:g})"
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
            returned = save_predictions(task, given, path)
            _check_file(task, kept, _read_back(path))
            if not given.equals(kept):
                raise Wrong("it changed the DataFrame it was given: work on a copy")
            column = get_task(task).prediction_column
            if not isinstance(returned, pd.DataFrame) or list(returned.columns) != ["id", column]:
                raise Wrong(f"return the table you wrote: a DataFrame with columns id, {column}")
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
