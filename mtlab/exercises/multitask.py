"""Notebook 06's exercise 6.1: one training step by hand, checked against mtlab's own."""

from __future__ import annotations

import copy
import functools
import warnings
from collections.abc import Callable

import torch

from mtlab.exercises import StudentError, Wrong, check, student, yours_or_mtlab
from mtlab.training.config import TrainConfig
from mtlab.training.loop import training_step

# ---------------------------------------------------------------- one training step, by hand

CLIP, LR = 0.5, 0.1  # every batch below has a gradient norm above CLIP, so clipping must act
STEPS = [
    (
        "sst",
        {
            "ids": ["a", "b"],
            "sentences": ["a fine film", "dull and long"],
            "labels": torch.tensor([3, 0]),
        },
    ),
    (
        "quora",
        {
            "ids": ["c", "d"],
            "sentences1": ["how do I cook rice?", "what is love?"],
            "sentences2": ["how to cook rice", "who wrote hamlet?"],
            "labels": torch.tensor([1, 0]),
        },
    ),
    (
        "sts",
        {
            "ids": ["e", "f"],
            "sentences1": ["a dog runs", "a man sings"],
            "sentences2": ["a dog is running", "the market fell"],
            "labels": torch.tensor([4.6, 0.2]),
        },
    ),
]


def mtlab_step(model, task: str, batch, optimizer, scheduler, clip: float = 1.0) -> float:
    """One optimizer step on one batch, in the order mtlab's `training_step` takes."""
    optimizer.zero_grad()
    loss = model(task, batch, labels=batch["labels"])
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
    optimizer.step()
    scheduler.step()
    return loss.item()


@functools.cache
def _tiny_model():
    """A 2-layer, 32-wide BERT with random weights (seeded), no dropout: runs repeat exactly."""
    from transformers import AutoTokenizer, BertConfig, BertModel

    from mtlab.encoder import Encoder, default_model_path
    from mtlab.model import MultitaskBert

    tokenizer = AutoTokenizer.from_pretrained(default_model_path(), local_files_only=True)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    with torch.random.fork_rng():  # the notebook's own random numbers stay as they were
        torch.manual_seed(0)
        return MultitaskBert(Encoder(BertModel(config), tokenizer, max_length=32), dropout=0.0)


class _Log(list):
    """What happened during one call of the student's step, in order."""


class _WatchedSGD(torch.optim.SGD):
    """Plain SGD (its update shows clipping and accumulation, Adam's would not) that records
    whether gradients were there when step() ran, and their norm."""

    def __init__(self, params, log: _Log) -> None:
        super().__init__(params, lr=LR)
        self.log = log

    def step(self, closure=None):
        grads = [p.grad for g in self.param_groups for p in g["params"] if p.grad is not None]
        norm = torch.linalg.vector_norm(torch.stack([g.norm() for g in grads])) if grads else 0.0
        self.log.append(("step", float(norm) > 0, float(norm)))
        return super().step(closure)


class _WatchedLR(torch.optim.lr_scheduler.LambdaLR):
    def step(self, *args, **kwargs):
        if hasattr(self, "log"):  # LambdaLR steps once when it is built: not the student's
            self.log.append(("schedule",))
        return super().step(*args, **kwargs)


def _schedule(optimizer):
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 1 / (1 + s))


@functools.cache
def _reference() -> list[tuple[dict, float, float]]:
    """mtlab's training_step on the tiny model: weights, loss and learning rate after each step."""
    model = copy.deepcopy(_tiny_model())
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    scheduler, out = _schedule(optimizer), []
    for task, batch in STEPS:
        losses, _ = training_step(
            model, {task: batch}, optimizer, scheduler, TrainConfig(grad_clip=CLIP)
        )
        weights = {n: p.detach().clone() for n, p in model.named_parameters()}
        out.append((weights, losses[task], scheduler.get_last_lr()[0]))
    return out


