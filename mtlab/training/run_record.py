"""What a run's checkpoints were made from, so that `--resume` continues only the same run.

Every checkpoint `python -m mtlab` writes holds a record: the options that change what the
run learns (data folder, encoder, heads, seeds, limits, schedules, learning rates) and the
identity of its data (each task's split: where it came from, the rows used, a digest of its
file). `--resume` compares the saved record with the run asked for. A difference in what is
learned is refused, one line per difference; a different machine that resolves the precision
differently (bf16 units here, none there) or another device is reported and allowed, since
only the last digits change. A checkpoint saved before records existed resumes with a warning.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

import torch

from mtlab.feature_cache import fingerprint
from mtlab.runtime import resolve_precision
from mtlab.training.checkpoints import CheckpointError, load_checkpoint_state

KEY = "run"  # where a checkpoint keeps its record
# options that change how a run reports, where it writes or when it stops, not what it learns
NOT_COMPARED = {
    "data_dir",  # compared by what it holds (data_identity): a moved folder is the same data
    "encoder",  # compared by its weights and tokenizer (a fingerprint), wherever it lies
    "output_dir",
    "resume",
    "feature_cache",
    "device",
    "log_every",
    "checkpoint_every",
    "budget_minutes",
    "precision",
}
PHASES = ("pretrain", "finetune")


def run_record(config, encoder, train_sets: dict, dev_sets: dict, device: torch.device) -> dict:
    """The record of a run of `config` (a LabConfig) from this encoder (its weights before
    training), on these datasets and this device."""
    options = {}
    for name, value in asdict(config).items():
        if name in PHASES:
            options.update({f"{name}.{k}": v for k, v in value.items() if k not in NOT_COMPARED})
        elif name not in NOT_COMPARED:
            options[name] = value
    data = {f"{task} train": data_identity(ds) for task, ds in train_sets.items()}
    data.update({f"{task} dev": data_identity(ds) for task, ds in dev_sets.items()})
    machine = {"device": device.type}
    for phase in PHASES:
        precision = getattr(config, phase).precision
        machine[f"{phase} precision"] = resolve_precision(precision, device)
    weights = fingerprint(encoder.bert, encoder.tokenizer, encoder.pooling, encoder.max_length)
    encoder_record = {"name": encoder.name, "fingerprint": weights}
    return {"options": options, "encoder": encoder_record, "data": data, "machine": machine}


def phase_record(record: dict, phase: str) -> dict:
    """What one phase's result depends on: pretrain never sees finetune's options, finetune
    starts from pretrain's weights and so depends on everything."""
    if phase == "finetune":
        return record
    options = {
        k: v
        for k, v in record["options"].items()
        if not k.startswith("finetune.") and k != "finetune_limit"
    }
    machine = {k: v for k, v in record["machine"].items() if not k.startswith("finetune")}
    return {**record, "options": options, "machine": machine}


def data_identity(dataset) -> dict:
    """Where a dataset's rows came from, how many are used, and a digest of its source: the
    file's bytes (any change to the file counts), or the rows themselves when in memory."""
    source = getattr(dataset, "dataset", dataset)  # a random subset keeps its dataset here
    path = getattr(source, "path", None)
    if path is not None:
        with open(path, "rb") as file:
            digest = hashlib.file_digest(file, "sha256")
    else:
        rows = [source[i] for i in range(len(source))]
        digest = hashlib.sha256(json.dumps(rows, sort_keys=True, default=str).encode())
    return {
        "path": str(Path(path).resolve()) if path is not None else "in memory",
        "rows": len(dataset),
        "digest": digest.hexdigest()[:16],
    }


def check_resume(folder: Path, record: dict, say=print) -> None:
    """Refuse to resume from checkpoints in `folder` that another run wrote; report machine
    changes; warn about checkpoints too old to hold a record. Quiet when nothing is saved."""
    saved_files = [
        (phase, folder / f"{phase}{kind}.pt")
        for phase in PHASES
        for kind in ("", "-state")
        if (folder / f"{phase}{kind}.pt").exists()
    ]
    if not saved_files:
        say(f"note: --resume: no checkpoints in {folder}: starting from the beginning")
    for phase, path in saved_files:
        saved, record_now = load_checkpoint_state(path).get(KEY), phase_record(record, phase)
        if saved is None:
            say(
                f"warning: {path} was saved by an older mtlab that did not record its run's "
                "options and data: nothing could be compared; resuming as asked"
            )
            continue
        differences = compare(saved, record_now)
        if differences:
            lines = "\n".join(f"  - {line}" for line in differences)
            raise CheckpointError(
                f"--resume: {path} was saved by another run; what differs:\n{lines}\n"
                f"Run the same options again to resume, drop --resume to start over in "
                f"{folder.parent} (its checkpoints are replaced), or choose another --output-dir."
            )
        for name, value in saved["machine"].items():
            if record_now["machine"].get(name) != value:
                say(
                    f"note: {path} was saved with {name} {value}; here it is "
                    f"{record_now['machine'].get(name)}: resuming with that, so the last digits "
                    "of the results may differ from a run never stopped"
                )


def compare(saved: dict, now: dict) -> list[str]:
    """One line per option or dataset that differs between a saved record and this run."""
    lines = []
    for name in sorted(set(saved["options"]) | set(now["options"])):
        old, new = saved["options"].get(name), now["options"].get(name)
        if old != new:
            flag = name.replace(".", "-").replace("_", "-")
            lines.append(f"--{flag}: saved {old!r}, now {new!r}")
    if saved["encoder"]["fingerprint"] != now["encoder"]["fingerprint"]:
        names = f"saved {saved['encoder']['name']}, now {now['encoder']['name']}"
        lines.append(f"--encoder: other weights or tokenizer ({names})")
    for name in sorted(set(saved["data"]) | set(now["data"])):
        old, new = saved["data"].get(name), now["data"].get(name)
        if old is None or new is None:
            lines.append(f"{name} data: {'only now' if old is None else 'only saved'}")
        elif (old["rows"], old["digest"]) != (new["rows"], new["digest"]):
            what = [f"{k} {old[k]} -> {new[k]}" for k in ("path", "rows") if old[k] != new[k]]
            if old["digest"] != new["digest"]:
                what.append("other contents")
            lines.append(f"{name} data: " + "; ".join(what))
    return lines
