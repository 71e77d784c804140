"""The tools a student would pick instead of mtlab, trained as their docs recommend.

`python -m bench --peers` runs each one next to mtlab: the same encoder folder (the
packaged all-MiniLM-L6-v2, local files only, nothing downloaded), the same rows, the same
batch size, learning rate and precision, on the same machine in the same run.

- `trainer_finetune`: transformers' `Trainer`, the way its run_glue example and the course's
  "fine-tune a pretrained model" chapter use it: AutoModelForSequenceClassification on
  the folder, the text tokenized once with `datasets.map`, DataCollatorWithPadding. SST is
  one sentence; Quora goes in as a cross-encoder (both questions as one sequence).
- `sentence_transformers_finetune`: sentence-transformers' `SentenceTransformerTrainer`,
  with the losses its docs pick for each task: CoSENT for STS scores, OnlineContrastiveLoss
  for Quora duplicates (its Quora example, for classifying duplicates), then a cosine
  threshold picked on training pairs, since a bi-encoder gives a similarity, not a class.

Each returns a `PeerRun`: dev scores, optimizer steps, wall time and examples per second
over the timed steps (after a few untimed ones). `StepClock` times steps the same way for
mtlab's `train` (see bench.peer_comparison). These are benchmark-only dependencies:
`pip install -r requirements-peers.txt` (or `make bench-peers`).
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Sequence

import pandas as pd
import torch

from mtlab.tasks import get_task

try:
    import accelerate  # noqa: F401  (Trainer needs it, and says so only when training starts)
    import datasets
    from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer, losses
    from sentence_transformers import SentenceTransformerTrainingArguments as STArguments
    from sentence_transformers.evaluation import BinaryClassificationEvaluator
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        DataCollatorWithPadding,
        PrinterCallback,
        Trainer,
        TrainerCallback,
        TrainingArguments,
    )
    from transformers import set_seed as hf_set_seed
except ImportError as error:  # pragma: no cover - the message is the point
    # ModuleNotFoundError, as Python's own: `pytest.importorskip` and callers that test for
    # a missing optional package see it as one.
    raise ModuleNotFoundError(
        f"bench.peers needs {error.name!r}, a benchmark-only dependency: install them with "
        "`make setup-peers` (or `pip install -r requirements-peers.txt`)",
        name=error.name,
    ) from error

datasets.disable_progress_bars()

from bench.contest import (  # noqa: E402  (after the optional imports above)
    SENTENCE_TRANSFORMERS_TASKS,
    TRAINER_TASKS,
    PeerConfig,
    PeerRun,
    StepClock,
    scored,
)


class _ClockCallback(TrainerCallback):
    """StepClock as a Trainer callback (sentence-transformers' trainer is a Trainer too)."""

    def __init__(self, clock: StepClock) -> None:
        self.clock = clock

    def on_train_begin(self, args, state, control, **kwargs):
        self.clock.start()

    def on_step_end(self, args, state, control, **kwargs):
        if self.clock.tick():
            control.should_training_stop = True


def _common_arguments(config: PeerConfig, output_dir: str) -> dict:
    """Settings both trainers get: the bench's shared ones, then a CPU run that times training.

    No evaluation or checkpoints while training (dev is scored once afterwards, as for
    mtlab), no reporting integrations, data loaded in the main process (as mtlab does).
    Everything else stays at the Trainer's defaults, as run_glue leaves them: fused AdamW,
    linear decay to zero, gradient clipping at 1.0.
    """
    return dict(
        output_dir=output_dir,
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=64,  # as mtlab's evaluate
        learning_rate=config.lr,
        max_steps=config.max_steps,
        bf16=config.precision == "bf16",
        use_cpu=True,
        seed=config.seed,
        eval_strategy="no",
        save_strategy="no",
        report_to="none",
        dataloader_num_workers=0,
        disable_tqdm=True,
    )


def _max_length(model_config) -> int:
    """Sentences are cut where mtlab cuts them: 128 tokens, or fewer if the model has fewer."""
    return min(128, getattr(model_config, "max_position_embeddings", 128))


def _check_task(task: str, allowed: Sequence[str], peer: str) -> None:
    if task not in allowed:
        raise ValueError(f"{peer} trains {' or '.join(allowed)} here, not {task!r}")


def _rows(dataset) -> list[dict]:
    """An mtlab dataset (or Subset) as a list of example dicts."""
    return [dataset[i] for i in range(len(dataset))]


def _train(trainer, clock: StepClock) -> float:
    """Run a trainer with the step clock; the wall time of its train() call."""
    trainer.add_callback(_ClockCallback(clock))
    trainer.remove_callback(PrinterCallback)  # no metrics dict printed into the bench table
    started = time.perf_counter()
    trainer.train()
    return time.perf_counter() - started


def trainer_finetune(task: str, train_set, dev_set, config: PeerConfig | None = None) -> PeerRun:
    """transformers' Trainer on SST (5 classes) or Quora (a cross-encoder, 2 classes).

    As the course's Trainer chapter does it (and run_glue with --pad_to_max_length False):
    tokenize once with `datasets.map` (cut at 128 tokens like mtlab, no padding), pad each
    batch to its longest (DataCollatorWithPadding) and draw batches of similar length (`train_sampling_strategy="group_by_length"`, what
    transformers 5 calls the older `group_by_length=True`). Learning rate 2e-5 and batch 32
    as mtlab's; the rest are the Trainer's defaults (no warmup, no weight decay).
    """
    config = (config or PeerConfig()).check()
    _check_task(task, TRAINER_TASKS, "the Trainer peer")
    spec = get_task(task)
    hf_set_seed(config.seed)  # before the classifier's weights are drawn
    tokenizer = AutoTokenizer.from_pretrained(config.folder, local_files_only=True)
    model = AutoModelForSequenceClassification.from_pretrained(
        config.folder, num_labels=spec.num_classes, local_files_only=True
    )

    max_length = _max_length(model.config)

    def tokenize(batch):
        texts = [batch[key] for key in spec.keys]  # one column, or both questions in one sequence
        return tokenizer(*texts, truncation=True, max_length=max_length)

    def encoded(dataset):
        table = datasets.Dataset.from_list(_rows(dataset))
        return table.map(tokenize, batched=True, remove_columns=["id", *spec.keys])

    clock = StepClock(config.untimed_steps, config.budget_seconds)
    with tempfile.TemporaryDirectory() as output_dir:
        arguments = TrainingArguments(
            **_common_arguments(config, output_dir), train_sampling_strategy="group_by_length"
        )
        trainer = Trainer(
            model=model,
            args=arguments,
            train_dataset=encoded(train_set),
            processing_class=tokenizer,
            data_collator=DataCollatorWithPadding(tokenizer),
        )
        seconds = _train(trainer, clock)
        output = trainer.predict(encoded(dev_set))
    predictions = pd.DataFrame(
        {"prediction": output.predictions.argmax(-1), "label": output.label_ids}
    )
    notes = {"model": "cross-encoder" if spec.is_pair else "sequence classifier"}
    return _single_task_run(
        "transformers Trainer",
        task,
        predictions,
        notes,
        trainer,
        seconds,
        clock,
        model.config._name_or_path,
    )


def _single_task_run(
    peer: str,
    task: str,
    predictions,
    notes: dict,
    trainer,
    seconds: float,
    clock: StepClock,
    model_path: str,
) -> PeerRun:
    """One peer's run on one task, scored, with what its Trainer counted."""
    batch_size = trainer.args.train_batch_size
    return PeerRun(
        peer=peer,
        tasks=(task,),
        scores={task: scored(task, predictions, notes)},
        steps=trainer.state.global_step,
        seconds=seconds,
        examples_per_second=clock.examples_per_second(batch_size),
        batch_size=batch_size,
        model_path=model_path,
        notes=notes,
    )


def sentence_transformers_finetune(
    task: str, train_set, dev_set, config: PeerConfig | None = None
) -> PeerRun:
    """sentence-transformers' SentenceTransformerTrainer on STS or Quora, from the same folder.

    STS: CoSENTLoss on the gold scores (its docs: a stronger signal than
    CosineSimilarityLoss), scored by Pearson r of the cosine similarity. Quora:
    OnlineContrastiveLoss (its Quora example, for classifying duplicates; the in-batch
    MultipleNegativesRankingLoss is its pick for mining them, which is not this task),
    then the cosine threshold with the best accuracy on up to `threshold_rows` training
    pairs (its BinaryClassificationEvaluator), applied to dev. Warmup over the first 10%
    of steps as its training examples do; batches drawn at random, its default sampler;
    sentences cut at 128 tokens like mtlab's (the folder's own setting is 256).
    """
    config = (config or PeerConfig()).check()
    _check_task(task, SENTENCE_TRANSFORMERS_TASKS, "the sentence-transformers peer")
    hf_set_seed(config.seed)
    model = SentenceTransformer(config.folder, device="cpu", local_files_only=True)
    model.max_seq_length = _max_length(model[0].auto_model.config)  # its folder says 256
    rows = _rows(train_set)
    table = datasets.Dataset.from_dict(
        {
            "sentence1": [r["sentence1"] for r in rows],
            "sentence2": [r["sentence2"] for r in rows],
            # STS scores scaled to 0-1 as in its own stsb data (CoSENT only uses their order)
            "label": [r["label"] / 5.0 if task == "sts" else r["label"] for r in rows],
        }
    )
    loss = losses.CoSENTLoss(model) if task == "sts" else losses.OnlineContrastiveLoss(model)
    clock = StepClock(config.untimed_steps, config.budget_seconds)
    with tempfile.TemporaryDirectory() as output_dir:
        arguments = STArguments(**_common_arguments(config, output_dir), warmup_steps=0.1)
        trainer = SentenceTransformerTrainer(
            model=model, args=arguments, train_dataset=table, loss=loss
        )
        seconds = _train(trainer, clock)
    model.eval()
    notes = {"loss": type(loss).__name__}
    dev_rows = _rows(dev_set)
    similarity = _cosine(model, dev_rows, config.batch_size)
    if task == "quora":  # picking it encodes training pairs again: timed, not in `seconds`
        started = time.perf_counter()
        notes["threshold"] = _accuracy_threshold(model, rows, config)
        notes["threshold s"] = time.perf_counter() - started
        similarity = (similarity >= notes["threshold"]).astype(int)
    predictions = pd.DataFrame({"prediction": similarity, "label": [r["label"] for r in dev_rows]})
    return _single_task_run(
        "sentence-transformers",
        task,
        predictions,
        notes,
        trainer,
        seconds,
        clock,
        model[0].auto_model.config._name_or_path,
    )


def _cosine(model, rows: list[dict], batch_size: int):
    """Cosine similarity of each pair's two sentence vectors, as a NumPy array."""
    with torch.inference_mode():
        first, second = (
            model.encode([r[key] for r in rows], batch_size=batch_size, convert_to_tensor=True)
            for key in ("sentence1", "sentence2")
        )
        return model.similarity_pairwise(first, second).float().cpu().numpy()


def _accuracy_threshold(model, rows: list[dict], config: PeerConfig) -> float:
    """The cosine threshold with the best accuracy on (up to threshold_rows) training pairs."""
    sample = random.Random(config.seed).sample(rows, min(len(rows), config.threshold_rows))
    evaluator = BinaryClassificationEvaluator(
        [r["sentence1"] for r in sample],
        [r["sentence2"] for r in sample],
        [r["label"] for r in sample],
        batch_size=config.batch_size,
        similarity_fn_names=["cosine"],
        write_csv=False,
    )
    return float(evaluator(model)["cosine_accuracy_threshold"])
