"""Scoring dev during training and keeping the best weights (early stopping)."""

import numpy as np
import pytest
import torch

from mtlab import TrainConfig, evaluate, train
from mtlab.model import MultitaskBert
from tests.conftest import make_tiny_encoder
from tests.test_train import _tiny_sets

# A high learning rate makes the tiny model's dev scores jump around: the last step is
# rarely the best one, which is what keeping the best is for.
CONFIG = TrainConfig(epochs=4, batch_size=4, lr=2e-2, eval_every=0.5, seed=2)


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


class WipeEncoderAfter:
    """An on_log callback that zeroes the encoder's weights from some step on: every later
    dev score is poor (or undefined), so the best step is known to lie before it."""

    def __init__(self, model, step):
        self.model, self.step = model, step

    def __call__(self, history):
        if history["step"].max() >= self.step:
            with torch.no_grad():
                for p in self.model.encoder.parameters():
                    p.zero_()


@pytest.mark.filterwarnings("ignore::scipy.stats.ConstantInputWarning")
def test_finetune_keeps_the_step_with_the_best_mean(tokenizer):
    model = MultitaskBert(make_tiny_encoder(tokenizer)).set_mode("finetune")
    dev = _tiny_sets(6)
    config = TrainConfig(**{**vars(CONFIG), "log_every": 1})
    history = train(model, _tiny_sets(), config, progress=False, dev_sets=dev,
                    on_log=WipeEncoderAfter(model, 20))  # fmt: skip
    means = dev_rows(history).groupby("step")["dev"].agg(np.mean)
    assert means.idxmax() < 20
    assert np.mean(list(evaluate(model, dev).values())) == pytest.approx(means.max())
    assert any(p.abs().sum() > 0 for p in model.encoder.parameters())  # the wiped ones are gone


def test_keep_best_false_ends_with_the_last_weights(tokenizer):
    model = MultitaskBert(make_tiny_encoder(tokenizer)).set_mode("finetune")
    dev = _tiny_sets(6)
    config = TrainConfig(**{**vars(CONFIG), "keep_best": False})
    history = train(model, _tiny_sets(), config, progress=False, dev_sets=dev)
    last = dev_rows(history).groupby("step")["dev"].mean().iloc[-1]
    assert np.mean(list(evaluate(model, dev).values())) == pytest.approx(last)


def test_eval_every_must_be_positive(tiny_model):
    with pytest.raises(ValueError, match="eval_every"):
        train(tiny_model, _tiny_sets(), TrainConfig(eval_every=0), dev_sets=_tiny_sets(6),
              progress=False)  # fmt: skip
