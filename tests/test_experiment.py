"""A short end-to-end run of the full lab on the shipped sample with a tiny encoder."""

import json

import pandas as pd
import pytest

from mtlab import load_checkpoint
from mtlab.__main__ import main, parse_args
from mtlab.data.datasets import SAMPLE_DIR, load_dataset
from mtlab.evaluation.submission import read_predictions
from mtlab.experiment import LabConfig, finetune_defaults, pretrain_defaults, run_lab
from mtlab.training.config import TrainConfig


def phases(pretrain_epochs: int, finetune_epochs: int = 1) -> dict[str, TrainConfig]:
    """The default phases with other epoch counts."""
    pretrain, finetune = pretrain_defaults(), finetune_defaults()
    pretrain.epochs, finetune.epochs = pretrain_epochs, finetune_epochs
    return {"pretrain": pretrain, "finetune": finetune}


def test_run_lab_writes_results_checkpoints_and_predictions(tmp_path, tiny_folder):
    out = tmp_path / "run"
    config = LabConfig(data_dir=str(SAMPLE_DIR), encoder=str(tiny_folder), **phases(2),
                       finetune_limit=16, output_dir=str(out))  # fmt: skip
    results = run_lab(config, progress=False)

    assert set(results["metrics"]) == {"pretrain", "finetune"}
    assert set(results["metrics"]["finetune"]) == {"sst", "quora", "sts"}
    assert results["data"]["is_sample"]
    assert json.loads((out / "results.json").read_text())["metrics"] == results["metrics"]
    table = pd.read_csv(out / "results.csv", index_col="task")
    assert list(table.columns) == ["metric", "pretrain", "finetune"]
    history = pd.read_csv(out / "history.csv")
    assert set(history["phase"]) == {"pretrain", "finetune"}
    assert (out / "comparison.png").stat().st_size > 10_000

    model = load_checkpoint(out / "checkpoints" / "finetune.pt")
    assert model.mode == "finetune" and model.encoder.hidden_size == 32

    sst = read_predictions(out / "predictions" / "sst-test-output.csv")
    assert list(sst.columns) == ["id", "Predicted_Sentiment"]
    assert len(sst) == len(load_dataset("sst", "test", SAMPLE_DIR))
    assert sst["Predicted_Sentiment"].astype(int).between(0, 4).all()
    assert sorted(p.name for p in (out / "predictions").iterdir()) == [
        "para-dev-output.csv", "para-test-output.csv", "sst-dev-output.csv",
        "sst-test-output.csv", "sts-dev-output.csv", "sts-test-output.csv",
    ]  # fmt: skip


@pytest.mark.slow
def test_a_classifier_that_answers_one_class_is_named_after_the_run(
    tmp_path, tiny_folder, capsys, monkeypatch
):
    import mtlab.experiment

    write = mtlab.experiment.write_predictions

    def constant(model, task, dataset, path):  # every SST row gets class 1
        predictions = write(model, task, dataset, path)
        column = predictions.columns[1]  # the course's name for it
        return predictions.assign(**{column: 1}) if task == "sst" else predictions

    monkeypatch.setattr(mtlab.experiment, "write_predictions", constant)
    config = LabConfig(data_dir=str(SAMPLE_DIR), encoder=str(tiny_folder), **phases(1),
                       finetune_limit=16, output_dir=str(tmp_path / "run"))  # fmt: skip
    run_lab(config, progress=False)
    assert "warning: sst: class 1 (negative) for 60 of 60 rows" in capsys.readouterr().out


def test_command_line_prints_the_comparison(tmp_path, tiny_folder, capsys):
    out = tmp_path / "cli"
    main(["--data-dir", str(SAMPLE_DIR), "--encoder", str(tiny_folder), "--pretrain-epochs", "1",
          "--finetune-limit", "8", "--train-limit", "40", "--output-dir", str(out)])  # fmt: skip
    printed = capsys.readouterr().out
    assert "pretrain" in printed and "finetune" in printed and "pearson" in printed
    assert "estimated time on this machine" in printed and "in all, about" in printed
    assert (out / "results.json").exists()


def test_every_config_field_is_an_option():
    config = parse_args(["--pretrain-lr", "0.01", "--train-limit", "5", "--pooling", "cls"])
    assert config.pretrain.lr == 0.01 and config.train_limit == 5 and config.pooling == "cls"
    assert config.finetune.lr == LabConfig().finetune.lr
    assert parse_args([]) == LabConfig()


def test_a_shared_option_sets_both_phases_and_a_phase_option_wins():
    config = parse_args(["--precision", "bf16", "--batch-size", "8", "--finetune-batch-size", "4"])
    assert config.pretrain.precision == config.finetune.precision == "bf16"
    assert (config.pretrain.batch_size, config.finetune.batch_size) == (8, 4)
    assert parse_args(["--no-keep-best"]).finetune.keep_best is False


def test_every_train_config_field_has_its_three_options():
    import dataclasses

    choices = {"precision": "bf16", "schedule": "round_robin", "surgery": "pcgrad"}
    for field in dataclasses.fields(TrainConfig):
        flag = field.name.replace("_", "-")
        for prefix in ("", "pretrain-", "finetune-"):
            value = choices.get(field.name, "3")
            argv = [f"--{prefix}{flag}"] if field.type == "bool" else [f"--{prefix}{flag}", value]
            parse_args(argv)  # no error: the option exists and takes its type


def test_limits_draw_rows_at_random_not_the_first_ones():
    from mtlab.data.datasets import random_subset

    data = list(range(100))
    subset = random_subset(data, 10, seed=0)
    rows = [subset[i] for i in range(len(subset))]
    assert len(rows) == 10 and rows != list(range(10)) and rows == sorted(rows)
    assert [random_subset(data, 10, seed=0)[i] for i in range(10)] == rows  # seeded
    assert random_subset(data, None) is data and random_subset(data, 500) is data


def test_second_run_reads_frozen_vectors_from_disk_and_scores_the_same(tmp_path, tiny_folder):
    def run(name):
        config = LabConfig(data_dir=str(SAMPLE_DIR), encoder=str(tiny_folder), **phases(1, 1),
                           finetune_limit=8, train_limit=40,
                           output_dir=str(tmp_path / name))  # fmt: skip
        return run_lab(config, progress=False)["metrics"]["pretrain"]

    first = run("first")
    files = list((tmp_path / "feature-cache").glob("tiny-bert-*.pt"))  # MTLAB_CACHE_DIR (conftest)
    assert len(files) == 1
    written = files[0].stat().st_mtime_ns
    assert run("second") == first
    assert files[0].stat().st_mtime_ns == written  # nothing new to add: not rewritten


def test_feature_cache_can_be_switched_off():
    assert parse_args(["--no-feature-cache"]).feature_cache is False
    assert parse_args([]).feature_cache is True
