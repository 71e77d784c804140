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

Two neighbours do the rest: `mtlab.debugging.graph_breaks.GraphBreakDetector` watches a forward
pass for detach/.data/.item/numpy/no_grad, and `mtlab.debugging.checks.check_head` runs a
student's head on a tiny batch and says what is wrong.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import pandas as pd
import torch
from matplotlib.ticker import LogFormatterSciNotation, LogLocator
from torch import nn

# ---------------------------------------------------------------- the backward graph


@dataclass
class Node:
    """One step of the backward graph: an operation, or a parameter (AccumulateGrad)."""

    key: int
    name: str
    depth: int  # how many steps back from the loss
    parameter: str | None = None  # the parameter's name, for AccumulateGrad nodes
    inputs: list[int] = field(default_factory=list)
    leaf_only: bool = False  # an AccumulateGrad for a tensor that is not one of the model's


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
            # green: a model parameter; orange: a leaf that is no parameter (a copy cut off
            # from the graph, say), whose .grad trains nothing; blue: an operation
            color = "#ffe0b2" if node.leaf_only else "#c8e6c9" if node.parameter else "#e3f2fd"
            ax.text(
                *pos[k],
                label,
                ha="center",
                va="center",
                fontsize=7,
                zorder=2,
                bbox=dict(boxstyle="round", fc=color, ec="0.5"),
            )
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
                node.leaf_only = bool(names) and id(fn.variable) not in names
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


def plot_gradient_flow(
    model: nn.Module, ax=None, title: str = "gradient norm per parameter", legend: bool = True
):
    """A dot per parameter (log scale); red x at the top where a trainable one got no gradient.

    The legend sits outside the axes, right of them (legend=False leaves it out, for the
    panels of a row that share one), so that it never covers a dot.
    """
    report = gradient_report(model)
    if ax is None:
        _, ax = plt.subplots(figsize=(max(6, 0.18 * len(report)), 3.5))
    x = range(len(report))
    ok = report["status"] == "ok"
    # Dots, not bars: a bar on a log axis grows from an arbitrary floor, so its length
    # says nothing (a 10x gap looked like a few percent); a dot's height is the value.
    ax.plot(
        [i for i in x if ok[i]],
        report.loc[ok, "grad_norm"].clip(lower=1e-12),
        "o",
        color="tab:blue",
        markersize=4,
        label="‖grad‖",
    )
    ax.grid(axis="y", which="major", color="0.9")
    # No dot for a parameter without a gradient: a mark in a strip above the plot, apart from the
    # bars, so "no gradient" never looks like a tiny one at the bottom of the log axis.
    for status, style in {
        "NO GRAD": dict(marker="x", color="red"),
        "frozen": dict(marker="s", color="0.6"),
    }.items():
        idx = [i for i in x if report["status"][i] == status]
        ax.scatter(
            idx,
            [1.03] * len(idx),
            transform=ax.get_xaxis_transform(),
            clip_on=False,
            label=f"{status} ({len(idx)}, marked at the top)",
            zorder=3,
            **style,
        )
    ax.set_yscale("log")
    # Minor ticks at 2x and 5x only, labelled where the axis spans two decades or less: a short
    # axis still has numbers on it, and eight labels a decade never collide.
    ax.yaxis.set_minor_locator(LogLocator(subs=(2.0, 5.0)))
    ax.yaxis.set_minor_formatter(
        LogFormatterSciNotation(labelOnlyBase=False, minor_thresholds=(2, 2))
    )
    ax.set_xticks(list(x), report["parameter"], rotation=90, fontsize=6)
    ax.set_ylabel("‖grad‖")
    ax.set_title(title, pad=14)  # above the strip of marks
    if legend:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)
    return ax
