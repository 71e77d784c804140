"""What a head check found, and the probes that run a head in eval mode.

`check_head` (mtlab.debugging.checks) trains a head once on random vectors; these probes then
call it in eval mode for what a training loss cannot show: outputs that change between two
calls (dropout left on), rows that depend on the other rows of the batch, logits that can never
go negative or never grow, NaN or inf on large inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch.nn.modules.module import register_module_parameter_registration_hook

from mtlab.exercises import NotDone, StudentError, student
from mtlab.exercises.mistakes import MISTAKES
from mtlab.tasks import Task


@dataclass
class HeadCheck:
    """What `check_head` found: problems in plain words (empty when all is well)."""

    task: str
    problems: list[str]
    notes: list[str]
    ids: list[str] = field(default_factory=list)  # each problem's mistake id, in order

    @property
    def ok(self) -> bool:
        return not self.problems

    def problem(self, id: str, text: str) -> None:
        if id not in MISTAKES:
            raise KeyError(f"mistake id {id!r} is not in mtlab.exercises.mistakes.MISTAKES")
        self.problems.append(text)
        self.ids.append(id)

    def __str__(self) -> str:
        head = f"{self.task} head: " + ("OK" if self.ok else f"{len(self.problems)} problem(s)")
        return "\n".join(
            [head, *(f"  ✗ {p}" for p in self.problems), *(f"  ✓ {n}" for n in self.notes)]
        )


def _eval_call(head, inputs, found: HeadCheck, what: str):
    try:
        with torch.no_grad():
            out = student(head, *inputs)
    except (NotDone, StudentError) as raised:
        text = raised.describe() if isinstance(raised, StudentError) else "NotImplementedError"
        found.problem("head.forward-failed", f"in eval mode, on {what}, forward failed: {text}")
        return None
    return out


def eval_behaviour(head, spec: Task, hidden: int, n_inputs: int, found: HeadCheck) -> None:
    """Eval mode: the same output twice, rows on their own, logits free to go negative."""
    generator = torch.Generator().manual_seed(1)
    x = [torch.randn(64, hidden, generator=generator) for _ in range(n_inputs)]
    head.eval()
    built: list[str] = []
    hook = register_module_parameter_registration_hook(lambda *_: built.append("x"))
    try:
        first = _eval_call(head, x, found, "64 rows")
        again = _eval_call(head, x, found, "64 rows")
    finally:
        hook.remove()
    if first is None or again is None:
        return
    if not _same(first, again):
        found.problem(
            "head.layer-in-forward" if built else "head.dropout-in-eval",
            "in eval mode the head gave two different outputs for the same input: "
            + (
                "forward() builds a layer at every call, with new random weights each time. "
                "Make every layer once, in __init__"
                if built
                else "F.dropout(x, p) keeps dropping after model.eval(). Use nn.Dropout, "
                "which eval() switches off (or pass training=self.training)"
            ),
        )
        return
    _rows_on_their_own(head, x, first, found)
    if found.ok:
        _one_row(head, x, first, found)
    if found.ok and spec.is_classification:
        large = _eval_call(head, [100 * t for t in x], found, "large inputs (×100)")
        if large is not None:
            _logits_free(first, large, found)
    if found.ok:
        _large_inputs(head, spec, x, found)


def _one_row(head, x, first: torch.Tensor, found: HeadCheck) -> None:
    """A batch of one (a last, short batch) keeps its batch dimension."""
    one = _eval_call(head, [t[:1] for t in x], found, "a batch of one row")
    want = (1, *first.shape[1:])
    if one is not None and (not isinstance(one, torch.Tensor) or tuple(one.shape) != want):
        shape = tuple(one.shape) if isinstance(one, torch.Tensor) else type(one).__name__
        found.problem(
            "head.squeeze",
            f"for a batch of one row the output is {shape}, not {want}: .squeeze() drops the "
            "batch dimension too when the batch has one row (a last, short batch can). "
            "Squeeze only the dimension you mean: .squeeze(-1), or none at all",
        )


def _large_inputs(head, spec: Task, x, found: HeadCheck) -> None:
    """NaN or inf on inputs ×100; logits that stay within ±1 even with every weight ×10."""
    large = _eval_call(head, [100 * t for t in x], found, "large inputs (×100)")
    if large is None:
        return
    if not torch.isfinite(large).all():
        found.problem(
            "head.not-finite",
            "on large inputs (vectors ×100) the output holds NaN or inf: something in "
            "forward overflows (an exp, a power). Keep to layers and ReLUs",
        )
        return
    if not spec.is_classification or large.abs().max() > 1 + 1e-6:
        return
    scaled = {name: 10 * p.detach() for name, p in head.named_parameters()}
    try:
        with torch.no_grad():
            grown = student(torch.func.functional_call, head, scaled, tuple(10 * t for t in x))
    except (NotDone, StudentError):
        return  # the head cannot run with other weights: no verdict from this probe
    if isinstance(grown, torch.Tensor) and grown.abs().max() <= 1 + 1e-6:
        found.problem(
            "head.bounded-logits",
            "the logits never leave [-1, 1], not even with inputs ×100 and every weight ×10: "
            "the head ends in a tanh, a clamp, or a scale that keeps them tiny. Softmax of "
            "logits within ±1 cannot give any class much more than the others, so the loss "
            "cannot go down far. End in the last Linear layer",
        )


def _same(a, b) -> bool:
    return (
        isinstance(a, torch.Tensor)
        and isinstance(b, torch.Tensor)
        and a.shape == b.shape
        and torch.allclose(a.double(), b.double(), atol=1e-5, rtol=1e-4, equal_nan=True)
    )


def _rows_on_their_own(head, x, first, found: HeadCheck) -> None:
    """Each row's output depends on that row alone: reorder the batch, or take part of it."""
    if first.shape[:1] != (64,):
        found.problem(
            "head.output-shape",
            f"for a batch of 64 the output has shape {tuple(first.shape)}: the batch size "
            "seems fixed in forward(); use -1 or len(u) in a view/reshape",
        )
        return
    order = torch.randperm(64, generator=torch.Generator().manual_seed(2))
    shuffled = _eval_call(head, [t[order] for t in x], found, "the same rows reordered")
    part = _eval_call(head, [t[:5] for t in x], found, "its first 5 rows")
    if shuffled is None or part is None:
        return
    if _same(shuffled, first[order]) and _same(part, first[:5]):
        return
    pair = len(x) == 2
    found.problem(
        "head.rows-mixed",
        f"the output for one {'pair' if pair else 'sentence'} changes when the other rows of "
        "the batch are reordered or left out: rows got mixed. "
        + (
            "A torch.cat([u, v]) along dim=0 followed by .view/.reshape puts two pairs' "
            "vectors in one row; join a pair's vectors with torch.cat([u, v], dim=-1)"
            if pair
            else "A .view/.reshape that moves numbers between rows, or a mean, sum or softmax "
            "over dim=0 (the batch), does this"
        )
        + ". Keep every operation within a row",
    )


