"""Find where a forward pass leaves the autograd graph (seed mistake 7).

A tensor cut from the graph trains nothing before the cut, and nothing says so: the
loss still goes down (the layers after the cut learn), just not as far. The detector
records every way a graph tensor can leave it, with the line of your code that did it.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.overrides import TorchFunctionMode


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
            self._add(
                self.CUTS[name],
                {
                    "detach": "returns a tensor with no grad_fn: nothing before it will train",
                    "item": "a Python number carries no gradient",
                    "tolist": "Python numbers carry no gradient",
                    "numpy": "a NumPy array carries no gradient",
                }[name],
            )
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
