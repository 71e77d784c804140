"""Where and how a run runs: its seeds, the processor and its bf16 units, the device, torchrun.

- `set_seed` seeds Python, NumPy and PyTorch, so a run can be repeated number for number.
- bfloat16 speeds training up only where the hardware computes in it natively: CUDA GPUs from
  Ampere on, and CPUs with AMX or AVX-512 bf16 instructions (elsewhere it is emulated, slower
  than float32). `--precision auto` asks `resolve_precision` instead of assuming.
- Under `torchrun --nproc_per_node N -m mtlab`, every process trains on its share of each
  batch and DistributedDataParallel averages the gradients; `shard` and `global_mean` split a
  batch, weight its loss and agree on the mean. Outside torchrun they are no-ops.
"""

from __future__ import annotations

import os
import platform
import random

import numpy as np
import torch
import torch.distributed as dist

from mtlab.batching import Batch


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and PyTorch so a run can be repeated number for number."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


BF16_FLAGS = ("amx_bf16", "avx512_bf16")  # /proc/cpuinfo flags of CPUs with bf16 arithmetic


def cpu_info() -> tuple[str, set[str]]:
    """The processor's model name and its feature flags (empty where /proc/cpuinfo is absent)."""
    name, flags = platform.processor() or platform.machine(), set()
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    name = line.split(":", 1)[1].strip()
                elif line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return name, flags


def describe_cpu() -> str:
    """The processor's name and its bf16 units: what every timing should be read next to."""
    name, flags = cpu_info()
    bf16 = [flag for flag in BF16_FLAGS if flag in flags]
    return f"{name}, bf16 units: {', '.join(bf16) if bf16 else 'none'}"


def has_fast_bf16(device: torch.device) -> bool:
    """Whether `device` computes in bfloat16 natively (not emulated, which is slower than fp32)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        return any(flag in cpu_info()[1] for flag in BF16_FLAGS)
    return False


def resolve_precision(precision: str, device: torch.device) -> str:
    """'auto' becomes 'bf16' where the hardware has bf16 units, else 'fp32'; others pass through."""
    if precision != "auto":
        return precision
    return "bf16" if has_fast_bf16(device) else "fp32"


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
