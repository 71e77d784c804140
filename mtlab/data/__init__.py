"""The course's files and the datasets made from them.

- `tsv`       the file format: one record per line, strict csv, the header's columns
- `reader`    read a task's file (or rows in memory), reporting every bad row
- `datasets`  which folder and file; labelled / unlabelled dataset classes
- `download`  fetch the course's files (`python -m mtlab download`), over `transfer`
  (one file over HTTP: resumed, bounded, checked, renamed) against `manifest` (git blob ids)
"""

from mtlab.data.datasets import (
    PROJECT_DATA_DIR,
    SAMPLE_DIR,
    DataSource,
    LabelledPairDataset,
    LabelledSentenceDataset,
    TaskDataset,
    UnlabelledPairDataset,
    UnlabelledSentenceDataset,
    all_sentences,
    load_dataset,
    resolve_data_dir,
    to_dataframe,
    warn_if_shared_ids,
)
from mtlab.data.reader import DataFormatError, RowProblem

__all__ = [
    "PROJECT_DATA_DIR",
    "SAMPLE_DIR",
    "DataFormatError",
    "DataSource",
    "LabelledPairDataset",
    "LabelledSentenceDataset",
    "RowProblem",
    "TaskDataset",
    "UnlabelledPairDataset",
    "UnlabelledSentenceDataset",
    "all_sentences",
    "load_dataset",
    "resolve_data_dir",
    "to_dataframe",
    "warn_if_shared_ids",
]
