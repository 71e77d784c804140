"""Training, evaluation, prediction and checkpoints for MultitaskBert.

`train` runs one phase (pretrain or finetune) over all tasks at once and returns its
history: a row every `log_every` steps with each task's mean loss, the learning rate and
the gradient norm (the seed logged once per 1000 steps and could not see training move:
mistake 8). `evaluate` gives one score per task; `predict` writes the course's format.
"""

from __future__ import annotations

import os
import random
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy.stats import pearsonr
from tqdm.auto import tqdm

from mtlab.batching import MultitaskBatches, make_loader
from mtlab.model import MultitaskBert

METRICS = {"sst": "accuracy", "quora": "accuracy", "sts": "pearson", "cfimdb": "accuracy"}
PREDICTION_COLUMNS = {
    "sst": "Predicted_Sentiment",
    "quora": "Predicted_Is_Paraphrase",
    "sts": "Predicted_Similarity",
    "cfimdb": "Predicted_Sentiment",
}


class NothingToTrainError(RuntimeError):
    """A task has no trainable parameter in this mode, so backward() would fail (mistake 4)."""


@dataclass
class TrainConfig:
    """Settings of one training phase. Defaults suit pretrain; finetune wants lr ~2e-5."""

    epochs: int = 1
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 0.01
    warmup: float = 0.1  # fraction of steps with a linearly rising learning rate
    schedule: str = "round_robin"
    log_every: int = 10
    max_steps: int | None = None  # stop early (quick runs); None = all epochs
    grad_clip: float = 1.0
    seed: int = 0


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and PyTorch so a run can be repeated number for number."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def pick_device(device: str = "auto") -> torch.device:
    """'auto' takes CUDA, then Apple's MPS, then the CPU."""
    if device != "auto":
        return torch.device(device)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def check_trainable(model: MultitaskBert, tasks) -> None:
    """Fail early, in words, if some task's loss could not be backpropagated."""
    if model.mode == "finetune":
        return
    for task in tasks:
        if not any(p.requires_grad for p in model.heads[task].parameters()):
            raise NothingToTrainError(
                f"In {model.mode} mode the encoder is frozen and the {task!r} head has no trainable "
                f"parameters, so its loss has no gradient and loss.backward() would fail with "
                "'element 0 of tensors does not require grad and does not have a grad_fn'. Give "
                "the head parameters (e.g. SimilarityHead(projection=True)), leave the task out "
                "of this phase, or use finetune mode."
            )


def all_sentences(datasets: Mapping) -> list[str]:
    """Every sentence of every dataset (for filling the frozen-encoder cache)."""
    sentences = []
    for dataset in datasets.values():
        for example in dataset:
            sentences += [
                example[k] for k in ("sentence", "sentence1", "sentence2") if k in example
            ]
    return sentences


def train(
    model: MultitaskBert,
    train_sets: Mapping,
    config: TrainConfig | None = None,
    *,
    progress: bool = True,
    phase: str | None = None,
    on_log: Callable[[pd.DataFrame], None] | None = None,
) -> pd.DataFrame:
    """Train all tasks of `train_sets` together for one phase; return the history table.

    `on_log`, if given, is called with the history so far every `log_every` steps (for
    live plots such as `mtlab.plots.LiveLossPlot`).
    """
    config = config or TrainConfig()
    phase = phase or model.mode
    set_seed(config.seed)
    check_trainable(model, train_sets)
    if model.encoder.frozen and not any(
        getattr(h, "cross_encodes", False) for h in model.heads.values()
    ):
        model.encoder.warm_cache(all_sentences(train_sets), progress=progress)

    loaders = {
        task: make_loader(ds, config.batch_size, shuffle=True, seed=config.seed + i)
        for i, (task, ds) in enumerate(train_sets.items())
    }
    batches = MultitaskBatches(loaders, config.schedule, seed=config.seed)
    total = len(batches) * config.epochs
    if config.max_steps is not None:
        total = min(total, config.max_steps)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    warmup = max(1, int(config.warmup * total))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / max(1, total - warmup)))
    )

    device = next(model.parameters()).device
    history, pending = [], defaultdict(list)
    model.train()
    step = 0
    bar = tqdm(total=total, desc=phase, disable=not progress, unit="step")
    for _ in range(config.epochs):
        for task, batch in batches:
            output = model(task, batch)
            loss = model.loss(task, output, batch["labels"].to(device))
            optimizer.zero_grad()
            loss.backward()
            grad_norm = torch.nn.utils.clip_grad_norm_(params, config.grad_clip)
            optimizer.step()
            scheduler.step()
            step += 1
            pending[task].append(loss.item())
            if step % config.log_every == 0 or step == total:
                lr = scheduler.get_last_lr()[0]
                for t, losses in pending.items():
                    history.append(
                        dict(phase=phase, step=step, epoch=step / len(batches), task=t,
                             loss=float(np.mean(losses)), lr=lr, grad_norm=float(grad_norm))
                    )  # fmt: skip
                bar.set_postfix({t: f"{np.mean(v):.3f}" for t, v in pending.items()})
                pending.clear()
                if on_log is not None:
                    on_log(pd.DataFrame(history))
            bar.update()
            if step >= total:
                break
        if step >= total:
            break
    bar.close()
    model.eval()
    return pd.DataFrame(history)


