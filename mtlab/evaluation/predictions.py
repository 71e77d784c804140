"""Scores and predictions: run a trained model over a dataset, score it, write a file.

The metric and the predictions file's column come from the task table (`mtlab.tasks`):
accuracy for tasks with classes, Pearson r for tasks with scores.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy.stats import pearsonr
from torch.utils.data import Subset

from mtlab.batching import make_loader
from mtlab.evaluation.submission import write_course_file
from mtlab.model import MultitaskBert
from mtlab.tasks import get_task


@torch.inference_mode()
def run_model(model: MultitaskBert, task: str, dataset, batch_size: int = 64) -> pd.DataFrame:
    """The model's predictions (and gold labels, where the dataset has them) for a dataset.

    Raises FloatingPointError when any output is nan or inf: a class picked from nan logits
    would look like an answer.
    """
    model.eval()
    rows = defaultdict(list)
    not_finite = 0
    # Examples of similar length (in tokens) share a batch, so little padding; rows go back
    # in file order.
    lengths = model.example_lengths(task, dataset)
    order = sorted(range(len(dataset)), key=lengths.__getitem__)
    for batch in make_loader(Subset(dataset, order), batch_size):
        output = model(task, batch)
        not_finite += int((~torch.isfinite(output.reshape(len(output), -1))).any(1).sum())
        rows["id"] += batch["ids"]
        rows["prediction"] += model.predict(task, output).cpu().tolist()
        if "labels" in batch:
            rows["label"] += batch["labels"].tolist()
    if not_finite:
        raise FloatingPointError(_diverged(task, not_finite, len(dataset)))
    return pd.DataFrame(rows, index=order).sort_index().reset_index(drop=True)


def _diverged(task: str, count: int, total: int) -> str:
    return (
        f"{task}: the model's output is nan or inf for {count} of {total} rows: the model "
        "has diverged (nan in its weights, from a nan loss or a damaged checkpoint) or its "
        "encoder gave nan vectors"
    )


def score(task: str, predictions: pd.DataFrame) -> float:
    """The task's metric: accuracy for classes, Pearson r for scores.

    Pearson r of predictions that are all one value (a head that ignores its input) is
    undefined; it is scored 0.0, with a warning on stderr: answers that never move follow
    none of the gold scores' ups and downs, which is what r = 0 means, and 0.0, unlike nan,
    still averages and compares (early stopping keeps the best score). Gold labels on which
    the metric is undefined raise ValueError; nan or inf predictions, FloatingPointError.
    """
    problem = gold_label_problem(task, predictions["label"].tolist(), f"the {task} labels")
    if problem:
        raise ValueError(problem)
    values = predictions["prediction"].to_numpy(dtype=float)
    if not np.isfinite(values).all():
        raise FloatingPointError(_diverged(task, int((~np.isfinite(values)).sum()), len(values)))
    if get_task(task).metric == "accuracy":
        return float((predictions["prediction"] == predictions["label"]).mean())
    if values.min() == values.max():
        print(
            f"warning: {task}: all {len(values)} predictions are {values[0]:g}: Pearson r is "
            "undefined for answers that never change; scored 0.0. The head ignores its input: "
            "check what it is given and that it trained.",
            file=sys.stderr,
        )
        return 0.0
    return float(pearsonr(values, predictions["label"]).statistic)


def gold_label_problem(task: str, labels: Sequence, where: str) -> str | None:
    """Why the task's metric is undefined on these gold labels (one line), or None."""
    if not labels:
        return f"{where}: no rows, nothing to score"
    if get_task(task).metric != "pearson":
        return None
    if len(labels) < 2:
        return f"{where}: 1 row, but Pearson r needs at least 2 (a larger --dev-limit, or none)"
    if len(set(labels)) == 1:
        return (
            f"{where}: all {len(labels)} gold scores are {labels[0]:g}: Pearson r is undefined; "
            "a dev set needs at least two different scores"
        )
    return None


def check_dev_set(task: str, dataset) -> None:
    """Refuse a dev set the task's metric is undefined on, before any model runs on it."""
    source = getattr(dataset, "dataset", dataset)  # a Subset names its dataset's file
    path = getattr(source, "path", None)
    where = f"the {task} {getattr(source, 'split', 'dev')} set" + (f" ({path})" if path else "")
    labels = [dataset[i].get("label") for i in range(len(dataset))]
    if None in labels:
        raise ValueError(f"{where} has no gold labels: only labelled data can be scored")
    problem = gold_label_problem(task, labels, where)
    if problem:
        raise ValueError(problem)


def one_class_warning(task: str, predictions: pd.DataFrame, share: float = 0.95) -> str | None:
    """A plain-words warning when a classifier gives (almost) every row the same class.

    The seed's mistake 10: its paraphrase head answered "not duplicate" for every pair, and its
    accuracy, the share of non-duplicates, looked like a score. None when the answers vary.
    """
    spec = get_task(task)
    if not spec.is_classification or predictions.empty:
        return None
    counts = predictions["prediction"].value_counts()
    top, n_top = int(counts.index[0]), int(counts.iloc[0])
    if n_top / len(predictions) < share:
        return None
    name = f"{top} ({spec.label_name(top)})" if spec.label_names else str(top)
    message = f"{task}: class {name} for {n_top} of {len(predictions)} rows"
    if "label" in predictions:
        gold = predictions["label"].value_counts(normalize=True)
        accuracy = score(task, predictions)
        message += (
            f"; accuracy {accuracy:.3f} against {gold.iloc[0]:.3f} for always "
            f"answering the commonest class, {int(gold.index[0])}"
        )
    return message + (
        ". The head has learned the base rate, not the task: check that its input can tell the "
        "classes apart (for pairs: features that compare the two sentences, like |u - v| and "
        "u * v), then that it has trained long enough."
    )


def evaluate(model: MultitaskBert, dev_sets: Mapping, batch_size: int = 64) -> dict[str, float]:
    """One score per task, e.g. {'sst': accuracy, 'quora': accuracy, 'sts': pearson}.

    Every dev set is checked first (`check_dev_set`), so a set that cannot be scored fails
    before the model runs on any.
    """
    for task, dataset in dev_sets.items():
        get_task(task)  # an unknown task fails here, with the list of known ones
        check_dev_set(task, dataset)
    return {
        task: score(task, run_model(model, task, ds, batch_size)) for task, ds in dev_sets.items()
    }


def write_predictions(model: MultitaskBert, task: str, dataset, path: str | Path) -> pd.DataFrame:
    """A dataset's predictions in the course's layout (mtlab.evaluation.submission); also returned."""
    spec = get_task(task)
    predictions = run_model(model, task, dataset)[["id", "prediction"]]
    if not spec.is_classification:  # scores stay within the task's range (STS: 0-5)
        predictions["prediction"] = predictions["prediction"].clip(*spec.score_range).round(3)
    predictions = predictions.rename(columns={"prediction": spec.prediction_column})
    write_course_file(path, spec.prediction_column, *predictions.T.values.tolist())
    return predictions
