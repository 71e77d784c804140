"""The scripts' settings are valid: a typo there would only surface after minutes of encoding."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from mtlab import TrainConfig
from mtlab.model import MultitaskBert

SCRIPTS = Path(__file__).parents[1] / "scripts"


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_every_ablation_builds_its_config_and_head(tiny_encoder):
    ablate = load("ablate_pretrain")
    for name, (changes, head, dropout) in ablate.ABLATIONS.items():
        TrainConfig(**changes)  # an unknown field raises TypeError
        model = MultitaskBert(tiny_encoder, dropout=dropout)
        if head is not None:
            before = model.heads[head[0]]
            ablate.swap_head(model, *head)
            assert model.heads[head[0]] is not before, name


def test_the_bag_of_words_baseline_scores_each_task_with_its_metric():
    from mtlab import TASKS, load_dataset
    from mtlab.data import SAMPLE_DIR

    baseline = load("encoder_vs_heads")
    train_sets = {t: load_dataset(t, "train", SAMPLE_DIR) for t in TASKS}
    dev_sets = {t: load_dataset(t, "dev", SAMPLE_DIR) for t in TASKS}
    scores = baseline.bag_of_words(train_sets, dev_sets)
    assert set(scores) == set(TASKS)
    assert 0 <= scores["sst"] <= 1 and 0 <= scores["quora"] <= 1 and -1 <= scores["sts"] <= 1


def test_the_course_quora_stand_in_has_the_course_size_and_no_course_rows():
    bench = load("bench_course_quora")
    pairs = [{"sentence1": f"q{i}", "sentence2": f"p{i}", "label": i % 2} for i in range(50)]
    big = bench.course_size_quora(pairs, rows=1000)
    assert len(big) == 1000 and len({row["id"] for row in big}) == 1000
    assert {row["label"] for row in big} <= {0, 1}
    assert bench.COURSE_QUORA_ROWS == 141_506


def test_the_finetune_ablation_runs_every_extension():
    from mtlab.extensions import EXTENSIONS

    assert load("ablate_finetune").ROWS == EXTENSIONS


def test_the_finetune_ablation_resumes_and_refuses_other_settings(tmp_path, monkeypatch, tokenizer):
    """On the sample with the tiny encoder: a second invocation only runs the rows it lacks."""
    from mtlab.data import SAMPLE_DIR
    from tests.conftest import make_tiny_encoder

    tiny = classmethod(lambda cls, *args, **options: cls(make_tiny_encoder(tokenizer), **options))
    monkeypatch.setattr(MultitaskBert, "from_pretrained", tiny)
    monkeypatch.setenv("MTLAB_DATA_DIR", str(SAMPLE_DIR))
    ablate, out = load("ablate_finetune"), tmp_path / "ablate"
    common = ["--steps", "3", "--mlm-steps", "2", "--seeds", "0", "--out", str(out),
              "--checkpoints", str(tmp_path / "checkpoints")]  # fmt: skip
    ablate.main(["--rows", "defaults,pcgrad", *common])
    first = json.loads((out / "results.json").read_text())["rows"]
    assert first["pcgrad"]["0"]["steps"] == 1  # a third of the steps, every task in each
    ablate.main(["--rows", "defaults,cosent,mlm,bf16", *common])
    results = json.loads((out / "results.json").read_text())
    assert results["rows"]["defaults"] == first["defaults"]  # skipped, not run again
    assert list(results["rows"]) == ["defaults", "pcgrad", "cosent", "mlm", "bf16"]
    assert "mlm" in results["rows"]["mlm"]["0"]["seconds"] and len(results["runs"]) == 2
    table = (out / "results.csv").read_text()
    assert table.startswith("row,seeds,sst mean") and "seconds vs defaults" in table
    assert (out / "COMMAND.md").read_text().count("ablate_finetune.py --rows") == 2
    assert (tmp_path / "checkpoints" / "pretrained-seed0.pt").exists()
    with pytest.raises(SystemExit):
        ablate.main(["--rows", "defaults", "--steps", "4", "--seeds", "0", "--out", str(out)])


def test_seeds_run_apart_merge_into_one_table(tmp_path, monkeypatch, tokenizer):
    """Two --out folders (seeds run in parallel) merge into one results.json and summary."""
    from mtlab.data import SAMPLE_DIR
    from tests.conftest import make_tiny_encoder

    tiny = classmethod(lambda cls, *args, **options: cls(make_tiny_encoder(tokenizer), **options))
    monkeypatch.setattr(MultitaskBert, "from_pretrained", tiny)
    monkeypatch.setenv("MTLAB_DATA_DIR", str(SAMPLE_DIR))
    ablate, main, other = load("ablate_finetune"), tmp_path / "main", tmp_path / "other"
    common = ["--steps", "2", "--rows", "defaults,cosent", "--checkpoints", str(tmp_path / "ck")]
    ablate.main([*common, "--seeds", "0", "--out", str(main)])
    ablate.main([*common, "--seeds", "1", "--out", str(other)])
    ablate.main(["--out", str(main), "--merge", str(other)])
    results = json.loads((main / "results.json").read_text())
    assert {name: sorted(seeds) for name, seeds in results["rows"].items()} == {
        "defaults": ["0", "1"], "cosent": ["0", "1"]}  # fmt: skip
    assert len(results["runs"]) == 2 and results["summary"]["cosent"]["seeds"] == 2
    ablate.main([*common, "--steps", "3", "--seeds", "2", "--out", str(tmp_path / "third")])
    with pytest.raises(SystemExit, match="same setup"):
        ablate.main(["--out", str(main), "--merge", str(tmp_path / "third")])
