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
    from mtlab.data.datasets import SAMPLE_DIR

    baseline = load("encoder_vs_heads")
    train_sets = {t: load_dataset(t, "train", SAMPLE_DIR) for t in TASKS}
    dev_sets = {t: load_dataset(t, "dev", SAMPLE_DIR) for t in TASKS}
    scores = baseline.bag_of_words(train_sets, dev_sets)
    assert set(scores) == set(TASKS)
    assert 0 <= scores["sst"] <= 1 and 0 <= scores["quora"] <= 1 and -1 <= scores["sts"] <= 1


def test_the_course_quora_stand_in_has_the_course_size_and_no_course_rows():
    course_quora = load("bench_course_quora")
    pairs = [{"sentence1": f"q{i}", "sentence2": f"p{i}", "label": i % 2} for i in range(50)]
    big = course_quora.course_size_quora(pairs, rows=1000)
    assert len(big) == 1000 and len({row["id"] for row in big}) == 1000
    assert {row["label"] for row in big} <= {0, 1}
    assert course_quora.COURSE_QUORA_ROWS == 141_506


def test_the_finetune_ablation_runs_every_extension():
    from bench.extension_table import EXTENSIONS

    assert load("ablate_finetune").ROWS == EXTENSIONS


@pytest.mark.slow
def test_the_finetune_ablation_resumes_and_refuses_other_settings(tmp_path, monkeypatch, tokenizer):
    """On the sample with the tiny encoder: a second invocation only runs the rows it lacks."""
    from mtlab.data.datasets import SAMPLE_DIR
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


@pytest.mark.slow
def test_seeds_run_apart_merge_into_one_table(tmp_path, monkeypatch, tokenizer):
    """Two --out folders (seeds run in parallel) merge into one results.json and summary."""
    from mtlab.data.datasets import SAMPLE_DIR
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


def bench_results(seed: int, peer: float, ours: float, **arguments) -> dict:
    """A peer benchmark's results.json, reduced to what scripts/peer_seeds.py reads."""
    tasks = {"Trainer sst alone": "sst", "Trainer quora alone": "quora",
             "ST quora alone": "quora", "ST sts alone": "sts"}  # fmt: skip
    runs = {name: {"peer": name.split()[0], "tasks": [task], "scores": {task: peer}, "steps": 300}
            for name, task in tasks.items()}  # fmt: skip
    runs["mtlab multitask"] = {"peer": "mtlab", "tasks": ["sst", "quora", "sts"], "steps": 800,
                               "scores": {"sst": ours, "quora": ours, "sts": ours}}  # fmt: skip
    settings = {"rows": 600, "steps": 40, "batch_size": 32, "dev_rows": 1000, "peer_minutes": 6.0,
                "peer_rows": None, "precision": "bf16", "threads": None}  # fmt: skip
    return {"machine": "a CPU", "arguments": {**settings, "peer_seed": seed, **arguments},
            "runs": runs}  # fmt: skip


def write_results(tmp_path, *results) -> list:
    paths = []
    for i, result in enumerate(results):
        paths.append(tmp_path / f"run{i}.json")
        paths[-1].write_text(json.dumps(result))
    return paths


def test_peer_seeds_pairs_each_seeds_scores(tmp_path):
    peer_seeds = load("peer_seeds")
    # mtlab behind by 0.030, 0.020, 0.040: a consistent gap, though the scores' spread is larger
    paths = write_results(tmp_path, bench_results(0, 0.50, 0.47), bench_results(1, 0.40, 0.38),
                          bench_results(2, 0.45, 0.41))  # fmt: skip
    summary = peer_seeds.main([*map(str, paths), "--json", str(tmp_path / "out" / "summary.json")])
    row = summary["rows"]["Trainer sst alone"]
    assert row["peer mean"] == pytest.approx(0.45) and row["peer sd"] == pytest.approx(0.05)
    assert row["gap mean"] == pytest.approx(-0.03) and row["gap sd"] == pytest.approx(0.01)
    assert row["beyond noise"]  # |-0.03| > 4.30 * 0.01 / sqrt(3) = 0.025
    assert summary["seeds"] == [0, 1, 2] and summary["mtlab steps"] == [800, 800, 800]
    assert json.loads((tmp_path / "out" / "summary.json").read_text()) == summary


def test_peer_seeds_calls_an_unsteady_gap_noise(tmp_path):
    peer_seeds = load("peer_seeds")
    paths = write_results(tmp_path, bench_results(0, 0.50, 0.47), bench_results(1, 0.40, 0.41),
                          bench_results(2, 0.45, 0.44))  # fmt: skip
    row = peer_seeds.summarise(peer_seeds.load_runs(paths))["rows"]["ST sts alone"]
    assert row["gap mean"] == pytest.approx(-0.01) and not row["beyond noise"]


def test_peer_seeds_refuses_runs_that_differ_in_more_than_the_seed(tmp_path):
    peer_seeds = load("peer_seeds")
    paths = write_results(tmp_path, bench_results(0, 0.5, 0.4),
                          bench_results(1, 0.5, 0.4, peer_minutes=3.0))  # fmt: skip
    with pytest.raises(SystemExit, match="--peer-minutes is 3.0.*6.0: only the seed may differ"):
        peer_seeds.load_runs(paths)
    same_seed = write_results(tmp_path, bench_results(0, 0.5, 0.4), bench_results(0, 0.5, 0.4))
    with pytest.raises(SystemExit, match=r"its own --peer-seed, got \[0, 0\]"):
        peer_seeds.load_runs(same_seed)
    lacking = bench_results(1, 0.5, 0.4)
    del lacking["runs"]["ST sts alone"]
    with pytest.raises(SystemExit, match=r"no equal-time runs \['ST sts alone'\]"):
        peer_seeds.load_runs(write_results(tmp_path, bench_results(0, 0.5, 0.4), lacking))
    with pytest.raises(SystemExit, match="at least 2"):
        peer_seeds.load_runs(paths[:1])


def test_peer_seeds_reads_a_run_from_before_the_seed_option_as_seed_0(tmp_path):
    peer_seeds = load("peer_seeds")
    older = bench_results(0, 0.5, 0.4)
    del older["arguments"]["peer_seed"]
    runs = peer_seeds.load_runs(write_results(tmp_path, older, bench_results(1, 0.5, 0.4)))
    assert peer_seeds.summarise(runs)["seeds"] == [0, 1]
    with pytest.raises(SystemExit, match=r"got \[0, 0\]"):
        peer_seeds.load_runs(write_results(tmp_path, older, bench_results(0, 0.5, 0.4)))
