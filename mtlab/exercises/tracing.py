"""Notebook 05's exercises: gradients read at the right moment, a head fixed, a graph walked."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode

from mtlab.exercises import StudentError, Wrong, check, student, yours_or_mtlab
from mtlab.exercises.fixed_head import check_fixed_head
from mtlab.exercises.walk import (
    check_unreached_parameters,
    mtlab_unreached_parameters,
    use_unreached_parameters,
)

__all__ = [  # exercise 5.2 lives in mtlab.exercises.fixed_head, 5.3 in mtlab.exercises.walk
    "check_fixed_head",
    "check_step_with_grad_norms",
    "check_unreached_parameters",
    "mtlab_step_with_grad_norms",
    "mtlab_unreached_parameters",
    "use_step_with_grad_norms",
    "use_unreached_parameters",
]

# ------------------------------------------------------------ gradients read at the right moment


def mtlab_step_with_grad_norms(model: nn.Module, loss: torch.Tensor, optimizer) -> dict:
    """One training step; each trainable parameter's gradient norm, read before it is cleared."""
    loss.backward()
    norms = {
        name: None if p.grad is None else p.grad.norm().item()
        for name, p in model.named_parameters()
        if p.requires_grad
    }
    optimizer.step()
    optimizer.zero_grad()
    return norms


class _StepWatcher(TorchFunctionMode):
    """Records each call of backward/step/zero_grad and each read of a parameter's .grad.

    Reads made by the optimizer itself (inside step or zero_grad) are not the student's.
    """

    def __init__(self, parameters) -> None:
        super().__init__()
        self.ids = {id(p) for p in parameters}
        self.events: list[str] = []
        self.reads: list[bool] = []  # for each read: had backward() run?
        self.inside_optimizer = False

    def __torch_function__(self, func, types, args=(), kwargs=None):
        result = func(*args, **(kwargs or {}))
        if (
            getattr(func, "__name__", "") == "__get__"
            and not self.inside_optimizer
            and getattr(func, "__self__", None) is torch.Tensor.grad
            and id(args[0]) in self.ids
        ):
            self.reads.append("backward" in self.events)
        return result

    def watch(self, name: str, method: Callable) -> Callable:
        """`method` (step or zero_grad), recording its call; its own reads of .grad not counted."""

        def run(*args, **kwargs):
            self.events.append(name)
            self.inside_optimizer = True
            try:
                return method(*args, **kwargs)
            finally:
                self.inside_optimizer = False

        return run


def _toy_step(seed: int = 0) -> tuple[nn.Module, torch.Tensor, torch.optim.Optimizer]:
    """A two-layer classifier with one unused layer, its loss on a small batch, an SGD optimizer."""
    torch.manual_seed(seed)
    model = nn.ModuleDict(
        {"hidden": nn.Linear(4, 3), "out": nn.Linear(3, 2), "spare": nn.Linear(3, 2)}
    )
    x, y = torch.randn(6, 4), torch.tensor([0, 1, 1, 0, 1, 0])
    loss = F.cross_entropy(model["out"](torch.relu(model["hidden"](x))), y)
    return model, loss, torch.optim.SGD(model.parameters(), lr=0.1)


def _expected_norms(model: nn.Module, loss: torch.Tensor) -> tuple[dict, dict, dict]:
    """The norms (and L1 sums, and the weights' own norms, for the usual wrong answers),
    computed before the student's step (autograd.grad leaves .grad alone)."""
    params = dict(model.named_parameters())
    grads = torch.autograd.grad(loss, list(params.values()), retain_graph=True, allow_unused=True)
    norms = {name: None if g is None else g.norm().item() for name, g in zip(params, grads)}
    l1 = {name: None if g is None else g.abs().sum().item() for name, g in zip(params, grads)}
    weights = {name: p.detach().norm().item() for name, p in params.items()}
    return norms, l1, weights


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def _run_step(step_with_grad_norms: Callable, model, loss, optimizer, watcher) -> object:
    """The student's step, watched; an exception named by what had happened before it."""
    try:
        with watcher:
            return student(step_with_grad_norms, model, loss, optimizer)
    except StudentError as raised:
        text = str(raised.error)
        if not ("NoneType" in text and "norm" in text):
            raise
        events = watcher.events
        if "zero_grad" in events:
            raise Wrong(
                f"your code raised {raised.describe()}: .grad is None because zero_grad() had "
                "already cleared it. Read the gradients after backward(), before zero_grad()",
                id="step_with_grad_norms.after-zero-grad",
            ) from None
        if "backward" not in events:
            raise Wrong(
                f"your code raised {raised.describe()}: .grad is None because loss.backward() "
                "had not written it yet. Call backward() first, then read",
                id="step_with_grad_norms.before-backward",
            ) from None
        raise Wrong(
            f"your code raised {raised.describe()}: .grad is None for a parameter no gradient "
            "reached ('spare' is not used in the forward pass). Return None for it: "
            "None if p.grad is None else p.grad.norm().item()",
            id="step_with_grad_norms.unused-crash",
        ) from None


def _numbers(got: dict) -> dict:
    return {
        n: v.item() if isinstance(v, torch.Tensor) and v.numel() == 1 else v for n, v in got.items()
    }


