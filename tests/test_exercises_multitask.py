"""Notebook 06's checks: the solution passes, a stub is "not done yet", wrong answers are named."""

import itertools
import random

import numpy as np
import pandas as pd
import pytest
import torch

from mtlab.exercises import DONE, NOT_DONE
from mtlab.exercises.logs import check_log_means, mtlab_log_means, use_log_means
from mtlab.exercises.multitask import check_my_step, mtlab_step, use_my_step
from mtlab.exercises.schedules import (
    _skipping,
    check_proportional,
    check_round_robin,
    mtlab_proportional,
    mtlab_round_robin,
)
from tests.verdicts import assert_done, assert_named, row

clip_norm = torch.nn.utils.clip_grad_norm_


def stub(*_args, **_kwargs):
    raise NotImplementedError()


# ------------------------------------------------------------------ my_step: right answers


def zero_grad_at_the_end(model, task, batch, optimizer, scheduler, clip=1.0):
    loss = model(task, batch, labels=batch["labels"])
    loss.backward()
    clip_norm(model.parameters(), clip)
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad()
    return loss.item()


def forward_then_loss(model, task, batch, optimizer, scheduler, clip=1.0):
    model.zero_grad()
    loss = model.loss(task, model(task, batch), batch["labels"])
    loss.backward()
    clip_norm(model.parameters(), clip)
    optimizer.step()
    scheduler.step()
    return float(loss)


@pytest.mark.parametrize("answer", [mtlab_step, zero_grad_at_the_end, forward_then_loss])
def test_my_step_right_answers_pass(answer):
    verdict = check_my_step(answer)
    assert verdict.status == DONE, str(verdict)


def test_my_step_stub_is_not_done():
    assert check_my_step(stub).status == NOT_DONE


# ------------------------------------------------------------------ my_step: wrong answers


def step(zero="first", cut=None, clip_at="after", clip_to=None, order="step,schedule", ret="item"):
    """A training step with one thing changed: where zero_grad goes, how the loss is cut, ..."""

    def my_step(model, task, batch, optimizer, scheduler, clip=1.0):
        if zero == "first":
            optimizer.zero_grad()
        elif zero == "head only":  # the encoder's gradients pile up
            model.head(task).zero_grad()
        loss = model(task, batch, labels=batch["labels"])
        if cut == "detach":
            loss = loss.detach()
        elif cut == "item":
            loss = loss.item()
        elif cut == "rebuilt":
            loss = torch.tensor(loss.item(), requires_grad=True)
        elif cut == "numpy":
            loss = torch.from_numpy(loss.detach().numpy()).requires_grad_()
        if clip_at == "before":
            clip_norm(model.parameters(), clip)
        if "step-first" in order:
            optimizer.step()
        if cut != "no backward":
            loss.backward()
        if zero == "after backward":
            optimizer.zero_grad()
        if clip_at == "after":
            clip_norm(model.parameters(), clip if clip_to is None else clip_to)
        elif clip_at == "value":
            torch.nn.utils.clip_grad_value_(model.parameters(), clip)
        for action in order.split(","):
            {"step": optimizer.step, "schedule": scheduler.step}.get(action, lambda: None)()
        return {"item": lambda: loss.item(), "tensor": lambda: loss, "none": lambda: None}[ret]()

    return my_step


def loss_after_the_update(model, task, batch, optimizer, scheduler, clip=1.0):
    mtlab_step(model, task, batch, optimizer, scheduler, clip)
    return model(task, batch, labels=batch["labels"]).item()


def backward_twice(model, task, batch, optimizer, scheduler, clip=1.0):
    optimizer.zero_grad()
    loss = model(task, batch, labels=batch["labels"])
    loss.backward()
    loss.backward()
    clip_norm(model.parameters(), clip)
    optimizer.step()
    scheduler.step()
    return loss.item()


def doubled_loss(model, task, batch, optimizer, scheduler, clip=1.0):
    return 2 * mtlab_step(model, task, batch, optimizer, scheduler, clip)


