"""mtlab: a hands-on lab for multitask BERT (sentiment, paraphrase, similarity).

The pieces, one module per idea, in the order the notebooks meet them:

- `mtlab.tasks`         the task table: files, columns, labels, metric, head of each task
- `mtlab.tsv`           the file format: one record per line, strict csv, the header's columns
- `mtlab.reader`        read a task's file (or rows in memory), reporting every bad row
- `mtlab.data`          which folder and file; labelled / unlabelled dataset classes
- `mtlab.batching`      batches, and one stream of steps over several tasks
- `mtlab.encoder`       the shared BERT encoder (pretrain = frozen, finetune = trained)
- `mtlab.feature_cache` the frozen encoder's vectors, kept in memory and on disk
- `mtlab.head`          the `Head` interface every task head provides
- `mtlab.heads`         one head per course task, the seed's failed variants
- `mtlab.losses`        losses that check shapes and dtypes before computing
- `mtlab.model`         MultitaskBert: the encoder plus one head per task
- `mtlab.gradients`     trace a loss back to the parameters; who got a gradient
- `mtlab.graph_breaks`  find where a forward pass leaves the autograd graph
- `mtlab.checks`        check a head on random vectors before training it
- `mtlab.training`      `train` (one phase, all tasks) and `training_step`
- `mtlab.surgery`       combine the tasks' encoder gradients with torchjd (PCGrad, UPGrad, ...)
- `mtlab.smart`         SMART: a penalty for outputs that jump under small input perturbations
- `mtlab.further_pretrain` a masked-LM pass on the tasks' sentences; an encoder folder
- `mtlab.history`       the history table: mean loss per task every few steps, dev scores
- `mtlab.early_stopping` score dev during training, keep the best weights
- `mtlab.evaluation`    `evaluate`, `run_model`, `write_predictions`
- `mtlab.checkpoints`   save and load models; save and resume training states
- `mtlab.distributed`   the device, and torchrun's processes
- `mtlab.hardware`      the processor and its bf16 units (`--precision auto`)
- `mtlab.experiment`    the full pretrain -> finetune run behind `python -m mtlab`
- `mtlab.plots`, `mtlab.widgets`  pictures and interactive tools for the notebooks
- `mtlab.interference`  how much the tasks' gradients agree (notebook 06)
- `mtlab.submission`    the course's prediction files; `python -m mtlab submit`
- `mtlab.exercises`     the notebooks' exercise checks, one module per notebook topic
- `mtlab.download`      fetch the course's files (`python -m mtlab download`)
- `mtlab.transfer`      one file over HTTP: resumed, bounded, checked, renamed
- `mtlab.manifest`      the course files' git blob ids and sizes
"""

from mtlab.batching import Batch, MultitaskBatches, collate, make_loader
from mtlab.checkpoints import CheckpointError, load_checkpoint, save_checkpoint
from mtlab.checks import HeadCheck, check_head
from mtlab.data import (
    DataFormatError,
    LabelledPairDataset,
    LabelledSentenceDataset,
    UnlabelledPairDataset,
    UnlabelledSentenceDataset,
    load_dataset,
    resolve_data_dir,
    to_dataframe,
)
from mtlab.encoder import Encoder, ModelNotFoundError
from mtlab.evaluation import evaluate, one_class_warning, run_model, write_predictions
from mtlab.experiment import LabConfig, comparison_table, run_lab
from mtlab.feature_cache import FeatureCache
from mtlab.gradients import gradient_report, plot_gradient_flow, trace_backward
from mtlab.graph_breaks import GraphBreakDetector
from mtlab.head import Head
from mtlab.heads import ParaphraseHead, RegressionHead, SentimentHead, SimilarityHead
from mtlab.losses import TaskLossError
from mtlab.model import TASKS, MultitaskBert
from mtlab.tasks import Task, UnknownTaskError, get_task, known_tasks, register_task
from mtlab.training import NothingToTrainError, TrainConfig, set_seed, train, training_step

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
