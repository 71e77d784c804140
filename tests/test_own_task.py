"""A task mtlab's code has never seen, end to end through the public API alone.

register -> check -> pretrain and finetune next to the course tasks -> evaluate ->
predictions -> checkpoint save and load, with its own file format and column names.
"""

import random

import matplotlib.pyplot as plt
import pandas as pd
import pytest
import torch

import mtlab
from mtlab import (
    CheckpointError,
    DataFormatError,
    LabelledPairDataset,
    MultitaskBert,
    ParaphraseHead,
    TrainConfig,
    UnknownTaskError,
    check_head,
    comparison_table,
    evaluate,
    get_task,
    load_checkpoint,
    load_dataset,
    register_task,
    save_checkpoint,
    train,
    write_predictions,
)
from mtlab.data.datasets import SAMPLE_DIR
from mtlab.debugging.plots import plot_comparison
from mtlab.debugging.widgets import predict_all
from mtlab.evaluation.submission import read_predictions
from mtlab.heads.kinds import default_head
from mtlab.tasks import unregister_task
from tests.conftest import make_tiny_encoder

WORDS = [
    "river",
    "stone",
    "cloud",
    "apple",
    "engine",
    "garden",
    "violin",
    "ladder",
    "copper",
    "meadow",
]


def write_pair_file(path, rows: int, seed: int, labelled: bool = True) -> None:
    """A file in a format of its own: ';'-free TSV, columns named its own way, label last."""
    rng = random.Random(seed)
    lines = ["pair_no\tleft text\tright text" + ("\tmatch" if labelled else "")]
    for i in range(rows):
        left = " ".join(rng.sample(WORDS, 3))
        same = rng.random() < 0.5
        right = left if same else " ".join(rng.sample(WORDS, 3))
        lines.append(f"p{seed}-{i}\t{left}\t{right}" + (f"\t{int(same)}" if labelled else ""))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def pair_task(tmp_path):
    for split, rows, seed in (("train", 48, 1), ("dev", 16, 2)):
        write_pair_file(tmp_path / f"echo-{split}.tsv", rows, seed)
    write_pair_file(tmp_path / "echo-test.tsv", 12, 3, labelled=False)
    spec = register_task(
        "echo", text_columns=["left text", "right text"], label_column="match",
        id_column="pair_no", num_classes=2, prediction_column="Is_Echo",
        files={s: str(tmp_path / f"echo-{s}.tsv") for s in ("train", "dev", "test")},
        label_names=["different", "echo"],
    )  # fmt: skip
    yield spec
    unregister_task("echo")


class EchoHead(ParaphraseHead):
    """A student's pair head: the course paraphrase head on [u; v; |u-v|; u*v], renamed."""

    def __init__(self, hidden: int, dropout: float = 0.1) -> None:
        super().__init__(hidden, dropout=dropout, task="echo")


def test_a_new_pair_task_goes_end_to_end(pair_task, tiny_model, tokenizer, tmp_path):
    hidden = tiny_model.encoder.hidden_size
    data = {split: load_dataset("echo", split) for split in ("train", "dev", "test")}
    assert isinstance(data["train"], LabelledPairDataset) and len(data["train"]) == 48
    assert set(data["train"][0]) == {"id", "sentence1", "sentence2", "label"}
    assert "label" not in data["test"][0]

    assert check_head(EchoHead(hidden), "echo", hidden).ok
    tiny_model.add_head("echo", EchoHead(hidden))
    course = {t: load_dataset(t, "train", SAMPLE_DIR, limit=16) for t in mtlab.TASKS}
    dev = {t: load_dataset(t, "dev", SAMPLE_DIR, limit=16) for t in mtlab.TASKS}
    sets, dev["echo"] = {**course, "echo": data["train"]}, data["dev"]

    tiny_model.set_mode("pretrain")
    history = train(tiny_model, sets, TrainConfig(epochs=2, batch_size=8), progress=False)
    assert set(history["task"]) == {"sst", "quora", "sts", "echo"}
    scores = {"pretrain": evaluate(tiny_model, dev)}
    tiny_model.set_mode("finetune")
    train(tiny_model, sets, TrainConfig(lr=1e-4, batch_size=8, max_steps=8), progress=False)
    scores["finetune"] = evaluate(tiny_model, dev)
    assert all(0.0 <= s["echo"] <= 1.0 for s in scores.values())

    table = comparison_table(scores)
    assert table.loc["echo", "metric"] == "accuracy"
    plt.close(plot_comparison(table))
    answer = predict_all(tiny_model, "river stone cloud", "river stone cloud")["echo"]
    assert answer.split(" (")[0] in ("different", "echo")

    out = write_predictions(tiny_model, "echo", data["test"], tmp_path / "echo-test-output.csv")
    written = read_predictions(tmp_path / "echo-test-output.csv")  # the course's layout
    assert list(written.columns) == ["id", "Is_Echo"] and len(written) == 12
    assert set(written["Is_Echo"]) <= {"0", "1"}
    assert written["id"].tolist() == out["id"].tolist()
    assert written["Is_Echo"].astype(int).tolist() == out["Is_Echo"].tolist()

    path = tmp_path / "four.pt"
    save_checkpoint(tiny_model, path)
    with pytest.raises(CheckpointError, match="cannot rebuild by itself.*EchoHead"):
        load_checkpoint(path)
    fresh = MultitaskBert(make_tiny_encoder(tokenizer))  # the course heads only
    with pytest.raises(CheckpointError, match=r"heads for \['sst', 'quora', 'sts', 'echo'\].*"
                       r"the model has heads for \['sst', 'quora', 'sts'\]"):  # fmt: skip
        load_checkpoint(path, fresh)
    fresh.add_head("echo", EchoHead(hidden))
    load_checkpoint(path, fresh)
    again = write_predictions(fresh, "echo", data["test"], tmp_path / "again.csv")
    assert again.equals(out)
    assert evaluate(fresh, dev) == pytest.approx(scores["finetune"])


