"""SMART (Jiang et al. 2020): smoothness-inducing adversarial regularisation for finetuning.

Finetuned on a few thousand sentences, a large encoder can learn outputs that jump between
two inputs a hair apart. SMART adds a penalty for that: nudge the input word embeddings
in the direction that moves the head's output most (random noise, then one gradient-ascent
step) and penalise how far the output moved, a symmetric KL divergence between the class
distributions, or the squared difference of the scores for a regression task.

The nudge reaches the encoder through a forward hook on its word-embedding layer, so neither
the encoder nor the model needs an extra argument. Each penalty costs two more forward passes
and one more backward pass through the encoder.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F

from mtlab.model import MultitaskBert
from mtlab.tasks import get_task

NOISE = 1e-5  # standard deviation of the starting perturbation (the paper's sigma)
STEP = 1e-3  # size of the ascent step, per token in the max norm (the paper's eta)


def divergence(task: str, perturbed: torch.Tensor, clean: torch.Tensor) -> torch.Tensor:
    """Symmetric KL between the class distributions, or the mean squared difference of scores."""
    if not get_task(task).is_classification:
        return F.mse_loss(perturbed, clean)
    if perturbed.dim() == 1:  # one logit (the 'linear' paraphrase head): classes no and yes
        perturbed, clean = (torch.stack([torch.zeros_like(x), x], -1) for x in (perturbed, clean))
    p, q = F.log_softmax(perturbed, -1), F.log_softmax(clean, -1)
    kl = F.kl_div(p, q, log_target=True, reduction="batchmean")  # KL(clean || perturbed)
    return kl + F.kl_div(q, p, log_target=True, reduction="batchmean")


def smart_penalty(
    model: MultitaskBert,
    task: str,
    batch: Mapping,
    clean: torch.Tensor,
    *,
    noise: float = NOISE,
    step: float = STEP,
) -> torch.Tensor:
    """How far the head's output `clean` moves when the input embeddings are nudged adversarially."""
    delta = None

    def perturb(module, inputs, embeddings):
        nonlocal delta
        if delta is None:  # the first pass: only now is the batch's embedding shape known
            delta = (noise * torch.randn_like(embeddings)).requires_grad_()
        return embeddings + delta

    handle = model.encoder.bert.get_input_embeddings().register_forward_hook(perturb)
    try:
        ascent = divergence(task, model(task, batch), clean.detach())
        (gradient,) = torch.autograd.grad(ascent, delta)
        size = gradient.abs().amax(-1, keepdim=True).clamp(min=1e-12)  # each token's max norm
        delta = (delta + step * gradient / size).detach()  # one step up the divergence
        return divergence(task, model(task, batch), clean)
    finally:
        handle.remove()
