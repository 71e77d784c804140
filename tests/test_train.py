import numpy as np
import pandas as pd
import pytest
import torch

from mtlab import (
    CheckpointError,
    NothingToTrainError,
    TrainConfig,
    evaluate,
    load_checkpoint,
    one_class_warning,
    run_model,
    save_checkpoint,
    train,
    write_predictions,
)
from mtlab.heads.kinds import SimilarityHead
from mtlab.model import MultitaskBert
from mtlab.runtime import pick_device
from tests.conftest import make_tiny_encoder

WORDS = ["good", "bad", "fine", "awful", "great", "dull", "fun", "long"]


def _tiny_sets(n=12):
    sst = [{"id": f"s{i}", "sentence": f"a {WORDS[i % 8]} film", "label": i % 5} for i in range(n)]
    quora = [{"id": f"q{i}", "sentence1": f"is it {WORDS[i % 8]}?", "sentence2": f"is it {WORDS[(i * 3) % 8]}?",
              "label": int(i % 8 == (i * 3) % 8)} for i in range(n)]  # fmt: skip
    sts = [{"id": f"t{i}", "sentence1": f"the {WORDS[i % 8]} cat", "sentence2": f"a {WORDS[i % 5]} cat",
            "label": float(i % 6)} for i in range(n)]  # fmt: skip
    return {"sst": sst, "quora": quora, "sts": sts}


@pytest.mark.parametrize("mode", ["pretrain", "finetune"])
def test_train_logs_a_history_row_per_task_every_few_steps(tiny_model, mode):
    tiny_model.set_mode(mode)
    history = train(tiny_model, _tiny_sets(), TrainConfig(epochs=2, batch_size=4, log_every=3),
                    progress=False)  # fmt: skip
    assert list(history.columns) == ["phase", "step", "epoch", "task", "loss", "lr", "grad_norm"]
    assert set(history["task"]) == {"sst", "quora", "sts"} and set(history["phase"]) == {mode}
    assert history["step"].max() == 18 and history["step"].iloc[0] == 3
    assert history["loss"].notna().all() and (history["grad_norm"] >= 0).all()