WRONG_STEPS = [
    row(
        step(zero="after backward"),
        "my_step.cleared-before-step",
        "cleared between loss.backward() and optimizer.step()",
        "seed mistake 6",
        name="zero-after-backward",
    ),
    row(
        step(zero="after backward", clip_at="none"),
        "my_step.cleared-before-step",
        "cleared between",
        name="zero-after-backward-no-clip",
    ),
    row(step(cut="detach"), "graph.cut", "seed mistake 7", name="detach"),
    row(step(cut="item"), "graph.cut", "on a number", name="item"),
    row(step(cut="rebuilt"), "graph.cut", "no grad_fn", name="rebuilt"),
    row(step(cut="numpy"), "graph.cut", "seed mistake 7", name="numpy"),
    row(
        step(zero="never"),
        "my_step.accumulates",
        "previous step's gradients were still there",
        name="no-zero-grad",
    ),
    row(
        step(zero="head only"),
        "my_step.accumulates",
        "previous step's gradients were still there",
        name="head-only",
    ),
    row(
        step(cut="no backward"),
        "my_step.no-backward",
        "loss.backward() is missing",
        name="no-backward",
    ),
    row(step(clip_at="none"), "my_step.not-clipped", "not clipped", name="no-clip"),
    row(step(clip_at="before"), "my_step.not-clipped", "not clipped", name="clip-before-backward"),
    row(step(clip_at="value"), "my_step.not-clipped", "not clipped", name="clip-value"),
    row(
        step(clip_to=1.0),
        "my_step.clip-hard-coded",
        "clipped to 1.0, not the clip you were given",
        name="clip-1",
    ),
    row(
        step(order="step"),
        "my_step.no-schedule",
        "scheduler.step() is never called",
        name="no-schedule",
    ),
    row(
        step(order="schedule,step"),
        "my_step.schedule-before-step",
        "scheduler.step() ran before optimizer.step()",
        name="schedule-first",
    ),
    row(
        step(order="step,schedule,schedule"),
        "my_step.schedule-count",
        "call scheduler.step() once per step",
        name="schedule-twice",
    ),
    row(
        step(order="schedule"),
        "my_step.no-step",
        "optimizer.step() is never called",
        name="no-step",
    ),
    row(
        step(order="step-first,schedule"),
        "my_step.step-before-backward",
        "optimizer.step() ran before loss.backward()",
        name="step-first",
    ),
    row(
        step(zero="never", order="step-first,schedule"),
        "my_step.step-before-backward",
        "ran before loss.backward()",
        name="step-first-no-zero",
    ),
    row(step(ret="tensor"), "my_step.returns-tensor", "returned a tensor", name="tensor"),
    row(step(ret="none"), "answer.wrong-type", "it returned None", name="none"),
    row(loss_after_the_update, "my_step.loss-after-step", "after optimizer.step()"),
    row(backward_twice, "my_step.backward-twice", "backward() ran twice"),
    row(doubled_loss, "answer.wrong-value", "on the same weights and batch the loss is"),
]


@pytest.mark.parametrize("answer, mistake_id, words", WRONG_STEPS)
def test_my_step_wrong_answers_are_named(answer, mistake_id, words):
    assert_named(check_my_step(answer), mistake_id, words)


def test_my_step_check_leaves_the_global_random_state_alone():
    torch.manual_seed(3)
    expected = torch.rand(1)
    torch.manual_seed(3)
    check_my_step(mtlab_step)
    assert torch.equal(torch.rand(1), expected)
    assert torch.Tensor.backward.__name__ == "backward"


def test_use_my_step_falls_back_and_says_so(capsys):
    assert use_my_step(stub) is mtlab_step
    assert "not done yet: the cells below use mtlab's version" in capsys.readouterr().out
    assert use_my_step(zero_grad_at_the_end) is zero_grad_at_the_end


# ------------------------------------------------------------------ log_means


def logger(*, keep="mean", every=None, last=True, first_step=1, per_task=True):
    """A logger with one thing changed: what it keeps per row, how often, where steps start."""
    summaries = {"mean": lambda v: sum(v) / len(v), "last": lambda v: v[-1], "min": min}

    def log_means(steps, log_every):
        log_every = every or log_every
        rows, pending, seen = [], {}, {}
        for step, (task, loss) in enumerate(steps, start=first_step):
            key = task if per_task else "all"
            pending.setdefault(key, []).append(loss)
            seen.setdefault(key, []).append(loss)
            if step % log_every == 0 or (last and step == len(steps) - 1 + first_step):
                source = seen if keep == "mean since start" else pending
                summary = summaries.get(keep, summaries["mean"])
                rows += [{"step": step, "task": k, "loss": summary(v)} for k, v in source.items()]
                pending = {}
        table = pd.DataFrame(rows, columns=["step", "task", "loss"])
        return table if per_task else table.drop(columns="task")

    return log_means


def seed_printer(steps, log_every):
    """What the seed did: print the loss of the step's own batch now and then."""
    rows = [
        {"step": s, "task": t, "loss": loss}
        for s, (t, loss) in enumerate(steps, 1)
        if s % log_every == 0 or s == len(steps)
    ]
    return pd.DataFrame(rows, columns=["step", "task", "loss"])


def test_log_means_solution_passes_and_stub_is_not_done():
    assert check_log_means(mtlab_log_means).status == DONE
    assert check_log_means(logger()).status == DONE
    assert check_log_means(stub).status == NOT_DONE


