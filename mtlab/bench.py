"""How fast is the lab on this machine? `python -m mtlab.bench` prints one table.

Each figure is measured next to its baseline in the same run, on the same data:

- pretrain: the frozen encoder run on every step (what a student writes first) vs
  mtlab's cache (each sentence encoded once), same epochs, scores compared;
- finetune: the Hugging Face course's loop (tokenize every step, pad to 128) vs
  mtlab's `train` (tokenize once, pad to the batch), sentences per second;
- the limit: achieved training FLOP/s vs a plain matmul on the same cores (MFU).
"""

from __future__ import annotations

import argparse
import time

import pandas as pd
import torch
from torch.utils.data import Subset

from mtlab.batching import make_loader
from mtlab.data import load_dataset, resolve_data_dir
from mtlab.experiment import random_subset
from mtlab.model import TASKS, MultitaskBert
from mtlab.train import TrainConfig, evaluate, set_seed, train


def matmul_flops(size: int = 1024, repeats: int = 10) -> float:
    """FLOP/s of a float32 matrix product: the most this CPU does with these threads."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b  # warm-up
    started = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * size**3 * repeats / (time.perf_counter() - started)


def training_flops_per_token(model: MultitaskBert, seq_len: float) -> float:
    """~6 FLOPs per weight per token (forward 2, backward 4), plus attention's scores."""
    config = model.encoder.bert.config
    weights = sum(
        p.numel() for n, p in model.encoder.bert.named_parameters() if "embeddings" not in n
    )
    attention = 4 * config.num_hidden_layers * seq_len * config.hidden_size
    return 3 * (2 * weights + attention)


def time_pretrain(sets, dev, epochs: int, cached: bool, seed: int) -> tuple[float, dict]:
    set_seed(seed)
    model = MultitaskBert.from_pretrained().set_mode("pretrain")
    model.encoder.use_cache = cached  # False: every step runs the frozen encoder again
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
        inputs = tokenizer(batch["sentences"], padding="max_length", truncation=True,
                           max_length=encoder.max_length, return_tensors="pt")  # fmt: skip
        loss = head.loss(head(encoder(**inputs)), batch["labels"])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        sentences += len(batch["ids"])
    return time.perf_counter() - started, sentences


def mtlab_finetune(model: MultitaskBert, dataset, steps: int, batch_size: int) -> tuple[float, int]:
    """mtlab's train() on SST: tokenized once, padded per batch."""
    model.set_mode("finetune")
    config = TrainConfig(epochs=1, batch_size=batch_size, lr=2e-5, max_steps=steps)
    started = time.perf_counter()
    train(model, {"sst": dataset}, config, progress=False)
    return time.perf_counter() - started, steps * batch_size


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m mtlab.bench", description=__doc__)
    parser.add_argument("--rows", type=int, default=600, help="training rows per task")
    parser.add_argument("--epochs", type=int, default=3, help="pretrain epochs")
    parser.add_argument("--steps", type=int, default=20, help="finetune steps per loop")
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args(argv)

    source = resolve_data_dir()
    sets = {t: random_subset(load_dataset(t, "train", source.path), args.rows) for t in TASKS}
    dev = {t: random_subset(load_dataset(t, "dev", source.path), 300) for t in TASKS}
    rows = []

    naive_s, naive_scores = time_pretrain(sets, dev, args.epochs, cached=False, seed=0)
    cached_s, cached_scores = time_pretrain(sets, dev, args.epochs, cached=True, seed=0)
    rows.append(("pretrain wall time (s)", naive_s, cached_s, naive_s / cached_s))
    for task in TASKS:
        rows.append(
            (f"  after pretrain: {task} dev", naive_scores[task], cached_scores[task], None)
        )

    sst = Subset(sets["sst"], range(min(len(sets["sst"]), args.steps * args.batch_size)))
    set_seed(0)
    model = MultitaskBert.from_pretrained().set_mode("finetune")
    naive_t, naive_n = naive_finetune(model, sst, args.steps, args.batch_size)
    ours_t, ours_n = mtlab_finetune(model, sst, args.steps, args.batch_size)
    naive_rate, ours_rate = naive_n / naive_t, ours_n / ours_t
    rows.append(("finetune sentences/s (SST)", naive_rate, ours_rate, ours_rate / naive_rate))

    lengths = [len(model.encoder.tokenize([e["sentence"]])["input_ids"][0]) for e in sst]
    seq = sum(lengths) / len(lengths)
    achieved = ours_rate * seq * training_flops_per_token(model, seq)
    peak = matmul_flops()
    rows.append(("training GFLOP/s vs matmul GFLOP/s", peak / 1e9, achieved / 1e9, achieved / peak))

    table = pd.DataFrame(rows, columns=["figure", "baseline", "mtlab", "ratio"])
    print(
        f"data: {source.reason}; {args.rows} rows per task; torch threads {torch.get_num_threads()}"
    )
    print(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))


if __name__ == "__main__":
    main()