def _check_names(got, want: dict, model: nn.Module) -> None:
    if not isinstance(got, dict):
        raise Wrong(
            f"returned a {type(got).__name__}, expected a dict: parameter name -> norm",
            id="answer.wrong-type",
        )
    if set(got) == set(want):
        return
    names = sorted(want)
    if not all(isinstance(k, str) for k in got):
        raise Wrong(
            f"the keys are {[type(k).__name__ for k in list(got)[:3]]}, expected the "
            f"parameters' names, {names}: model.named_parameters() gives (name, parameter)",
            id="step_with_grad_norms.names",
        )
    left_out = sorted(set(want) - set(got))
    if left_out and all(want[n] is None for n in left_out):
        raise Wrong(
            f"{left_out} are missing: no gradient reached them, and that is a finding too. "
            "Keep them, with None",
            id="step_with_grad_norms.unused-left-out",
        )
    raise Wrong(f"expected the names {names}, got {sorted(got)}", id="step_with_grad_norms.names")


def _check_values(got: dict, want: dict, l1: dict, weights: dict) -> None:
    for name in [n for n, norm in want.items() if norm is not None]:
        value = got[name]
        if (
            isinstance(value, torch.Tensor)
            or not isinstance(value, (int, float))
            or _missing(value)
        ):
            raise Wrong(
                f"for {name} you returned {str(value)[:50]!r}, expected a number: the norm, "
                "p.grad.norm().item()",
                id="answer.wrong-type",
            )
        if abs(value - want[name]) <= 1e-4 * max(1.0, want[name]):
            continue
        hints = [
            ("step_with_grad_norms.squared", want[name] ** 2, "the squared norm"),
            ("step_with_grad_norms.l1", l1[name], "the sum of absolute values (L1)"),
            ("step_with_grad_norms.weight-norm", weights[name], "the norm of the weights"),
        ]
        for id, other, words in hints:
            if abs(value - other) < 1e-4 * max(1.0, other):
                raise Wrong(
                    f"for {name} expected the gradient norm {want[name]:.4f}, got {value:.4f}: "
                    f"that is {words}, not the (L2) norm of its gradient, p.grad.norm()",
                    id=id,
                )
        raise Wrong(
            f"for {name} expected the gradient norm {want[name]:.4f}, got {value:.4f}: the "
            "(L2) norm of the gradient, p.grad.norm()",
            id="answer.wrong-value",
        )


def _check_unused(got: dict, want: dict) -> None:
    for name in sorted(n for n, norm in want.items() if norm is None):
        if not _missing(got[name]):
            raise Wrong(
                f"no gradient reached {name} (it is not used), yet you returned "
                f"{got[name]!r}: return None for it. 'No gradient' and 'a gradient of "
                "zero' are different findings",
                id="step_with_grad_norms.zero-for-unused",
            )


def _all_missing(got: dict, want: dict, watcher: _StepWatcher) -> None:
    """Wrong when every gradient read is None or 0: read before backward, or after zero_grad."""
    values = {name: got[name] for name, norm in want.items() if norm is not None}
    if not all(_missing(v) or (isinstance(v, (int, float)) and v == 0) for v in values.values()):
        return
    if watcher.reads and not any(watcher.reads):
        raise Wrong(
            f"every gradient you returned is None or 0 ({values}): you read .grad "
            "before loss.backward() had written it",
            id="step_with_grad_norms.before-backward",
        )
    raise Wrong(
        f"every gradient you returned is None or 0 ({values}): you read .grad "
        "after zero_grad() had cleared it. Read after backward(), before zero_grad()",
        id="step_with_grad_norms.after-zero-grad",
    )


@check("step_with_grad_norms")
def check_step_with_grad_norms(step_with_grad_norms: Callable) -> list[str]:
    """One whole step (backward, step, zero_grad) that reads the gradients between the two ends."""
    model, loss, optimizer = _toy_step()
    want, l1, weights = _expected_norms(model, loss)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    watcher = _StepWatcher(model.parameters())
    optimizer.step = watcher.watch("step", optimizer.step)
    optimizer.zero_grad = watcher.watch("zero_grad", optimizer.zero_grad)
    model.zero_grad = watcher.watch("zero_grad", model.zero_grad)
    loss.register_hook(lambda grad: watcher.events.append("backward"))
    got = _run_step(step_with_grad_norms, model, loss, optimizer, watcher)
    events = watcher.events
    if "backward" not in events:
        raise Wrong(
            "your function never called loss.backward(): no gradient was ever computed",
            id="step_with_grad_norms.no-backward",
        )
    if "step" not in events[events.index("backward") :]:
        raise Wrong(
            "optimizer.step() was not called after loss.backward(): the weights never move",
            id="step_with_grad_norms.no-step",
        )
    if all(torch.equal(p, before[n]) for n, p in model.named_parameters()):
        raise Wrong(
            "optimizer.step() ran, but no weight changed: it found no gradient in .grad. "
            "torch.autograd.grad returns the gradients without storing them; loss.backward() "
            "stores them where the optimizer reads them",
            id="step_with_grad_norms.no-update",
        )
    _check_names(got, want, model)
    got = _numbers(got)
    _all_missing(got, want, watcher)
    _check_values(got, want, l1, weights)
    _check_unused(got, want)
    if "zero_grad" not in events:
        raise Wrong(
            "the gradients are still in .grad after your step, and the next backward() "
            "adds to them: call optimizer.zero_grad() (after reading them)",
            id="step_with_grad_norms.no-zero-grad",
        )
    used = [name for name, norm in want.items() if norm is not None]
    return [f"norms of {len(used)} tensors read after backward(), None for the unused one"]


def use_step_with_grad_norms(step_with_grad_norms: Callable) -> Callable:
    """The student's step_with_grad_norms, or mtlab's while the stub is unfilled."""
    return yours_or_mtlab(
        "step_with_grad_norms",
        step_with_grad_norms,
        mtlab_step_with_grad_norms,
        lambda f: f(*_toy_step()),
    )
