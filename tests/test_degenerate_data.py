"""Dev sets and predictions on which a score is undefined get a clear answer, never a nan.

Pearson r is undefined when either side never changes; scipy then returns nan with only a
ConstantInputWarning, and fewer than two rows fail deep inside it. Every case below is
turned into warnings-as-errors, so a scipy warning slipping through fails the test.
"""

import pandas as pd
import pytest
import torch

from mtlab.data.datasets import (
    SAMPLE_DIR,
    LabelledPairDataset,
    UnlabelledPairDataset,
    load_dataset,
)
from mtlab.evaluation.predictions import evaluate, score

pytestmark = pytest.mark.filterwarnings("error")


def sts_rows(scores):
    return [
        {"id": f"r{i}", "sentence1": f"a dog runs {i}", "sentence2": "a dog is running",
         "similarity": s}
        for i, s in enumerate(scores)
    ]  # fmt: skip


def count_encoder_calls(model) -> list:
    calls = []
    model.encoder.bert.register_forward_hook(lambda *_: calls.append(1))
    return calls


def test_a_dev_set_whose_gold_scores_are_all_equal_fails_before_the_model_runs(tiny_model):
    dev = LabelledPairDataset("sts", "dev", rows=sts_rows([3.0] * 40))
    calls = count_encoder_calls(tiny_model)
    with pytest.raises(ValueError) as error:
        evaluate(tiny_model, {"sts": dev})
    assert str(error.value) == (
        "the sts dev set: all 40 gold scores are 3: Pearson r is undefined; "
        "a dev set needs at least two different scores"
    )
    assert calls == []


def test_a_dev_set_of_one_row_names_its_file_and_the_minimum(tiny_model):
    dev = load_dataset("sts", "dev", SAMPLE_DIR, limit=1)
    with pytest.raises(ValueError, match=r"1 row, but Pearson r needs at least 2") as error:
        evaluate(tiny_model, {"sts": dev})
    assert str(error.value).startswith(f"the sts dev set ({SAMPLE_DIR / 'sts-dev.csv'})")


def test_one_row_is_enough_for_accuracy(tiny_model):
    scores = evaluate(tiny_model, {"sst": load_dataset("sst", "dev", SAMPLE_DIR, limit=1)})
    assert scores["sst"] in (0.0, 1.0)


def test_empty_predictions_and_unlabelled_sets_are_refused(tiny_model):
    with pytest.raises(ValueError, match="the sst labels: no rows, nothing to score"):
        score("sst", pd.DataFrame({"prediction": [], "label": []}))
    test_set = UnlabelledPairDataset("sts", "test", rows=sts_rows([1.0, 2.0]))
    with pytest.raises(ValueError, match="the sts test set has no gold labels"):
        evaluate(tiny_model, {"sts": test_set})


def test_constant_predictions_score_zero_with_a_warning_naming_the_task(capsys):
    answers = pd.DataFrame({"prediction": [2.5] * 4, "label": [0.0, 1.0, 4.0, 5.0]})
    assert score("sts", answers) == 0.0
    err = capsys.readouterr().err
    assert "warning: sts: all 4 predictions are 2.5: Pearson r is undefined" in err
    assert "scored 0.0" in err


def test_a_head_that_outputs_one_value_scores_zero_on_dev(tiny_model, monkeypatch, capsys):
    head = tiny_model.heads["sts"]
    monkeypatch.setattr(head, "forward", lambda u, *rest: torch.full((len(u),), 1.5))
    assert evaluate(tiny_model, {"sts": load_dataset("sts", "dev", SAMPLE_DIR)}) == {"sts": 0.0}
    assert "sts: all 60 predictions are 1.5" in capsys.readouterr().err


@pytest.mark.parametrize("task", ["sts", "sst"])
def test_nan_outputs_say_the_model_diverged(tiny_model, task):
    with torch.no_grad():
        for weight in tiny_model.heads[task].parameters():
            weight.fill_(float("nan"))
    with pytest.raises(FloatingPointError, match=rf"{task}: the model's output is nan or inf "
                       r"for 60 of 60 rows.*diverged"):  # fmt: skip
        evaluate(tiny_model, {task: load_dataset(task, "dev", SAMPLE_DIR)})


def test_nan_in_a_predictions_table_is_named_not_scored():
    answers = pd.DataFrame({"prediction": [1.0, float("nan"), 3.0], "label": [0.0, 1.0, 2.0]})
    with pytest.raises(FloatingPointError, match="sts: .* nan or inf for 1 of 3 rows"):
        score("sts", answers)


def test_a_normal_dev_set_still_scores_without_warnings(tiny_model, capsys):
    dev = LabelledPairDataset("sts", "dev", rows=sts_rows([0.0, 1.0, 2.5, 5.0]))
    value = evaluate(tiny_model, {"sts": dev})["sts"]  # a scipy warning would fail it
    assert -1.0 <= value <= 1.0 and "warning" not in capsys.readouterr().err
