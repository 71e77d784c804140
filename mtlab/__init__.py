"""mtlab: a hands-on lab for multitask BERT (sentiment, paraphrase, similarity).

The pieces, one module per idea, in the order the notebooks meet them:

- `mtlab.tasks`         the task table: files, columns, labels, metric, head of each task
- `mtlab.data.tsv`           the file format: one record per line, strict csv, the header's columns
- `mtlab.data.reader`        read a task's file (or rows in memory), reporting every bad row
- `mtlab.data`          which folder and file; labelled / unlabelled dataset classes
- `mtlab.batching`      batches, and one stream of steps over several tasks
- `mtlab.encoder`       the shared BERT encoder (pretrain = frozen, finetune = trained)
- `mtlab.feature_cache` the frozen encoder's vectors, kept in memory and on disk
- `mtlab.heads.base`          the `Head` interface every task head provides
- `mtlab.heads`         one head per course task, the seed's failed variants
- `mtlab.heads.losses`        losses that check shapes and dtypes before computing
- `mtlab.model`         MultitaskBert: the encoder plus one head per task
- `mtlab.debugging.gradients`     trace a loss back to the parameters; who got a gradient
- `mtlab.debugging.graph_breaks`  find where a forward pass leaves the autograd graph
- `mtlab.debugging.checks`        check a head on random vectors before training it
- `mtlab.training`      `train` (one phase, all tasks) and `training_step`
- `mtlab.extensions.surgery`       combine the tasks' encoder gradients with torchjd (PCGrad, UPGrad, ...)
- `mtlab.extensions.smart`         SMART: a penalty for outputs that jump under small input perturbations
- `mtlab.extensions.further_pretrain` a masked-LM pass on the tasks' sentences; an encoder folder
- `mtlab.training.history`       the history table: mean loss per task every few steps, dev scores
- `mtlab.training.early_stopping` score dev during training, keep the best weights
- `mtlab.evaluation`    `evaluate`, `run_model`, `write_predictions`
- `mtlab.training.checkpoints`   save and load models; save and resume training states
- `mtlab.runtime`   the device, and torchrun's processes
- `mtlab.runtime`      the processor and its bf16 units (`--precision auto`)
- `mtlab.experiment`    the full pretrain -> finetune run behind `python -m mtlab`
- `mtlab.debugging.plots`, `mtlab.debugging.widgets`  pictures and interactive tools for the notebooks
- `mtlab.debugging.interference`  how much the tasks' gradients agree (notebook 06)
- `mtlab.evaluation.submission`    the course's prediction files; `python -m mtlab submit`
- `mtlab.exercises`     the notebooks' exercise checks, one module per notebook topic
- `mtlab.data.download`      fetch the course's files (`python -m mtlab download`)
- `mtlab.data.transfer`      one file over HTTP: resumed, bounded, checked, renamed
- `mtlab.data.manifest`      the course files' git blob ids and sizes
- `mtlab.bench`         speed against naive loops (`python -m mtlab.bench`)
- `mtlab.peers`         the tools a student would pick instead, for the bench (`--peers`)
"""

from mtlab.batching import Batch, MultitaskBatches, collate, make_loader
from mtlab.data.datasets import (
    DataFormatError,
    LabelledPairDataset,
    LabelledSentenceDataset,
    UnlabelledPairDataset,
    UnlabelledSentenceDataset,
    load_dataset,
    resolve_data_dir,
    to_dataframe,
)
from mtlab.debugging.checks import HeadCheck, check_head
from mtlab.debugging.gradients import gradient_report, plot_gradient_flow, trace_backward
from mtlab.debugging.graph_breaks import GraphBreakDetector
from mtlab.encoder import Encoder, ModelNotFoundError
from mtlab.evaluation.predictions import evaluate, one_class_warning, run_model, write_predictions
from mtlab.experiment import LabConfig, comparison_table, run_lab
from mtlab.feature_cache import FeatureCache
from mtlab.heads.base import Head
from mtlab.heads.kinds import ParaphraseHead, RegressionHead, SentimentHead, SimilarityHead
from mtlab.heads.losses import TaskLossError
from mtlab.model import MultitaskBert
from mtlab.runtime import set_seed
from mtlab.tasks import TASKS, Task, UnknownTaskError, get_task, known_tasks, register_task
from mtlab.training.checkpoints import CheckpointError, load_checkpoint, save_checkpoint
from mtlab.training.config import TrainConfig
from mtlab.training.loop import NothingToTrainError, train, training_step

__all__ = [
    "TASKS",
    "Batch",
    "CheckpointError",
    "DataFormatError",
    "Encoder",
    "FeatureCache",
    "GraphBreakDetector",
    "Head",
    "HeadCheck",
    "LabConfig",
    "LabelledPairDataset",
    "LabelledSentenceDataset",
    "ModelNotFoundError",
    "MultitaskBatches",
    "MultitaskBert",
    "NothingToTrainError",
    "ParaphraseHead",
    "RegressionHead",
    "SentimentHead",
    "SimilarityHead",
    "Task",
    "TaskLossError",
    "TrainConfig",
    "UnknownTaskError",
    "UnlabelledPairDataset",
    "UnlabelledSentenceDataset",
    "check_head",
    "collate",
    "comparison_table",
    "evaluate",
    "get_task",
    "gradient_report",
    "known_tasks",
    "load_checkpoint",
    "load_dataset",
    "make_loader",
    "one_class_warning",
    "plot_gradient_flow",
    "register_task",
    "resolve_data_dir",
    "run_lab",
    "run_model",
    "save_checkpoint",
    "set_seed",
    "to_dataframe",
    "trace_backward",
    "train",
    "training_step",
    "write_predictions",
]
