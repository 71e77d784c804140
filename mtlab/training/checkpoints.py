"""Checkpoints: a trained model to load later, and a training state to resume from.

A model checkpoint records the encoder and, for every head, its class and the options
that rebuild it, so `load_checkpoint(path)` rebuilds the course heads by itself and
`load_checkpoint(path, model)` fills a model that has heads of your own. Head classes
come from a fixed table (`mtlab.heads.HEAD_CLASSES`), never from a name imported out of
the file, and every file is read with torch.load(weights_only=True): a checkpoint can
hold tensors and plain values, never code.

Files are written to a temporary name and then renamed, so an interrupted write never
leaves half a checkpoint behind.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import torch

from mtlab.encoder import ModelNotFoundError
from mtlab.heads.kinds import HEAD_CLASSES
from mtlab.model import MultitaskBert


class CheckpointError(RuntimeError):
    """A checkpoint file is missing, damaged, or does not fit the model it is loaded into."""


def save_checkpoint(model: MultitaskBert, path: str | Path, **info) -> None:
    """Save weights plus plain settings; loads with torch.load(weights_only=True)."""
    state = {
        "state_dict": model.state_dict(),
        "encoder": model.encoder.name,
        "pooling": model.encoder.pooling,
        "max_length": model.encoder.max_length,
        "heads": {
            t: {"class": type(h).__name__, "options": h.options()} for t, h in model.heads.items()
        },
        "mode": model.mode,
        **info,
    }
    write_atomically(state, Path(path))


def load_checkpoint(path: str | Path, model: MultitaskBert | None = None) -> MultitaskBert:
    """Load a checkpoint into `model`, or into a new model built from its settings (eval mode)."""
    state = load_checkpoint_state(path)
    if "state_dict" not in state or not isinstance(state.get("heads"), dict):
        raise CheckpointError(
            f"{path} is not a checkpoint written by mtlab's save_checkpoint: it holds the keys "
            f"{sorted(state)[:8]}. A bare torch.save(model.state_dict()) file loads with "
            "model.load_state_dict(torch.load(path, weights_only=True))."
        )
    heads = state["heads"]
    if any(not isinstance(record, dict) for record in heads.values()):
        raise CheckpointError(
            f"{path} was written by an older mtlab that did not record its "
            "heads' options; train again to get a checkpoint this one reads"
        )
    if model is None:
        model = _build_model(path, state)
    _check_heads(path, heads, model)
    try:
        model.load_state_dict(state["state_dict"])
    except RuntimeError as e:  # tensor shapes differ: another encoder, other head sizes
        raise CheckpointError(f"{path} does not fit this model: {_first_lines(e)}") from None
    model.set_mode(state["mode"])
    model.forget_features()  # new weights: vectors cached from the old ones are stale
    return model.eval()  # ready to predict, like transformers' from_pretrained (train() undoes it)


def _build_model(path, state: dict) -> MultitaskBert:
    """A model with the checkpoint's encoder and heads, each rebuilt from its recorded options."""
    unknown = {t: r["class"] for t, r in state["heads"].items() if r["class"] not in HEAD_CLASSES}
    if unknown:
        raise CheckpointError(
            f"{path} holds heads that mtlab cannot rebuild by itself: {unknown}. Build a model "
            "with those heads (model.add_head(task, YourHead(...))) and call "
            "load_checkpoint(path, model)."
        )
    encoder = None if state["encoder"] == "all-MiniLM-L6-v2" else state["encoder"]
    try:
        model = MultitaskBert.from_pretrained(
            encoder, pooling=state["pooling"], max_length=state["max_length"]
        )
    except ModelNotFoundError as e:
        raise CheckpointError(
            f"{path} was trained on the encoder {state['encoder']!r}, which cannot be loaded "
            f"here ({str(e).splitlines()[0]}). Build a model on a copy of that encoder and call "
            "load_checkpoint(path, model)."
        ) from None
    for task in [t for t in model.heads if t not in state["heads"]]:
        del model.heads[task]
    for task, record in state["heads"].items():
        model.add_head(task, _rebuild_head(path, task, record))
    return model


