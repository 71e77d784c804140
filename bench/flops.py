"""The limit: achieved training FLOP/s against a plain matmul's on the same cores (MFU)."""

from __future__ import annotations

import time

import torch

from mtlab.model import MultitaskBert
from mtlab.runtime import has_fast_bf16


def matmul_flops(
    rows: int = 1024,
    inner: int = 1024,
    cols: int = 1024,
    repeats: int = 20,
    dtype: torch.dtype = torch.float32,
) -> float:
    """FLOP/s of a (rows x inner) @ (inner x cols) product in `dtype` on these threads.

    1024^3 is the bench's peak; a product at the model's own shapes shows what those get.
    """
    a, b = torch.randn(rows, inner, dtype=dtype), torch.randn(inner, cols, dtype=dtype)
    a @ b  # warm-up
    started = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * rows * inner * cols * repeats / (time.perf_counter() - started)


def training_flops_per_token(model: MultitaskBert, seq_len: float) -> float:
    """~6 FLOPs per weight per token (forward 2, backward 4), plus attention's scores."""
    config = model.encoder.bert.config
    weights = sum(
        p.numel() for n, p in model.encoder.bert.named_parameters() if "embeddings" not in n
    )
    attention = 4 * config.num_hidden_layers * seq_len * config.hidden_size
    return 3 * (2 * weights + attention)


def mean_tokens(model: MultitaskBert, sst) -> float:
    """Tokens per SST sentence, on average, as the encoder tokenizes them one by one."""
    lengths = [len(model.encoder.tokenize([e["sentence"]])["input_ids"][0]) for e in sst]
    return sum(lengths) / len(lengths)


def mfu_rows(
    model: MultitaskBert, sst, batch_size: int, fp32_rate: float, bf16_rate: float
) -> list[tuple]:
    """Bench rows (figure, matmul, training, ratio) from mtlab's finetune sentences per second."""
    seq = mean_tokens(model, sst)
    achieved = fp32_rate * seq * training_flops_per_token(model, seq)
    peak = matmul_flops()
    rows = [
        ("training GFLOP/s vs matmul GFLOP/s (MFU)", peak / 1e9, achieved / 1e9, achieved / peak)
    ]
    if has_fast_bf16(torch.device("cpu")):  # MFU at the same precision: bf16 against bf16
        achieved_bf16 = bf16_rate * seq * training_flops_per_token(model, seq)
        peak_bf16 = matmul_flops(dtype=torch.bfloat16)
        rows.append(
            (
                "  bf16: training GFLOP/s vs bf16 matmul GFLOP/s (MFU)",
                peak_bf16 / 1e9,
                achieved_bf16 / 1e9,
                achieved_bf16 / peak_bf16,
            )
        )
    hidden = model.encoder.hidden_size
    at_shape = matmul_flops(batch_size * round(seq), hidden, 4 * hidden)
    rows.append(
        (
            f"  matmul GFLOP/s: 1024^3 vs the model's ({batch_size}x{round(seq)}) "
            f"x {hidden} x {4 * hidden}",
            peak / 1e9,
            at_shape / 1e9,
            at_shape / peak,
        )
    )
    return rows
