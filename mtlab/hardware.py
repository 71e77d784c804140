"""What this machine can do fast: its processor, and whether it has bf16 units.

bfloat16 speeds training up only where the hardware computes in it natively: CUDA GPUs from
Ampere on, and CPUs with AMX or AVX-512 bf16 instructions (on the AMD EPYC in the README,
`--precision bf16` more than doubles finetune throughput; on CPUs without them it is slower).
`--precision auto` asks this module instead of assuming.
"""

from __future__ import annotations

import platform

import torch

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
