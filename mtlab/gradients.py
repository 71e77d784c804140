"""Tools for tracing gradients backward: where they go, where they stop, and why.

The seed project lost days to three gradient bugs: printing gradients after they were
cleared (mistake 6), a reshape/detach that cut the graph so nothing trained (mistake 7),
and a branch with nothing to train (mistake 4). The cure is the move of mistake 9: start
from the symptom and trace back, level by level. PyTorch records that trail for you:
every tensor made by an operation has a `grad_fn`, and `grad_fn.next_functions` points
at the operations that made its inputs, down to `AccumulateGrad` nodes, one per
parameter (micrograd's `_prev`, at PyTorch scale).

- `trace_backward(loss, model)`   walk that trail: which parameters does the loss reach?
- `gradient_report(model)`        after backward(): who got a gradient, who did not, who is frozen
- `plot_gradient_flow(model)`     gradient norm per layer, with the missing ones marked
- `GraphBreakDetector`            watch a forward pass for detach/.data/.item/numpy/no_grad
- `check_head(head, task)`        run a student's head on a tiny batch and say what is wrong
"""

from __future__ import annotations

import traceback
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from mtlab.losses import classification_loss, regression_loss

# ---------------------------------------------------------------- the backward graph


@dataclass
class Node:
    """One step of the backward graph: an operation, or a parameter (AccumulateGrad)."""

    key: int
    name: str
    depth: int  # how many steps back from the loss
    parameter: str | None = None  # the parameter's name, for AccumulateGrad nodes
    inputs: list[int] = field(default_factory=list)


@dataclass
class BackwardTrace:
    """The graph behind a tensor, read backward from it, plus which parameters it reaches."""

    nodes: dict[int, Node]
    root: int | None
    reached: list[str]  # trainable parameters the gradient will reach
    missed: list[str]  # trainable parameters it will not reach

    def table(self) -> pd.DataFrame:
        """One row per node: depth, operation, parameter (if any)."""
        rows = [(n.depth, n.name, n.parameter or "") for n in self.nodes.values()]
        return pd.DataFrame(rows, columns=["depth", "operation", "parameter"]).sort_values(
            "depth", kind="stable", ignore_index=True
        )

    def tree(self, max_depth: int = 8) -> str:
        """The graph as an indented tree; a node met twice is printed once."""
        if self.root is None:
            return "(no grad_fn: this tensor is not connected to any parameter)"
        lines, seen = [], set()

        def visit(key: int, indent: int) -> None:
            node = self.nodes[key]
            label = f"{node.name}  <- {node.parameter}" if node.parameter else node.name
            if key in seen:
                lines.append("  " * indent + label + "  (see above)")
                return
            seen.add(key)
            lines.append("  " * indent + label)
            if indent >= max_depth and node.inputs:
                lines.append("  " * (indent + 1) + "...")
                return
            for child in node.inputs:
                visit(child, indent + 1)

        visit(self.root, 0)
        return "\n".join(lines)

    def __str__(self) -> str:
        lines = [
            f"{len(self.nodes)} nodes; reaches {len(self.reached)} trainable parameter tensors"
        ]
        if self.root is None:
            lines.append(
                "no grad_fn: the tensor was computed without the graph (detached, made under "
                "no_grad, or from .item()/numpy). Run the forward pass under GraphBreakDetector."
            )
        if self.missed:
            lines.append(f"does NOT reach {len(self.missed)}: " + ", ".join(self.missed[:8]))
            if len(self.missed) > 8:
                lines[-1] += f", ... ({len(self.missed) - 8} more)"
        return "\n".join(lines)

    def plot(self, max_nodes: int = 60, ax=None):
        """Draw the graph, loss at the top, parameters (green) at the bottom."""
        keys = [k for k, _ in sorted(self.nodes.items(), key=lambda kv: kv[1].depth)][:max_nodes]
        if not keys:  # no grad_fn: say so instead of failing on an empty drawing
            if ax is None:
                _, ax = plt.subplots(figsize=(4, 1))
            ax.text(0.5, 0.5, "no backward graph: no grad_fn", ha="center", va="center")
            ax.axis("off")
            return ax
        by_depth: dict[int, list[int]] = {}
        for k in keys:
            by_depth.setdefault(self.nodes[k].depth, []).append(k)
        pos = {
            k: (i - (len(ks) - 1) / 2, -d) for d, ks in by_depth.items() for i, k in enumerate(ks)
        }
        if ax is None:
            width = max(len(ks) for ks in by_depth.values()) if by_depth else 1
            _, ax = plt.subplots(figsize=(min(2 + 1.6 * width, 16), 1 + 0.8 * len(by_depth)))
        for k in keys:
            for child in self.nodes[k].inputs:
                if child in pos:
                    (x0, y0), (x1, y1) = pos[k], pos[child]
                    ax.plot([x0, x1], [y0, y1], color="0.7", zorder=1)
        for k in keys:
            node = self.nodes[k]
            label = node.parameter or node.name.replace("Backward0", "")
            color = "#c8e6c9" if node.parameter else "#e3f2fd"
            ax.text(*pos[k], label, ha="center", va="center", fontsize=7, zorder=2,
                    bbox=dict(boxstyle="round", fc=color, ec="0.5"))  # fmt: skip
        ax.set_xlim(min(x for x, _ in pos.values()) - 1, max(x for x, _ in pos.values()) + 1)
        ax.set_ylim(min(y for _, y in pos.values()) - 0.5, 0.5)
        ax.axis("off")
        return ax