def with_idle_tasks(steps, log_every):  # every task at every logged step, NaN if it did not train
    table = mtlab_log_means(steps, log_every)
    wide = table.pivot(index="step", columns="task", values="loss")
    return wide.reset_index().melt(id_vars="step", var_name="task", value_name="loss")


def repeats_last_mean(steps, log_every):  # a task that did not train keeps its old row
    rows, pending, last = [], {}, {}
    for step, (task, loss) in enumerate(steps, start=1):
        pending.setdefault(task, []).append(loss)
        if step % log_every == 0 or step == len(steps):
            last.update({t: sum(v) / len(v) for t, v in pending.items()})
            rows += [{"step": step, "task": t, "loss": m} for t, m in last.items()]
            pending = {}
    return pd.DataFrame(rows)


def medians(steps, log_every):
    rows, pending = [], {}
    for step, (task, loss) in enumerate(steps, start=1):
        pending.setdefault(task, []).append(loss)
        if step % log_every == 0 or step == len(steps):
            rows += [
                {"step": s, "task": t, "loss": float(np.median(v))}
                for s, (t, v) in zip(itertools.repeat(step), pending.items())
            ]
            pending = {}
    return pd.DataFrame(rows)


WRONG_LOGS = [
    row(
        logger(keep="last"),
        "log_means.one-batch",
        "last batch's loss",
        "seed mistake 8",
        name="last",
    ),
    row(seed_printer, "log_means.one-batch", "the loss of that step's batch alone"),
    row(
        logger(every=1000),
        "log_means.too-rare",
        "logging that rarely",
        "seed mistake 8",
        name="every-1000",
    ),
    row(
        logger(every=1000, last=False),
        "log_means.too-rare",
        "logging that rarely",
        name="every-1000-no-last",
    ),
    row(
        lambda steps, log_every: mtlab_log_means(steps, len(steps)),
        "log_means.too-rare",
        "logging that rarely",
        name="once",
    ),
    row(logger(last=False), "log_means.last-stretch", "are never logged", name="no-last"),
    row(
        logger(keep="mean since start"),
        "log_means.mean-since-start",
        "the mean since the start",
        name="since-start",
    ),
    row(
        logger(per_task=False),
        "log_means.one-mean-for-all-tasks",
        "one mean over all tasks",
        name="all-tasks",
    ),
    row(logger(first_step=0), "log_means.steps-from-0", "steps count from 1", name="from-0"),
    row(logger(keep="min"), "answer.wrong-value", "expected", name="min"),
    row(medians, "log_means.median", "median"),
    row(with_idle_tasks, "log_means.rows-for-idle-tasks", "NaN"),
    row(repeats_last_mean, "log_means.rows-for-idle-tasks", "did not train"),
    row(
        lambda steps, log_every: mtlab_log_means(steps, log_every).to_dict("records"),
        "answer.wrong-type",
        "a list",
        name="records",
    ),
    row(
        lambda s, e: mtlab_log_means(s, e).rename(columns={"loss": "mean"}),
        "log_means.columns",
        "expected step",
        name="renamed",
    ),
    row(
        lambda s, e: pd.concat([mtlab_log_means(s, e)] * 2),
        "log_means.duplicate-rows",
        "two rows",
        name="twice",
    ),
]


@pytest.mark.parametrize("answer, mistake_id, words", WRONG_LOGS)
def test_log_means_wrong_answers_are_named(answer, mistake_id, words):
    assert_named(check_log_means(answer), mistake_id, words)


def test_use_log_means_falls_back_and_says_so(capsys):
    assert use_log_means(stub) is mtlab_log_means
    assert "not done yet" in capsys.readouterr().out
    mine = logger()
    assert use_log_means(mine) is mine


# ------------------------------------------------------------------ schedules


def cycle(tasks, n):
    return [tasks[i % len(tasks)] for i in range(n)]


def blocks(batches):
    return [task for task, n in batches.items() for _ in range(n)]


def test_round_robin_solution_passes_and_stub_is_not_done():
    assert check_round_robin(mtlab_round_robin).status == DONE
    assert check_round_robin(stub).status == NOT_DONE


def with_cycle(batches):  # itertools: also right
    return list(itertools.islice(itertools.cycle(batches), sum(batches.values())))


def test_round_robin_cycle_passes():
    assert_done(check_round_robin(with_cycle))


def zip_longest(batches):
    lists = [[t] * n for t, n in batches.items()]
    return [t for turn in itertools.zip_longest(*lists) for t in turn]


