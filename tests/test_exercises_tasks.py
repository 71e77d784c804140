"""Notebook 07's checks: the solution passes, a stub is "not done yet", wrong answers are named,
and the task table is left as it was."""

import dataclasses

import pandas as pd
import pytest
import torch
from torch import nn

from mtlab import Head, get_task, known_tasks, register_task
from mtlab import tasks as table
from mtlab.evaluation.submission import read_predictions, write_course_file
from mtlab.exercises import DONE, NOT_DONE, WRONG
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
    options = dict(text_columns=["sentence"], label_column="sentiment", num_classes=2,
                   files=FILES, prediction_column="Predicted_Sentiment")  # fmt: skip
    options.update(changes)
    return lambda: register_task(name, **{k: v for k, v in options.items() if v is not None})


def test_register_cfimdb_solution_passes_and_stub_is_not_done():
    assert check_register_cfimdb(mtlab_register_cfimdb).status == DONE
    assert check_register_cfimdb(registers()).status == DONE  # label_names are optional
    assert check_register_cfimdb(stub).status == NOT_DONE


@pytest.mark.parametrize(
    "answer, says",
    [
        (registers(label_column="sentimnet"), "the file's column is 'sentiment'"),
        (registers(label_column="Sentiment"), "the file's column is 'sentiment'"),
        (registers(text_columns=["sentense"]), "the file's column is 'sentence'"),
        (registers(text_columns=["sentences"]), "the file's column is 'sentence'"),
        (registers(name="CFIMDB"), "you registered 'CFIMDB'"),
        (registers(name="cfimbd"), "you registered 'cfimbd'"),
    ],
)
def test_a_misspelt_column_or_task_name_is_mistake_2(answer, says):
    verdict = check_register_cfimdb(answer)
    assert verdict.status == WRONG and verdict.mistake == 2 and says in str(verdict), str(verdict)


@pytest.mark.parametrize(
    "answer, says",
    [
        (registers(num_classes=None, score_range=(0, 1)), "give num_classes=2"),
        (registers(num_classes=None, score_range=(0.0, 1.0)), "scored by Pearson r"),
        (registers(num_classes=5), "num_classes=5, but the labels are [0, 1]"),
        (registers(text_columns=["sentiment"], label_column="sentence"), "swapped"),
        (registers(label_column=None), "'label' (register_task's default)"),
        (registers(text_columns=["review"]), "has no such column"),
        (registers(text_columns=["id"], id_column="sentence"), "the review is in 'sentence'"),
        (registers(text_columns=["sentence", "id"], id_column="key"), "a pair task"),
        (registers(files={"train": FILES["train"], "dev": FILES["dev"]}), "no ['test'] split"),
        (
            registers(files={**FILES, "train": FILES["test"], "test": FILES["train"]}),
            "files['train'] is 'ids-cfimdb-test-student.csv', the test file",
        ),
        (registers(files={**FILES, "dev": FILES["train"]}), "the train file"),
        (registers(files={**FILES, "dev": "cfimdb-dev.csv"}), "no such file in the data folder"),
        (registers(prediction_column=None), "'Predicted_Sentiment'"),
        (registers(prediction_column="Predicted_Label"), "'Predicted_Sentiment'"),
        (registers(name="reviews"), "you registered 'reviews'"),
        (lambda: None, "no task was registered"),
    ],
)
def test_register_cfimdb_wrong_entries_are_named(answer, says):
    verdict = check_register_cfimdb(answer)
    assert verdict.status == WRONG and says in str(verdict) and verdict.mistake is None, str(
        verdict
    )


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
        self.net = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, n_classes or 2))  # fmt: skip

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


def test_review_head_solution_passes_and_stub_is_not_done():
    assert check_review_head(ReviewHead).status == DONE
    assert check_review_head(LinearHead).status == DONE
    assert check_review_head(StubHead).status == NOT_DONE


@pytest.mark.parametrize("head", [Detached, Argmax, ThroughNumpy])
def test_a_head_cut_from_the_graph_is_mistake_7(head):
    verdict = check_review_head(head)
    assert verdict.status == WRONG and verdict.mistake == 7 and "graph" in str(verdict)


@pytest.mark.parametrize(
    "head, says",
    [
        (Softmax, "probabilities"),
        (Sigmoid, "probabilities"),
        (HardCoded, "it hard-codes the classes"),
        (IgnoresNClasses, "use the n_classes it is given"),
        (NoOptions, "rebuilt from its options"),
        (OtherTask, "it passes task 'sst'"),
        (UnusedLayer, "no gradient reaches ['extra.weight', 'extra.bias']"),
        (NotAHead, "not an mtlab Head"),
    ],
)
def test_review_head_wrong_answers_are_named(head, says):
    verdict = check_review_head(head)
    assert verdict.status == WRONG and says in str(verdict) and verdict.mistake is None, str(
        verdict
    )


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


def writes(*, how="course", column="task", values="predictions", clip=True, order=None,
           returns="table"):  # fmt: skip
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


def test_save_predictions_solution_passes_and_stub_is_not_done():
    assert check_save_predictions(mtlab_save_predictions).status == DONE
    assert check_save_predictions(writes()).status == DONE
    assert check_save_predictions(stub).status == NOT_DONE


def in_place(task, predictions, path):
    spec = get_task(task)
    if not spec.is_classification:
        predictions["prediction"] = predictions["prediction"].clip(*spec.score_range)
    return mtlab_save_predictions(task, predictions, path)


@pytest.mark.parametrize(
    "answer, says",
    [
        (writes(how="csv"), "a pandas CSV"),
        (writes(how="tsv"), "expected '<id> , <value>'"),
        (writes(column="prediction"), "must be 'Predicted_Sentiment'"),
        (writes(column="fixed"), "for 'sts' the prediction column must be"),
        (writes(clip=False), "clip to get_task(task).score_range"),
        (writes(values="floats"), "as integers"),
        (writes(values="labels"), "are the labels"),
        (writes(order="sorted"), "in another order"),
        (writes(order="dropped"), "5 rows for 6 predictions"),
        (writes(returns="none"), "return the table you wrote"),
        (writes(returns="raw"), "return the table you wrote"),
        (
            lambda task, predictions, path: mtlab_save_predictions(task, predictions, "x.csv"),
            "nothing was written",
        ),
        (in_place, "it changed the DataFrame it was given"),
    ],
)
def test_save_predictions_wrong_files_are_named(answer, says, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    verdict = check_save_predictions(answer)
    assert verdict.status == WRONG and says in str(verdict), str(verdict)


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