def trace_backward(output: torch.Tensor, model: nn.Module | None = None) -> BackwardTrace:
    """Follow `output.grad_fn` back to the parameters; compare with the model's trainable ones."""
    names = {id(p): n for n, p in model.named_parameters()} if model is not None else {}
    nodes: dict[int, Node] = {}
    root = output.grad_fn
    if root is not None:
        queue = deque([(root, 0)])
        nodes[id(root)] = Node(id(root), type(root).__name__, 0)
        while queue:
            fn, depth = queue.popleft()
            node = nodes[id(fn)]
            if hasattr(fn, "variable"):  # AccumulateGrad: where a parameter's .grad is written
                node.parameter = names.get(id(fn.variable), f"tensor{tuple(fn.variable.shape)}")
            for child, _ in fn.next_functions:
                if child is None:
                    continue
                if id(child) not in nodes:
                    nodes[id(child)] = Node(id(child), type(child).__name__, depth + 1)
                    queue.append((child, depth + 1))
                node.inputs.append(id(child))
    reached = {n.parameter for n in nodes.values() if n.parameter}
    trainable = (
        [n for n, p in model.named_parameters() if p.requires_grad] if model is not None else []
    )
    return BackwardTrace(
        nodes=nodes,
        root=id(root) if root is not None else None,
        reached=[n for n in trainable if n in reached] if model is not None else sorted(reached),
        missed=[n for n in trainable if n not in reached],
    )


# ------------------------------------------------------------ after backward()


def gradient_report(model: nn.Module) -> pd.DataFrame:
    """Every parameter after backward(): its status and gradient norm.

    status is "ok" (got a gradient), "NO GRAD" (requires grad but received none: it was
    not used, or the graph was cut before it, or .grad was cleared before you looked) or
    "frozen" (requires_grad=False, never gets one).
    """
    rows = []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            status, norm = "frozen", float("nan")
        elif p.grad is None:
            status, norm = "NO GRAD", float("nan")
        else:
            status, norm = "ok", p.grad.norm().item()
        rows.append((name, tuple(p.shape), status, norm))
    return pd.DataFrame(rows, columns=["parameter", "shape", "status", "grad_norm"])


def plot_gradient_flow(model: nn.Module, ax=None, title: str = "gradient norm per parameter"):
    """Bar per parameter (log scale); red x where a trainable one got no gradient, grey if frozen."""
    report = gradient_report(model)
    if ax is None:
        _, ax = plt.subplots(figsize=(max(6, 0.18 * len(report)), 3.5))
    x = range(len(report))
    ok = report["status"] == "ok"
    ax.bar([i for i in x if ok[i]], report.loc[ok, "grad_norm"].clip(lower=1e-12), color="tab:blue")
    floor = report.loc[ok, "grad_norm"].min() if ok.any() else 1.0
    for status, style in {
        "NO GRAD": dict(marker="x", color="red"),
        "frozen": dict(marker="s", color="0.6"),
    }.items():
        idx = [i for i in x if report["status"][i] == status]
        ax.scatter(idx, [floor] * len(idx), label=f"{status} ({len(idx)})", zorder=3, **style)
    ax.set_yscale("log")
    ax.set_xticks(list(x), report["parameter"], rotation=90, fontsize=6)
    ax.set_ylabel("‖grad‖")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return ax


