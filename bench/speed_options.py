"""Two speed options the lab does not take, measured: dropout off, and torch.compile.

`python -m bench --speed-options` adds their rows: mtlab's finetune on the same SST rows with
and without the change, in float32 and (where the CPU has bf16 units) in bf16. Dropout's random
masks are a share of a float32 step (the step profile says how large), but turning dropout off
changes what is trained, not only how fast; torch.compile fuses the elementwise work around the
matrix products, after a compile that a short run would have to earn back. The README ("Speed")
has the measurements and why neither is a default.
"""

from __future__ import annotations

import time

import torch
from torch import nn

from bench.baselines import mtlab_finetune
from mtlab.model import MultitaskBert
from mtlab.runtime import has_fast_bf16, set_seed


def without_dropout(model: MultitaskBert) -> MultitaskBert:
    """Every dropout of the model at p=0: the encoder's layers, its attention, the heads."""
    for module in model.modules():
        if isinstance(module, nn.Dropout):
            module.p = 0.0
        if hasattr(module, "dropout_prob"):  # attention dropout passed to SDPA as a number
            module.dropout_prob = 0.0
    model.encoder.bert.config.attention_probs_dropout_prob = 0.0
    return model


def compiled(model: MultitaskBert) -> MultitaskBert:
    """The encoder under torch.compile, with dynamic shapes: batches differ in length."""
    model.encoder.bert = torch.compile(model.encoder.bert, dynamic=True)
    return model


OPTIONS = {"dropout off": without_dropout, "torch.compile": compiled}


def sentences_per_second(
    change, dataset, steps: int, batch_size: int, precision: str, encoder: str | None = None
) -> tuple[float, float]:
    """(sentences/s over `steps` timed steps, seconds of the untimed warm-up, compile included)."""
    set_seed(0)
    model = change(MultitaskBert.from_pretrained(encoder).set_mode("finetune"))
    warm_rows = torch.utils.data.Subset(dataset, range(min(len(dataset), 3 * batch_size)))
    started = time.perf_counter()
    mtlab_finetune(model, warm_rows, 3, batch_size, precision)
    warm_up = time.perf_counter() - started
    seconds, sentences = mtlab_finetune(model, dataset, steps, batch_size, precision)
    return sentences / seconds, warm_up


def speed_option_rows(
    dataset, steps: int, batch_size: int, options: dict | None = None, encoder: str | None = None
) -> list[tuple]:
    """Bench rows (figure, mtlab, with the option, ratio) per precision and option."""
    precisions = ["fp32", "bf16"] if has_fast_bf16(torch.device("cpu")) else ["fp32"]
    rows = []
    for precision in precisions:
        base, _ = sentences_per_second(lambda m: m, dataset, steps, batch_size, precision, encoder)
        for name, change in (options or OPTIONS).items():
            rate, warm_up = sentences_per_second(
                change, dataset, steps, batch_size, precision, encoder
            )
            rows.append(
                (
                    f"  finetune sentences/s, {precision}: mtlab vs {name} "
                    f"(warm-up {warm_up:.0f} s, not counted)",
                    base,
                    rate,
                    rate / base,
                )
            )
    return rows
