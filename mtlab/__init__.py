"""mtlab: a hands-on lab for multitask BERT (sentiment, paraphrase, similarity).

The package follows a run from the task table to the scores, one stage per entry; each stage
imports only the stages above it in this list:

- `mtlab.tasks`          the task table: files, columns, labels, metric, head of each task
- `mtlab.data`           the course's files and datasets: format, reader, folders, download
- `mtlab.batching`       batches, length buckets, several tasks' loaders interleaved
- `mtlab.runtime`        seeds, the processor's bf16 units, the device, torchrun's processes
- `mtlab.encoder`        the shared BERT encoder (pretrain = frozen, finetune = trained)
- `mtlab.feature_cache`  the frozen encoder's vectors, kept in memory and on disk
- `mtlab.heads`          the `Head` interface, one head per kind of task, checked losses
- `mtlab.model`          MultitaskBert: the encoder plus one head per task
- `mtlab.evaluation`     dev scores, prediction files, the submission zip
- `mtlab.extensions`     gradient surgery, SMART, further pretraining (off by default)
- `mtlab.training`       config, steps, optimizer, history, early stopping, checkpoints, `train`
- `mtlab.experiment`     the full pretrain -> finetune run behind `python -m mtlab`

Beside the chain, for looking inside:

- `mtlab.debugging`      gradient tracing, graph breaks, head checks, interference, plots, widgets
- `mtlab.artifacts`      the course-data results committed under results/, for the notebooks
- `mtlab.exercises`      the notebooks' exercise checks, one module per notebook topic; its
                         guard and registry of mistakes (`exercises.mistakes`) import nothing
                         else of mtlab, so that `debugging.checks` judges heads with them

Evaluation sits above the model and below training because early stopping scores dev with it.
The measurement tools (speed, peers, extension costs) are not part of the lab: `bench/`.
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
from mtlab.heads.kinds import Head, ParaphraseHead, RegressionHead, SentimentHead, SimilarityHead
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
