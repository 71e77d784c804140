"""Training, evaluation, prediction and checkpoints for MultitaskBert.

`train` runs one phase (pretrain or finetune) over all tasks at once and returns its
history: a row every `log_every` steps with each task's mean loss, the learning rate and
the gradient norm (the seed logged once per 1000 steps and could not see training move:
mistake 8). `evaluate` gives one score per task; `predict` writes the course's format.
"""

from __future__ import annotations

import os
import random
import sys
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.distributed as dist
from scipy.stats import pearsonr
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import Subset
from tqdm.auto import tqdm

from mtlab.batching import Batch, MultitaskBatches, make_loader, text_length
from mtlab.heads import SimilarityHead
from mtlab.model import MultitaskBert

PRECISIONS = ("fp32", "bf16")
METRICS = {"sst": "accuracy", "quora": "accuracy", "sts": "pearson", "cfimdb": "accuracy"}
PREDICTION_COLUMNS = {
    "sst": "Predicted_Sentiment",
    "quora": "Predicted_Is_Paraphrase",
    "sts": "Predicted_Similarity",
    "cfimdb": "Predicted_Sentiment",
}


class CheckpointError(RuntimeError):
    """A checkpoint file is missing, truncated or corrupted."""


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
    checkpoint_every: int | None = None  # save the training state every N steps (see train)
    bucket: bool = True  # batches of similar-length sentences: less padding, faster
    eval_every: float | None = None  # with dev_sets: score dev every this many epochs (0.5: twice)
    keep_best: bool = True  # ... and end with the weights that scored best (early stopping)
    precision: str = "fp32"  # "bf16": autocast the forward pass (fast on GPUs and AMX CPUs)


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and PyTorch so a run can be repeated number for number."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def pick_device(device: str = "auto") -> torch.device:
    """'auto' takes CUDA, then Apple's MPS, then the CPU (under torchrun: this process's GPU)."""
    if device != "auto":
        return torch.device(device)
    if torch.cuda.is_available():
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
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