def _rebuild_head(path, task: str, record: dict):
    """A course head from its recorded class and options; an option it does not take (a file
    edited by hand, or written by another mtlab) is named, not left to a raw TypeError."""
    head_class = HEAD_CLASSES[record["class"]]
    options = record.get("options")
    if not isinstance(options, dict):
        raise CheckpointError(f"{path}: the {task!r} head's options are {options!r}, not a dict")
    try:
        return head_class(**options)
    except (TypeError, ValueError) as e:
        raise CheckpointError(
            f"{path}: the {task!r} head ({record['class']}) cannot be rebuilt from its saved "
            f"options {options}: {_first_lines(e, 1)}. Was the file written by another version "
            "of mtlab, or edited?"
        ) from None


def _check_heads(path, heads: dict, model: MultitaskBert) -> None:
    """The same tasks, head classes and options on both sides, or an error naming them."""
    saved, given = list(heads), list(model.heads)
    if set(saved) != set(given):
        raise CheckpointError(
            f"{path} holds heads for {saved} but the model has heads for {given}: add or remove "
            "heads so they match, or call load_checkpoint(path) alone to rebuild the model"
        )
    for task, record in heads.items():
        head = model.heads[task]
        if type(head).__name__ != record["class"]:
            raise CheckpointError(
                f"{path}: the {task!r} head was saved as a {record['class']}, "
                f"but the model's is a {type(head).__name__}"
            )
        saved_options, options = record["options"], head.options()
        # how the head is trained (CoSENT, a ranking loss) never changes what the weights compute
        differ = [
            f"{k}={saved_options.get(k)!r} (the model's: {options.get(k)!r})"
            for k in sorted(set(saved_options) | set(options))
            if saved_options.get(k) != options.get(k) and k not in head.training_options
        ]
        if differ:
            raise CheckpointError(
                f"{path}: the {task!r} head was saved with {', '.join(differ)}: the same weights "
                "would give other outputs. Build the head with the saved options, or call "
                "load_checkpoint(path) alone."
            )


def _first_lines(error: Exception, n: int = 4) -> str:
    return " ".join(str(error).splitlines()[:n])


def load_checkpoint_state(path: str | Path) -> dict:
    """The raw contents of a checkpoint: torch.load with weights_only=True, damage reported."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # damaged bytes make torch's unpickler fail in many ways
        raise CheckpointError(
            f"{path} ({path.stat().st_size:,} bytes) is not a readable checkpoint: it is "
            f"truncated or corrupted ({type(e).__name__}: {str(e)[:200]}). Delete it to start "
            "that phase over."
        ) from e
    if not isinstance(state, dict):
        raise CheckpointError(f"{path} holds a {type(state).__name__}, not a checkpoint dict")
    return state


def write_atomically(state: dict, path: Path) -> None:
    """Write to a temporary file, then rename: an interrupted write (or a full disk) never
    leaves half a checkpoint; the previous one stays."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    try:
        torch.save(state, tmp)
        os.replace(tmp, path)
    except (OSError, RuntimeError) as e:  # torch reports a full disk as a RuntimeError
        tmp.unlink(missing_ok=True)
        raise CheckpointError(
            f"could not write the checkpoint {path} ({_first_lines(e, 1)}): nothing half-written "
            "is left and an earlier checkpoint there is intact; free some space and run again"
        ) from None


# ------------------------------------------------------------ resuming a training run


def save_training_state(
    path, model, optimizer, scheduler, step: int, log, best, record: dict | None = None
) -> None:
    """Everything needed to continue a phase exactly where it stopped, and the run's record."""
    state = {
        "best": best.state_dict(),
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "step": step,
        **log.state_dict(),
        "rng": get_rng_state(),
    }
    if record is not None:
        state["run"] = record
    write_atomically(state, Path(path))


def resume_training(path, model, optimizer, scheduler, log, best, stream) -> int:
    """Load a saved training state, replay the data order up to it; the step it was at."""
    state = load_checkpoint_state(path)
    saved = list(dict.fromkeys(k.split(".")[1] for k in state["model"] if k.startswith("heads.")))
    if saved != list(model.heads):
        raise CheckpointError(
            f"{path} was saved for another model: it holds heads for {saved}, "
            f"the model has heads for {list(model.heads)}"
        )
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as e:
        raise CheckpointError(f"{path} was saved for another model: {_first_lines(e)}") from None
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    log.load_state_dict(state)
    if "best" in state:  # saved by a version that scored dev during training
        best.load_state_dict(state["best"])
    for _ in range(state["step"]):  # the same batches in the same order, computing nothing
        next(stream)
    set_rng_state(state["rng"])
    return state["step"]


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