def test_training_changes_heads_but_not_a_frozen_encoder(tiny_model):
    tiny_model.set_mode("pretrain")
    encoder_before = [p.clone() for p in tiny_model.encoder.parameters()]
    head_before = [p.clone() for p in tiny_model.heads.parameters()]
    train(tiny_model, _tiny_sets(), TrainConfig(epochs=1, batch_size=4), progress=False)
    assert all(torch.equal(a, b) for a, b in zip(encoder_before, tiny_model.encoder.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(head_before, tiny_model.heads.parameters()))


def test_same_seed_same_numbers(tokenizer):
    results = []
    for _ in range(2):
        model = MultitaskBert(make_tiny_encoder(tokenizer)).set_mode("finetune")
        history = train(
            model, _tiny_sets(), TrainConfig(epochs=1, batch_size=4, seed=5), progress=False
        )
        results.append(history["loss"].tolist())
    assert results[0] == results[1]


def test_parameterless_head_in_pretrain_fails_early_in_words(tiny_encoder):
    """Seed mistake 4: a frozen encoder plus a head with no parameters has nothing to train."""
    model = MultitaskBert(tiny_encoder).set_mode("pretrain")
    model.heads["sts"] = SimilarityHead(32, variant="cosine", projection=False)
    with pytest.raises(NothingToTrainError, match="'sts' head has no trainable parameters"):
        train(model, _tiny_sets(), progress=False)


def test_evaluate_returns_one_score_per_task(tiny_model):
    scores = evaluate(tiny_model, _tiny_sets())
    assert set(scores) == {"sst", "quora", "sts"}
    assert 0 <= scores["sst"] <= 1 and 0 <= scores["quora"] <= 1 and -1 <= scores["sts"] <= 1


def test_one_class_for_almost_every_row_is_reported_in_words():
    constant = pd.DataFrame({"prediction": [0] * 59 + [1], "label": [0] * 36 + [1] * 24})
    message = one_class_warning("quora", constant)
    assert "class 0 (not duplicate) for 59 of 60 rows" in message
    assert "accuracy 0.617 against 0.600" in message and "|u - v|" in message
    varied = pd.DataFrame({"prediction": [0] * 50 + [1] * 10, "label": [0] * 60})
    assert one_class_warning("quora", varied) is None
    assert (
        one_class_warning("sts", pd.DataFrame({"prediction": [1.0] * 9, "label": [2.0] * 9}))
        is None
    )
    unlabelled = one_class_warning("sst", pd.DataFrame({"prediction": [2] * 20}))
    assert unlabelled.startswith("sst: class 2 (neutral) for 20 of 20 rows. The head")


def test_predictions_in_course_format(tiny_model, tmp_path):
    test_set = [{"id": f"t{i}", "sentence1": "a b", "sentence2": f"c {i}"} for i in range(3)]
    path = tmp_path / "sts-test-output.csv"
    write_predictions(tiny_model, "sts", test_set, path)
    lines = path.read_text().splitlines()
    assert lines[0] == "id \t Predicted_Similiary " and len(lines) == 4  # the course's spelling
    assert [line.split(" , ")[0] for line in lines[1:]] == ["t0", "t1", "t2"]
    assert all(0.0 <= float(line.split(",")[1]) <= 5.0 for line in lines[1:])


def test_checkpoint_loads_with_weights_only_and_restores_outputs(tiny_model, tmp_path):
    tiny_model.eval()
    path = tmp_path / "model.pt"
    save_checkpoint(tiny_model, path, metrics={"sst": 0.5})
    state = torch.load(path, weights_only=True)  # the torch default since 2.6
    assert {t: (h["class"], h["options"].get("variant")) for t, h in state["heads"].items()} == {
        "sst": ("SentimentHead", "mlp"),
        "quora": ("ParaphraseHead", "concat_diff_prod"),
        "sts": ("SimilarityHead", "cosine"),
    }
    assert state["metrics"] == {"sst": 0.5} and not path.with_suffix(".pt.tmp").exists()
    batch = {"ids": ["a"], "sentences": ["a fine film"]}
    before = tiny_model("sst", batch)
    for p in tiny_model.parameters():
        torch.nn.init.zeros_(p)
    load_checkpoint(path, tiny_model)
    assert torch.allclose(tiny_model("sst", batch), before)


def test_checkpoint_remembers_a_plain_similarity_projection(tiny_model, tmp_path, tiny_folder):
    hidden = tiny_model.encoder.hidden_size
    tiny_model.add_head("sts", SimilarityHead(hidden, residual=False))
    tiny_model.encoder.name = str(tiny_folder)  # so that load_checkpoint can rebuild it
    tiny_model.eval()
    path = tmp_path / "plain.pt"
    save_checkpoint(tiny_model, path)
    loaded = load_checkpoint(path)
    assert loaded.heads["sts"].residual is False
    batch = {"ids": ["e"], "sentences1": ["a dog runs"], "sentences2": ["a dog is running"]}
    assert torch.allclose(loaded("sts", batch), tiny_model("sts", batch))
    with pytest.raises(CheckpointError, match="residual=False"):
        load_checkpoint(path, MultitaskBert(make_tiny_encoder(tiny_model.encoder.tokenizer)))


def test_pick_device():
    assert pick_device("cpu") == torch.device("cpu")
    assert pick_device("auto").type in {"cpu", "cuda", "mps"}


def test_on_log_sees_the_history_grow(tiny_model):
    seen = []
    tiny_model.set_mode("pretrain")
    config = TrainConfig(epochs=1, batch_size=4, log_every=2)
    train(tiny_model, _tiny_sets(), config, progress=False, on_log=lambda h: seen.append(len(h)))
    assert len(seen) == 5 and seen == sorted(seen) and seen[0] >= 1  # 9 steps: logs at 2,4,6,8,9


def test_predictions_come_back_in_file_order_though_batched_by_length(tiny_model):
    sets = _tiny_sets()
    sets["sst"][3]["sentence"] = "a much much longer sentence than any other in this set"
    for task, dataset in sets.items():
        rows = run_model(tiny_model, task, dataset, batch_size=4)
        assert list(rows["id"]) == [e["id"] for e in dataset]
        assert list(rows["label"]) == pytest.approx([e["label"] for e in dataset])
        alone = run_model(tiny_model, task, dataset[3:4])["prediction"].iloc[0]
        assert rows["prediction"].iloc[3] == pytest.approx(alone, abs=1e-5)


def test_predictions_are_batched_by_tokens_not_characters(tiny_model, monkeypatch):
    # Long words are few tokens per character, repeated short words many: the two orders differ.
    sentences = ["a a a a a a a a a", "internationalization", "b b b b b b", "photosynthesis",
                 "c c c", "extraordinarily", "d", "counterproductive"]  # fmt: skip
    dataset = [{"id": str(i), "sentence": s, "label": 0} for i, s in enumerate(sentences)]
    widths = []
    forward = MultitaskBert.forward
    monkeypatch.setattr(MultitaskBert, "forward", lambda self, task, batch, labels=None: (
        widths.append(self.encoder.token_lengths(batch["sentences"])) or
        forward(self, task, batch, labels)))  # fmt: skip
    run_model(tiny_model, "sst", dataset, batch_size=2)
    flat = [n for batch in widths for n in batch]
    assert flat == sorted(tiny_model.example_lengths("sst", dataset))


def test_bf16_training_keeps_fp32_weights_and_learns(tiny_model):
    tiny_model.set_mode("finetune")
    before = [p.detach().clone() for p in tiny_model.parameters()]
    config = TrainConfig(epochs=1, batch_size=4, lr=1e-3, precision="bf16", log_every=1)
    history = train(tiny_model, _tiny_sets(), config, progress=False)
    assert history["loss"].notna().all() and np.isfinite(history["loss"]).all()
    assert all(p.dtype == torch.float32 for p in tiny_model.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(before, tiny_model.parameters()))


def test_unknown_precision_is_refused(tiny_model):
    with pytest.raises(ValueError, match="fp32"):
        train(tiny_model, _tiny_sets(), TrainConfig(precision="fp16"), progress=False)


def test_a_bare_state_dict_file_gets_a_clear_error(tiny_model, tmp_path):
    path = tmp_path / "bare.pt"
    torch.save(tiny_model.state_dict(), path)
    with pytest.raises(
        CheckpointError, match="not a checkpoint written by mtlab's save_checkpoint"
    ):
        load_checkpoint(path, tiny_model)


def test_resuming_into_a_model_with_other_heads_names_the_problem(tiny_model, tmp_path):
    from mtlab import load_dataset
    from mtlab.data.datasets import SAMPLE_DIR
    from mtlab.heads.kinds import RegressionHead

    data = {"sst": load_dataset("sst", "train", SAMPLE_DIR, limit=16)}
    state = tmp_path / "state.pt"
    config = TrainConfig(batch_size=4, checkpoint_every=2, max_steps=2)
    train(tiny_model.set_mode("pretrain"), data, config, progress=False, state_path=state)
    tiny_model.add_head("extra", RegressionHead(tiny_model.encoder.hidden_size, task="extra"))
    with pytest.raises(
        CheckpointError,
        match=r"holds heads for \['sst'(, 'quora', 'sts')?\], the model has heads for .*'extra'\]",
    ):
        train(tiny_model, data, config, progress=False, state_path=state, resume=True)


def test_a_time_budget_stops_the_phase_and_says_so(tiny_model, capsys):
    from mtlab import load_dataset
    from mtlab.data.datasets import SAMPLE_DIR

    data = {"sst": load_dataset("sst", "train", SAMPLE_DIR, limit=64)}
    config = TrainConfig(batch_size=4, epochs=3, budget_minutes=1e-6)
    history = train(tiny_model.set_mode("pretrain"), data, config, progress=True)
    printed = capsys.readouterr().out
    assert "pretrain: 48 steps planned, at most 1e-06 min" in printed
    assert (
        "pretrain: the 6e-05 min budget is spent after" in printed
        or "budget is spent after" in printed
    )
    assert history.empty or history["step"].max() < 48
    with pytest.raises(ValueError, match="budget_minutes must be > 0"):
        train(tiny_model, data, TrainConfig(budget_minutes=0), progress=False)


def test_the_estimate_is_printed_after_the_first_steps(tiny_model, capsys):
    from mtlab import load_dataset
    from mtlab.data.datasets import SAMPLE_DIR

    data = {"sst": load_dataset("sst", "train", SAMPLE_DIR, limit=96)}
    train(tiny_model.set_mode("pretrain"), data, TrainConfig(batch_size=4, epochs=1), progress=True)
    printed = capsys.readouterr().out
    assert "pretrain: 24 steps planned" in printed
    # 24 steps: the first 2 warm up, steps 3 to 18 are timed, the other 6 priced at their rate
    assert "pretrain: 16 steps took" in printed and "the other 6 take about" in printed
    assert "pretrain: 24 steps took" in printed  # the total, to read against the estimate


def test_training_batches_are_bucketed_by_the_tokens_the_model_makes(tiny_model):
    from mtlab.batching import text_length
    from mtlab.training.steps import multitask_batches

    sets = _tiny_sets(24)
    config = TrainConfig(batch_size=4)
    by_tokens = multitask_batches(sets, config, tiny_model).loaders
    by_characters = multitask_batches(sets, config).loaders
    for task, dataset in sets.items():
        assert by_tokens[task].batch_sampler.lengths == tiny_model.example_lengths(task, dataset)
        assert by_characters[task].batch_sampler.lengths == [text_length(e) for e in dataset]


def test_train_asks_the_model_for_its_token_lengths(tiny_model, monkeypatch):
    asked = []
    lengths = MultitaskBert.example_lengths
    monkeypatch.setattr(MultitaskBert, "example_lengths",
                        lambda self, task, data: asked.append(task) or lengths(self, task, data))  # fmt: skip
    train(tiny_model, _tiny_sets(), TrainConfig(batch_size=4, max_steps=3), progress=False)
    assert asked == ["sst", "quora", "sts"]
    train(
        tiny_model,
        _tiny_sets(),
        TrainConfig(batch_size=4, max_steps=3, bucket=False),
        progress=False,
    )
    assert asked == ["sst", "quora", "sts"]  # no buckets, no lengths
