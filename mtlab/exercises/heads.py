"""What the head exercises (2.3, 3.4, 5.2, 7.2) check alike, on top of `check_head`.

A head class is the student's code through and through: building it, its forward, its loss.
`build` makes one through the guard, `require_written` says "not done yet" while its
forward is still the stub, `require_head` checks that it is an mtlab `Head` for
the right task, `head_checked` runs `check_head` and turns its first problem into the
verdict's mistake (a forward still raising NotImplementedError is "not done yet").
"""

from __future__ import annotations

import torch

from mtlab.debugging.checks import HeadCheck, check_head
from mtlab.exercises import NotDone, StudentError, Wrong, student
from mtlab.heads.base import Head


def build(head_class: type, *args, **kwargs):
    """The student's head, built through the guard (a stub in __init__: not done yet)."""
    return student(head_class, *args, **kwargs)


def require_written(head, hidden: int, inputs: int = 1) -> None:
    """NotDone while forward still raises the stub's NotImplementedError: before any verdict
    on the rest, an unfinished head is "not done yet"."""
    try:
        with torch.no_grad(), torch.random.fork_rng():
            student(head, *(torch.zeros(2, hidden) for _ in range(inputs)))
    except StudentError:
        pass  # a forward that fails: check_head says how


def require_head(head, task: str) -> None:
    """An mtlab Head, for `task`: the model reads its loss and predictions from there."""
    if not isinstance(head, Head):
        raise Wrong(
            f"{type(head).__name__} is not an mtlab Head: subclass Head (class "
            f"{type(head).__name__}(Head)), so the model knows its loss and its predictions",
            id="head.not-a-head",
        )
    if head.task != task:
        raise Wrong(
            f"it passes task {head.task!r} to Head.__init__: pass {task!r}, so that its loss "
            "and predictions follow that task's entry in the task table",
            id="head.wrong-task",
        )


def raise_problems(found: HeadCheck) -> None:
    """Wrong with every problem check_head found, named by the first; NotDone for a stub."""
    if found.ok:
        return
    if found.ids[0] == "head.not-written":
        raise NotDone()
    raise Wrong("\n".join(found.problems), id=found.ids[0])


def head_checked(head, task: str, hidden: int) -> list[str]:
    """check_head's notes, or Wrong with its problems."""
    found = check_head(head, task, hidden)
    raise_problems(found)
    return found.notes


def eval_outputs(head, *inputs: torch.Tensor) -> torch.Tensor:
    head.eval()
    with torch.no_grad():
        return student(head, *inputs)


def require_non_linear(head, hidden: int) -> None:
    """Wrong when the head's output at the midpoint of two inputs is the midpoint of theirs."""
    generator = torch.Generator().manual_seed(0)
    a, b = (10 * torch.randn(6, hidden, generator=generator) for _ in range(2))
    middle = eval_outputs(head, (a + b) / 2)
    ends = (eval_outputs(head, a) + eval_outputs(head, b)) / 2
    if torch.allclose(middle.double(), ends.double(), atol=1e-4):
        raise Wrong(
            "the head is linear: its output for the midpoint of two inputs is the midpoint of "
            "their outputs. Two Linear layers with nothing between them are one Linear layer; "
            "put a ReLU between them",
            id="head.linear",
        )