def _watch(model, log: _Log) -> None:
    """Record each backward pass that reaches the weights, and whether old gradients waited."""

    def arrived(param):
        def hook(grad):
            stale = param.grad is not None and bool(param.grad.any())
            if log and log[-1][0] == "backward":  # the same pass: any stale weight counts
                log[-1] = ("backward", log[-1][1] or stale)
            else:
                log.append(("backward", stale))
            return grad

        return hook

    for param in model.parameters():
        param.register_hook(arrived(param))


def _run_watched(my_step: Callable, model, task, batch, optimizer, scheduler) -> object:
    """The student's step with loss.backward() calls recorded (on what kind of tensor)."""
    original = torch.Tensor.backward

    def backward(tensor, *args, **kwargs):
        optimizer.log.append(("backward called", tensor.grad_fn is not None))
        return original(tensor, *args, **kwargs)

    torch.Tensor.backward = backward
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the order warnings: the check says it in words
            return student(my_step, model, task, batch, optimizer, scheduler, clip=CLIP)
    except StudentError as raised:
        text = str(raised.error)
        if isinstance(raised.error, RuntimeError) and "does not require grad" in text:
            raise Wrong(
                "loss.backward() failed: the loss has no grad_fn, it was cut from the "
                "graph (.detach(), .item(), torch.tensor(...)) before backward. Keep the "
                "loss a tensor until after backward(); return loss.item() at the end",
                id="graph.cut",
            ) from None
        if isinstance(raised.error, AttributeError) and "backward" in text:
            raise Wrong(
                "you called backward on a number, not a tensor: .item() (or float()) ran "
                "before backward and cut the loss from the graph. Call loss.item() only "
                "for the value you return, after backward",
                id="graph.cut",
            ) from None
        if "backward through the graph a second time" in text:
            raise Wrong(
                f"your step raised {raised.describe()}: backward() ran twice on one loss. "
                "Call it once per step",
                id="my_step.backward-twice",
            ) from None
        raise
    finally:
        torch.Tensor.backward = original


def _diagnose(log: _Log, k: int) -> None:
    """Name what went wrong in step k from the order of events in the student's step."""
    kinds = [event[0] for event in log]
    steps = [e for e in log if e[0] == "step"]
    if "backward" not in kinds:
        cut = [e for e in log if e[0] == "backward called" and not e[1]]
        if cut:
            raise Wrong(
                "loss.backward() ran on a tensor with no grad_fn, so no gradient reached "
                "any weight: the loss was rebuilt from a number (.item(), .detach(), "
                "torch.tensor(...)). Call backward on the loss the model returned",
                id="graph.cut",
            )
        raise Wrong(
            "no gradient reached the weights: loss.backward() is missing",
            id="my_step.no-backward",
        )
    if not steps:
        raise Wrong(
            "optimizer.step() is never called: the gradients are computed, the weights never "
            "change",
            id="my_step.no-step",
        )
    if kinds.index("step") < kinds.index("backward"):
        raise Wrong(
            "optimizer.step() ran before loss.backward(): it updated the weights with "
            "the previous step's gradients (or none). Order: zero_grad, forward, "
            "backward, clip, step",
            id="my_step.step-before-backward",
        )
    if not steps[0][1]:
        raise Wrong(
            "the gradients were cleared between loss.backward() and optimizer.step(), so "
            "the optimizer saw none and the weights never changed. zero_grad() belongs "
            "before the forward pass (or after step)",
            id="my_step.cleared-before-step",
        )
    if k > 0 and log[kinds.index("backward")][1]:
        raise Wrong(
            f"step {k + 1}: the previous step's gradients were still there when backward "
            "ran, so the two added up (gradients accumulate in .grad). Call "
            "optimizer.zero_grad() at the start of each step",
            id="my_step.accumulates",
        )
    norm = steps[0][2]
    if abs(norm - CLIP) > 1e-3 * CLIP:
        what = (
            "clipped to 1.0, not the clip you were given"
            if abs(norm - 1) < 1e-3
            else "not clipped"
            if norm > CLIP
            else "cut below the clip"
        )
        raise Wrong(
            f"with clip={CLIP} the gradient norm at optimizer.step() was {norm:.3f}: "
            f"{what}. Call torch.nn.utils.clip_grad_norm_(model.parameters(), clip) "
            "after backward, before step",
            id="my_step.clip-hard-coded" if abs(norm - 1) < 1e-3 else "my_step.not-clipped",
        )
    if "schedule" not in kinds:
        raise Wrong(
            "scheduler.step() is never called: the learning rate never changes (no "
            "warmup, no decay)",
            id="my_step.no-schedule",
        )
    if kinds.index("schedule") < kinds.index("step"):
        raise Wrong(
            "scheduler.step() ran before optimizer.step(): every update used the next "
            "step's learning rate. Step the optimizer first, then the scheduler",
            id="my_step.schedule-before-step",
        )


