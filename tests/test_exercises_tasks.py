"""Notebook 07's checks: the solution passes, a stub is "not done yet", wrong answers are named,
and the task table is left as it was."""

import dataclasses
from pathlib import Path

import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mtlab import Head, get_task, known_tasks, register_task
from mtlab import tasks as table
from mtlab.evaluation.submission import read_predictions, write_course_file
from mtlab.exercises.tasks import (
    FILES,
    ReviewHead,
    check_register_cfimdb,
    check_review_head,
    check_save_predictions,
    mtlab_register_cfimdb,
    mtlab_save_predictions,
    use_register_cfimdb,
    use_review_head,
    use_save_predictions,
)
from tests.verdicts import assert_done, assert_named, assert_not_done, row


def stub(*_args, **_kwargs):
    raise NotImplementedError()


@pytest.fixture(autouse=True)
def table_unchanged():
    """Every check leaves the task table as it found it (conftest registers cfimdb)."""
    before = {name: dataclasses.astuple(get_task(name)) for name in known_tasks()}
    yield
    assert {name: dataclasses.astuple(get_task(name)) for name in known_tasks()} == before


# ------------------------------------------------------------------ register_cfimdb


def registers(name="cfimdb", **changes):
    """register_cfimdb with one thing changed (None: left to register_task's default)."""
    options = dict(
        text_columns=["sentence"],
        label_column="sentiment",
        num_classes=2,
        files=FILES,
        prediction_column="Predicted_Sentiment",
    )
    options.update(changes)
    return lambda: register_task(name, **{k: v for k, v in options.items() if v is not None})


def registers_by_path():  # files given as full paths into the sample folder
    from mtlab.data.datasets import SAMPLE_DIR

    return registers(files={s: str(SAMPLE_DIR / f) for s, f in FILES.items()})()


@pytest.mark.parametrize(
    "answer", [mtlab_register_cfimdb, registers(), registers(id_column="id"), registers_by_path]
)
def test_register_cfimdb_right_answers_pass(answer):
    assert_done(check_register_cfimdb(answer))  # label_names are optional


def test_register_cfimdb_stub_is_not_done():
    assert_not_done(check_register_cfimdb(stub))


def no_return():
    registers()()


