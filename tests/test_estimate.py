"""The run estimate: its counts follow the run's own plan, its timing leaves the model alone."""

import time
from dataclasses import replace

import pytest
import torch

import mtlab.training.estimate as estimate
from mtlab.batching import text_length
from mtlab.data.datasets import SAMPLE_DIR, load_dataset
from mtlab.experiment import finetune_defaults, pretrain_defaults
from mtlab.feature_cache import FeatureCache
from mtlab.tasks import TASKS
from mtlab.training.config import TrainConfig
from mtlab.training.estimate import Rates, estimate_run, phase_plan, scorings
from mtlab.training.steps import multitask_batches, tasks_per_step, training_steps


def sample(split: str = "train") -> dict:
    return {task: load_dataset(task, split, SAMPLE_DIR) for task in TASKS}


@pytest.mark.parametrize("schedule", ["round_robin", "proportional", "sqrt", "annealed"])
def test_the_planned_steps_are_the_steps_train_runs(schedule):
    sets = sample()
    config = TrainConfig(epochs=3, batch_size=8, schedule=schedule)
    steps, per_epoch, per_step = phase_plan(sets, config)
    assert per_epoch == len(multitask_batches(sets, config))
    assert steps == 3 * per_epoch
    assert steps == phase_plan(sets, replace(config, epochs=5, max_steps=steps))[0]
    widest = max(sum(map(text_length, ds)) / len(ds) for ds in sets.values())
    assert 0 < per_step <= 8 * widest


