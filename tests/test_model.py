import pytest
import torch

from mtlab.model import TASKS, MultitaskBert
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
