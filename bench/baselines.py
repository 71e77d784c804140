"""The loops a student writes first, timed against mtlab's on the same rows: the bench's first rows.

- pretrain: the frozen encoder run on every step vs mtlab's cache, same epochs, scores compared:
  cold (each sentence encoded once, kept in memory and on disk), then warm (read from disk);
- finetune: the Hugging Face course's loop (tokenize every step, pad to 128) vs mtlab's
  `train` (tokenize once, pad to the batch), then mtlab in float32 vs bfloat16 autocast;
- then the MFU rows (bench.flops) from mtlab's finetune rates.

`mtlab_finetune` is also how bench.speed_options times its options.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import torch
from torch.utils.data import Subset

from bench.flops import mfu_rows
from mtlab.batching import make_loader
from mtlab.evaluation.predictions import evaluate
from mtlab.feature_cache import FeatureCache
from mtlab.model import MultitaskBert
from mtlab.runtime import set_seed
from mtlab.tasks import TASKS
from mtlab.training.config import TrainConfig
from mtlab.training.loop import train


def time_pretrain(
    sets, dev, epochs: int, seed: int, *, cached: bool, cache_dir: Path | None = None
) -> tuple[float, dict]:
    """Seconds for one pretrain phase (model loading excluded), then the dev scores."""
    set_seed(seed)
    model = MultitaskBert.from_pretrained().set_mode("pretrain")
    # None: every step runs the frozen encoder again; a folder: vectors kept on disk too
    model.feature_cache = FeatureCache(cache_dir) if cached else None
    started = time.perf_counter()
    train(model, sets, TrainConfig(epochs=epochs, seed=seed), progress=False)
    seconds = time.perf_counter() - started
    return seconds, evaluate(model, dev)


def naive_finetune(model: MultitaskBert, dataset, steps: int, batch_size: int) -> tuple[float, int]:
    """The course-style loop on SST: tokenize each step, pad to max_length (128), no caching."""
    tokenizer, encoder, head = model.encoder.tokenizer, model.encoder, model.heads["sst"]
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5)
    loader = make_loader(dataset, batch_size, shuffle=True, seed=0)
    sentences, started = 0, time.perf_counter()
    for step, batch in enumerate(loader):
        if step == steps:
            break
        inputs = tokenizer(
            batch["sentences"],
            padding="max_length",
            truncation=True,
            max_length=encoder.max_length,
            return_tensors="pt",
        )
        loss = head.loss(head(encoder(**inputs)), batch["labels"])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        sentences += len(batch["ids"])
    return time.perf_counter() - started, sentences


def mtlab_finetune(
    model: MultitaskBert, dataset, steps: int, batch_size: int, precision: str = "fp32"
) -> tuple[float, int]:
    """mtlab's train() on SST: tokenized once, padded per batch."""
    model.set_mode("finetune")
    config = TrainConfig(
        epochs=1, batch_size=batch_size, lr=2e-5, max_steps=steps, precision=precision
    )
    started = time.perf_counter()
    train(model, {"sst": dataset}, config, progress=False)
    return time.perf_counter() - started, steps * batch_size


def sst_rows(sets: dict, steps: int, batch_size: int) -> Subset:
    """The SST rows the finetune loops train on: enough for `steps` batches, or all there are."""
    return Subset(sets["sst"], range(min(len(sets["sst"]), steps * batch_size)))


def pretrain_rows(sets, dev, epochs: int) -> list[tuple]:
    """The encoder on every step vs mtlab's cache, cold then warm, and the dev scores after."""
    naive_s, naive_scores = time_pretrain(sets, dev, epochs, 0, cached=False)
    with tempfile.TemporaryDirectory() as cache_dir:  # an empty disk cache, then a filled one
        cold_s, _ = time_pretrain(sets, dev, epochs, 0, cached=True, cache_dir=Path(cache_dir))
        warm_s, warm_scores = time_pretrain(
            sets, dev, epochs, 0, cached=True, cache_dir=Path(cache_dir)
        )
    rows = [
        ("pretrain s: encoder every step vs cache (cold)", naive_s, cold_s, naive_s / cold_s),
        ("pretrain s: encoder every step vs disk cache (warm)", naive_s, warm_s, naive_s / warm_s),
    ]
    for task in TASKS:
        rows.append((f"  after pretrain: {task} dev", naive_scores[task], warm_scores[task], None))
    return rows


def finetune_rows(sst, steps: int, batch_size: int) -> tuple[list, MultitaskBert, float, float]:
    """The course's loop vs mtlab's, then mtlab fp32 vs bf16; the model, mtlab's two rates."""
    set_seed(0)
    model = MultitaskBert.from_pretrained().set_mode("finetune")
    naive_t, naive_n = naive_finetune(model, sst, steps, batch_size)
    ours_t, ours_n = mtlab_finetune(model, sst, steps, batch_size)
    naive_rate, ours_rate = naive_n / naive_t, ours_n / ours_t
    bf16_t, bf16_n = mtlab_finetune(model, sst, steps, batch_size, precision="bf16")
    bf16_rate = bf16_n / bf16_t
    rows = [
        ("finetune sentences/s (SST)", naive_rate, ours_rate, ours_rate / naive_rate),
        (
            "  finetune sentences/s: mtlab fp32 vs --precision bf16",
            ours_rate,
            bf16_rate,
            bf16_rate / ours_rate,
        ),
    ]
    return rows, model, ours_rate, bf16_rate


def naive_rows(sets, dev, args) -> tuple[list, MultitaskBert, Subset]:
    """The rows against the loops a student writes first; the finetuned model and its SST rows."""
    rows = pretrain_rows(sets, dev, args.epochs)
    sst = sst_rows(sets, args.steps, args.batch_size)
    finetune, model, fp32_rate, bf16_rate = finetune_rows(sst, args.steps, args.batch_size)
    rows += finetune
    rows += mfu_rows(model, sst, args.batch_size, fp32_rate, bf16_rate)
    return rows, model, sst
