"""--precision auto: bf16 only where the hardware has bf16 units, detected, not assumed."""

import pytest
import torch

from mtlab import runtime as hardware


@pytest.mark.parametrize(
    "flags, expected",
    [({"avx2", "avx512_bf16"}, "bf16"), ({"amx_bf16", "amx_tile"}, "bf16"), ({"avx2", "fma"}, "fp32"),
     (set(), "fp32")],
)  # fmt: skip
def test_auto_precision_follows_the_cpu_flags(monkeypatch, flags, expected):
    monkeypatch.setattr(hardware, "cpu_info", lambda: ("Some CPU", flags))
    cpu = torch.device("cpu")
    assert hardware.resolve_precision("auto", cpu) == expected
    assert hardware.resolve_precision("fp32", cpu) == "fp32"  # an explicit choice stands
    assert hardware.resolve_precision("bf16", cpu) == "bf16"
    assert hardware.describe_cpu().startswith("Some CPU, bf16 units: ")


def test_auto_precision_trains(tiny_model, monkeypatch):
    from mtlab import TrainConfig, load_dataset, train
    from mtlab.data.datasets import SAMPLE_DIR

    monkeypatch.setattr(hardware, "cpu_info", lambda: ("Some CPU", {"avx512_bf16"}))
    data = {"sst": load_dataset("sst", "train", SAMPLE_DIR, limit=8)}
    history = train(tiny_model.set_mode("finetune"), data,
                    TrainConfig(batch_size=4, precision="auto", lr=1e-4), progress=False)  # fmt: skip
    assert history["loss"].notna().all()
