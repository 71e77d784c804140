"""Notebook 06's checks: the solution passes, a stub is "not done yet", wrong answers are named."""

import random

import pandas as pd
import pytest
import torch

from mtlab.exercises import DONE, NOT_DONE, WRONG
from mtlab.exercises.logs import check_log_means, mtlab_log_means, use_log_means
from mtlab.exercises.multitask import check_my_step, mtlab_step, use_my_step
from mtlab.exercises.schedules import (
    check_proportional,
    check_round_robin,
    mtlab_proportional,
    mtlab_round_robin,
)

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


@pytest.mark.parametrize("answer", [step(zero="after backward"),
                                    step(zero="after backward", clip_at="none")])  # fmt: skip
def test_gradients_cleared_before_the_optimizer_used_them_is_mistake_6(answer):
    verdict = check_my_step(answer)
    assert verdict.status == WRONG and verdict.mistake == 6, str(verdict)
    assert "cleared between loss.backward() and optimizer.step()" in str(verdict)


@pytest.mark.parametrize("cut", ["detach", "item", "rebuilt", "numpy"])
def test_a_loss_cut_from_the_graph_before_backward_is_mistake_7(cut):
    verdict = check_my_step(step(cut=cut))
    assert verdict.status == WRONG and verdict.mistake == 7, str(verdict)


@pytest.mark.parametrize(
    "answer, says",
    [
        (step(zero="never"), "previous step's gradients were still there"),
        (step(zero="head only"), "previous step's gradients were still there"),
        (step(cut="no backward"), "loss.backward() is missing"),
        (step(clip_at="none"), "not clipped"),
        (step(clip_at="before"), "not clipped"),
        (step(clip_at="value"), "not clipped"),
        (step(clip_to=1.0), "clipped to 1.0, not the clip you were given"),
        (step(order="step"), "scheduler.step() is never called"),
        (step(order="schedule,step"), "scheduler.step() ran before optimizer.step()"),
        (step(order="step,schedule,schedule"), "call scheduler.step() once per step"),
        (step(order="schedule"), "optimizer.step() is never called"),
        (step(order="step-first,schedule"), "optimizer.step() ran before loss.backward()"),
        (step(zero="never", order="step-first,schedule"), "ran before loss.backward()"),
        (step(ret="tensor"), "returned a tensor"),
        (step(ret="none"), "it returned None"),
    ],
)
def test_my_step_wrong_answers_are_named(answer, says):
    verdict = check_my_step(answer)
    assert verdict.status == WRONG and says in str(verdict), str(verdict)
    assert verdict.mistake is None


def test_my_step_that_returns_the_loss_after_the_update_is_wrong():
    def after(model, task, batch, optimizer, scheduler, clip=1.0):
        mtlab_step(model, task, batch, optimizer, scheduler, clip)
        return model(task, batch, labels=batch["labels"]).item()

    verdict = check_my_step(after)
    assert verdict.status == WRONG and "on the same weights and batch the loss is" in str(verdict)


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
    rows = [{"step": s, "task": t, "loss": loss} for s, (t, loss) in enumerate(steps, 1)
            if s % log_every == 0 or s == len(steps)]  # fmt: skip
    return pd.DataFrame(rows, columns=["step", "task", "loss"])


def test_log_means_solution_passes_and_stub_is_not_done():
    assert check_log_means(mtlab_log_means).status == DONE
    assert check_log_means(logger()).status == DONE
    assert check_log_means(stub).status == NOT_DONE


@pytest.mark.parametrize(
    "answer, says",
    [
        (logger(keep="last"), "last batch's loss"),
        (seed_printer, "the loss of that step's batch alone"),
        (logger(every=1000), "logging that rarely"),
        (logger(every=1000, last=False), "logging that rarely"),
        (lambda steps, log_every: mtlab_log_means(steps, len(steps)), "logging that rarely"),
    ],
)
def test_one_batch_or_too_rare_logging_is_mistake_8(answer, says):
    verdict = check_log_means(answer)
    assert verdict.status == WRONG and verdict.mistake == 8 and says in str(verdict), str(verdict)


@pytest.mark.parametrize(
    "answer, says",
    [
        (logger(last=False), "are never logged"),
        (logger(keep="mean since start"), "the mean since the start"),
        (logger(per_task=False), "one mean over all tasks"),
        (logger(first_step=0), "steps count from 1"),
        (logger(keep="min"), "expected"),
        (lambda steps, log_every: mtlab_log_means(steps, log_every).to_dict("records"), "a list"),
        (lambda s, e: mtlab_log_means(s, e).rename(columns={"loss": "mean"}), "expected step"),
    ],
)
def test_log_means_other_wrong_answers_are_named(answer, says):
    verdict = check_log_means(answer)
    assert verdict.status == WRONG and says in str(verdict) and verdict.mistake is None, str(
        verdict
    )


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


@pytest.mark.parametrize(
    "answer, says",
    [
        (lambda b: mtlab_proportional(b, 0), "that is the proportional schedule"),
        (blocks, "in one block"),
        (lambda b: cycle(list(b), min(b.values()) * len(b)), "as zip does"),
        (lambda b: cycle(list(b), max(b.values()) * len(b)), "as many turns as the largest"),
        (lambda b: cycle(list(b), sum(b.values()) - 1), "off by one"),
        (lambda b: cycle(list(b), sum(b.values()) + 1), "off by one"),
        (lambda b: cycle(sorted(b), sum(b.values())), "alphabetically"),
        (lambda b: cycle(list(b)[1:] + list(b)[:1], sum(b.values())), "step 1 trains"),
        (lambda b: iter(cycle(list(b), sum(b.values()))), "expected a list of task names"),
    ],
)
def test_round_robin_wrong_answers_are_named(answer, says):
    verdict = check_round_robin(answer)
    assert verdict.status == WRONG and says in str(verdict), str(verdict)


def test_round_robin_that_skips_tasks_that_ran_out_is_named():
    from mtlab.exercises.schedules import _skipping  # the wrong answer the check knows by name

    verdict = check_round_robin(_skipping)
    assert verdict.status == WRONG and "loses its turn" in str(verdict)


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


@pytest.mark.parametrize(
    "answer, says",
    [
        (lambda b, seed: mtlab_round_robin(b), "that is round robin"),
        (lambda b, seed: mtlab_proportional(b, seed)[:-1], "exactly once"),
        (lambda b, seed: blocks(b), "come in blocks"),
        (
            lambda b, seed: blocks(dict(random.Random(seed).sample(list(b.items()), len(b)))),
            "come in blocks",
        ),
        (shuffled(lambda order, seed: random.shuffle(order)), "two calls with seed=0"),
        (shuffled(lambda order, seed: random.Random(0).shuffle(order)), "seed=0 and seed=1"),
        (shuffled(lambda order, seed: (random.seed(seed), random.shuffle(order))), "global"),
        (
            lambda b, seed: (
                torch.manual_seed(seed),
                [blocks(b)[i] for i in torch.randperm(sum(b.values()))],
            )[1],
            "global",
        ),
    ],
)
def test_proportional_wrong_answers_are_named(answer, says):
    verdict = check_proportional(answer)
    assert verdict.status == WRONG and says in str(verdict), str(verdict)


def test_proportional_check_restores_the_global_random_state():
    random.seed(5)
    expected = random.random()
    random.seed(5)
    check_proportional(shuffled(lambda order, seed: (random.seed(seed), random.shuffle(order))))
    assert random.random() == expected
