"""The seed project's full flow in one call: pretrain, evaluate, finetune, evaluate, compare.

`run_lab(LabConfig(...))` is what `python -m mtlab` runs. Everything it makes lands in
`output_dir`: results.json and results.csv (the comparison), history.csv (the training
curves), comparison.png, checkpoints/ and predictions/.
"""

from __future__ import annotations

import json
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import torch

from mtlab.data.datasets import (
    DataSource,
    all_sentences,
    load_dataset,
    random_subset,
    resolve_data_dir,
    warn_if_shared_ids,
)
from mtlab.debugging.plots import plot_comparison
from mtlab.evaluation.predictions import (
    check_dev_set,
    evaluate,
    one_class_warning,
    write_predictions,
)
from mtlab.evaluation.submission import output_file, submit
from mtlab.feature_cache import FeatureCache, default_cache_dir
from mtlab.model import MultitaskBert
from mtlab.runtime import distributed, pick_device, set_seed, start_distributed
from mtlab.tasks import TASKS, get_task
from mtlab.training.checkpoints import load_checkpoint_state, save_checkpoint
from mtlab.training.config import TrainConfig
from mtlab.training.estimate import print_estimate
from mtlab.training.loop import train
from mtlab.training.output_folder import check_writable_folder, hold_folder, write_atomically
from mtlab.training.run_record import check_resume, phase_record, run_record

# The seed project's reported dev scores (bert-base, after its fixes): the bar to beat.
SEED_RESULTS = {
    "pretrain": {"sst": 0.396, "quora": 0.680, "sts": 0.200},
    "finetune": {"sst": 0.391, "quora": 0.764, "sts": 0.454},
}


def pretrain_defaults() -> TrainConfig:
    """Heads only, on cached vectors: many cheap epochs at a high learning rate, dev each epoch.

    A pretrain step takes milliseconds, and a checkpoint holds the whole model: saved every
    500 steps (seconds apart), not every 50 as in finetune, where a step takes a second.
    """
    return TrainConfig(epochs=10, lr=1e-3, eval_every=1.0, checkpoint_every=500)


def finetune_defaults() -> TrainConfig:
    """Everything trains: one epoch at a small learning rate; each dev pass runs the encoder.

    precision "auto": bfloat16 autocast where the hardware has bf16 units (detected by
    mtlab.runtime), float32 elsewhere. Over three seeds it gave the same dev scores as float32
    in about half the finetune time on a 2-core AMD EPYC (README, the CS224N extensions).
    """
    return TrainConfig(epochs=1, lr=3e-5, eval_every=0.25, checkpoint_every=50, precision="auto")


@dataclass
class LabConfig:
    """Every knob of a full run: the model, the data, and one TrainConfig per phase.

    The command line exposes each one (see mtlab.__main__): `--lr` sets both phases,
    `--pretrain-lr` / `--finetune-lr` one of them.
    """

    data_dir: str | None = None  # None: MTLAB_DATA_DIR, then data/, then the shipped sample
    encoder: str | None = None  # None: the packaged all-MiniLM-L6-v2
    pooling: str = "mean"
    max_length: int | None = None  # None: 128 tokens, or the encoder's limit if lower
    sentiment_head: str = "mlp"
    paraphrase_head: str = "concat_diff_prod"
    similarity_head: str = "cosine"
    similarity_loss: str = "mse"  # "cosent": rank the batch's STS pairs (SimilarityHead)
    mnrl_weight: float = 0.0  # > 0: add an in-batch ranking loss for Quora's duplicates
    pretrain: TrainConfig = field(default_factory=pretrain_defaults)
    finetune: TrainConfig = field(default_factory=finetune_defaults)
    train_limit: int | None = None  # at most this many training rows per task, drawn at random
    finetune_limit: int | None = None  # ... and at most this many in finetune
    dev_limit: int | None = None
    device: str = "auto"
    output_dir: str = "runs/latest"
    resume: bool = False  # continue an interrupted run in output_dir
    feature_cache: bool = True  # keep frozen vectors on disk for the next run (mtlab.feature_cache)