@check("my_step")
def check_my_step(my_step: Callable) -> list[str]:
    """Three steps (SST, Quora, STS) on a tiny BERT, against mtlab's own training_step."""
    model, log = copy.deepcopy(_tiny_model()), _Log()
    optimizer = _WatchedSGD(model.parameters(), log)
    scheduler = _WatchedLR(optimizer, lambda s: 1 / (1 + s))
    scheduler.log = log
    _watch(model, log)
    for k, ((task, batch), (weights, loss, lr)) in enumerate(zip(STEPS, _reference())):
        log.clear()
        out = _run_watched(my_step, model, task, batch, optimizer, scheduler)
        _diagnose(log, k)
        if isinstance(out, torch.Tensor):
            raise Wrong(
                "it returned a tensor: return loss.item(), a float (a list of loss "
                "tensors would keep every step's graph in memory)",
                id="my_step.returns-tensor",
            )
        if not isinstance(out, float):
            raise Wrong(
                f"it returned {out!r}, expected the loss as a float (loss.item())",
                id="answer.wrong-type",
            )
        if not abs(out - loss) <= 1e-4 * max(1.0, abs(loss)):  # NaN is not near either
            with torch.no_grad():
                after = model(task, batch, labels=batch["labels"]).item()
            later = abs(out - after) <= 1e-4 * max(1.0, abs(after))
            raise Wrong(
                f"step {k + 1} ({task}) returned loss {out:.4f}; on the same weights and "
                f"batch the loss is {loss:.4f}"
                + (
                    ": yours is the loss after optimizer.step() changed the weights. Return "
                    "the loss of the forward pass you trained on"
                    if later
                    else ": return loss.item() of the loss you called backward on"
                ),
                id="my_step.loss-after-step" if later else "answer.wrong-value",
            )
        if abs(scheduler.get_last_lr()[0] - lr) > 1e-9:
            raise Wrong(
                f"after step {k + 1} the learning rate is {scheduler.get_last_lr()[0]:.4f},"
                f" expected {lr:.4f}: call scheduler.step() once per step",
                id="my_step.schedule-count",
            )
        for name, param in model.named_parameters():
            if not torch.allclose(param, weights[name], atol=1e-6):
                raise Wrong(
                    f"after step {k + 1} ({task}) the weights differ from mtlab's "
                    f"training_step's (first: {name})",
                    id="answer.wrong-value",
                )
    return [
        f"{len(STEPS)} steps (sst, quora, sts) on a tiny BERT: the same losses, learning "
        "rates and weights as mtlab's training_step"
    ]


def use_my_step(my_step: Callable) -> Callable:
    """The student's step, or mtlab's while the stub is unfilled."""

    def probe(step):
        model = copy.deepcopy(_tiny_model())
        optimizer = torch.optim.SGD(model.parameters(), lr=LR)
        return step(model, *STEPS[0], optimizer, _schedule(optimizer), clip=CLIP)

    return yours_or_mtlab("my_step", my_step, mtlab_step, probe)
