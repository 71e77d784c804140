"""Where a finetune step's time goes: per stage (batch, forward, backward, optimizer), then per
kind of operation from torch's profiler. `python -m bench` prints both after its table.
"""

from __future__ import annotations

import time

import pandas as pd
import torch

from mtlab.batching import make_loader
from mtlab.model import MultitaskBert


def step_stages(model: MultitaskBert, dataset, steps: int, batch_size: int) -> dict[str, float]:
    """Seconds per finetune step (SST) in each stage: the same work `train` does, timed apart."""
    encoder, head = model.encoder, model.heads["sst"]
    model.set_mode("finetune").train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5, fused=True)  # as in train()
    lengths = model.example_lengths("sst", dataset)  # buckets by tokens, as in train()
    loader = make_loader(dataset, batch_size, shuffle=True, seed=1, bucket=True, lengths=lengths)
    seconds = dict.fromkeys(["batch + tokenize", "forward", "backward", "optimizer"], 0.0)
    for step, batch in enumerate(loader):
        if step == steps:
            break
        started = time.perf_counter()
        inputs = encoder.tokenize(batch["sentences"])
        tokenized = time.perf_counter()
        loss = head.loss(head(encoder(**inputs)), batch["labels"])
        forward = time.perf_counter()
        optimizer.zero_grad()
        loss.backward()
        backward = time.perf_counter()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        done = time.perf_counter()
        for stage, seconds_taken in zip(
            seconds, (tokenized - started, forward - tokenized, backward - forward, done - backward)
        ):
            seconds[stage] += seconds_taken / steps
    return seconds


# Operations that multiply matrices (attention's fused kernels included), by profiler name.
MATRIX_OPS = ("addmm", "aten::mm", "bmm", "matmul", "linear", "scaled_dot_product", "attention")


def operation_kinds(model: MultitaskBert, dataset, steps: int, batch_size: int) -> pd.DataFrame:
    """Share of forward + backward CPU time per operation (torch.profiler, self time)."""
    encoder, head = model.encoder, model.heads["sst"]
    model.set_mode("finetune").train()
    lengths = model.example_lengths("sst", dataset)
    loader = make_loader(dataset, batch_size, shuffle=True, seed=2, bucket=True, lengths=lengths)
    batches = list(loader)[:steps]
    inputs = [(encoder.tokenize(b["sentences"]), b["labels"]) for b in batches]
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as profiler:
        for tokens, labels in inputs:
            head.loss(head(encoder(**tokens)), labels).backward()
    events = [(e.key, e.self_cpu_time_total) for e in profiler.key_averages()]
    total = sum(t for _, t in events)
    table = pd.DataFrame(events, columns=["operation", "self_us"])
    table["share"] = table["self_us"] / total
    table["matrix product"] = table["operation"].str.contains("|".join(MATRIX_OPS))
    return table.sort_values("share", ascending=False, ignore_index=True)


def print_step_profile(model: MultitaskBert, sst, args) -> None:
    """Where a finetune step's time goes: per stage, then per kind of operation."""
    stages = step_stages(model, sst, min(args.steps, 10), args.batch_size)
    step_time = sum(stages.values())
    print(f"\nwhere a finetune step goes ({step_time:.3f} s per step of {args.batch_size}):")
    for stage, seconds in stages.items():
        print(f"  {stage:18} {seconds:7.3f} s  {seconds / step_time:6.1%}")
    kinds = operation_kinds(model, sst, 5, args.batch_size)
    matrix = kinds.loc[kinds["matrix product"], "share"].sum()
    print(
        f"forward + backward by operation: matrix products {matrix:.1%}, everything else "
        f"{1 - matrix:.1%}; the largest:"
    )
    for _, op in kinds.head(8).iterrows():
        print(f"  {op['operation']:45} {op['share']:6.1%}")
