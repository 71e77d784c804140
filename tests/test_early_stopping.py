"""Scoring dev during training and keeping the best weights (early stopping)."""

import numpy as np
import pytest

from mtlab.model import MultitaskBert
from mtlab.train import TrainConfig, evaluate, train
from tests.conftest import make_tiny_encoder
from tests.test_train import _tiny_sets

# A high learning rate makes the tiny model's dev scores jump around: the last step is
# rarely the best one, which is what keeping the best is for.
CONFIG = TrainConfig(epochs=4, batch_size=4, lr=1e-2, eval_every=0.5, seed=3)


def dev_rows(history):
    return history.dropna(subset=["dev"])


def test_dev_is_scored_every_half_epoch_and_at_the_end(tiny_model):
    tiny_model.set_mode("pretrain")
    history = train(tiny_model, _tiny_sets(), CONFIG, progress=False, dev_sets=_tiny_sets(6))
    scored = dev_rows(history)
    steps_per_epoch = 9  # 3 tasks x 3 batches of 4
    # every 4.5 steps: the first step at or past each multiple, the last one included
    assert sorted(set(scored["step"])) == [5, 9, 14, 18, 23, 27, 32, 36]
    assert scored["step"].max() == 4 * steps_per_epoch
    assert set(scored["task"]) == {"sst", "quora", "sts"}
    assert history["loss"].notna().sum() + len(scored) == len(history)


def test_pretrain_keeps_each_heads_best_step(tokenizer):
    model = MultitaskBert(make_tiny_encoder(tokenizer)).set_mode("pretrain")
    dev = _tiny_sets(6)
    history = train(model, _tiny_sets(), CONFIG, progress=False, dev_sets=dev)
    best = dev_rows(history).groupby("task")["dev"].max()
    final = evaluate(model, dev)
    for task in final:
        assert final[task] == pytest.approx(best[task])


def test_finetune_keeps_the_step_with_the_best_mean(tokenizer):
    model = MultitaskBert(make_tiny_encoder(tokenizer)).set_mode("finetune")
    dev = _tiny_sets(6)
    history = train(model, _tiny_sets(), CONFIG, progress=False, dev_sets=dev)
    means = dev_rows(history).groupby("step")["dev"].agg(np.mean)
    assert means.idxmax() != means.index[-1]  # otherwise this test shows nothing
    assert np.mean(list(evaluate(model, dev).values())) == pytest.approx(means.max())


def test_keep_best_false_ends_with_the_last_weights(tokenizer):
    model = MultitaskBert(make_tiny_encoder(tokenizer)).set_mode("finetune")
    dev = _tiny_sets(6)
    config = TrainConfig(**{**vars(CONFIG), "keep_best": False})
    history = train(model, _tiny_sets(), config, progress=False, dev_sets=dev)
    last = dev_rows(history).groupby("step")["dev"].mean().iloc[-1]
    assert np.mean(list(evaluate(model, dev).values())) == pytest.approx(last)
