"""Interactive tools for notebooks: poke at a model instead of reading numbers."""

from __future__ import annotations

from html import escape

import ipywidgets as w
import pandas as pd
import torch

from mtlab.debugging.gradients import BackwardTrace
from mtlab.model import MultitaskBert
from mtlab.tasks import get_task


def predict_all(model: MultitaskBert, first: str, second: str) -> dict[str, str]:
    """Every head's answer: single-sentence tasks read `first`, pair tasks the pair.

    Labels and score ranges come from the task table, so a registered task shows up too.
    """
    model.eval()
    answers = {}
    with torch.inference_mode():
        for task in model.heads:
            spec = get_task(task)
            batch = (
                {"sentences1": [first], "sentences2": [second]}
                if spec.is_pair
                else {"sentences": [first]}
            )
            output = model(task, batch)[0]
            if not spec.is_classification:
                answers[task] = (
                    f"{output.item():.2f} (scores from {spec.score_range[0]:g} to "
                    f"{spec.score_range[1]:g})"
                )
                continue
            if output.dim() == 0:  # single-logit head: probability of class 1
                p1 = torch.sigmoid(output).item()
                probs = torch.tensor([1 - p1, p1])
            else:
                probs = output.softmax(-1)
            label = int(probs.argmax())
            answers[task] = f"{spec.label_name(label)} ({label}, p={probs[label]:.2f})"
    return answers


def prediction_explorer(
    model: MultitaskBert,
    first: str = "A man is playing a guitar on stage.",
    second: str = "Someone performs music with a guitar.",
) -> w.VBox:
    """Type a sentence and a second one; see what every head makes of them."""
    box1 = w.Text(value=first, description="sentence 1", layout=w.Layout(width="90%"))
    box2 = w.Text(value=second, description="sentence 2", layout=w.Layout(width="90%"))
    result = w.HTML()

    def update(_=None) -> None:
        answers = predict_all(model, box1.value, box2.value)
        rows = "".join(
            f"<tr><td><b>{task}</b> ({get_task(task).head})</td><td>{escape(answer)}</td></tr>"
            for task, answer in answers.items()
        )
        result.value = f"<table>{rows}</table>"

    box1.observe(update, names="value")
    box2.observe(update, names="value")
    update()
    return w.VBox([box1, box2, result])


def trace_level(trace: BackwardTrace, depth: int) -> pd.DataFrame:
    """The nodes `depth` steps back from the loss, and which nodes one step closer they feed.

    One row per node: its operation, the parameter it writes .grad into (AccumulateGrad
    nodes only) and `feeds`, the operations at depth - 1 that take its result as input.
    """
    level = [n for n in trace.nodes.values() if n.depth == depth]
    rows = []
    for node in level:
        feeds = sorted(
            p.name for p in trace.nodes.values() if p.depth == depth - 1 and node.key in p.inputs
        )
        rows.append((node.name, node.parameter or "", ", ".join(feeds)))
    return pd.DataFrame(rows, columns=["operation", "parameter", "feeds"])


def _level_html(trace: BackwardTrace, depth: int) -> str:
    """The page `trace_stepper` shows for one depth."""
    if trace.root is None:
        return (
            "<p><b>no grad_fn</b>: this tensor is not connected to any parameter "
            "(detached, made under no_grad, or from .item()/numpy), so there is nothing to "
            f"trace back. Trainable parameters it does not reach: {len(trace.missed)}.</p>"
        )
    so_far = {n.parameter for n in trace.nodes.values() if n.parameter and n.depth <= depth}
    reached = sum(name in so_far for name in trace.reached)
    total = len(trace.reached) + len(trace.missed)
    table = trace_level(trace, depth)
    lines = [
        f"<p><b>{depth} step(s) back from the loss</b>: {len(table)} node(s). "
        f"Trainable parameters reached so far: {reached} of {total}.</p>",
        table.to_html(index=False, escape=True, border=0),
    ]
    if depth == max(n.depth for n in trace.nodes.values()) and trace.missed:
        missed = ", ".join(escape(m) for m in trace.missed)
        lines.append(f"<p><b>never reached ({len(trace.missed)})</b>: {missed}</p>")
    return "".join(lines)


def trace_stepper(trace: BackwardTrace, depth: int = 0) -> w.VBox:
    """Step back from the loss one level at a time: what is reached at each depth?

    This is the debugging move of seed mistake 9 as a tool: start at the symptom (the loss)
    and walk back, level by level, asking at each step whether the tensor has a grad_fn
    and whether a parameter is reached (a row with a parameter name is an AccumulateGrad
    node: where that parameter's .grad gets written).
    """
    deepest = max((n.depth for n in trace.nodes.values()), default=0)
    slider = w.IntSlider(
        value=min(depth, deepest),
        min=0,
        max=deepest,
        description="steps back",
        disabled=trace.root is None,
        continuous_update=True,
    )
    page = w.HTML()

    def update(_=None) -> None:
        page.value = _level_html(trace, slider.value)

    slider.observe(update, names="value")
    update()
    return w.VBox([slider, page])