def _logits_free(out: torch.Tensor, large: torch.Tensor, found: HeadCheck) -> None:
    """Logits that can never go negative: the head ends in what the loss already does."""
    if out.min() < 0 or not isinstance(large, torch.Tensor) or not torch.isfinite(large).all():
        return
    rows = out if out.dim() == 2 else out[:, None]
    ones = torch.ones(len(rows), dtype=out.dtype)
    if out.dim() == 2 and torch.allclose(rows.sum(-1), ones, atol=1e-4):
        id, cause = "head.softmax-at-end", "a softmax"
    elif out.dim() == 2 and torch.allclose(rows.sum(0), torch.ones_like(rows[0]), atol=1e-4):
        id, cause = "head.softmax-at-end", "a softmax over dim=0 (the batch)"
    elif (out == 0).any():
        id, cause = "head.relu-at-end", "a ReLU (a class stuck at 0 gets no gradient there)"
    elif large.max() <= 1:  # bounded even for large inputs
        id, cause = "head.sigmoid-at-end", "a sigmoid"
    else:
        id, cause = "head.never-negative", "something that cannot go negative (abs, exp, square)"
    found.problem(
        id,
        f"the head's outputs are never negative (smallest {out.min().item():.3f} on 64 random "
        f"inputs): it ends in {cause}. Return the logits of the last Linear layer: the loss "
        "applies (log-)softmax itself, and squashed logits keep it high, with tiny gradients",
    )
