"""mtlab: a hands-on lab for multitask BERT (sentiment, paraphrase, similarity).

The pieces, one module per idea, in the order the notebooks meet them:

- `mtlab.data`       read the course's files into labelled / unlabelled datasets
- `mtlab.batching`   batches, and one stream of steps over three tasks
- `mtlab.encoder`    the shared BERT encoder (pretrain = frozen, finetune = trained)
- `mtlab.feature_cache` the frozen encoder's vectors, kept on disk between runs
- `mtlab.heads`      one head per task, with the seed project's failed variants
- `mtlab.losses`     losses that check shapes and dtypes before computing
- `mtlab.model`      MultitaskBert: the encoder plus the three heads
- `mtlab.train`      training, evaluation, predictions, checkpoints
- `mtlab.experiment` the full pretrain -> finetune run behind `python -m mtlab`
"""

from mtlab.batching import Batch, MultitaskBatches, collate, make_loader
from mtlab.data import (
    DataFormatError,
    LabelledPairDataset,
    LabelledSentenceDataset,
    UnlabelledPairDataset,
    UnlabelledSentenceDataset,
    load_dataset,
    resolve_data_dir,
)
from mtlab.encoder import Encoder, ModelNotFoundError
from mtlab.experiment import LabConfig, run_lab
from mtlab.heads import ParaphraseHead, SentimentHead, SimilarityHead
from mtlab.losses import TaskLossError
from mtlab.model import TASKS, MultitaskBert
from mtlab.train import TrainConfig, evaluate, load_checkpoint, save_checkpoint, train

__all__ = [
    "TASKS", "Batch", "DataFormatError", "Encoder", "LabConfig", "LabelledPairDataset",
    "LabelledSentenceDataset", "ModelNotFoundError", "MultitaskBatches", "MultitaskBert",
    "ParaphraseHead", "SentimentHead", "SimilarityHead", "TaskLossError", "TrainConfig",
    "UnlabelledPairDataset", "UnlabelledSentenceDataset", "collate", "evaluate",
    "load_checkpoint", "load_dataset", "make_loader", "resolve_data_dir", "run_lab",
    "save_checkpoint", "train",
]  # fmt: skip
