"""Notebook 04's exercise 4.3, targets fit for MSE (imported from mtlab.exercises.similarity)."""

from __future__ import annotations

from collections.abc import Callable

import torch

from mtlab.exercises import Wrong, check, student
from mtlab.exercises.probes import close, tensor_answer
from mtlab.heads.losses import TaskLossError, regression_loss

TARGET_CASES = [[3.8, 1.6, 5.0, 0.0, 2.4, 4.75], [0.2, 4.4, 3.0]]


def _wrong_values(out: torch.Tensor, labels: list[float]) -> None:
    """Wrong naming how the scores were changed: cut, rounded, scaled, reordered."""
    want = torch.tensor(labels, dtype=torch.float64)
    got = out.detach().double().flatten()
    shown = [round(x, 2) for x in got.tolist()]
    if close(got, want.trunc()):
        raise Wrong(
            f"the scores became whole numbers, {shown}: 3.8 -> 3, 2.4 -> 2 (dtype {out.dtype}). "
            "MSE then teaches the head wrong targets",
            id="regression_targets.truncated",
        )
    if close(got, want.round()):
        raise Wrong(
            f"the scores were rounded to whole numbers, {shown}: STS averages raters' scores, "
            "and 3.8 is not 4",
            id="regression_targets.rounded",
        )
    if close(got, want / 5):
        raise Wrong(
            f"the scores were divided by 5, {shown}: the heads score on STS's own 0-5 scale "
            "(5 · cos), so the targets stay in 0-5",
            id="regression_targets.scaled",
        )
    if close(got.sort().values, want.sort().values):
        raise Wrong(
            f"the scores are in another order, {shown}: each score belongs to its pair, in the "
            "order given. Do not sort them",
            id="regression_targets.reordered",
        )
    if close(got, want, rtol=1e-2, atol=1e-2):
        raise Wrong(
            f"the scores lost precision, {got.tolist()}: they went through float16 (or "
            "bfloat16) on the way. Make them float32 directly: torch.tensor(labels, "
            "dtype=torch.float32)",
            id="regression_targets.precision",
        )
    raise Wrong(f"expected {labels}, got {got.tolist()}", id="answer.wrong-value")


def _targets(regression_targets: Callable, labels: list[float]) -> torch.Tensor:
    out = tensor_answer(student(regression_targets, list(labels)), "regression_targets", "a tensor")
    want = torch.tensor(labels, dtype=torch.float64)
    right = out.numel() == len(labels) and close(out.detach().double().flatten(), want)
    if not out.is_floating_point():
        if out.numel() == len(labels):
            _wrong_values(out, labels)  # whole numbers: say how they were cut
        raise Wrong(f"dtype {out.dtype}: MSE targets must be floats", id="regression_targets.int")
    if out.dtype != torch.float32:
        raise Wrong(
            f"dtype {out.dtype}: the heads' scores are float32. F.mse_loss would quietly "
            "compute the loss in another precision (from a NumPy array, torch.tensor keeps its "
            "float64), and regression_loss refuses the pair. Use dtype=torch.float32",
            id="regression_targets.dtype",
        )
    if out.shape != (len(labels),) and right:
        raise Wrong(
            f"shape {tuple(out.shape)} for {len(labels)} scores, expected ({len(labels)},): the "
            f"head's scores are ({len(labels)},), and MSE between (B,) and (B, 1) silently "
            "broadcasts to a (B, B) table",
            id="regression_targets.column",
        )
    if out.shape != (len(labels),):
        raise Wrong(
            f"shape {tuple(out.shape)} for {len(labels)} scores, expected ({len(labels)},)",
            id="answer.wrong-shape",
        )
    if not right:
        _wrong_values(out, labels)
    return out


@check("regression_targets")
def check_regression_targets(regression_targets: Callable) -> list[str]:
    """STS scores as a float32 (B,) tensor: not truncated, not float64, not (B, 1)."""
    outs = [_targets(regression_targets, labels) for labels in TARGET_CASES]
    try:  # what the training loop does with them
        regression_loss("sts", torch.zeros(len(outs[0])), outs[0])
    except TaskLossError as error:
        raise Wrong(
            f"the task's loss refuses them: {error}", id="regression_targets.dtype"
        ) from None
    out = outs[0]
    return [f"{len(TARGET_CASES[0])} scores -> {tuple(out.shape)} {out.dtype}, fractions kept"]