WRONG_ENTRIES = [
    row(
        registers(label_column="sentimnet"),
        "register_cfimdb.misspelt-column",
        "the file's column is 'sentiment'",
        "seed mistake 2",
        name="sentimnet",
    ),
    row(
        registers(label_column="Sentiment"),
        "register_cfimdb.misspelt-column",
        "the file's column is 'sentiment'",
        name="Sentiment",
    ),
    row(
        registers(text_columns=["sentense"]),
        "register_cfimdb.misspelt-column",
        "the file's column is 'sentence'",
        name="sentense",
    ),
    row(
        registers(text_columns=["sentences"]),
        "register_cfimdb.misspelt-column",
        "the file's column is 'sentence'",
        name="sentences",
    ),
    row(
        registers(name="CFIMDB"),
        "register_cfimdb.misspelt-name",
        "you registered 'CFIMDB'",
        "seed mistake 2",
        name="CFIMDB",
    ),
    row(
        registers(name="cfimbd"),
        "register_cfimdb.misspelt-name",
        "you registered 'cfimbd'",
        name="cfimbd",
    ),
    row(
        registers(num_classes=None, score_range=(0, 1)),
        "register_cfimdb.scores-not-classes",
        "give num_classes=2",
        name="score-range",
    ),
    row(
        registers(num_classes=None, score_range=(0.0, 1.0)),
        "register_cfimdb.scores-not-classes",
        "scored by Pearson r",
        name="float-score-range",
    ),
    row(
        registers(num_classes=5),
        "register_cfimdb.num-classes",
        "num_classes=5, but the labels are [0, 1]",
        name="five-classes",
    ),
    row(
        registers(text_columns=["sentiment"], label_column="sentence"),
        "register_cfimdb.swapped-columns",
        "swapped",
        name="swapped",
    ),
    row(
        registers(label_column=None),
        "register_cfimdb.no-such-column",
        "'label' (register_task's default)",
        name="default-label",
    ),
    row(
        registers(text_columns=["review"]),
        "register_cfimdb.no-such-column",
        "has no such column",
        name="review",
    ),
    row(
        registers(text_columns=["id"], id_column="sentence"),
        "register_cfimdb.wrong-column",
        "the review is in 'sentence'",
        name="id-as-text",
    ),
    row(
        registers(text_columns=["sentence", "id"], id_column="key"),
        "register_cfimdb.pair-task",
        "a pair task",
        name="two-columns",
    ),
    row(
        registers(files={"train": FILES["train"], "dev": FILES["dev"]}),
        "register_cfimdb.missing-split",
        "no ['test'] split",
        name="no-test",
    ),
    row(
        registers(files={**FILES, "train": FILES["test"], "test": FILES["train"]}),
        "register_cfimdb.files-swapped",
        "files['train'] is 'ids-cfimdb-test-student.csv', the test file",
        name="train-test",
    ),
    row(
        registers(files={**FILES, "dev": FILES["train"]}),
        "register_cfimdb.files-swapped",
        "the train file",
        name="dev-is-train",
    ),
    row(
        registers(files={**FILES, "dev": "cfimdb-dev.csv"}),
        "register_cfimdb.no-such-file",
        "no such file in the data folder",
        name="no-such-file",
    ),
    row(
        registers(prediction_column=None),
        "register_cfimdb.prediction-column",
        "'Predicted_Sentiment'",
        name="default-prediction-column",
    ),
    row(
        registers(prediction_column="Predicted_Label"),
        "register_cfimdb.prediction-column",
        "'Predicted_Sentiment'",
        name="Predicted_Label",
    ),
    row(
        registers(label_names=["positive", "negative"]),
        "register_cfimdb.label-names",
        "0 first",
        name="label-names-reversed",
    ),
    row(
        registers(name="reviews"),
        "register_cfimdb.other-name",
        "you registered 'reviews'",
        name="reviews",
    ),
    row(
        registers(num_classes=2, score_range=(0, 1)),
        "register_cfimdb.refused",
        "register_task refused",
        name="both-kinds",
    ),
    row(no_return, "register_cfimdb.no-return", "return register_task"),
    row(
        lambda: None, "register_cfimdb.nothing-registered", "no task was registered", name="nothing"
    ),
]


@pytest.mark.parametrize("answer, mistake_id, words", WRONG_ENTRIES)
def test_register_cfimdb_wrong_entries_are_named(answer, mistake_id, words):
    assert_named(check_register_cfimdb(answer), mistake_id, words)


def test_use_register_cfimdb_registers_mtlabs_entry_while_the_stub_is_unfilled(capsys, monkeypatch):
    monkeypatch.setitem(table._REGISTRY, "cfimdb", get_task("cfimdb"))  # conftest's, put back
    spec = use_register_cfimdb(stub)
    assert "not done yet: the cells below use mtlab's version" in capsys.readouterr().out
    assert spec is get_task("cfimdb") and spec.label_names == ("negative", "positive")
    assert use_register_cfimdb(registers()).label_names == ()
    assert "the cells below use your register_cfimdb" in capsys.readouterr().out


# ------------------------------------------------------------------ ReviewHead


class Softmax(ReviewHead):
    def forward(self, u):
        return self.net(u).softmax(-1)


class Sigmoid(ReviewHead):
    def forward(self, u):
        return self.net(u).sigmoid()


class Detached(ReviewHead):
    def forward(self, u):
        return self.net(u).detach()


class Argmax(ReviewHead):
    def forward(self, u):
        return self.net(u).argmax(-1)


class ThroughNumpy(ReviewHead):
    def forward(self, u):
        return torch.tensor(self.net(u).detach().numpy())


class HardCoded(Head):  # two classes whatever the task table says
    def __init__(self, hidden, n_classes=None, dropout=0.1):
        super().__init__("cfimdb", hidden=hidden, n_classes=n_classes, dropout=dropout)
        self.net = nn.Sequential(
            nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, n_classes or 2)
        )

    def forward(self, u):
        return self.net(u)