def test_a_task_registered_from_rows_in_memory(tiny_model):
    frame = pd.DataFrame({"text": ["good", "bad", "fine", "awful"], "score": [0.9, 0.1, 0.6, 0.0],
                          "id": ["a", "b", "c", "d"]})  # fmt: skip
    register_task("mood", text_columns=["text"], label_column="score", score_range=(0, 1),
                  rows={"train": frame, "dev": frame.to_dict("records")})  # fmt: skip
    try:
        train_set = load_dataset("mood", "train")
        assert train_set[0] == {"id": "a", "sentence": "good", "label": 0.9}
        head = default_head("mood", tiny_model.encoder.hidden_size)
        assert check_head(head, "mood", tiny_model.encoder.hidden_size).ok
        tiny_model.add_head("mood", head)
        train(tiny_model.set_mode("pretrain"), {"mood": train_set}, progress=False)
        assert -1.0 <= evaluate(tiny_model, {"mood": load_dataset("mood", "dev")})["mood"] <= 1.0
    finally:
        unregister_task("mood")


def test_bad_rows_in_memory_are_reported_by_row():
    frame = pd.DataFrame({"id": ["a", "b", "c"], "t": ["x", "", "z"], "y": [0, 1, 7]})
    register_task(
        "rows", text_columns=["t"], label_column="y", num_classes=2, rows={"train": frame}
    )
    try:
        dataset = load_dataset("rows", "train")
        assert [str(p) for p in dataset.problems] == [
            "rows train rows row 2: blank sentence in column 't'",
            "rows train rows row 3: label '7' in column 'y' is out of range: expected 0 or 1",
        ]
        with pytest.raises(DataFormatError, match="no column\\(s\\) \\['t'\\]"):
            register_task("rows", text_columns=["t"], label_column="y", num_classes=2,
                          rows={"train": frame.drop(columns="t")})  # fmt: skip
            load_dataset("rows", "train")
    finally:
        unregister_task("rows")


def test_an_unregistered_task_says_how_to_register_one(tiny_model):
    with pytest.raises(UnknownTaskError, match="known tasks: sst, quora, sts.*register_task"):
        load_dataset("reviews", "train")
    with pytest.raises(UnknownTaskError, match="register_task"):
        get_task("reviews")
    with pytest.raises(UnknownTaskError, match="no head for task 'reviews'"):
        tiny_model("reviews", {"sentences": ["a"]})


@pytest.mark.parametrize(
    "options, problem",
    [
        ({"text_columns": ["a", "b", "c"], "num_classes": 2}, "one column"),
        ({"text_columns": ["a"]}, "exactly one of num_classes"),
        ({"text_columns": ["a"], "num_classes": 2, "score_range": (0, 1)}, "exactly one of"),
        ({"text_columns": ["a"], "num_classes": 1}, "at least 2"),
        ({"text_columns": ["a"], "score_range": (3, 1)}, "low < high"),
        ({"text_columns": ["a"], "score_range": (0, float("nan"))}, "low < high"),
        ({"text_columns": ["label"], "num_classes": 2}, "must differ"),
    ],
)
def test_register_task_refuses_a_bad_entry(options, problem):
    options.setdefault("files", {"train": "x.csv"})
    with pytest.raises(ValueError, match=problem):
        register_task("bad", **options)
    assert "bad" not in mtlab.known_tasks()


def test_add_head_wants_an_mtlab_head(tiny_model):
    with pytest.raises(TypeError, match="subclass mtlab.Head"):
        tiny_model.add_head("sst", torch.nn.Linear(4, 5))