# ------------------------------------------------------------- graph breaks


@dataclass(frozen=True)
class GraphBreak:
    """One operation that took a tensor out of the autograd graph."""

    kind: str
    where: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind} at {self.where}: {self.detail}"


_HERE = str(Path(__file__).resolve())
_TORCH = str(Path(torch.__file__).resolve().parent)


def _user_frame() -> str:
    """The line of the caller's own code (not torch's, not this file's) that made the call."""
    for frame in reversed(traceback.extract_stack()):
        filename = (
            str(Path(frame.filename).resolve()) if frame.filename[0] != "<" else frame.filename
        )
        if filename == _HERE or filename.startswith(_TORCH) or "/contextlib.py" in filename:
            continue
        place = "cell" if "ipykernel" in filename else Path(filename).name
        code = (frame.line or "").strip()
        return f"{place} line {frame.lineno}" + (f": `{code}`" if code else "")
    return "unknown place"


class GraphBreakDetector(TorchFunctionMode):
    """Watch a forward pass and record each way a graph tensor left the graph.

        with GraphBreakDetector() as detector:
            loss = model(...)
        print(detector.report())

    Caught: .detach(), .data, .item()/.tolist(), a numpy round trip (.numpy() then
    torch.tensor), torch.tensor(t) copies, and operations under torch.no_grad().
    """

    CUTS = {"detach": "detach()", "item": ".item()", "tolist": ".tolist()", "numpy": ".numpy()"}

    def __init__(self) -> None:
        super().__init__()
        self.breaks: list[GraphBreak] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        result = func(*args, **kwargs)
        name = getattr(func, "__name__", "")
        graph_inputs = [a for a in args if isinstance(a, torch.Tensor) and a.requires_grad]
        if name == "__get__" and getattr(func, "__self__", None) is torch.Tensor.data:
            self._add(".data", "reads the values without the graph; use the tensor itself")
        elif not graph_inputs:
            if name == "tensor" and args and not isinstance(args[0], torch.Tensor):
                self._upgrade_numpy_round_trip()
        elif name in self.CUTS:
            self._add(self.CUTS[name], {
                "detach": "returns a tensor with no grad_fn: nothing before it will train",
                "item": "a Python number carries no gradient",
                "tolist": "Python numbers carry no gradient",
                "numpy": "a NumPy array carries no gradient",
            }[name])  # fmt: skip
        elif name == "tensor":
            self._add("torch.tensor(t)", "copies the values into a new leaf, cut from the graph")
        elif not torch.is_grad_enabled() and name != "_set_grad_enabled":
            self._add("no_grad", f"`{name}` ran under torch.no_grad(): its result has no grad_fn")
        return result

    def _add(self, kind: str, detail: str) -> None:
        self.breaks.append(GraphBreak(kind, _user_frame(), detail))

    def _upgrade_numpy_round_trip(self) -> None:
        """torch.tensor(array) after a graph tensor went to NumPy: call it what it is."""
        for i in range(len(self.breaks) - 1, -1, -1):
            if self.breaks[i].kind in (".numpy()", "detach()", ".tolist()"):
                old = self.breaks[i]
                self.breaks[i] = GraphBreak(
                    "numpy round trip",
                    old.where,
                    "values went to NumPy/Python and back with torch.tensor: the new tensor has "
                    "no history; do the computation with torch operations instead",
                )
                return

    def report(self) -> str:
        if not self.breaks:
            return "no graph breaks seen"
        return "\n".join(f"graph break {i + 1}: {b}" for i, b in enumerate(self.breaks))


# ---------------------------------------------------------------- head checker

