"""The course's data as PyTorch datasets: which folder, which file, which dataset class.

Labelled files (train, dev) and unlabelled files (``*-test-student``) get different
dataset classes on purpose: the class name tells you whether it can be trained on
(seed mistake 5). What each task's files and columns are comes from `mtlab.tasks`;
reading and checking the rows is `mtlab.data.reader`'s job.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch
from torch.utils.data import Dataset, Subset

from mtlab.data.reader import DataFormatError, RowProblem, read_task_file, read_task_rows
from mtlab.tasks import COURSE_TASKS, Task, get_task

SAMPLE_DIR = Path(__file__).parents[1] / "sample_data"
PROJECT_DATA_DIR = Path(__file__).parents[2] / "data"

# Printed whenever the sample is used, so that nobody mistakes sample scores for real ones.
# No absolute paths in it: notebooks compare their outputs.
SAMPLE_MESSAGE = (
    "Using mtlab's small sample data (mtlab/sample_data): fine for trying things, "
    "far too small for real scores. For the course data, set MTLAB_DATA_DIR to its folder "
    "or copy its CSV files into data/."
)


@dataclass(frozen=True)
class DataSource:
    """Which data folder is used, whether it is the small sample, and why it was chosen."""

    path: Path
    is_sample: bool
    reason: str


def resolve_data_dir(data_dir: str | Path | None = None) -> DataSource:
    """Choose the data folder: argument, then MTLAB_FAST sample, MTLAB_DATA_DIR, data/, sample.

    The fast profile (MTLAB_FAST=1) must run on what ships with mtlab, so it always gets
    the sample even when real data is configured. Whenever the sample is chosen, one line
    is printed saying so, because scores on it mean little.
    """
    if data_dir is not None:
        source = _existing_folder(Path(data_dir).expanduser(), "the data_dir argument")
    elif os.environ.get("MTLAB_FAST") == "1":
        source = DataSource(SAMPLE_DIR, True, "MTLAB_FAST=1 (the fast profile uses the sample)")
    elif os.environ.get("MTLAB_DATA_DIR"):
        setting = os.environ["MTLAB_DATA_DIR"]
        source = _existing_folder(Path(setting).expanduser(), f"MTLAB_DATA_DIR={setting}")
    elif any((PROJECT_DATA_DIR / get_task(t).files["train"]).is_file() for t in COURSE_TASKS):
        source = DataSource(PROJECT_DATA_DIR, False, "data/ folder")
    else:
        source = DataSource(SAMPLE_DIR, True, "sample data (no real data found)")
    if source.is_sample:
        print(SAMPLE_MESSAGE)
    return source


def _existing_folder(path: Path, reason: str) -> DataSource:
    """Check a folder the user named, so a typo fails here rather than deep inside training."""
    if path.is_file():
        raise DataFormatError(
            f"{reason}: {path} is a file; expected the folder that holds the data files"
        )
    if not path.is_dir():
        raise DataFormatError(f"{reason}: the folder {path} does not exist")
    return DataSource(path, path.resolve() == SAMPLE_DIR.resolve(), reason)


class TaskDataset(Dataset):
    """Rows of one task's split as a list of dicts; use one of the four classes below.

    The rows come from `path` (a tab-separated file) or from `rows` (a DataFrame or a
    list of dicts, for a task registered with rows in memory).
    """

    labelled: bool
    pair: bool

    def __init__(
        self,
        task: str | Task,
        split: str,
        path: str | Path | None = None,
        *,
        rows=None,
        strict: bool = False,
        limit: int | None = None,
    ) -> None:
        spec = get_task(task)
        if spec.is_pair != self.pair:
            right = _dataset_class(spec, self.labelled).__name__
            kind = "pair" if spec.is_pair else "single-sentence"
            raise ValueError(
                f"{type(self).__name__} is not for the {kind} task {spec.name!r}; use {right}"
            )
        _check_limit(limit)
        if (path is None) == (rows is None):
            raise ValueError("give either path (a file) or rows (a DataFrame or list of dicts)")
        self.task, self.split = spec.name, split
        self.path = Path(path) if path is not None else None
        if rows is not None:
            examples, self.problems = read_task_rows(
                rows, spec, split, labelled=self.labelled, strict=strict
            )
        else:
            examples, self.problems = read_task_file(
                self.path, spec, labelled=self.labelled, strict=strict
            )
        self.examples = examples[:limit]

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, index: int) -> dict:
        return self.examples[index]

    def __repr__(self) -> str:
        source = self.path.name if self.path is not None else "memory"
        return (
            f"{type(self).__name__}(task={self.task!r}, split={self.split!r}, "
            f"{len(self)} rows from {source})"
        )


class LabelledSentenceDataset(TaskDataset):
    """A single-sentence task's train/dev: items {"id", "sentence", "label"}. Safe to train on."""

    labelled, pair = True, False