def load_task_data(config: LabConfig) -> tuple[DataSource, dict, dict, dict]:
    """Where the data came from, and train, dev and test datasets for the three tasks."""
    source, seed = resolve_data_dir(config.data_dir), config.pretrain.seed
    train_sets = {
        t: random_subset(load_dataset(t, "train", source.path), config.train_limit, seed)
        for t in TASKS
    }
    dev_sets = {
        t: random_subset(load_dataset(t, "dev", source.path), config.dev_limit, seed) for t in TASKS
    }
    for task in TASKS:
        warn_if_shared_ids(train_sets[task], dev_sets[task])
        check_dev_set(task, dev_sets[task])  # a score it cannot give fails now, not after training
    test_sets = {
        t: load_dataset(t, "test", source.path)
        for t in TASKS
        if "test" in get_task(t).files and (source.path / get_task(t).files["test"]).exists()
    }
    return source, train_sets, dev_sets, test_sets


def comparison_table(metrics: dict[str, dict[str, float]]) -> pd.DataFrame:
    """Tasks as rows; the metric name, then one column per phase."""
    table = pd.DataFrame(metrics)
    table.insert(0, "metric", [get_task(t).metric for t in table.index])
    table.index.name = "task"
    return table


def run_lab(config: LabConfig, *, progress: bool = True) -> dict:
    """Pretrain, evaluate, finetune, evaluate; write results, chart, checkpoints, predictions.

    After an interruption the same call with resume=True skips the finished phases and goes
    on with the one cut short. Under torchrun every process trains; process 0 writes files.
    """
    # the output folder, the cache folder and the device, checked before any work
    out, device = check_before_work(config)
    rank = start_distributed()
    # one run at a time in a folder: process 0 holds it (torchrun's others write nothing)
    with hold_folder(out) if rank == 0 else nullcontext():
        return _run_in_folder(config, out, device, rank, progress)


def _run_in_folder(
    config: LabConfig, out: Path, device: torch.device, rank: int, progress: bool
) -> dict:
    say = print if rank == 0 else _silent
    # the data: every task's train, dev and test rows (seeded subsets where limited)
    set_seed(config.pretrain.seed)
    started = time.perf_counter()
    source, train_sets, dev_sets, test_sets = load_task_data(config)
    # the model: the encoder and one head per task; the frozen vectors kept on disk
    model = build_model(config, device)
    say(f"encoder: {model.encoder.name}, {model.trainable_parameters()['encoder']:,} parameters")
    say("training rows: " + ", ".join(f"{t} {len(ds):,}" for t, ds in train_sets.items()))
    # what the run is made from, saved in its checkpoints: --resume goes on only the same run
    record = run_record(config, model.encoder, train_sets, dev_sets, device)
    if config.resume:
        check_resume(out / "checkpoints", record, say)
    # each phase's settings and rows; the checkpoint that marks it done
    phases = plan_phases(config, train_sets)
    done = {phase: out / "checkpoints" / f"{phase}.pt" for phase in phases}
    # every sentence the run will need: read from disk or encoded once, before pretraining
    sentences = [*all_sentences(train_sets), *all_sentences(dev_sets), *all_sentences(test_sets)]
    # the time it will take, timed on a copy of the model before any real work
    if progress and distributed()[1] == 1:
        to_run = {p: v for p, v in phases.items() if not (config.resume and done[p].exists())}
        print_estimate(to_run, model, dev_sets, test_sets, sentences)
    # pretrain, then finetune: each trained (or loaded, if it finished before), then scored
    metrics, seconds, histories = {}, {}, []
    for phase, (train_config, sets) in phases.items():
        phase_started = time.perf_counter()
        if config.resume and done[phase].exists():
            metrics[phase], history = load_finished_phase(model, phase, done[phase], say)
            histories.append(history)
            continue
        state_path = out / "checkpoints" / f"{phase}-state.pt"
        history = train_phase(
            model,
            phase,
            (train_config, sets),
            dev_sets,
            sentences,
            state_path,
            resume=config.resume,
            progress=progress,
            record=phase_record(record, phase),
        )
        histories.append(history)
        seconds[phase] = round(time.perf_counter() - phase_started, 1)
        if rank == 0:
            metrics[phase] = finish_phase(
                model, dev_sets, history, done[phase], phase_record(record, phase)
            )
            state_path.unlink(missing_ok=True)  # the phase is done: its final checkpoint counts
            say(f"after {phase} ({seconds[phase]:.0f} s): " + _format(metrics[phase]))
    if rank > 0:
        return {}
    # the dev and test predictions, and the zip to hand in
    written = write_outputs(model, config, source, dev_sets, test_sets, out, say)
    # the comparison table, the history, the chart and results.json
    seconds["total"] = round(time.perf_counter() - started, 1)
    return write_results(config, source, model, metrics, seconds, histories, written, out)