class IgnoresNClasses(HardCoded):  # always the table's number
    def __init__(self, hidden, n_classes=None, dropout=0.1):
        super().__init__(hidden, n_classes, dropout)
        self.net = nn.Linear(hidden, get_task("cfimdb").num_classes)


class NoOptions(ReviewHead):  # Head.__init__ without the options that rebuild it
    def __init__(self, hidden, n_classes=None, dropout=0.1):
        super().__init__(hidden, n_classes, dropout)
        self._options = {}


class OtherTask(ReviewHead):
    def __init__(self, hidden, n_classes=None, dropout=0.1):
        super().__init__(hidden, n_classes, dropout)
        self.task = "sst"


class UnusedLayer(ReviewHead):
    def __init__(self, hidden, n_classes=None, dropout=0.1):
        super().__init__(hidden, n_classes, dropout)
        self.extra = nn.Linear(hidden, hidden)


class NotAHead(nn.Module):
    def __init__(self, hidden, n_classes=None, dropout=0.1):
        super().__init__()
        self.net = nn.Linear(hidden, 2)

    def forward(self, u):
        return self.net(u)


class LinearHead(Head):  # one layer is a valid head for one sentence
    def __init__(self, hidden, n_classes=None, dropout=0.1):
        n_classes = n_classes or get_task("cfimdb").num_classes
        super().__init__("cfimdb", hidden=hidden, n_classes=n_classes, dropout=dropout)
        self.net = nn.Linear(hidden, n_classes)

    def forward(self, u):
        return self.net(u)


class StubHead(ReviewHead):
    def __init__(self, hidden, n_classes=None, dropout=0.1):
        raise NotImplementedError()


class StubForward(ReviewHead):  # __init__ written, forward not yet
    def forward(self, u):
        raise NotImplementedError()


class Tanh(ReviewHead):
    def forward(self, u):
        return torch.tanh(self.net(u))


class ReluAtTheEnd(ReviewHead):
    def forward(self, u):
        return torch.relu(self.net(u))


class FunctionalDropout(ReviewHead):
    def forward(self, u):
        return self.net[4](torch.relu(self.net[1](F.dropout(u, 0.2))))


class NoDropoutOption(ReviewHead):  # dropout used, but not passed on to Head.__init__
    def __init__(self, hidden, n_classes=None, dropout=0.1):
        super().__init__(hidden, n_classes, dropout)
        self._options.pop("dropout")


class NoParameters(Head):
    def __init__(self, hidden, n_classes=None, dropout=0.1):
        n_classes = n_classes or get_task("cfimdb").num_classes
        super().__init__("cfimdb", hidden=hidden, n_classes=n_classes, dropout=dropout)
        self.n_classes = n_classes

    def forward(self, u):
        return u[:, : self.n_classes]


class BatchStandardised(ReviewHead):
    def forward(self, u):
        return self.net((u - u.mean(0)) / u.std(0))


class TwoLayersDone(ReviewHead):  # layers as attributes, ReLU as a function: right
    def __init__(self, hidden, n_classes=None, dropout=0.1):
        super().__init__(hidden, n_classes, dropout)
        del self.net
        n_classes = self._options["n_classes"]
        self.fc1, self.fc2 = nn.Linear(hidden, 16), nn.Linear(16, n_classes)
        self.drop = nn.Dropout(dropout)

    def forward(self, u):
        return self.fc2(self.drop(F.relu(self.fc1(u))))


class IsNoneChecked(Head):  # `if n_classes is None` instead of `or`: right
    def __init__(self, hidden, n_classes=None, dropout=0.1):
        if n_classes is None:
            n_classes = get_task("cfimdb").num_classes
        super().__init__("cfimdb", hidden=hidden, n_classes=n_classes, dropout=dropout)
        self.net = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, n_classes))

    def forward(self, u):
        return self.net(u).log_softmax(-1)  # log-probabilities: cross-entropy gives the same


@pytest.mark.parametrize("head", [ReviewHead, LinearHead, TwoLayersDone, IsNoneChecked])
def test_review_head_right_answers_pass(head):
    assert_done(check_review_head(head))


