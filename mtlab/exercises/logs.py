"""Notebook 06's exercise 6.2: a log of mean losses that shows training move (mistake 8)."""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable

import pandas as pd

from mtlab.exercises import Wrong, check, student, yours_or_mtlab

# ---------------------------------------------------------------- a log that shows training move


def mtlab_log_means(steps: list[tuple[str, float]], log_every: int) -> pd.DataFrame:
    """Every log_every steps (and at the last), each task's mean loss since the last row."""
    rows, pending = [], {}
    for step, (task, loss) in enumerate(steps, start=1):
        pending.setdefault(task, []).append(loss)
        if step % log_every == 0 or step == len(steps):
            rows += [{"step": step, "task": t, "loss": sum(v) / len(v)} for t, v in pending.items()]
            pending = {}
    return pd.DataFrame(rows, columns=["step", "task", "loss"])


def _losses(tasks: list[str], n: int, seed: int) -> list[tuple[str, float]]:
    """n steps, tasks in turn, each with losses on a scale of its own (as in the notebook)."""
    rng, scale = random.Random(seed), {"sst": 1.6, "quora": 0.7, "sts": 3.0}
    return [
        (t, round(scale.get(t, 1.0) * rng.uniform(0.5, 1.5), 4))
        for t in (tasks[i % len(tasks)] for i in range(n))
    ]


LOG_CASES = [
    (["sst", "quora", "sts"], 14, 6),
    (["sst"], 7, 3),
    (["sst", "quora"], 4, 1),
    (["sst", "quora", "sts"], 5, 100),
]


def _log_rows(table) -> dict[tuple[int, str], float]:
    """The student's table as {(step, task): loss}, after checking its form."""
    if not isinstance(table, pd.DataFrame):
        raise Wrong(
            f"it returned a {type(table).__name__}, expected a DataFrame with columns "
            "step, task, loss" + (": pd.DataFrame(rows)" if isinstance(table, list) else ""),
            id="answer.wrong-type",
        )
    if "task" not in table.columns and {"step", "loss"} <= set(table.columns):
        raise Wrong(
            "there is no task column: one mean over all tasks mixes losses on different "
            "scales (SST's cross-entropy over 5 classes, STS's squared error), so a "
            "change in one task hides in the others. One row per task",
            id="log_means.one-mean-for-all-tasks",
        )
    if not {"step", "task", "loss"} <= set(table.columns):
        raise Wrong(
            f"its columns are {list(table.columns)}, expected step, task, loss",
            id="log_means.columns",
        )
    try:
        rows = {(int(r.step), str(r.task)): float(r.loss) for r in table.itertuples()}
    except (TypeError, ValueError) as error:
        raise Wrong(
            f"a row does not read as (step, task, loss) numbers ({error}): one row per task, "
            "with its step as an int and its mean loss as a float",
            id="log_means.columns",
        ) from None
    if len(rows) != len(table):
        raise Wrong(
            "it has two rows for the same step and task: one row per task at each logged step",
            id="log_means.duplicate-rows",
        )
    if any(v != v for v in rows.values()):
        raise Wrong(
            "some rows have a NaN loss: a task that did not train since the last row gets no "
            "row at all (a pivot or reindex fills the gaps with NaN)",
            id="log_means.rows-for-idle-tasks",
        )
    return rows


def _window(steps, logged: list[int], step: int, task: str) -> list[float]:
    """The task's losses since the row before `step` (the ones its row at `step` averages)."""
    since = max([0] + [s for s in logged if s < step])
    return [loss for s, (t, loss) in enumerate(steps, 1) if t == task and since < s <= step]


