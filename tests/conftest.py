"""Shared fixtures: a tiny randomly initialised BERT keeps model tests fast."""

import os
from pathlib import Path

import pytest
import torch
from transformers import AutoTokenizer, BertConfig, BertModel

from mtlab.encoder import Encoder, default_model_path
from mtlab.model import MultitaskBert
from mtlab.tasks import COURSE_TASKS, get_task, register_task

# The real course files, for tests that check the loaders and downloader against them.
REAL_DATA = Path(os.environ.get("MTLAB_DATA_DIR", Path(__file__).parents[2] / "shared" / "data"))

# CFIMDB, the course's fourth file set, is not one of mtlab's tasks: notebook 07 registers
# it, and so do the tests, the same way, to read its files with the same reader.
register_task(
    "cfimdb",
    text_columns=["sentence"],
    label_column="sentiment",
    num_classes=2,
    files={
        "train": "ids-cfimdb-train.csv",
        "dev": "ids-cfimdb-dev.csv",
        "test": "ids-cfimdb-test-student.csv",
    },  # fmt: skip
    prediction_column="Predicted_Sentiment",
)
TASK_FILES = {task: dict(get_task(task).files) for task in (*COURSE_TASKS, "cfimdb")}


@pytest.fixture(autouse=True)
def private_feature_cache(tmp_path, monkeypatch):
    """Runs that keep frozen vectors on disk keep them in this test's own folder."""
    monkeypatch.setenv("MTLAB_CACHE_DIR", str(tmp_path / "feature-cache"))


@pytest.fixture(scope="session")
def tokenizer():
    return AutoTokenizer.from_pretrained(default_model_path(), local_files_only=True)


def make_tiny_encoder(tokenizer) -> Encoder:
    """A 2-layer, 32-wide BERT with random weights (seeded) and the real tokenizer."""
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=64,
    )  # fmt: skip
    return Encoder(BertModel(config), tokenizer, max_length=32, name="tiny-bert")


@pytest.fixture
def tiny_encoder(tokenizer):
    return make_tiny_encoder(tokenizer)


@pytest.fixture
def tiny_model(tiny_encoder):
    return MultitaskBert(tiny_encoder)


SST_BATCH = {"ids": ["a", "b"], "sentences": ["a fine film", "dull and long"],
             "labels": torch.tensor([3, 0])}  # fmt: skip
QUORA_BATCH = {"ids": ["c", "d"], "sentences1": ["how do I cook rice?", "what is love?"],
               "sentences2": ["how to cook rice", "who wrote hamlet?"],
               "labels": torch.tensor([1, 0])}  # fmt: skip
STS_BATCH = {"ids": ["e", "f"], "sentences1": ["a dog runs", "a man sings"],
             "sentences2": ["a dog is running", "the market fell"],
             "labels": torch.tensor([4.6, 0.2])}  # fmt: skip
BATCHES = {"sst": SST_BATCH, "quora": QUORA_BATCH, "sts": STS_BATCH}


@pytest.fixture
def tiny_folder(tmp_path, tiny_encoder):
    """The tiny BERT saved as a Hugging Face folder, for code that loads by path."""
    folder = tmp_path / "tiny-bert"
    tiny_encoder.bert.save_pretrained(folder)
    tiny_encoder.tokenizer.save_pretrained(folder)
    return folder


SENTENCE_COLUMNS = {task: get_task(task).text_columns for task in TASK_FILES}
LABEL_COLUMN = {task: get_task(task).label_column for task in TASK_FILES}