class UnlabelledSentenceDataset(TaskDataset):
    """A single-sentence task's test file: items {"id", "sentence"}. Predict only; never train."""

    labelled, pair = False, False


class LabelledPairDataset(TaskDataset):
    """A pair task's train/dev: items {"id", "sentence1", "sentence2", "label"}. Safe to train on.

    The label is an int class for classification tasks (Quora: 0 or 1) and a float for
    score tasks (STS: 0 to 5).
    """

    labelled, pair = True, True


class UnlabelledPairDataset(TaskDataset):
    """A pair task's test file: items {"id", "sentence1", "sentence2"}. Predict only; never train."""

    labelled, pair = False, True


def _dataset_class(spec: Task, labelled: bool) -> type[TaskDataset]:
    if spec.is_pair:
        return LabelledPairDataset if labelled else UnlabelledPairDataset
    return LabelledSentenceDataset if labelled else UnlabelledSentenceDataset


def _check_limit(limit) -> None:
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit must be a positive whole number of rows or None, not {limit!r}")


def load_dataset(
    task: str | Task,
    split: str,
    data_dir: str | Path | None = None,
    *,
    strict: bool = False,
    limit: int | None = None,
) -> TaskDataset:
    """Load one task's split: from the task's rows in memory, or its file in data_dir.

    data_dir None: see resolve_data_dir. The test split has no labels, so it comes back
    as an Unlabelled... dataset. limit keeps only the first N good rows, for quick runs;
    the whole file is still checked.
    """
    spec = get_task(task)
    if split not in spec.splits:
        valid = ", ".join(spec.splits)
        raise ValueError(f"task {spec.name!r} has no split {split!r}; valid splits: {valid}")
    _check_limit(limit)
    dataset_class = _dataset_class(spec, labelled=split != "test")
    if split in spec.rows:
        return dataset_class(spec, split, rows=spec.rows[split], strict=strict, limit=limit)
    path = Path(spec.files[split]).expanduser()
    if not path.is_absolute():
        folder = resolve_data_dir().path if data_dir is None else Path(data_dir)
        path = folder / path
    return dataset_class(spec, split, path, strict=strict, limit=limit)


def warn_if_shared_ids(train_set, dev_set) -> list[str]:
    """Say on stderr when dev rows also appear (by id) in train: dev scores would flatter."""
    train_ids = {example["id"] for example in train_set}
    shared = [example["id"] for example in dev_set if example["id"] in train_ids]
    if shared:
        task = getattr(dev_set, "task", "?")
        print(
            f"warning: {len(shared)} dev row(s) of {task!r} have ids that are also in its "
            f"training data (e.g. {shared[:3]}): a model that memorised them scores too well "
            "on dev",
            file=sys.stderr,
        )
    return shared


def to_dataframe(dataset: TaskDataset) -> pd.DataFrame:
    """One row per example, for looking at the data in a notebook."""
    return pd.DataFrame(dataset.examples)


__all__ = [
    "SAMPLE_DIR",
    "DataFormatError",
    "DataSource",
    "LabelledPairDataset",
    "LabelledSentenceDataset",
    "RowProblem",
    "TaskDataset",
    "UnlabelledPairDataset",
    "UnlabelledSentenceDataset",
    "load_dataset",
    "resolve_data_dir",
    "to_dataframe",
]


def all_sentences(datasets: Mapping) -> list[str]:
    """Every sentence of every task's dataset, in order: {task: dataset} -> the task's texts.

    The text keys come from the task table (`Task.keys`): both sides of a pair, in order.
    """
    return [
        example[key]
        for task, dataset in datasets.items()
        for example in dataset
        for key in get_task(task).keys
    ]


def random_subset(dataset, limit: int | None, seed: int = 0):
    """`limit` rows drawn at random (seeded), all rows when limit is None.

    Never the first rows: the course's SST train file is ordered, its first 1,500 rows
    mostly positive, and a head finetuned on them learns to say "positive".
    """
    if limit is None or limit >= len(dataset):
        return dataset
    generator = torch.Generator().manual_seed(seed)
    rows = torch.randperm(len(dataset), generator=generator)[:limit].sort().values
    return Subset(dataset, rows.tolist())
