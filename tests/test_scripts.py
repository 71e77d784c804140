"""The scripts' settings are valid: a typo there would only surface after minutes of encoding."""

import importlib.util
from pathlib import Path

from mtlab import TrainConfig
from mtlab.model import MultitaskBert

SCRIPTS = Path(__file__).parents[1] / "scripts"


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
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
