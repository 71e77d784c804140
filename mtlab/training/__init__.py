"""Training: one phase (pretrain or finetune) over all tasks at once.

- `config`          TrainConfig, the settings of a phase, checked before any work
- `steps`           which batch of which task each step trains on, and how many steps
- `optimizer`       AdamW with warm-up and decay (layer decay, the heads' own rate)
- `history`         the history table (a row every few steps) and the phase's clock
- `early_stopping`  score dev during training and keep the best weights
- `checkpoints`     save and load models; save and resume training states
- `estimate`        how long a run will take here, timed on a few of its own steps
- `loop`            `train` (the phase) and `training_step` (one optimizer step)
"""

from mtlab.training.config import TrainConfig
from mtlab.training.loop import NothingToTrainError, train, training_step

__all__ = ["NothingToTrainError", "TrainConfig", "train", "training_step"]