WRONG_ROBINS = [
    row(
        lambda b: mtlab_proportional(b, 0),
        "round_robin.proportional",
        "that is the proportional schedule",
        name="proportional",
    ),
    row(blocks, "round_robin.blocks", "in one block"),
    row(
        lambda b: cycle(list(b), min(b.values()) * len(b)),
        "round_robin.stops-at-smallest",
        "as zip does",
        name="zip",
    ),
    row(
        lambda b: cycle(list(b), max(b.values()) * len(b)),
        "round_robin.largest-turns",
        "as many turns as the largest",
        name="largest",
    ),
    row(
        lambda b: cycle(list(b), sum(b.values()) - 1),
        "round_robin.off-by-one",
        "off by one",
        name="one-short",
    ),
    row(
        lambda b: cycle(list(b), sum(b.values()) + 1),
        "round_robin.off-by-one",
        "off by one",
        name="one-more",
    ),
    row(
        lambda b: cycle(sorted(b), sum(b.values())),
        "round_robin.sorted",
        "alphabetically",
        name="sorted",
    ),
    row(
        lambda b: cycle(list(b)[1:] + list(b)[:1], sum(b.values())),
        "answer.wrong-value",
        "step 1 trains",
        name="rotated",
    ),
    row(
        lambda b: iter(cycle(list(b), sum(b.values()))),
        "answer.wrong-type",
        "expected a list of task names",
        name="iterator",
    ),
    row(_skipping, "round_robin.skips-finished", "loses its turn", name="skipping"),
    row(zip_longest, "round_robin.none-entries", "zip_longest"),
]


@pytest.mark.parametrize("answer, mistake_id, words", WRONG_ROBINS)
def test_round_robin_wrong_answers_are_named(answer, mistake_id, words):
    assert_named(check_round_robin(answer), mistake_id, words)


def shuffled(draw):
    def proportional(batches, seed):
        order = blocks(batches)
        draw(order, seed)
        return order

    return proportional


def test_proportional_solution_and_other_seeded_shuffles_pass():
    assert check_proportional(mtlab_proportional).status == DONE

    def with_a_generator(batches, seed):
        order, generator = blocks(batches), torch.Generator().manual_seed(seed)
        return [order[i] for i in torch.randperm(len(order), generator=generator)]

    assert check_proportional(with_a_generator).status == DONE
    assert check_proportional(stub).status == NOT_DONE


def with_numpy_generator(batches, seed):  # a NumPy generator of its own: also right
    order = blocks(batches)
    return [order[i] for i in np.random.default_rng(seed).permutation(len(order))]


def test_proportional_numpy_generator_passes():
    assert_done(check_proportional(with_numpy_generator))


def numpy_global(batches, seed):
    np.random.seed(seed)
    order = blocks(batches)
    np.random.shuffle(order)
    return order


def with_replacement(batches, seed):
    tasks, counts = list(batches), list(batches.values())
    return random.Random(seed).choices(tasks, weights=counts, k=sum(counts))


WRONG_PROPORTIONALS = [
    row(
        lambda b, seed: mtlab_round_robin(b),
        "proportional.round-robin",
        "that is round robin",
        name="round-robin",
    ),
    row(
        lambda b, seed: mtlab_proportional(b, seed)[:-1],
        "proportional.counts",
        "exactly once",
        name="one-short",
    ),
    row(with_replacement, "proportional.counts", "with replacement"),
    row(lambda b, seed: blocks(b), "proportional.blocks", "come in blocks", name="blocks"),
    row(
        lambda b, seed: blocks(dict(random.Random(seed).sample(list(b.items()), len(b)))),
        "proportional.blocks",
        "come in blocks",
        name="shuffled-blocks",
    ),
    row(
        shuffled(lambda order, seed: random.shuffle(order)),
        "proportional.unseeded",
        "two calls with seed=0",
        name="global-shuffle",
    ),
    row(
        shuffled(lambda order, seed: random.Random(0).shuffle(order)),
        "proportional.seed-ignored",
        "seed=0 and seed=1",
        name="fixed-seed",
    ),
    row(
        shuffled(lambda order, seed: (random.seed(seed), random.shuffle(order))),
        "proportional.global-generator",
        "global",
        name="reseeds-random",
    ),
    row(
        lambda b, seed: (
            torch.manual_seed(seed),
            [blocks(b)[i] for i in torch.randperm(sum(b.values()))],
        )[1],
        "proportional.global-generator",
        "global",
        name="reseeds-torch",
    ),
    row(numpy_global, "proportional.global-generator", "global"),
]


@pytest.mark.parametrize("answer, mistake_id, words", WRONG_PROPORTIONALS)
def test_proportional_wrong_answers_are_named(answer, mistake_id, words):
    assert_named(check_proportional(answer), mistake_id, words)


def test_proportional_check_restores_the_global_random_state():
    random.seed(5)
    expected = random.random()
    random.seed(5)
    check_proportional(shuffled(lambda order, seed: (random.seed(seed), random.shuffle(order))))
    assert random.random() == expected