@pytest.mark.parametrize("head", [StubHead, StubForward])
def test_review_head_stub_is_not_done(head):
    assert_not_done(check_review_head(head))


WRONG_REVIEW_HEADS = [
    row(Softmax, "head.softmax-at-end", "softmax"),
    row(Sigmoid, "head.sigmoid-at-end", "sigmoid"),
    row(Tanh, "head.bounded-logits", "tanh"),
    row(ReluAtTheEnd, "head.relu-at-end", "ReLU"),
    row(FunctionalDropout, "head.dropout-in-eval", "nn.Dropout"),
    row(Detached, "head.graph-cut", "graph", "seed mistake 7"),
    row(ThroughNumpy, "head.graph-cut", "numpy", "seed mistake 7"),
    row(Argmax, "head.output-not-float", "Head.predict"),
    row(HardCoded, "review_head.hard-coded-classes", "it hard-codes the classes"),
    row(IgnoresNClasses, "head.ignores-n-classes", "use the n_classes it is given"),
    row(NoOptions, "review_head.options", "dropout"),
    row(NoDropoutOption, "review_head.options", "dropout=None"),
    row(OtherTask, "head.wrong-task", "it passes task 'sst'"),
    row(
        UnusedLayer, "head.unused-parameters", "no gradient reaches ['extra.weight', 'extra.bias']"
    ),
    row(NotAHead, "head.not-a-head", "not an mtlab Head"),
    row(NoParameters, "head.no-parameters", "no trainable parameter"),
    row(BatchStandardised, "head.rows-mixed", "dim=0"),
]


@pytest.mark.parametrize("head, mistake_id, words", WRONG_REVIEW_HEADS)
def test_review_head_wrong_answers_are_named(head, mistake_id, words):
    assert_named(check_review_head(head), mistake_id, words)


def test_review_head_check_leaves_the_global_random_state_alone():
    torch.manual_seed(4)
    expected = torch.rand(1)
    torch.manual_seed(4)
    check_review_head(ReviewHead)
    assert torch.equal(torch.rand(1), expected)


def test_use_review_head_falls_back_and_says_so(capsys):
    assert use_review_head(StubHead) is ReviewHead
    assert "not done yet" in capsys.readouterr().out
    assert use_review_head(LinearHead) is LinearHead


# ------------------------------------------------------------------ save_predictions


def writes(
    *, how="course", column="task", values="predictions", clip=True, order=None, returns="table"
):
    """save_predictions with one thing changed."""

    def save_predictions(task, predictions, path):
        spec = get_task(task)
        table = predictions.copy()
        labels = values == "labels" and "label" in table
        table["value"] = table["label"] if labels else table["prediction"]
        if clip and not spec.is_classification:
            table["value"] = table["value"].clip(*spec.score_range)
        if values == "floats":
            table["value"] = table["value"].astype(float)
        if order == "sorted":
            table = table.sort_values("id")
        elif order == "dropped":
            table = table.iloc[1:]
        name = {"task": spec.prediction_column, "fixed": "Predicted_Sentiment"}.get(column, column)
        out = pd.DataFrame({"id": table["id"], name: table["value"]})
        if how == "course":
            write_course_file(path, name, out["id"].tolist(), out[name].tolist())
        else:
            out.to_csv(path, index=False, sep="," if how == "csv" else "\t")
        return {"table": out, "none": None, "raw": table}[returns]

    return save_predictions


def by_frame(task, predictions, path):  # pandas all the way, the course's layout by hand
    spec = get_task(task)
    out = predictions[["id", "prediction"]].rename(columns={"prediction": spec.prediction_column})
    if not spec.is_classification:
        out[spec.prediction_column] = out[spec.prediction_column].clip(*spec.score_range)
    lines = [f"id \t {spec.prediction_column} "]
    lines += [f"{i} , {v} " for i, v in zip(out["id"], out[spec.prediction_column])]
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


@pytest.mark.parametrize("answer", [mtlab_save_predictions, writes(), by_frame])
def test_save_predictions_right_answers_pass(answer):
    assert_done(check_save_predictions(answer))