def test_surgery_steps_train_every_task_once():
    sets = sample()
    plain = phase_plan(sets, TrainConfig(epochs=1, batch_size=8))
    surgery = phase_plan(sets, TrainConfig(epochs=1, batch_size=8, surgery="sum"))
    assert surgery[1] == -(-plain[1] // len(TASKS))  # a third of the steps, rounded up
    chars = sum(8 * sum(map(text_length, ds)) / len(ds) for ds in sets.values())
    assert surgery[2] == pytest.approx(chars)


def test_dev_is_scored_at_each_mark_and_at_the_end():
    config = TrainConfig(eval_every=1)
    assert scorings(30, 10, config) == 3
    assert scorings(25, 10, config) == 3  # marks at 10 and 20, then the last step
    assert scorings(30, 10, replace(config, eval_every=0.5)) == 6
    assert scorings(30, 10, replace(config, eval_every=None)) == 0


def test_each_line_is_a_count_times_a_measured_rate(monkeypatch, tiny_model):
    saves = {"pretrain": 0.5, "finetune": 2.0}
    rates = Rates(encode=1e-6, pretrain_step=0.01, finetune=1e-4, score=3e-6, saves=saves)
    monkeypatch.setattr(estimate, "measure_rates", lambda model, phases, dev_sets: rates)
    train, dev, test = sample(), sample("dev"), sample("test")
    pretrain, finetune = pretrain_defaults(), replace(finetune_defaults(), eval_every=None)
    lines = dict(estimate_run(tiny_model, {"pretrain": (pretrain, train), "finetune": (finetune, train)},
                              dev, test, new_chars=50_000))  # fmt: skip
    pre_steps, _, _ = phase_plan(train, pretrain)
    fine_steps, _, per_step = phase_plan(train, finetune)
    dev_chars = sum(sum(map(text_length, ds)) for ds in dev.values())
    test_chars = sum(sum(map(text_length, ds)) for ds in test.values())
    assert lines["pretrain: encode the sentences not in the feature cache"] == pytest.approx(0.05)
    assert lines[
        f"pretrain: {pre_steps:,} steps of the heads (dev from the cache)"
    ] == pytest.approx(pre_steps * 0.01 + pre_steps // pretrain.checkpoint_every * 0.5)
    finetune_line = [v for k, v in lines.items() if k.startswith(f"finetune: {fine_steps:,} steps")]
    saves = fine_steps // finetune.checkpoint_every * 2.0
    assert finetune_line == [pytest.approx(fine_steps * per_step * 1e-4 + saves)]
    assert lines["finetune: dev scored 0 times during training, once after"] == pytest.approx(
        dev_chars * 3e-6
    )
    assert lines["predictions for dev and test"] == pytest.approx((dev_chars + test_chars) * 3e-6)


def test_a_budget_caps_its_phase(monkeypatch, tiny_model):
    monkeypatch.setattr(
        estimate, "measure_rates", lambda model, phases, dev: Rates(1e-6, 0.01, 1.0)
    )
    config = replace(finetune_defaults(), budget_minutes=2, eval_every=None)
    lines = estimate_run(tiny_model, {"finetune": (config, sample())}, sample("dev"), {}, 0)
    assert [seconds for what, seconds in lines if "steps in" in what] == [120]


def test_timing_a_copy_leaves_the_model_and_its_cache_alone(tiny_model):
    tiny_model.feature_cache = FeatureCache()
    before = {k: v.clone() for k, v in tiny_model.state_dict().items()}
    mode, trainable = tiny_model.mode, [p.requires_grad for p in tiny_model.parameters()]
    train = {task: list(ds)[:40] for task, ds in sample().items()}
    phases = {"pretrain": (pretrain_defaults(), train), "finetune": (finetune_defaults(), train)}
    rates = estimate.measure_rates(tiny_model, phases, sample("dev"))
    assert rates.encode > 0 and rates.pretrain_step > 0 and rates.finetune > 0 and rates.score > 0
    assert rates.saves["pretrain"] > 0 and rates.saves["finetune"] > 0
    assert all(torch.equal(before[k], v) for k, v in tiny_model.state_dict().items())
    assert tiny_model.feature_cache.vectors == {}  # nothing encoded into the run's cache
    assert (
        tiny_model.mode == mode and [p.requires_grad for p in tiny_model.parameters()] == trainable
    )


def test_the_cache_names_what_it_still_lacks(tmp_path, tiny_encoder):
    tiny_encoder.requires_grad_(False)
    cache = FeatureCache(tmp_path)
    assert cache.missing(tiny_encoder, ["b c", "a", "b c"]) == [("a",), ("b c",)]
    cache.warm(tiny_encoder, ["a"], progress=False)
    assert FeatureCache(tmp_path).missing(tiny_encoder, ["a", "b c"]) == [("b c",)]  # from disk


def test_the_timed_steps_spread_over_the_epochs_short_and_long_steps(monkeypatch, tiny_model):
    sets = sample()
    config = replace(finetune_defaults(), batch_size=4)
    seen = []
    monkeypatch.setattr(estimate, "training_step",
                        lambda model, batches, *rest: seen.append(estimate.step_chars(batches)))  # fmt: skip
    estimate.time_steps(tiny_model, config, sets, "finetune")
    epoch = [estimate.step_chars(step) for step in training_steps(
        multitask_batches(sets, config, tiny_model), 1, tasks_per_step(sets, config))]  # fmt: skip
    warm, twice = seen[: estimate.UNTIMED], seen[estimate.UNTIMED :]
    assert warm == epoch[: estimate.UNTIMED]  # the run's first steps warm the kernels up
    assert twice[0::2] == twice[1::2]  # each timed step runs twice: once to warm its shape
    timed = twice[0::2]
    assert len(timed) == estimate.TIMED and timed == sorted(timed)
    ranked = sorted(epoch)
    assert timed[0] <= ranked[len(epoch) // estimate.TIMED]  # among the shortest eighth
    assert timed[-1] >= ranked[-len(epoch) // estimate.TIMED]  # among the longest eighth
    assert timed != epoch[estimate.UNTIMED : estimate.UNTIMED + estimate.TIMED]


def test_only_the_second_run_of_a_timed_step_counts(monkeypatch, tiny_model):
    """A shape's first run pays one-off costs the real run pays once: it is left out."""
    sets = sample()
    config = replace(finetune_defaults(), batch_size=4)
    runs = []

    def step(model, batches, *rest):
        runs.append(estimate.step_chars(batches))
        if len(runs) > estimate.UNTIMED and (len(runs) - estimate.UNTIMED) % 2 == 1:  # 1st run
            time.sleep(0.05)

    monkeypatch.setattr(estimate, "training_step", step)
    seconds, _chars = estimate.time_steps(tiny_model, config, sets, "finetune")
    assert len(runs) == estimate.UNTIMED + 2 * estimate.TIMED
    assert seconds < 0.05 * estimate.TIMED / 2  # the slept first runs are not in the time
