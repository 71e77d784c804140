"""Scores and predictions: run a trained model over a dataset, score it, write a file.

The metric and the predictions file's column come from the task table (`mtlab.tasks`):
accuracy for tasks with classes, Pearson r for tasks with scores.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path

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
    """The model's predictions (and gold labels, where the dataset has them) for a dataset."""
    model.eval()
    rows = defaultdict(list)
    # Examples of similar length (in tokens) share a batch, so little padding; rows go back
    # in file order.
    lengths = model.example_lengths(task, dataset)
    order = sorted(range(len(dataset)), key=lengths.__getitem__)
    for batch in make_loader(Subset(dataset, order), batch_size):
        prediction = model.predict(task, model(task, batch)).cpu()
        rows["id"] += batch["ids"]
        rows["prediction"] += prediction.tolist()
        if "labels" in batch:
            rows["label"] += batch["labels"].tolist()
    return pd.DataFrame(rows, index=order).sort_index().reset_index(drop=True)


def score(task: str, predictions: pd.DataFrame) -> float:
    """The task's metric: accuracy for classes, Pearson r for scores."""
    if get_task(task).metric == "pearson":
        return float(pearsonr(predictions["prediction"], predictions["label"]).statistic)
    return float((predictions["prediction"] == predictions["label"]).mean())


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
    """One score per task, e.g. {'sst': accuracy, 'quora': accuracy, 'sts': pearson}."""
    for task in dev_sets:
        get_task(task)  # an unknown task fails here, with the list of known ones
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