def test_save_predictions_stub_is_not_done():
    assert_not_done(check_save_predictions(stub))


def in_place(task, predictions, path):
    spec = get_task(task)
    if not spec.is_classification:
        predictions["prediction"] = predictions["prediction"].clip(*spec.score_range)
    return mtlab_save_predictions(task, predictions, path)


def rounded(task, predictions, path):
    table = predictions.copy()
    if not get_task(task).is_classification:
        table["prediction"] = table["prediction"].round()
    return mtlab_save_predictions(task, table, path)


def one_element_lists(task, predictions, path):  # scores written as [3.2], not 3.2
    spec = get_task(task)
    values = predictions["prediction"].clip(*spec.score_range or (None, None)).tolist()
    if not spec.is_classification:
        values = [[v] for v in values]
    write_course_file(path, spec.prediction_column, predictions["id"].tolist(), values)
    return pd.DataFrame(
        {"id": predictions["id"], spec.prediction_column: predictions["prediction"]}
    )


def binary(task, predictions, path):
    Path(path).write_bytes(bytes([0xFF, 0xFE, 0x00, 0x81]))
    return mtlab_save_predictions(task, predictions, Path(path).with_suffix(".other"))


WRONG_FILES = [
    row(writes(how="csv"), "save_predictions.pandas-csv", "a pandas CSV", name="to-csv"),
    row(writes(how="tsv"), "save_predictions.layout", "expected '<id> , <value>'", name="tsv"),
    row(
        writes(column="prediction"),
        "save_predictions.column",
        "must be 'Predicted_Sentiment'",
        name="column-prediction",
    ),
    row(
        writes(column="fixed"),
        "save_predictions.column",
        "for 'sts' the prediction column must be",
        name="column-fixed",
    ),
    row(
        writes(clip=False),
        "save_predictions.not-clipped",
        "clip to get_task(task).score_range",
        name="no-clip",
    ),
    row(writes(values="floats"), "save_predictions.float-classes", "as integers", name="floats"),
    row(writes(values="labels"), "save_predictions.labels", "are the labels", name="labels"),
    row(writes(order="sorted"), "save_predictions.order", "in another order", name="sorted"),
    row(
        writes(order="dropped"),
        "save_predictions.rows",
        "5 rows for 6 predictions",
        name="row-dropped",
    ),
    row(
        writes(returns="none"),
        "save_predictions.returned",
        "return the table you wrote",
        name="returns-none",
    ),
    row(
        writes(returns="raw"),
        "save_predictions.returned",
        "return the table you wrote",
        name="returns-input",
    ),
    row(
        lambda task, predictions, path: mtlab_save_predictions(task, predictions, "x.csv"),
        "save_predictions.nothing-written",
        "nothing was written",
        name="own-path",
    ),
    row(in_place, "save_predictions.changed-input", "it changed the DataFrame it was given"),
    row(rounded, "save_predictions.rounded", "rounded"),
    row(one_element_lists, "save_predictions.values", "plain numbers"),
    row(binary, "save_predictions.layout", "not text"),
]


@pytest.mark.parametrize("answer, mistake_id, words", WRONG_FILES)
def test_save_predictions_wrong_answers_are_named(answer, mistake_id, words, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert_named(check_save_predictions(answer), mistake_id, words)


def test_use_save_predictions_falls_back_and_says_so(capsys):
    assert use_save_predictions(stub) is mtlab_save_predictions
    assert "not done yet" in capsys.readouterr().out
    mine = writes()
    assert use_save_predictions(mine) is mine


def test_mtlab_save_predictions_writes_what_the_course_reads(tmp_path):
    predictions = pd.DataFrame({"id": ["b2", "a1"], "prediction": [6.2, -1.0]})
    table = mtlab_save_predictions("sts", predictions, tmp_path / "sts.csv")
    column = get_task("sts").prediction_column
    assert list(table.columns) == ["id", column]
    assert read_predictions(tmp_path / "sts.csv")[column].astype(float).tolist() == [5.0, 0.0]
