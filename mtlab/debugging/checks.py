"""Check a head before training it: run it on random vectors and say, in words, what is wrong.

`check_head(head, task, hidden)` builds a tiny batch from the task table (one vector per
example, or two for a pair task; random labels of the task's kind), then checks the
output's shape and dtype, that it is still in the autograd graph, that the loss is a
finite number, and that a gradient reaches every trainable parameter.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from mtlab.debugging.gradients import gradient_report
from mtlab.debugging.graph_breaks import GraphBreakDetector
from mtlab.heads.base import usual_loss
from mtlab.tasks import Task, get_task


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


def random_labels(spec: Task, batch_size: int) -> torch.Tensor:
    """Labels of the task's kind: class indices, or float scores within its range."""
    if spec.is_classification:
        return torch.randint(0, spec.num_classes, (batch_size,))
    low, high = spec.score_range
    return low + torch.rand(batch_size) * (high - low)


def output_fits(spec: Task, shape: tuple[int, ...], batch_size: int) -> bool:
    """(B, classes) logits, (B,) for one logit of a 2-class task, (B,) scores for a score task."""
    if not spec.is_classification:
        return shape == (batch_size,)
    return shape == (batch_size, spec.num_classes) or (
        spec.num_classes == 2 and shape == (batch_size,)
    )


def check_head(head: nn.Module, task: str | Task, hidden: int, batch_size: int = 4) -> HeadCheck:
    """Run a head on random sentence vectors and check shape, dtype, loss and gradients."""
    spec = get_task(task)
    torch.manual_seed(0)
    one_vector = not spec.is_pair or getattr(head, "cross_encodes", False)
    inputs = [torch.randn(batch_size, hidden) for _ in range(1 if one_vector else 2)]
    labels = random_labels(spec, batch_size)
    problems, notes = [], []
    head.train()
    head.zero_grad()
    with GraphBreakDetector() as detector:
        try:
            out = head(*inputs)
        except Exception as e:  # a student's head may fail in any way: report it in words
            hint = ""
            if "shape" in str(e) or "size" in str(e).lower():
                hint = (
                    f" (inputs were {len(inputs)} ({batch_size}, {hidden}) vector batch(es); "
                    "torch.cat(dim=0) stacks a pair into one long batch, dim=-1 joins them "
                    "side by side)"
                )
            return HeadCheck(spec.name, [f"forward failed: {type(e).__name__}: {e}{hint}"], [])
    if not isinstance(out, torch.Tensor):
        return HeadCheck(
            spec.name,
            [
                f"forward returned a {type(out).__name__}, expected a "
                f"tensor: {spec.describe_output()}"
            ],
            [],
        )
    if not output_fits(spec, tuple(out.shape), batch_size):
        problems.append(
            f"output shape {tuple(out.shape)}, expected {spec.describe_output()} "
            f"with B = {batch_size}"
        )
    if not out.is_floating_point():
        problems.append(f"output dtype {out.dtype}, expected a float tensor")
    if out.grad_fn is None:
        found = detector.report() if detector.breaks else "no break seen inside forward()"
        problems.append(f"output is cut from the graph (no grad_fn), nothing would train: {found}")
        return HeadCheck(spec.name, problems, notes)
    if problems:
        return HeadCheck(spec.name, problems, notes)
    try:
        loss = head.loss(out, labels) if hasattr(head, "loss") else usual_loss(spec, out, labels)
    except Exception as e:
        return HeadCheck(spec.name, [f"loss failed: {type(e).__name__}: {e}"], notes)
    if not torch.isfinite(loss):
        problems.append(f"loss is {loss.item()}, not a finite number")
        return HeadCheck(spec.name, problems, notes)
    notes.append(f"output {tuple(out.shape)} {out.dtype}, loss {loss.item():.3f}")
    loss.backward()
    gradient_findings(head, problems, notes)
    return HeadCheck(spec.name, problems, notes)


def gradient_findings(head: nn.Module, problems: list[str], notes: list[str]) -> None:
    """After backward(): a problem for each trainable tensor the gradient missed or zeroed."""
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