def distributed() -> tuple[int, int]:
    """(rank, world size): (0, 1) unless the process was started by torchrun."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def shard(batch: Batch, rank: int, world: int) -> tuple[Batch, float]:
    """This process's share of a batch (every world-th example) and its loss weight.

    The weight n_local * world / n makes the gradients DDP averages equal to those of the
    whole batch in one process, also when the batch does not split evenly.
    """
    n = len(batch["ids"])
    if n < world:
        raise ValueError(f"a batch of {n} examples cannot be split over {world} processes")
    part = Batch({key: value[rank::world] for key, value in batch.items()})
    return part, len(part["ids"]) * world / n


def training_steps(batches: MultitaskBatches, epochs: int) -> Iterator[tuple[str, Batch]]:
    """Every (task, batch) of every epoch, in order: one stream a run can fast-forward."""
    for _ in range(epochs):
        yield from batches


def train(
    model: MultitaskBert,
    train_sets: Mapping,
    config: TrainConfig | None = None,
    *,
    progress: bool = True,
    phase: str | None = None,
    on_log: Callable[[pd.DataFrame], None] | None = None,
    state_path: str | Path | None = None,
    resume: bool = False,
    dev_sets: Mapping | None = None,
) -> pd.DataFrame:
    """Train all tasks of `train_sets` together for one phase; return the history table.

    With `dev_sets` and `config.eval_every`, dev is scored during training (rows with a
    `dev` column in the history) and, with `config.keep_best`, the phase ends with the
    weights that scored best there, not the last ones (see BestOnDev).

    `on_log`, if given, is called with the history so far every `log_every` steps (for
    live plots such as `mtlab.plots.LiveLossPlot`). With `state_path`, the full training
    state is saved there every `config.checkpoint_every` steps; `resume=True` continues
    from it and reaches the same numbers as a run that was never stopped. Under torchrun
    each process trains on its share of every batch (DistributedDataParallel).
    """
    config = config or TrainConfig()
    if config.precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {config.precision!r}")
    if config.eval_every is not None and config.eval_every <= 0:
        raise ValueError(f"eval_every is in epochs and must be > 0, got {config.eval_every}")
    phase = phase or model.mode
    rank, world = distributed()
    set_seed(config.seed)
    check_trainable(model, train_sets)
    if model.encoder.frozen and not any(
        getattr(h, "cross_encodes", False) for h in model.heads.values()
    ):
        model.encoder.warm_cache(all_sentences(train_sets), progress=progress and rank == 0)

    loaders = {
        task: make_loader(
            ds, config.batch_size, shuffle=True, seed=config.seed + i, bucket=config.bucket
        )
        for i, (task, ds) in enumerate(train_sets.items())
    }
    batches = MultitaskBatches(loaders, config.schedule, seed=config.seed)
    total = len(batches) * config.epochs
    if config.max_steps is not None:
        total = min(total, config.max_steps)
    params = [p for p in model.parameters() if p.requires_grad]
    device = next(model.parameters()).device
    # fused: one kernel for all weights, about 5x faster than the default on CPU (README, Speed)
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay,
                                  fused=device.type in ("cpu", "cuda"))  # fmt: skip
    warmup = max(1, int(config.warmup * total))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / max(1, total - warmup)))
    )
    # One head per step: the other heads' parameters get no gradient that step.
    net = DistributedDataParallel(model, find_unused_parameters=True) if world > 1 else model

    history, pending, start = [], defaultdict(list), 0
    scoring = dev_sets is not None and config.eval_every is not None
    interval = config.eval_every * len(batches) if scoring else None  # in steps, maybe fractional
    best = BestOnDev(per_head=model.encoder.frozen)
    stream = training_steps(batches, config.epochs)
    if resume and state_path is not None and Path(state_path).exists():
        state = load_checkpoint_state(state_path)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        history, start = state["history"], state["step"]
        pending.update(state["pending"])
        if "best" in state:  # saved by a version that scored dev during training
            best.load_state_dict(state["best"])
        for _ in range(start):  # replay the data order up to the saved step, computing nothing
            next(stream)
        set_rng_state(state["rng"])
    saved = start
    model.train()
    bar = tqdm(
        total=total, initial=start, desc=phase, disable=not progress or rank > 0, unit="step"
    )
    step = start
    try:
        for task, batch in stream:
            if step >= total:
                break
            batch, weight = shard(batch, rank, world) if world > 1 else (batch, 1.0)
            with torch.autocast(device.type, torch.bfloat16, enabled=config.precision == "bf16"):
                output = net(task, batch)
            loss = model.loss(task, output.float(), batch["labels"].to(device))
            optimizer.zero_grad()
            (loss * weight).backward()
            grad_norm = torch.nn.utils.clip_grad_norm_(params, config.grad_clip)
            optimizer.step()
            scheduler.step()
            step += 1
            pending[task].append(_global_mean(loss.detach() * weight, world))
            if step % config.log_every == 0 or step == total:
                lr = scheduler.get_last_lr()[0]
                for t, losses in pending.items():
                    history.append(
                        dict(phase=phase, step=step, epoch=step / len(batches), task=t,
                             loss=float(np.mean(losses)), lr=lr, grad_norm=float(grad_norm))
                    )  # fmt: skip
                bar.set_postfix({t: f"{np.mean(v):.3f}" for t, v in pending.items()})
                pending.clear()
                if on_log is not None and rank == 0:
                    on_log(pd.DataFrame(history))
            if scoring and (step // interval > (step - 1) // interval or step == total):
                scores = evaluate(model, dev_sets)
                history += [dict(phase=phase, step=step, epoch=step / len(batches), task=t, dev=v)
                            for t, v in scores.items()]  # fmt: skip
                best.update(model, step, scores)
                model.train()
            if (
                state_path is not None
                and config.checkpoint_every
                and (step % config.checkpoint_every == 0)
            ):
                if rank == 0:
                    save_training_state(state_path, model, optimizer, scheduler, step,
                                        history, pending, best)  # fmt: skip
                saved = step
            bar.update()
    except KeyboardInterrupt:
        bar.close()
        where = f"step {saved} is saved in {state_path}" if saved else "nothing was saved"
        print(f"\ninterrupted at step {step} of {total}; {where}", file=sys.stderr)
        raise
    bar.close()
    if scoring and config.keep_best:
        best.restore(model)
        if progress and rank == 0:
            print(f"{phase}: kept the best dev scores: {best.describe()}")
    model.eval()
    return pd.DataFrame(history)


class BestOnDev:
    """Early stopping's memory: the weights that scored best on dev so far.

    In pretrain the encoder is frozen and the heads share nothing, so each head keeps its
    own best step. In finetune every head depends on the shared encoder, so the whole
    model keeps the step with the best mean dev score.
    """

    def __init__(self, per_head: bool) -> None:
        self.per_head = per_head
        self.scores: dict[str, float] = {}  # task (or "mean") -> best score so far
        self.steps: dict[str, int] = {}
        self.states: dict[str, dict] = {}

    def update(self, model: MultitaskBert, step: int, scores: Mapping[str, float]) -> None:
        candidates = scores if self.per_head else {"mean": float(np.mean(list(scores.values())))}
        for key, value in candidates.items():
            if value > self.scores.get(key, -np.inf):
                self.scores[key], self.steps[key] = value, step
                state = self._module(model, key).state_dict()
                self.states[key] = {name: t.detach().clone() for name, t in state.items()}

    def restore(self, model: MultitaskBert) -> None:
        for key, state in self.states.items():
            self._module(model, key).load_state_dict(state)

    def describe(self) -> str:
        return ", ".join(f"{k} {self.scores[k]:.3f} at step {self.steps[k]}" for k in self.scores)

    def _module(self, model: MultitaskBert, key: str) -> torch.nn.Module:
        return model.heads[key] if self.per_head else model

    def state_dict(self) -> dict:
        return {"scores": self.scores, "steps": self.steps, "states": self.states}

    def load_state_dict(self, state: dict) -> None:
        self.scores, self.steps, self.states = state["scores"], state["steps"], state["states"]


def _global_mean(weighted_loss: torch.Tensor, world: int) -> float:
    """The whole batch's mean loss: the sum of every process's weighted share / world."""
    if world > 1:
        weighted_loss = weighted_loss.clone()
        dist.all_reduce(weighted_loss)
        return weighted_loss.item() / world
    return weighted_loss.item()


@torch.inference_mode()
def run_model(model: MultitaskBert, task: str, dataset, batch_size: int = 64) -> pd.DataFrame:
    """The model's predictions (and gold labels, where the dataset has them) for a dataset."""
    model.eval()
    rows = defaultdict(list)
    # Examples of similar length share a batch (little padding); rows go back in file order.
    order = sorted(range(len(dataset)), key=lambda i: text_length(dataset[i]))
    for batch in make_loader(Subset(dataset, order), batch_size):
        prediction = model.predict(task, model(task, batch)).cpu()
        rows["id"] += batch["ids"]
        rows["prediction"] += prediction.tolist()
        if "labels" in batch:
            rows["label"] += batch["labels"].tolist()
    return pd.DataFrame(rows, index=order).sort_index().reset_index(drop=True)


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
    state = {
        "state_dict": model.state_dict(),
        "encoder": model.encoder.name,
        "pooling": model.encoder.pooling,
        "max_length": model.encoder.max_length,
        "heads": model.head_config(),
        "sts_residual": _sts_residual(model),
        "mode": model.mode,
        **info,
    }
    _write_atomically(state, Path(path))