def build_model(config: LabConfig, device: torch.device) -> MultitaskBert:
    """The encoder config names, its heads, on `device`, with a feature cache (on disk or not)."""
    model = MultitaskBert.from_pretrained(
        config.encoder,
        pooling=config.pooling,
        max_length=config.max_length,
        sentiment=config.sentiment_head,
        paraphrase=config.paraphrase_head,
        similarity=config.similarity_head,
        similarity_loss=config.similarity_loss,
        mnrl_weight=config.mnrl_weight,
    ).to(device)
    model.feature_cache = FeatureCache(default_cache_dir() if config.feature_cache else None)
    return model


def plan_phases(config: LabConfig, train_sets: dict) -> dict[str, tuple[TrainConfig, dict]]:
    """phase -> (its settings, its training rows): all rows in pretrain, a seeded subset of at
    most `finetune_limit` rows per task in finetune."""
    phases = {}
    for phase, limit in (("pretrain", None), ("finetune", config.finetune_limit)):
        settings = getattr(config, phase)
        sets = {t: random_subset(ds, limit, settings.seed) for t, ds in train_sets.items()}
        phases[phase] = (settings, sets)
    return phases


def train_phase(
    model: MultitaskBert,
    phase: str,
    plan: tuple[TrainConfig, dict],
    dev_sets: dict,
    sentences: list[str],
    state_path: Path,
    *,
    resume: bool,
    progress: bool,
    record: dict,
) -> pd.DataFrame:
    """One phase in its mode (pretrain first fills the feature cache with every sentence the
    run needs); the training state saved to `state_path` with the run's `record`, resumed from
    it when asked."""
    settings, sets = plan
    model.set_mode(phase)
    if phase == "pretrain":
        model.feature_cache.warm(
            model.encoder, sentences, progress=progress and distributed()[0] == 0
        )
    return train(
        model,
        sets,
        settings,
        progress=progress,
        phase=phase,
        state_path=state_path,
        resume=resume,
        dev_sets=dev_sets,
        record=record,
    )


def load_finished_phase(
    model: MultitaskBert, phase: str, path: Path, say
) -> tuple[dict, pd.DataFrame]:
    """A phase that finished before an interruption: its weights into the model, its scores
    and history back from its checkpoint."""
    state = load_checkpoint_state(path)
    model.load_state_dict(state["state_dict"])
    model.set_mode(phase)
    say(f"{phase}: finished earlier, loaded {path}")
    return state["metrics"], pd.DataFrame(state["history"])


def finish_phase(
    model: MultitaskBert, dev_sets: dict, history: pd.DataFrame, path: Path, record: dict
) -> dict[str, float]:
    """Score the trained phase on dev and save it as a finished checkpoint; the scores."""
    metrics = evaluate(model, dev_sets)
    history = history.to_dict("records")
    save_checkpoint(model, path, metrics=metrics, history=history, run=record)
    return metrics


