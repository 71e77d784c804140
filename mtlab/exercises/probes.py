"""What several checks probe the same way: the kind of answer, closeness, rows, gradients.

Each helper calls the student's code only through `student(...)`, and compares without ever
raising on an answer of another shape or dtype: a float64 answer, a list, a (B, 1) column
are the student's business and get a message, never a crash inside the check.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable

import torch

from mtlab.exercises import Wrong, student


def close(got, want, atol: float = 1e-5, rtol: float = 1e-4) -> bool:
    """Whether two numbers or tensors agree; False (never an error) for other shapes or types."""
    if isinstance(want, numbers.Real) and not isinstance(want, bool):
        value = as_number(got)
        return value is not None and math.isclose(value, float(want), rel_tol=rtol, abs_tol=atol)
    if not isinstance(got, torch.Tensor) or not isinstance(want, torch.Tensor):
        return False
    if got.shape != want.shape or got.is_complex():
        return False
    return torch.allclose(got.detach().double(), want.detach().double(), atol=atol, rtol=rtol)


def as_number(value) -> float | None:
    """A Python number, a NumPy scalar or a one-number tensor as a float; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, torch.Tensor):
        return float(value.item()) if value.numel() == 1 and not value.is_complex() else None
    if isinstance(value, numbers.Real):
        return float(value)
    return None


def tensor_answer(out, name: str, expected: str) -> torch.Tensor:
    """The answer, if it is a tensor; else Wrong naming what it is instead."""
    if isinstance(out, torch.Tensor):
        return out
    kind = type(out).__name__
    hint = ""
    if kind == "ndarray":
        hint = ": a NumPy array has no autograd graph; keep to torch operations"
    elif isinstance(out, (list, tuple)):
        hint = ": join the pieces into one tensor (torch.cat or torch.stack)"
    elif out is None:
        hint = ": is the `return` missing?"
    raise Wrong(f"{name} returned a {kind}, expected {expected}{hint}", id="answer.not-a-tensor")


def require_graph(out: torch.Tensor, what: str) -> None:
    """Wrong (seed mistake 7) when `out` has no grad_fn although its inputs need gradients."""
    if out.grad_fn is None:
        raise Wrong(
            f"{what} no grad_fn: nothing before it would train. Something cut it from the "
            "graph (.detach(), .item(), .numpy(), torch.tensor(...)); use torch operations only",
            id="graph.cut",
        )


def require_dtype(out: torch.Tensor, inputs: torch.Tensor, what: str) -> None:
    """Wrong when float32 inputs gave an answer of another float dtype (it breaks what follows)."""
    if out.is_floating_point() and out.dtype != inputs.dtype:
        raise Wrong(
            f"{what} {out.dtype}, from {inputs.dtype} inputs: the layers and targets around it "
            f"are {inputs.dtype}, and nn.Linear or the task's loss refuse a mix. Something made "
            f"{out.dtype} (.double(), torch.tensor of a NumPy array, dtype=...): leave the dtype "
            "of the inputs as it is",
            id="answer.dtype",
        )


def gradients_match(got: torch.Tensor, want: torch.Tensor, inputs: list[torch.Tensor]) -> bool:
    """Whether the same random weighting of `got` and `want` gives the same input gradients."""
    weights = torch.randn(want.shape, generator=torch.Generator().manual_seed(5), dtype=want.dtype)
    mine = torch.autograd.grad(
        (got * weights.to(got.dtype)).sum(), inputs, retain_graph=True, allow_unused=True
    )
    right = torch.autograd.grad((want * weights).sum(), inputs, retain_graph=True)
    return all(
        g is not None and torch.allclose(g.double(), r.double(), atol=1e-5)
        for g, r in zip(mine, right)
    )


def follows_rows(function: Callable, *inputs: torch.Tensor) -> bool:
    """Whether the rows of function(inputs) follow the rows of the inputs: reorder the batch
    and the answer's rows reorder the same way; leave rows out and the others stay the same."""
    with torch.no_grad():
        whole = student(function, *(t.clone() for t in inputs))
        order = torch.randperm(len(inputs[0]), generator=torch.Generator().manual_seed(3))
        shuffled = student(function, *(t[order].clone() for t in inputs))
        part = student(function, *(t[:3].clone() for t in inputs))
    if not all(isinstance(t, torch.Tensor) and t.dim() >= 1 for t in (whole, shuffled, part)):
        return True  # not a tensor of rows: other probes say what it is
    return close(shuffled, whole[order]) and close(part, whole[:3])


def value_of(function: Callable, *args) -> float | None:
    """A candidate wrong computation's value, or None where it does not apply to these inputs.

    The checks name a wrong answer by computing what each usual mistake gives on the same
    inputs; some of those computations fail on some inputs (an index out of range), which
    rules them out there.
    """
    try:
        with torch.no_grad():
            return as_number(function(*args))
    except (RuntimeError, IndexError, ValueError):
        return None


def matches(got: list[float], function: Callable, cases: list[tuple], rtol: float = 1e-4) -> bool:
    """Whether `function` gives the student's number on every case (numbers in `got`)."""
    for value, case in zip(got, cases):
        want = value_of(function, *case)
        if want is None or not math.isclose(value, want, rel_tol=rtol, abs_tol=1e-6):
            return False
    return True