def _write_atomically(state: dict, path: Path) -> None:
    """Write to a temporary file, then rename: an interrupted write never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def _read(path: str | Path) -> dict:
    """torch.load with weights_only=True, turning a damaged file into a clear error."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # damaged bytes make torch's unpickler fail in many ways
        raise CheckpointError(
            f"{path} ({path.stat().st_size:,} bytes) is not a readable checkpoint: it is "
            f"truncated or corrupted ({type(e).__name__}: {str(e)[:200]}). Delete it to start "
            "that phase over."
        ) from e


def _sts_residual(model: MultitaskBert) -> bool:
    """Whether the model's similarity head (if any) adds its projection to the vectors."""
    return "sts" in model.heads and getattr(model.heads["sts"], "residual", False)


def load_checkpoint_state(path: str | Path) -> dict:
    """The raw contents of a checkpoint: weights, settings, metrics, history."""
    return _read(path)


def load_checkpoint(path: str | Path, model: MultitaskBert | None = None) -> MultitaskBert:
    """Load a checkpoint into `model`, or into a new model built from its settings (eval mode)."""
    state = _read(path)
    heads = state["heads"]
    residual = state.get("sts_residual", False)  # older checkpoints: a plain projection
    if model is None:
        model = MultitaskBert.from_pretrained(
            None if state["encoder"] == "all-MiniLM-L6-v2" else state["encoder"],
            pooling=state["pooling"],
            max_length=state["max_length"],
            sentiment=heads["sst"],
            paraphrase=heads["quora"],
            similarity=heads["sts"],
        )
        hidden = model.encoder.hidden_size
        model.add_head("sts", SimilarityHead(hidden, variant=heads["sts"], residual=residual))
    if _sts_residual(model) != residual:
        raise CheckpointError(
            f"{path} holds a similarity head with residual={residual} but the model given has "
            f"residual={_sts_residual(model)}: the same weights would give other scores. Build "
            "the head with that setting, or call load_checkpoint(path) alone."
        )
    model.load_state_dict(state["state_dict"])
    model.set_mode(state["mode"])
    model.encoder.clear_cache()  # new weights: vectors cached from the old ones are stale
    return model.eval()  # ready to predict, like transformers' from_pretrained (train() undoes it)


def get_rng_state() -> dict:
    """Every random number generator's state, in types torch.load(weights_only=True) accepts."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    state = {
        "torch": torch.get_rng_state(),
        "python": random.getstate(),
        "numpy": (kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, gauss),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    random.setstate(state["python"])
    kind, keys, pos, has_gauss, gauss = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_training_state(
    path, model, optimizer, scheduler, step, history, pending, best: BestOnDev
) -> None:
    """Everything needed to continue a phase exactly where it stopped."""
    state = {
        "best": best.state_dict(),
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "step": step,
        "history": history,
        "pending": dict(pending),
        "rng": get_rng_state(),
    }
    _write_atomically(state, Path(path))
