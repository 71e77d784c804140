"""The optimizer: AdamW over parameter groups, with warmup then linear decay.

One group (one learning rate) unless the finetune options split it: layer-wise decay
(`TrainConfig.layer_decay`) and a learning rate of the heads' own (`TrainConfig.head_lr`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import torch

from mtlab.model import MultitaskBert

if TYPE_CHECKING:
    from mtlab.training.config import TrainConfig


def parameter_groups(model: MultitaskBert, config: TrainConfig) -> list[dict]:
    """The trainable weights grouped by learning rate: one group unless the options split it.

    Layer-wise decay (Howard & Ruder 2018): encoder layer l of L trains at
    lr * layer_decay**(L - l) and the embeddings, below layer 1, slowest. The lower layers
    hold what any task needs; a few thousand sentences of one task should move them least.
    The heads, new and task-specific, train at head_lr (default: lr).
    """
    depth = model.encoder.bert.config.num_hidden_layers
    groups: dict[float, list[torch.nn.Parameter]] = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        if name.startswith("heads."):
            lr = config.head_lr or config.lr
        else:  # embeddings: level 0; encoder.layer.i: level i + 1; the pooler on top
            layer = re.search(r"\.layer\.(\d+)\.", name)
            level = int(layer[1]) + 1 if layer else 0 if ".embeddings." in name else depth
            lr = config.lr * config.layer_decay ** (depth - level)
        groups.setdefault(lr, []).append(param)
    return [{"params": params, "lr": lr} for lr, params in groups.items()]


def make_optimizer(model: MultitaskBert, config: TrainConfig, total: int):
    """AdamW over the trainable weights, with linear warmup then linear decay to zero."""
    groups = parameter_groups(model, config)
    device = groups[0]["params"][0].device
    # fused: one kernel for all weights, about 5x faster than the default on CPU (README, Speed)
    optimizer = torch.optim.AdamW(
        groups, lr=config.lr, weight_decay=config.weight_decay, fused=device.type in ("cpu", "cuda")
    )
    warmup = max(1, int(config.warmup * total))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / max(1, total - warmup)))
    )
    return optimizer, scheduler