@torch.inference_mode()
def run_model(model: MultitaskBert, task: str, dataset, batch_size: int = 64) -> pd.DataFrame:
    """The model's predictions (and gold labels, where the dataset has them) for a dataset."""
    model.eval()
    rows = defaultdict(list)
    for batch in make_loader(dataset, batch_size, shuffle=False):
        prediction = model.predict(task, model(task, batch)).cpu()
        rows["id"] += batch["ids"]
        rows["prediction"] += prediction.tolist()
        if "labels" in batch:
            rows["label"] += batch["labels"].tolist()
    return pd.DataFrame(rows)


def score(task: str, predictions: pd.DataFrame) -> float:
    """Accuracy for classification tasks, Pearson r for STS."""
    if METRICS[task] == "pearson":
        return float(pearsonr(predictions["prediction"], predictions["label"]).statistic)
    return float((predictions["prediction"] == predictions["label"]).mean())


def evaluate(model: MultitaskBert, dev_sets: Mapping, batch_size: int = 64) -> dict[str, float]:
    """One score per task: {'sst': accuracy, 'quora': accuracy, 'sts': pearson}."""
    return {
        task: score(task, run_model(model, task, ds, batch_size)) for task, ds in dev_sets.items()
    }


def write_predictions(model: MultitaskBert, task: str, dataset, path: str | Path) -> pd.DataFrame:
    """Predictions for an (unlabelled) test file, as the course wants them: id, prediction."""
    predictions = run_model(model, task, dataset)[["id", "prediction"]]
    if METRICS[task] == "pearson":  # the course's similarity scale is 0-5
        predictions["prediction"] = predictions["prediction"].clip(0.0, 5.0).round(3)
    predictions = predictions.rename(columns={"prediction": PREDICTION_COLUMNS[task]})
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    predictions.to_csv(path, index=False)
    return predictions


def save_checkpoint(model: MultitaskBert, path: str | Path, **info) -> None:
    """Save weights plus plain settings; loads with torch.load(weights_only=True).

    Written to a temporary file first and then renamed, so a crash mid-write never
    leaves a half-written checkpoint behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "state_dict": model.state_dict(),
        "encoder": model.encoder.name,
        "pooling": model.encoder.pooling,
        "max_length": model.encoder.max_length,
        "heads": model.head_config(),
        "mode": model.mode,
        **info,
    }
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: str | Path, model: MultitaskBert | None = None) -> MultitaskBert:
    """Load a checkpoint into `model`, or into a new model built from its settings."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    if model is None:
        heads = state["heads"]
        model = MultitaskBert.from_pretrained(
            None if state["encoder"] == "all-MiniLM-L6-v2" else state["encoder"],
            pooling=state["pooling"],
            max_length=state["max_length"],
            sentiment=heads["sst"],
            paraphrase=heads["quora"],
            similarity=heads["sts"],
        )
    model.load_state_dict(state["state_dict"])
    model.set_mode(state["mode"])
    model.encoder.clear_cache()  # new weights: vectors cached from the old ones are stale
    return model
