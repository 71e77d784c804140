"""Task heads and their losses: what turns sentence vectors into a task's answer.

- `base`    the `Head` interface every head provides (its loss, its predictions, its inputs)
- `kinds`   one head class per kind of task in the table (`Task.head`), built from its entry
- `losses`  losses that check shapes and dtypes before computing
"""

from mtlab.heads.base import Head
from mtlab.heads.kinds import (
    HEAD_CLASSES,
    ParaphraseHead,
    RegressionHead,
    SentimentHead,
    SimilarityHead,
    default_head,
)
from mtlab.heads.losses import TaskLossError

__all__ = [
    "HEAD_CLASSES",
    "Head",
    "ParaphraseHead",
    "RegressionHead",
    "SentimentHead",
    "SimilarityHead",
    "TaskLossError",
    "default_head",
]