EXPECTED_OUTPUT = {
    "sst": "(batch, 5) float logits",
    "quora": "(batch, 2) float logits, or (batch,) for a single-logit head",
    "sts": "(batch,) float scores",
}


@dataclass
class HeadCheck:
    """What `check_head` found: problems in plain words (empty when all is well)."""

    task: str
    problems: list[str]
    notes: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems

    def __str__(self) -> str:
        head = f"{self.task} head: " + ("OK" if self.ok else f"{len(self.problems)} problem(s)")
        return "\n".join(
            [head, *(f"  ✗ {p}" for p in self.problems), *(f"  ✓ {n}" for n in self.notes)]
        )


def check_head(head: nn.Module, task: str, hidden: int, batch_size: int = 4) -> HeadCheck:
    """Run a head on random sentence vectors and check shape, dtype, loss and gradients."""
    if task not in EXPECTED_OUTPUT:
        raise ValueError(
            f"check_head knows the tasks {list(EXPECTED_OUTPUT)}, not {task!r}; for a new "
            "classification task, check your head as 'sst' (5 classes) or 'quora' (2 classes)"
        )
    torch.manual_seed(0)
    u, v = torch.randn(batch_size, hidden), torch.randn(batch_size, hidden)
    labels = {"sst": torch.randint(0, 5, (batch_size,)), "quora": torch.randint(0, 2, (batch_size,)),
              "sts": torch.rand(batch_size) * 5}[task]  # fmt: skip
    problems, notes = [], []
    head.train()
    head.zero_grad()
    with GraphBreakDetector() as detector:
        try:
            out = head(u) if task == "sst" or getattr(head, "cross_encodes", False) else head(u, v)
        except Exception as e:  # a student's head may fail in any way: report it in words
            hint = ""
            if "shape" in str(e) or "size" in str(e).lower():
                hint = (f" (inputs were two ({batch_size}, {hidden}) vectors; torch.cat(dim=0) "
                        "stacks them into one long batch, dim=-1 joins them side by side)")  # fmt: skip
            return HeadCheck(task, [f"forward failed: {type(e).__name__}: {e}{hint}"], [])
    shape_ok = {
        "sst": out.shape == (batch_size, 5),
        "quora": out.shape in {(batch_size, 2), (batch_size,)},
        "sts": out.shape == (batch_size,),
    }[task]
    if not shape_ok:
        problems.append(f"output shape {tuple(out.shape)}, expected {EXPECTED_OUTPUT[task]}")
    if not out.is_floating_point():
        problems.append(f"output dtype {out.dtype}, expected a float tensor")
    if out.grad_fn is None:
        found = detector.report() if detector.breaks else "no break seen inside forward()"
        problems.append(f"output is cut from the graph (no grad_fn), nothing would train: {found}")
        return HeadCheck(task, problems, notes)
    if problems:
        return HeadCheck(task, problems, notes)
    default_loss = {
        "sst": classification_loss,
        "quora": classification_loss,
        "sts": regression_loss,
    }
    try:
        if hasattr(head, "loss"):
            loss = head.loss(out, labels)
        else:
            loss = default_loss[task](task, out, labels)
    except Exception as e:
        return HeadCheck(task, [f"loss failed: {type(e).__name__}: {e}"], notes)
    if not torch.isfinite(loss):
        problems.append(f"loss is {loss.item()}, not a finite number")
        return HeadCheck(task, problems, notes)
    notes.append(f"output {tuple(out.shape)} {out.dtype}, loss {loss.item():.3f}")
    loss.backward()
    report = gradient_report(head)
    missing = report.loc[report["status"] == "NO GRAD", "parameter"].tolist()
    zero = report.loc[(report["status"] == "ok") & (report["grad_norm"] == 0), "parameter"].tolist()
    if missing:
        problems.append(f"no gradient reaches {missing}: unused in forward(), or cut off")
    if zero:
        problems.append(f"gradient is exactly zero for {zero}")
    if not missing and not zero:
        notes.append(
            f"gradient reaches all {int((report['status'] == 'ok').sum())} trainable tensors"
        )
    return HeadCheck(task, problems, notes)