def write_outputs(
    model: MultitaskBert, config: LabConfig, source: DataSource, dev_sets, test_sets, out: Path, say
) -> list[str]:
    """Prediction files for every dev and test set, and submission.zip when all six exist;
    the files written, relative to `out`. Warns of a one-class classifier (mistake 10)."""
    if model.encoder.truncated:
        say(
            f"note: {model.encoder.truncated} inputs were longer than max_length="
            f"{model.encoder.max_length} tokens and were truncated to fit"
        )
    written = []
    # every dev id, also when --dev-limit scored a subset (only then is the file read again)
    whole_dev = (
        dev_sets
        if config.dev_limit is None
        else {t: load_dataset(t, "dev", source.path) for t in TASKS}
    )
    for split, sets in (("dev", whole_dev), ("test", test_sets)):
        for task, dataset in sets.items():
            path = out / "predictions" / output_file(task, split)
            predictions = write_predictions(model, task, dataset, path)
            written.append(str(path.relative_to(out)))
            answers = predictions.rename(columns={get_task(task).prediction_column: "prediction"})
            if split == "dev" and (warning := one_class_warning(task, answers)):
                say(f"warning: {warning}")  # mistake 10: a constant answer that looks like a score
    for task in TASKS:
        name = get_task(task).files.get("test")
        if name and task not in test_sets:
            say(f"note: no {name} in {source.path}: no {task} test predictions")
    if len(test_sets) == len(TASKS):  # all six course files: check them and zip them to hand in
        submit(out / "predictions", source.path, out / "submission.zip")
        written.append("submission.zip")
    return written


def write_results(
    config: LabConfig,
    source: DataSource,
    model: MultitaskBert,
    metrics: dict,
    seconds: dict,
    histories: list[pd.DataFrame],
    written: list[str],
    out: Path,
) -> dict:
    """results.csv (the comparison), history.csv, comparison.png and results.json; the results."""
    table = comparison_table(metrics)
    history = pd.concat(histories, ignore_index=True)
    write_atomically(out / "history.csv", lambda tmp: history.to_csv(tmp, index=False))
    write_atomically(out / "results.csv", table.to_csv)
    figure = plot_comparison(table)
    write_atomically(out / "comparison.png", lambda tmp: figure.savefig(tmp, dpi=120, format="png"))
    plt.close(figure)  # saved, not shown twice
    results = {
        "config": asdict(config),
        "data": {"path": str(source.path), "is_sample": source.is_sample, "reason": source.reason},
        "device": str(next(model.parameters()).device),
        "processes": distributed()[1],
        "torch_threads": torch.get_num_threads(),
        "metrics": metrics,
        "seed_project": SEED_RESULTS,
        "seconds": seconds,
        "written": [
            "results.json",
            "results.csv",
            "history.csv",
            "comparison.png",
            "checkpoints/pretrain.pt",
            "checkpoints/finetune.pt",
            *written,
        ],
    }
    write_atomically(
        out / "results.json", lambda tmp: tmp.write_text(json.dumps(results, indent=2))
    )
    return results


def check_before_work(config: LabConfig) -> tuple[Path, torch.device]:
    """Refuse unusable options, output folder, cache folder or device before any work starts."""
    for phase in (config.pretrain, config.finetune):
        phase.check()
    for name in ("surgery", "smart"):  # train() would refuse them only after the encoding
        if getattr(config.pretrain, name):
            raise ValueError(
                f"{name} acts on the shared encoder, which pretrain freezes: set it "
                f"for finetune only (--finetune-{name})"
            )
    for name, least in (("train_limit", 1), ("finetune_limit", 1), ("dev_limit", 2)):
        value = getattr(config, name)
        if value is not None and (type(value) is not int or value < least):
            why = " (a dev score such as Pearson r needs two rows)" if least == 2 else ""
            raise ValueError(
                f"--{name.replace('_', '-')} must be a whole number of rows, at least "
                f"{least}{why}, or None for all; got {value!r}"
            )
    if not str(config.output_dir).strip():
        raise ValueError("--output-dir is empty: name the folder for the run's results")
    out = Path(config.output_dir).expanduser()
    check_writable_folder(out, "--output-dir")
    if config.feature_cache:
        FeatureCache(default_cache_dir())  # raises if the cache folder is a file
    return out, pick_device(config.device)


def _silent(*_args, **_kwargs) -> None:
    """print() for processes other than the first: one voice per run."""


def _format(scores: dict[str, float]) -> str:
    return ", ".join(f"{t} {get_task(t).metric} {v:.3f}" for t, v in scores.items())
