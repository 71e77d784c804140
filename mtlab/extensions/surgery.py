"""Gradient surgery: combine the tasks' gradients on the shared encoder instead of adding them.

Summing the task losses adds their encoder gradients, so where two tasks pull the encoder in
opposite directions (a negative cosine, notebook 06) part of one task's step undoes the
other's. Gradient surgery looks at the tasks' gradients side by side first:

- "pcgrad" (Yu et al. 2020): where two gradients conflict, each loses its component along
  the other; the results are added;
- "upgrad" (Quinton & Rey 2024): each gradient is projected onto the cone of directions that
  conflict with no task, and the projections are averaged;
- "mgda" (Désidéri 2012; Sener & Koltun 2018): the smallest gradient in the tasks' convex hull;
- "sum": plain addition through the same machinery, the control that isolates the rest.

The aggregators come from the package `torchjd`. It also has `mtl_backward`, which builds
the tasks' Jacobian (one row per task) on the shared weights; but each task here runs the
encoder on its own sentences, so each row can come from one ordinary backward pass over its
own task's graph, where `mtl_backward` would take every row through every task's graph
(three times the work). Each head keeps its own task's gradient. What follows (gradient
clipping, the fused AdamW step) sees ordinary `.grad`s.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torchjd.aggregation import MGDA, PCGrad, Sum, UPGrad

from mtlab.model import MultitaskBert

AGGREGATORS = {"pcgrad": PCGrad, "upgrad": UPGrad, "mgda": MGDA, "sum": Sum}
SURGERIES = tuple(AGGREGATORS)


def surgery_backward(
    model: MultitaskBert, losses: Mapping[str, torch.Tensor], method: str
) -> torch.Tensor:
    """Backward for several task losses: each head gets its own, the encoder the aggregate.

    Each loss must come from its own forward pass (as `training_step` makes them). Returns
    the tasks' Jacobian on the encoder's weights, one flattened gradient per row.
    """
    shared = [p for p in model.encoder.parameters() if p.requires_grad]
    rows = []
    for task, loss in losses.items():
        head = [p for p in model.head(task).parameters() if p.requires_grad]
        grads = torch.autograd.grad(loss, shared + head, materialize_grads=True)
        for param, grad in zip(head, grads[len(shared) :]):
            param.grad = grad
        rows.append(torch.cat([grad.flatten() for grad in grads[: len(shared)]]))
    jacobian = torch.stack(rows)
    combined = AGGREGATORS[method]()(jacobian)
    for param, grad in zip(shared, combined.split([p.numel() for p in shared])):
        param.grad = grad.view_as(param)
    return jacobian
