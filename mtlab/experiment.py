"""The seed project's full flow in one call: pretrain, evaluate, finetune, evaluate, compare.

`run_lab(LabConfig(...))` is what `python -m mtlab` runs. Everything it makes lands in
`output_dir`: results.json and results.csv (the comparison), history.csv (the training
curves), comparison.png, checkpoints/ and predictions/.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import torch
import torch.distributed as dist

from mtlab.data import TASK_FILES, DataSource, load_dataset, resolve_data_dir
from mtlab.feature_cache import default_cache_dir
from mtlab.model import TASKS, MultitaskBert
from mtlab.plots import plot_comparison
from mtlab.train import (
    METRICS,
    TrainConfig,
    all_sentences,
    distributed,
    evaluate,
    load_checkpoint_state,
    pick_device,
    save_checkpoint,
    set_seed,
    train,
    write_predictions,
)

# The seed project's reported dev scores (bert-base, after its fixes): the bar to beat.
SEED_RESULTS = {
    "pretrain": {"sst": 0.396, "quora": 0.680, "sts": 0.200},
    "finetune": {"sst": 0.391, "quora": 0.764, "sts": 0.454},
}


@dataclass
class LabConfig:
    """Every knob of a full run; the command line exposes each one."""

    data_dir: str | None = None  # None: MTLAB_DATA_DIR, then data/, then the shipped sample
    encoder: str | None = None  # None: the packaged all-MiniLM-L6-v2
    pooling: str = "mean"
    max_length: int = 128
    sentiment_head: str = "mlp"
    paraphrase_head: str = "concat_diff_prod"
    similarity_head: str = "cosine"
    pretrain_epochs: int = 10
    pretrain_lr: float = 1e-3
    pretrain_eval_every: float = 1.0  # score dev every N epochs (cheap: cached vectors)
    finetune_epochs: int = 1
    finetune_lr: float = 3e-5
    finetune_eval_every: float = 0.25  # each dev pass runs the encoder: ~20 s on 2 cores
    keep_best: bool = True  # end each phase with its best dev weights (early stopping)
    precision: str = "fp32"  # "bf16": faster training on GPUs and CPUs with AMX (see README)
    batch_size: int = 32
    train_limit: int | None = None  # at most this many training rows per task, drawn at random
    finetune_limit: int | None = None  # ... and at most this many in finetune
    dev_limit: int | None = None
    schedule: str = "round_robin"
    log_every: int = 10
    seed: int = 0
    device: str = "auto"
    output_dir: str = "runs/latest"
    checkpoint_every: int = 50  # save the training state every N steps
    resume: bool = False  # continue an interrupted run in output_dir
    feature_cache: bool = True  # keep frozen vectors on disk for the next run (mtlab.feature_cache)


def load_task_data(config: LabConfig) -> tuple[DataSource, dict, dict, dict]:
    """Where the data came from, and train, dev and test datasets for the three tasks."""
    source = resolve_data_dir(config.data_dir)
    train_sets = {
        t: random_subset(load_dataset(t, "train", source.path), config.train_limit, config.seed)
        for t in TASKS
    }
    dev_sets = {
        t: random_subset(load_dataset(t, "dev", source.path), config.dev_limit, config.seed)
        for t in TASKS
    }
    test_sets = {
        t: load_dataset(t, "test", source.path)
        for t in TASKS
        if "test" in TASK_FILES[t] and (source.path / TASK_FILES[t]["test"]).exists()
    }
    return source, train_sets, dev_sets, test_sets


def comparison_table(metrics: dict[str, dict[str, float]]) -> pd.DataFrame:
    """Tasks as rows; the metric name, then one column per phase."""
    table = pd.DataFrame(metrics)
    table.insert(0, "metric", [METRICS[t] for t in table.index])
    table.index.name = "task"
    return table


def run_lab(config: LabConfig, *, progress: bool = True) -> dict:
    """Pretrain, evaluate, finetune, evaluate; write results, chart, checkpoints, predictions.

    The training state is saved every `checkpoint_every` steps; after an interruption,
    the same call with resume=True skips finished phases and continues the one that
    was cut short. Under torchrun, every process trains and process 0 writes the files.
    """
    out = Path(config.output_dir)
    rank = start_distributed()
    say = print if rank == 0 else _silent
    out.mkdir(parents=True, exist_ok=True)
    set_seed(config.seed)
    started = time.perf_counter()
    source, train_sets, dev_sets, test_sets = load_task_data(config)
    model = MultitaskBert.from_pretrained(
        config.encoder,
        pooling=config.pooling,
        max_length=config.max_length,
        sentiment=config.sentiment_head,
        paraphrase=config.paraphrase_head,
        similarity=config.similarity_head,
    ).to(pick_device(config.device))
    say(f"encoder: {model.encoder.name}, {model.trainable_parameters()['encoder']:,} parameters")
    say("training rows: " + ", ".join(f"{t} {len(ds):,}" for t, ds in train_sets.items()))
    if config.feature_cache:
        model.encoder.feature_cache_dir = default_cache_dir()

    metrics, seconds, histories = {}, {}, []
    phases = {
        "pretrain": (config.pretrain_epochs, config.pretrain_lr, config.pretrain_eval_every, None),
        "finetune": (config.finetune_epochs, config.finetune_lr, config.finetune_eval_every,
                     config.finetune_limit),
    }  # fmt: skip
    for phase, (epochs, lr, eval_every, limit) in phases.items():
        phase_started = time.perf_counter()
        done = out / "checkpoints" / f"{phase}.pt"
        if config.resume and done.exists():  # finished before the interruption
            state = load_checkpoint_state(done)
            model.load_state_dict(state["state_dict"])
            model.set_mode(phase)
            metrics[phase] = state["metrics"]
            histories.append(pd.DataFrame(state["history"]))
            say(f"{phase}: finished earlier, loaded {done}")
            continue
        model.set_mode(phase)
        if phase == "pretrain":  # every sentence the run will need, read from disk or encoded once
            sentences = [*all_sentences(train_sets), *all_sentences(dev_sets),
                         *all_sentences(test_sets)]  # fmt: skip
            model.encoder.warm_cache(sentences, progress=progress and rank == 0)
        sets = {t: random_subset(ds, limit, config.seed) for t, ds in train_sets.items()}
        train_config = TrainConfig(
            epochs=epochs, lr=lr, batch_size=config.batch_size, schedule=config.schedule,
            log_every=config.log_every, seed=config.seed, checkpoint_every=config.checkpoint_every,
            eval_every=eval_every, keep_best=config.keep_best, precision=config.precision,
        )  # fmt: skip
        state_path = out / "checkpoints" / f"{phase}-state.pt"
        history = train(model, sets, train_config, progress=progress, phase=phase,
                        state_path=state_path, resume=config.resume, dev_sets=dev_sets)  # fmt: skip
        histories.append(history)
        seconds[phase] = round(time.perf_counter() - phase_started, 1)
        if rank == 0:
            metrics[phase] = evaluate(model, dev_sets)
            save_checkpoint(model, done, metrics=metrics[phase], history=history.to_dict("records"))
            state_path.unlink(missing_ok=True)  # the phase is done: its final checkpoint counts
            say(f"after {phase} ({seconds[phase]:.0f} s): " + _format(metrics[phase]))
    if rank > 0:
        return {}
    if model.encoder.truncated:
        say(f"note: {model.encoder.truncated} inputs were longer than max_length="
            f"{config.max_length} tokens and were truncated to fit")  # fmt: skip

    for task, dataset in test_sets.items():
        write_predictions(model, task, dataset, out / "predictions" / f"{task}-test-output.csv")
    table = comparison_table(metrics)
    history = pd.concat(histories, ignore_index=True)
    history.to_csv(out / "history.csv", index=False)
    table.to_csv(out / "results.csv")
    plt.close(plot_comparison(table, out / "comparison.png"))  # saved, not shown twice
    results = {
        "config": asdict(config),
        "data": {"path": str(source.path), "is_sample": source.is_sample, "reason": source.reason},
        "device": str(next(model.parameters()).device),
        "processes": distributed()[1],
        "torch_threads": torch.get_num_threads(),
        "metrics": metrics,
        "seed_project": SEED_RESULTS,
        "seconds": {**seconds, "total": round(time.perf_counter() - started, 1)},
    }
    (out / "results.json").write_text(json.dumps(results, indent=2))
    return results


def start_distributed() -> int:
    """Join the process group when started by torchrun (gloo on CPU, nccl on GPUs); the rank."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return distributed()[0]


def _silent(*_args, **_kwargs) -> None:
    """print() for processes other than the first: one voice per run."""


def random_subset(dataset, limit: int | None, seed: int = 0):
    """`limit` rows drawn at random (seeded), all rows when limit is None.

    Never the first rows: the course's SST train file is ordered, its first 1,500 rows
    mostly positive, and a head finetuned on them learns to say "positive".
    """
    if limit is None or limit >= len(dataset):
        return dataset
    generator = torch.Generator().manual_seed(seed)
    rows = torch.randperm(len(dataset), generator=generator)[:limit].sort().values
    return torch.utils.data.Subset(dataset, rows.tolist())


def _format(scores: dict[str, float]) -> str:
    return ", ".join(f"{t} {METRICS[t]} {v:.3f}" for t, v in scores.items())
