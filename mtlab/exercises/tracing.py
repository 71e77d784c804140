"""Notebook 05's exercises: gradients read at the right moment, a head fixed, a graph walked."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode

from mtlab.debugging.checks import check_head
from mtlab.debugging.gradients import trace_backward
from mtlab.debugging.graph_breaks import GraphBreakDetector
from mtlab.exercises import Wrong, check, yours_or_mtlab

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


def _expected_norms(model: nn.Module, loss: torch.Tensor) -> dict[str, float | None]:
    """The norms, computed before the student's step (autograd.grad leaves .grad alone)."""
    params = dict(model.named_parameters())
    grads = torch.autograd.grad(loss, list(params.values()), retain_graph=True, allow_unused=True)
    return {name: None if g is None else g.norm().item() for name, g in zip(params, grads)}


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and value != value)


@check("step_with_grad_norms")
def check_step_with_grad_norms(step_with_grad_norms: Callable) -> list[str]:
    """One whole step (backward, step, zero_grad) that reads the gradients between the two ends."""
    model, loss, optimizer = _toy_step()
    want = _expected_norms(model, loss)
    watcher = _StepWatcher(model.parameters())
    optimizer.step = watcher.watch("step", optimizer.step)
    optimizer.zero_grad = watcher.watch("zero_grad", optimizer.zero_grad)
    model.zero_grad = watcher.watch("zero_grad", model.zero_grad)
    loss.register_hook(lambda grad: watcher.events.append("backward"))
    with watcher:
        got = step_with_grad_norms(model, loss, optimizer)
    events = watcher.events
    if "backward" not in events:
        raise Wrong("your function never called loss.backward(): no gradient was ever computed")
    if "step" not in events[events.index("backward") :]:
        raise Wrong("optimizer.step() was not called after loss.backward(): the weights never move")
    if not isinstance(got, dict):
        raise Wrong(f"returned a {type(got).__name__}, expected a dict: parameter name -> norm")
    if set(got) != set(want):
        raise Wrong(f"expected the names {sorted(want)}, got {sorted(got)}")
    got = {
        n: v.item() if isinstance(v, torch.Tensor) and v.numel() == 1 else v for n, v in got.items()
    }
    used = [name for name, norm in want.items() if norm is not None]
    values = {name: got[name] for name in used}
    if all(_missing(v) or (isinstance(v, (int, float)) and v == 0) for v in values.values()):
        if watcher.reads and not any(watcher.reads):
            raise Wrong(
                f"every gradient you returned is None or 0 ({values}): you read .grad "
                "before loss.backward() had written it"
            )
        raise Wrong(
            f"every gradient you returned is None or 0 ({values}): you read .grad "
            "after zero_grad() had cleared it. Read after backward(), before "
            "zero_grad()",
            mistake=6,
        )
    for name in used:
        value = got[name]
        if not isinstance(value, (int, float)) or _missing(value):
            raise Wrong(f"for {name} you returned {value!r}, expected a number (use .item())")
        if abs(value - want[name]) > 1e-4 * max(1.0, want[name]):
            hint = " (that is the squared norm)" if abs(value - want[name] ** 2) < 1e-4 else ""
            raise Wrong(
                f"for {name} expected the gradient norm {want[name]:.4f}, got {value:.4f}{hint}"
            )
    for name in set(want) - set(used):
        if not _missing(got[name]):
            raise Wrong(
                f"no gradient reached {name} (it is not used), yet you returned "
                f"{got[name]!r}: return None for it. 'No gradient' and 'a gradient of "
                "zero' are different findings"
            )
    if "zero_grad" not in events:
        raise Wrong(
            "the gradients are still in .grad after your step, and the next backward() "
            "adds to them: call optimizer.zero_grad() (after reading them)"
        )
    return [f"norms of {len(used)} tensors read after backward(), None for the unused one"]


def use_step_with_grad_norms(step_with_grad_norms: Callable) -> Callable:
    """The student's step_with_grad_norms, or mtlab's while the stub is unfilled."""
    return yours_or_mtlab(
        "step_with_grad_norms",
        step_with_grad_norms,
        mtlab_step_with_grad_norms,
        lambda f: f(*_toy_step()),
    )


# ------------------------------------------------------------ a head fixed (mistake 7)


