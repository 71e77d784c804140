"""Notebook 05's exercise 5.3, the graph walked by hand (imported from mtlab.exercises.tracing)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from mtlab.debugging.gradients import trace_backward
from mtlab.exercises import StudentError, Wrong, check, student, yours_or_mtlab


def mtlab_unreached_parameters(loss: torch.Tensor, model: nn.Module) -> list[str]:
    """The trainable parameters of `model` that a gradient from `loss` never reaches."""
    return trace_backward(loss, model).missed


def _cases() -> list[tuple[str, nn.Module, torch.Tensor]]:
    """(what, model, loss) for four planted models, each loss freshly built."""
    torch.manual_seed(0)
    x = torch.randn(5, 4)
    # notebook 05's mystery: the registered output layer unused, a fresh one made in forward
    mystery = nn.ModuleDict({"hidden": nn.Linear(4, 4), "out": nn.Linear(4, 2)})
    mystery_loss = nn.Linear(4, 2)(torch.relu(mystery["hidden"](x))).pow(2).mean()
    # six layers in a row, the first frozen, the third used twice
    deep = nn.ModuleList(nn.Linear(4, 4) for _ in range(6))
    deep[0].requires_grad_(False)
    h = deep[2](x)
    for layer in deep:
        h = torch.tanh(layer(h))
    cut = nn.Sequential(nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 2))
    detached = torch.tensor(cut(x).tolist(), requires_grad=True)
    no_grad = nn.Sequential(nn.Linear(4, 2))
    with torch.no_grad():
        nothing = no_grad(x).pow(2).mean()
    return [
        ("notebook 05's mystery model", mystery, mystery_loss),
        ("a healthy 6-layer model (one layer frozen, one used twice)", deep, h.pow(2).mean()),
        (
            "a model whose output went through .tolist() and torch.tensor",
            cut,
            detached.pow(2).mean(),
        ),
        ("a loss computed under torch.no_grad() (no grad_fn)", no_grad, nothing),
    ]


def _walk_failed(what: str, loss: torch.Tensor, raised: StudentError) -> Wrong:
    """Wrong naming why the student's walk failed, from the exception and the graph."""
    text = str(raised.error)
    if loss.grad_fn is None:
        return Wrong(
            f"for {what} your code raised {raised.describe()}. A loss with no grad_fn "
            "reaches nothing: every trainable parameter is unreached (mistake 4 looks like "
            "this). Start from [] when loss.grad_fn is None",
            id="unreached_parameters.no-graph",
        )
    if "NoneType" in text and "next_functions" in text:
        return Wrong(
            f"for {what} your code raised {raised.describe()}: an entry of next_functions can "
            "be (None, 0), for an input that needs no gradient. Skip those",
            id="unreached_parameters.none-node",
        )
    if "Boolean value of Tensor" in text or "must match the size" in text:
        return Wrong(
            f"for {what} your code raised {raised.describe()}: `p in [tensors]` compares "
            "values, element by element. Compare parameters by identity: collect id(p) (or "
            "use `is`)",
            id="unreached_parameters.compare-by-value",
        )
    if "does not require grad" in text or "backward" in text:
        return Wrong(
            f"for {what} your code raised {raised.describe()}: the exercise walks the graph "
            "(grad_fn.next_functions) without running backward",
            id="unreached_parameters.backward",
        )
    return Wrong(f"for {what} your code raised {raised.describe()}", id="code.raised")


def _names(got, what: str, model: nn.Module) -> list[str]:
    if isinstance(got, (list, tuple, set)) and all(isinstance(n, str) for n in got):
        return sorted(got)
    if isinstance(got, (list, tuple, set)) and all(isinstance(n, torch.Tensor) for n in got):
        raise Wrong(
            f"for {what} you returned {len(got)} tensors, expected the parameters' names: "
            "model.named_parameters() gives (name, parameter)",
            id="unreached_parameters.not-names",
        )
    raise Wrong(
        f"for {what} you returned {str(got)[:60]!r}, expected a list of parameter names",
        id="answer.wrong-type",
    )


def _wrong_names(got: list[str], want: list[str], what: str, model: nn.Module) -> Wrong:
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    frozen = [n for n, p in model.named_parameters() if not p.requires_grad]
    reached = [n for n in trainable if n not in want]
    found = f"for {what} expected {want}, got {got}"
    if set(got) & set(frozen):
        return Wrong(
            f"{found}: frozen parameters (requires_grad=False) are not missing, they are not "
            "meant to train; leave them out",
            id="unreached_parameters.frozen",
        )
    if reached and got == sorted(reached):
        return Wrong(
            f"{found}: those are the parameters the gradient reaches, not the ones it misses",
            id="unreached_parameters.reached",
        )
    modules = sorted({n.rsplit(".", 1)[0] for n in want})
    if got and got == modules:
        return Wrong(
            f"{found}: those are the modules; return the full parameter names, as "
            "model.named_parameters() gives them ('out.weight', 'out.bias')",
            id="unreached_parameters.module-names",
        )
    if reached and set(got) == set(trainable):
        return Wrong(
            f"{found}: you listed every trainable parameter, but the loss reaches {reached}. "
            "Keep walking next_functions, level after level, down to the AccumulateGrad "
            "nodes; each has .variable, the parameter it writes to",
            id="unreached_parameters.stopped-early",
        )
    if set(want) < set(got) <= set(trainable):
        return Wrong(
            f"{found}: your walk stopped before the end of the graph, {sorted(set(got) - set(want))} "
            "are reached further down. Keep going until no node is left",
            id="unreached_parameters.stopped-early",
        )
    return Wrong(found, id="answer.wrong-value")


@check("unreached_parameters")
def check_unreached_parameters(unreached_parameters: Callable) -> list[str]:
    """The right names on four planted models: mystery, healthy, cut, and no graph at all."""
    for what, model, loss in _cases():
        want = sorted(mtlab_unreached_parameters(loss, model))
        try:
            got = student(unreached_parameters, loss, model)
        except StudentError as raised:
            raise _walk_failed(what, loss, raised) from None
        got = _names(got, what, model)
        if got != want:
            raise _wrong_names(got, want, what, model)
    return ["right on a mystery, a healthy, a cut and a graph-less model"]


def use_unreached_parameters(unreached_parameters: Callable) -> Callable:
    """The student's unreached_parameters, or mtlab's while the stub is unfilled."""
    _, model, loss = _cases()[0]
    return yours_or_mtlab(
        "unreached_parameters",
        unreached_parameters,
        mtlab_unreached_parameters,
        lambda f: f(loss, model),
    )
