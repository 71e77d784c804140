import pytest
import torch

from mtlab.model import MultitaskBert
from mtlab.tasks import TASKS
from tests.conftest import BATCHES

EXPECTED = {"sst": (2, 5), "quora": (2, 2), "sts": (2,)}


@pytest.mark.parametrize("task", TASKS)
def test_each_task_output_shape(tiny_model, task):
    out = tiny_model(task, BATCHES[task])
    assert out.shape == EXPECTED[task] and out.dtype == torch.float32


def test_cross_encoding_variant_encodes_the_pair_as_one_sequence(tiny_encoder):
    model = MultitaskBert(tiny_encoder, paraphrase="cross")
    assert model("quora", BATCHES["quora"]).shape == (2, 2)


def _encoder_grads(model, task):
    model.zero_grad()
    batch = BATCHES[task]
    model.loss(task, model(task, batch), batch["labels"]).backward()
    return [p.grad for p in model.encoder.parameters()]


@pytest.mark.parametrize("task", TASKS)
def test_gradients_reach_the_encoder_only_in_finetune(tiny_model, task):
    tiny_model.set_mode("finetune")
    assert all(g is not None and g.abs().sum() > 0 for g in _encoder_grads(tiny_model, task)[:3])
    tiny_model.set_mode("pretrain")
    assert all(g is None for g in _encoder_grads(tiny_model, task))
    assert all(p.grad is not None for p in tiny_model.heads[task].parameters())


def test_trainable_parameters_per_part(tiny_model):
    tiny_model.set_mode("pretrain")
    counts = tiny_model.trainable_parameters()
    assert counts["encoder"] == 0 and counts["sst"] > 0
    tiny_model.set_mode("finetune")
    assert tiny_model.trainable_parameters()["encoder"] > 0


def test_unknown_task_lists_the_heads(tiny_model):
    with pytest.raises(KeyError, match="sst"):
        tiny_model("imdb", BATCHES["sst"])


def test_mode_follows_the_encoder(tiny_encoder):
    tiny_encoder.set_mode("pretrain")
    assert MultitaskBert(tiny_encoder).mode == "pretrain"  # built around a frozen encoder
    tiny_encoder.set_mode("finetune")
    assert MultitaskBert(tiny_encoder).mode == "finetune"


def test_example_lengths_count_the_tokens_of_the_row_each_example_adds(tiny_encoder, tokenizer):
    def tokens(first, second=None):
        return len(tokenizer(first, second)["input_ids"])

    sst = [{"id": "a", "sentence": "a fine film"}, {"id": "b", "sentence": "unbelievably dull"}]
    pairs = [{"id": "c", "sentence1": "how do I cook rice?", "sentence2": "rice"},
             {"id": "d", "sentence1": "why", "sentence2": "who wrote hamlet and when?"}]  # fmt: skip
    bi, cross = MultitaskBert(tiny_encoder), MultitaskBert(tiny_encoder, paraphrase="cross")
    assert bi.example_lengths("sst", sst) == [tokens(e["sentence"]) for e in sst]
    # Both sides share one padded pass: the longer side is the row's width.
    assert bi.example_lengths("quora", pairs) == [
        max(tokens(e["sentence1"]), tokens(e["sentence2"])) for e in pairs
    ]
    # A cross-encoder reads the pair as one sequence.
    assert cross.example_lengths("quora", pairs) == [
        tokens(e["sentence1"], e["sentence2"]) for e in pairs
    ]
    # Truncated rows count what the encoder keeps (max_length 32 for the tiny encoder).
    assert bi.example_lengths("sst", [{"id": "e", "sentence": "word " * 100}]) == [32]
