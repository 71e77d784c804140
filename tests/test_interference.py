import pytest
import torch

from mtlab.debugging.interference import compare_task_gradients, encoder_gradient
from tests.conftest import BATCHES, SST_BATCH
from tests.test_train import _tiny_sets


def test_encoder_gradient_is_one_flat_vector_and_leaves_no_gradients(tiny_model):
    tiny_model.set_mode("finetune")
    flat = encoder_gradient(tiny_model, "sst", SST_BATCH)
    n_params = sum(p.numel() for p in tiny_model.encoder.parameters())
    assert flat.shape == (n_params,) and flat.abs().sum() > 0
    assert all(p.grad is None for p in tiny_model.parameters())


def test_encoder_gradient_matches_a_plain_backward(tiny_model):
    tiny_model.set_mode("finetune").eval()  # no dropout: both passes see the same network
    batch = BATCHES["sts"]
    flat = encoder_gradient(tiny_model, "sts", batch)
    tiny_model.loss("sts", tiny_model("sts", batch), batch["labels"]).backward()
    expected = torch.cat(
        [
            (p.grad if p.grad is not None else torch.zeros_like(p)).flatten()
            for p in tiny_model.encoder.parameters()
        ]
    )
    assert torch.allclose(flat, expected)


def test_skip_leaves_out_parameters_by_name(tiny_model):
    tiny_model.set_mode("finetune")
    full = encoder_gradient(tiny_model, "sst", SST_BATCH)
    without = encoder_gradient(tiny_model, "sst", SST_BATCH, skip=("word_embeddings",))
    words = tiny_model.encoder.bert.embeddings.word_embeddings.weight.numel()
    assert full.numel() - without.numel() == words


def test_a_frozen_encoder_is_refused_in_words(tiny_model):
    tiny_model.set_mode("pretrain")
    with pytest.raises(ValueError, match="set_mode\\('finetune'\\)"):
        encoder_gradient(tiny_model, "sst", SST_BATCH)


def test_compare_gives_a_symmetric_matrix_per_round_and_restores_train_mode(tiny_model):
    tiny_model.set_mode("finetune").train()
    result = compare_task_gradients(tiny_model, _tiny_sets(), rounds=3, batch_size=4)
    assert tiny_model.training
    assert len(result.cosines) == 3 * 6 and len(result.norms) == 3 * 3
    mean, std = result.mean(), result.std()
    assert list(mean.index) == list(mean.columns) == ["sst", "quora", "sts"]
    assert mean.equals(mean.T) and (std.to_numpy() >= 0).all()
    assert ((mean.to_numpy() >= -1) & (mean.to_numpy() <= 1)).all()
    assert list(result.summary().columns) == ["rounds", "mean", "std", "min", "max"]


def test_diagonal_compares_two_different_batches_of_a_task(tiny_model):
    tiny_model.set_mode("finetune")
    result = compare_task_gradients(tiny_model, _tiny_sets(), rounds=2, batch_size=4)
    diagonal = result.cosines[result.cosines["task_a"] == result.cosines["task_b"]]
    assert (diagonal["cosine"] < 1 - 1e-6).all()  # the same batch would give exactly 1


def test_same_seed_same_cosines(tiny_model):
    tiny_model.set_mode("finetune")
    first = compare_task_gradients(tiny_model, _tiny_sets(), rounds=2, batch_size=4, seed=3)
    second = compare_task_gradients(tiny_model, _tiny_sets(), rounds=2, batch_size=4, seed=3)
    assert first.cosines.equals(second.cosines)


def test_plot_annotates_every_cell(tiny_model):
    tiny_model.set_mode("finetune")
    result = compare_task_gradients(tiny_model, _tiny_sets(), rounds=2, batch_size=4)
    fig = result.plot()
    assert len(fig.axes[0].texts) == 9
    fig.clf()
