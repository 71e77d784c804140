"""Where training runs: the device, and the processes of a torchrun job.

Under `torchrun --nproc_per_node N -m mtlab`, every process trains on its share of each
batch and DistributedDataParallel averages the gradients; these helpers split a batch,
weight its loss, and agree on the mean. Outside torchrun they are no-ops.
"""

from __future__ import annotations

import os

import torch
import torch.distributed as dist

from mtlab.batching import Batch


def pick_device(device: str = "auto") -> torch.device:
    """'auto' takes CUDA, then Apple's MPS, then the CPU (under torchrun: this process's GPU)."""
    if device != "auto":
        try:
            chosen = torch.device(device)
        except RuntimeError:
            raise ValueError(
                f"unknown device {device!r}: expected auto, cpu, cuda, cuda:N or mps"
            ) from None
        available = {
            "cpu": True,
            "cuda": torch.cuda.is_available(),
            "mps": torch.backends.mps.is_available(),
        }
        if not available.get(chosen.type, False):
            raise ValueError(
                f"device {device!r} is not available on this machine; use --device auto or cpu"
            )
        if chosen.type == "cuda" and (chosen.index or 0) >= torch.cuda.device_count():
            raise ValueError(
                f"device {device!r}: this machine has {torch.cuda.device_count()} CUDA device(s)"
            )
        return chosen
    if torch.cuda.is_available():
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def start_distributed() -> int:
    """Join the process group when started by torchrun (gloo on CPU, nccl on GPUs); the rank."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return distributed()[0]


def distributed() -> tuple[int, int]:
    """(rank, world size): (0, 1) unless the process was started by torchrun."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def shard(batch: Batch, rank: int, world: int) -> tuple[Batch, float]:
    """This process's share of a batch (every world-th example) and its loss weight.

    The weight n_local * world / n makes the gradients DDP averages equal to those of the
    whole batch in one process, also when the batch does not split evenly.
    """
    if world == 1:
        return batch, 1.0
    n = len(batch["ids"])
    if n < world:
        raise ValueError(f"a batch of {n} examples cannot be split over {world} processes")
    part = Batch({key: value[rank::world] for key, value in batch.items()})
    return part, len(part["ids"]) * world / n


def global_mean(weighted_loss: torch.Tensor, world: int) -> float:
    """The whole batch's mean loss: the sum of every process's weighted share / world."""
    if world > 1:
        weighted_loss = weighted_loss.clone()
        dist.all_reduce(weighted_loss)
        return weighted_loss.item() / world
    return weighted_loss.item()