def _one_batch(got, steps, want, setting) -> None:
    """Mistake 8's other half: rows that hold one batch's loss instead of a mean."""
    logged, lasts = sorted({s for s, _ in want}), []
    for step, task in want:
        window = _window(steps, logged, step, task)
        if len(window) > 1 and (step, task) in got:
            lasts.append((step, task, got[step, task], window))
        alone = [key for key in got if key[0] == step]
        if (
            (step, task) not in got
            and len(alone) == 1
            and abs(got[alone[0]] - steps[step - 1][1]) < 1e-6
        ):
            raise Wrong(
                f"{setting} step {step} has one row, the loss of that step's batch alone: "
                "what the seed printed, one batch of whichever task trained, too noisy "
                "to show a trend. Log each task's mean since the last row",
                id="log_means.one-batch",
            )
    if lasts and all(abs(mine - window[-1]) < 1e-6 for _, _, mine, window in lasts):
        step, task, mine, window = lasts[0]
        raise Wrong(
            f"{setting} the {task!r} row at step {step} is its last batch's loss "
            f"({mine:.4f}), not the mean of its {len(window)} losses since the last row: "
            "one batch is too noisy to show a trend",
            id="log_means.one-batch",
        )


@check("log_means")
def check_log_means(log_means: Callable) -> list[str]:
    """Per-task means every log_every steps, on losses of three scales, four settings."""
    for tasks, n, every in LOG_CASES:
        steps = _losses(tasks, n, seed=n)
        want = {(s, t): v for s, t, v in mtlab_log_means(steps, every).itertuples(index=False)}
        got = _log_rows(student(log_means, list(steps), every))
        setting = f"for {n} steps with log_every={every}"
        want_steps, got_steps = sorted({s for s, _ in want}), sorted({s for s, _ in got})
        only_last_missing = got_steps == want_steps[:-1] and n % every
        if len(got_steps) < len(want_steps) and not only_last_missing:
            raise Wrong(
                f"{setting} you logged at steps {got_steps}, expected {want_steps}: "
                "logging that rarely hides how training moves",
                id="log_means.too-rare",
            )
        _one_batch(got, steps, want, setting)
        if only_last_missing:
            raise Wrong(
                f"{setting} you logged at steps {got_steps}; the last {n % every} step(s), "
                f"after the last multiple of {every}, are never logged (log at step {n} "
                "too)",
                id="log_means.last-stretch",
            )
        if got_steps != want_steps:
            hint = (
                " (steps count from 1: the first row comes after log_every steps)"
                if (0 in got_steps or [s + 1 for s in got_steps] == want_steps)
                else ""
            )
            raise Wrong(
                f"{setting} you logged at steps {got_steps}, expected {want_steps}{hint}",
                id="log_means.steps-from-0" if hint else "log_means.steps",
            )
        for (step, task), value in want.items():
            mine = got.get((step, task))
            if mine is None:
                raise Wrong(
                    f"{setting} there is no row for {task!r} at step {step}: one row per "
                    "task that trained since the last row",
                    id="log_means.missing-task",
                )
            since_start = [loss for t, loss in steps[:step] if t == task]
            if (
                not abs(mine - value) <= 1e-6
                and abs(mine - sum(since_start) / len(since_start)) < 1e-6
            ):
                raise Wrong(
                    f"{setting} the {task!r} row at step {step} is the mean since the "
                    "start of training: it moves ever more slowly and hides late "
                    "changes. Average only the losses since the last row",
                    id="log_means.mean-since-start",
                )
            if not abs(mine - value) <= 1e-6:
                window = _window(steps, sorted({s for s, _ in want}), step, task)
                median = len(window) > 2 and abs(mine - statistics.median(window)) < 1e-6
                raise Wrong(
                    f"{setting} the {task!r} row at step {step} is {mine:.4f}, expected "
                    f"{value:.4f} (the mean of its losses since the last row)"
                    + (": that is their median" if median else ""),
                    id="log_means.median" if median else "answer.wrong-value",
                )
        if len(got) != len(want):
            raise Wrong(
                f"{setting} there are rows for tasks that did not train since the last row: "
                "log only the tasks that have losses waiting",
                id="log_means.rows-for-idle-tasks",
            )
    return [f"right on {len(LOG_CASES)} runs: 1 to 3 tasks, log_every from 1 to more than the run"]


def use_log_means(log_means: Callable) -> Callable:
    """The student's log_means, or mtlab's while the stub is unfilled."""
    return yours_or_mtlab(
        "log_means", log_means, mtlab_log_means, lambda f: f(_losses(["sst"], 3, 0), 2)
    )
