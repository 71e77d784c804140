"""Notebook 05's exercise 5.2, a head fixed (imported from mtlab.exercises.tracing)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from mtlab.debugging.graph_breaks import GraphBreakDetector
from mtlab.exercises import StudentError, Wrong, check, student
from mtlab.exercises.heads import build, head_checked
from mtlab.exercises.probes import close
from mtlab.heads.kinds import SentimentHead


def shift_rows(logits: torch.Tensor) -> torch.Tensor:
    """Each row shifted so that its largest logit is 0 (the softmax does not change)."""
    return logits - logits.max(dim=-1, keepdim=True).values


WRONG_SHIFTS = [  # (id, what it is, the output it gives from the logits)
    ("fixed_head.unshifted", "those are the logits unshifted", lambda x: x),
    (
        "fixed_head.batch-max",
        "shifted by the largest logit of the whole batch, not of each row: "
        "logits.max(dim=-1, keepdim=True).values",
        lambda x: x - x.max(),
    ),
    (
        "fixed_head.column-max",
        "shifted by each column's largest, along dim=0; take it along dim=-1",
        lambda x: x - x.max(dim=0).values,
    ),
    (
        "fixed_head.min",
        "shifted by each row's smallest logit: the largest becomes 0 when you subtract the "
        "largest, .max(dim=-1, keepdim=True).values",
        lambda x: x - x.min(dim=-1, keepdim=True).values,
    ),
    (
        "fixed_head.log-softmax",
        "log_softmax shifts each row by its log-sum-exp, not by its largest logit: the "
        "largest is then below 0",
        lambda x: x.log_softmax(-1),
    ),
    (
        "fixed_head.softmax",
        "those are probabilities (softmax): the exercise shifts the logits, which leaves "
        "the softmax as it was",
        lambda x: x.softmax(-1),
    ),
]


def _shift_failed(raised: StudentError) -> Wrong | None:
    text = str(raised.error)
    if "must match the size" in text:
        return Wrong(
            f"forward raised {raised.describe()}: logits.max(dim=-1).values is (B,), one "
            "number per row; subtracting it from (B, C) logits lines it up with the columns. "
            "Keep it a column: .max(dim=-1, keepdim=True)",
            id="fixed_head.no-keepdim",
        )
    if "return_types" in text:
        return Wrong(
            f"forward raised {raised.describe()}: logits.max(dim=...) returns (values, "
            "indices); take .values",
            id="fixed_head.max-pair",
        )
    return None


def _forward(head, u: torch.Tensor):
    with GraphBreakDetector() as detector:
        try:
            out = student(head, u)
        except StudentError as raised:
            raise _shift_failed(raised) or raised from None
    return out, detector


@check("FixedHead")
def check_fixed_head(head_class: type, hidden: int = 8) -> list[str]:
    """Same values as the list-shifting head, a graph intact from the loss to the inputs."""
    torch.manual_seed(0)
    head = build(head_class, hidden).eval()  # no dropout: the values can be compared
    if not isinstance(head, SentimentHead):
        raise Wrong(
            f"{type(head).__name__} is not a SentimentHead: keep `class FixedHead(SentimentHead)`, "
            "whose layers (self.net) forward() starts from",
            id="fixed_head.not-a-sentiment-head",
        )
    u = torch.randn(4, hidden).requires_grad_()
    out, detector = _forward(head, u * 1)
    if not isinstance(out, torch.Tensor):
        raise Wrong(
            f"forward returned a {type(out).__name__}, expected a tensor",
            id="answer.not-a-tensor",
        )
    if out.grad_fn is None:
        raise Wrong(
            "the output has no grad_fn: it is cut from the graph and the head would "
            "never train.\n" + detector.report(),
            id="graph.cut",
        )
    logits = head.net(u)
    want = shift_rows(logits)
    if out.shape != want.shape:
        raise Wrong(
            f"output shape {tuple(out.shape)}, expected {tuple(want.shape)}",
            id="answer.wrong-shape",
        )
    if not close(out, want):
        for id, words, wrong in WRONG_SHIFTS:
            if close(out, wrong(logits)):
                raise Wrong(f"the values differ from the shifted logits: {words}", id=id)
        raise Wrong(
            "the values differ from the shifted logits: subtract each row's largest, "
            "logits - logits.max(dim=-1, keepdim=True).values",
            id="answer.wrong-value",
        )
    _gradients_reach(head, out, u, detector)
    notes = head_checked(build(head_class, hidden), "sst", hidden)
    return [
        "the same values as the list-shifting head, and a gradient all the way back to u",
        *notes,
    ]


def _gradients_reach(head, out: torch.Tensor, u: torch.Tensor, detector) -> None:
    try:
        student(F.cross_entropy(out, torch.tensor([0, 3, 4, 1])).backward)
    except StudentError as raised:
        raise Wrong(
            f"loss.backward() through your forward failed: {raised.describe()}",
            id="head.backward-failed",
        ) from None
    missing = [n for n, p in head.named_parameters() if p.grad is None]
    if missing:
        raise Wrong(f"no gradient reaches {missing}.\n{detector.report()}", id="graph.cut")
    if u.grad is None or not u.grad.abs().sum() > 0:
        raise Wrong(
            "the head trains, but no gradient reaches its input vectors: in finetune "
            "mode the encoder would not train (the `.data` head's disguise).\n" + detector.report(),
            id="head.inputs-cut",
        )