def shift_rows(logits: torch.Tensor) -> torch.Tensor:
    """Each row shifted so that its largest logit is 0 (the softmax does not change)."""
    return logits - logits.max(dim=-1, keepdim=True).values


@check("FixedHead")
def check_fixed_head(head_class: type, hidden: int = 8) -> list[str]:
    """Same values as the list-shifting head, a graph intact from the loss to the inputs."""
    torch.manual_seed(0)
    head = head_class(hidden).eval()  # no dropout: the values can be compared
    u = torch.randn(4, hidden).requires_grad_()
    with GraphBreakDetector() as detector:
        out = head(u)
    if not isinstance(out, torch.Tensor):
        raise Wrong(f"forward returned a {type(out).__name__}, expected a tensor")
    if out.grad_fn is None:
        raise Wrong(
            "the output has no grad_fn: it is cut from the graph and the head would "
            "never train.\n" + detector.report(),
            mistake=7,
        )
    logits = head.net(u)
    want = shift_rows(logits)
    if out.shape != want.shape:
        raise Wrong(f"output shape {tuple(out.shape)}, expected {tuple(want.shape)}")
    if not torch.allclose(out, want, atol=1e-5):
        hint = ""
        if torch.allclose(out, logits, atol=1e-5):
            hint = ": those are the logits unshifted"
        elif torch.allclose(out, logits - logits.max(), atol=1e-5):
            hint = ": shifted by the largest logit of the whole batch, not of each row"
        elif torch.allclose(out, logits - logits.max(dim=0).values, atol=1e-5):
            hint = ": shifted by each column's largest, along dim=0; take it along dim=-1"
        raise Wrong(f"the values differ from the shifted logits{hint}")
    labels = torch.tensor([0, 3, 4, 1])
    F.cross_entropy(out, labels).backward()
    missing = [n for n, p in head.named_parameters() if p.grad is None]
    if missing:
        raise Wrong(f"no gradient reaches {missing}.\n{detector.report()}", mistake=7)
    if u.grad is None or not u.grad.abs().sum() > 0:
        raise Wrong(
            "the head trains, but no gradient reaches its input vectors: in finetune "
            "mode the encoder would not train (the `.data` head's disguise).\n" + detector.report(),
            mistake=7,
        )
    found = check_head(head_class(hidden), "sst", hidden)
    if not found.ok:
        raise Wrong("\n".join(found.problems))
    return [
        "the same values as the list-shifting head, and a gradient all the way back to u",
        *found.notes,
    ]


# ------------------------------------------------------------ a graph walked, level by level


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


@check("unreached_parameters")
def check_unreached_parameters(unreached_parameters: Callable) -> list[str]:
    """The right names on four planted models: mystery, healthy, cut, and no graph at all."""
    for what, model, loss in _cases():
        want = mtlab_unreached_parameters(loss, model)
        trainable = [n for n, p in model.named_parameters() if p.requires_grad]
        frozen = [n for n, p in model.named_parameters() if not p.requires_grad]
        try:
            got = unreached_parameters(loss, model)
        except NotImplementedError:
            raise
        except (AttributeError, TypeError, RuntimeError) as error:
            if loss.grad_fn is not None:
                raise
            raise Wrong(
                f"for {what} your code raised {type(error).__name__}: {error}. A loss "
                "with no grad_fn reaches nothing: every trainable parameter is "
                "unreached (mistake 4 looks like this)"
            ) from None
        if not isinstance(got, (list, tuple, set)) or not all(isinstance(n, str) for n in got):
            raise Wrong(f"for {what} you returned {got!r}, expected a list of parameter names")
        if sorted(got) == sorted(want):
            continue
        found = f"for {what} expected {want}, got {sorted(got)}"
        reached = [n for n in trainable if n not in want]
        if set(got) & set(frozen):
            raise Wrong(
                f"{found}: frozen parameters (requires_grad=False) are not missing, "
                "they are not meant to train; leave them out"
            )
        if reached and sorted(got) == sorted(reached):
            raise Wrong(
                f"{found}: those are the parameters the gradient reaches, not the ones it misses"
            )
        if reached and set(got) == set(trainable):
            raise Wrong(
                f"{found}: you listed every trainable parameter, but the loss reaches "
                f"{reached}. Keep walking next_functions, level after level, down to "
                "the AccumulateGrad nodes; each has .variable, the parameter it "
                "writes to"
            )
        raise Wrong(found)
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
