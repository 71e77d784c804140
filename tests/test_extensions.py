"""The finetuning extensions: CoSENT, multiple-negatives ranking, gradient surgery, SMART,
layer-wise learning rates, a head learning rate, and a masked-LM pass, each off by default."""

import math

import pytest
import torch
import torch.nn.functional as F

from mtlab import MultitaskBert, TrainConfig, load_checkpoint, save_checkpoint, train
from mtlab.__main__ import main as main_cli
from mtlab.__main__ import parse_args
from mtlab.data.datasets import SAMPLE_DIR
from mtlab.experiment import check_before_work
from mtlab.extensions.further_pretrain import (
    further_pretrain,
    main,
    mask_tokens,
    save_encoder,
    task_sentences,
)
from mtlab.extensions.smart import smart_penalty
from mtlab.extensions.surgery import surgery_backward
from mtlab.heads.kinds import ParaphraseHead, SimilarityHead
from mtlab.heads.losses import cosent_loss, ranking_loss
from mtlab.training.loop import training_step
from mtlab.training.optimizer import make_optimizer, parameter_groups
from tests.conftest import BATCHES
from tests.test_train import _tiny_sets

# ------------------------------------------------------------------ CoSENT


def test_cosent_matches_a_hand_computation_and_prefers_the_gold_order():
    gold = torch.tensor([4.0, 2.0, 1.0])
    ordered = torch.tensor([0.9, 0.5, 0.1], dtype=torch.float64)  # exact enough for rel=1e-9
    reversed_ = ordered.flip(0)
    # pairs with gold_i > gold_j: (0, 1), (0, 2), (1, 2); terms exp(20 (cos_j - cos_i))
    by_hand = math.log(1 + math.exp(-8) + math.exp(-16) + math.exp(-8))
    assert cosent_loss("sts", ordered, gold).item() == pytest.approx(by_hand, rel=1e-9)
    assert cosent_loss("sts", reversed_, gold).item() == pytest.approx(
        math.log(1 + 2 * math.exp(8) + math.exp(16)), rel=1e-9
    )
    assert cosent_loss("sts", torch.tensor([0.3, 0.2]), torch.tensor([2.0, 2.0])).item() == 0


def test_similarity_head_with_cosent_trains_on_the_ranking_and_still_predicts_5_cos():
    torch.manual_seed(0)
    head = SimilarityHead(8, training_loss="cosent").eval()
    plain = SimilarityHead(8).eval()
    plain.load_state_dict(head.state_dict())  # the loss is no weight: same state, same outputs
    u, v = torch.randn(6, 8), torch.randn(6, 8)
    scores = head(u, v)
    assert torch.equal(scores, plain(u, v)) and torch.equal(head.predict(scores), scores)
    right_order, wrong_order = scores.argsort().argsort().float(), (-scores).argsort().argsort().float()  # fmt: skip
    assert head.objective((u, v), right_order) < head.objective((u, v), wrong_order)
    assert head.objective((u, v), right_order) == cosent_loss("sts", scores / 5, right_order)
    with pytest.raises(ValueError, match="training_loss must be one of"):
        SimilarityHead(8, variant="scaled_dot", training_loss="cosent")
    with pytest.raises(ValueError, match="training_loss"):
        SimilarityHead(8, training_loss="hinge")


# ------------------------------------------------------------------ multiple-negatives ranking


def test_ranking_loss_by_hand_and_lower_when_the_duplicates_align():
    u = torch.eye(2, dtype=torch.float64)
    v = torch.tensor([[0.6, 0.8], [0.0, 1.0]], dtype=torch.float64)
    # pair 0 is a duplicate: cosines with v_0 and v_1 are 0.6 and 0, softmax over 20 * those
    assert ranking_loss("quora", u, v, torch.tensor([1, 0])).item() == pytest.approx(
        math.log(1 + math.exp(-12)), rel=1e-9
    )
    torch.manual_seed(0)
    u, labels = torch.randn(16, 8), torch.tensor([1, 0] * 8)
    aligned = ranking_loss("quora", u, u + 0.05 * torch.randn(16, 8), labels)
    unrelated = ranking_loss("quora", u, torch.randn(16, 8), labels)
    assert aligned < unrelated
    assert ranking_loss("quora", u, u, torch.zeros(16, dtype=torch.long)).item() == 0


def test_paraphrase_head_adds_the_weighted_ranking_loss_to_cross_entropy():
    torch.manual_seed(0)
    head = ParaphraseHead(8, mnrl_weight=0.5).eval()
    u, v, labels = torch.randn(6, 8), torch.randn(6, 8), torch.tensor([1, 0, 1, 1, 0, 0])
    expected = F.cross_entropy(head(u, v), labels) + 0.5 * ranking_loss("quora", u, v, labels)
    assert head.objective((u, v), labels).item() == pytest.approx(expected.item())
    with pytest.raises(ValueError, match="mnrl_weight"):
        ParaphraseHead(8, variant="cross", mnrl_weight=0.1)


def test_a_checkpoint_loads_into_heads_that_differ_only_in_their_training_loss(tmp_path, tiny_encoder):  # fmt: skip
    model = MultitaskBert(tiny_encoder)
    save_checkpoint(model, tmp_path / "plain.pt")
    other = MultitaskBert(tiny_encoder, similarity_loss="cosent", mnrl_weight=0.2)
    load_checkpoint(tmp_path / "plain.pt", other)  # no error: the weights mean the same
    assert other.head("sts").training_loss == "cosent" and other.head("quora").mnrl_weight == 0.2


# ------------------------------------------------------------------ gradient surgery


def _gradients(model, params):
    return [p.grad.clone() if p.grad is not None else torch.zeros_like(p) for p in params]


def test_surgery_gives_heads_their_own_gradient_and_changes_the_encoders_when_tasks_conflict(
    tiny_encoder,
):
    model = MultitaskBert(tiny_encoder).set_mode("finetune").eval()  # no dropout: exact sums
    encoder = [p for p in model.encoder.parameters()]
    alone = {}
    for task, batch in BATCHES.items():
        model.zero_grad(set_to_none=True)
        model(task, batch, labels=batch["labels"]).backward()
        alone[task] = {"head": _gradients(model, model.head(task).parameters()),
                       "encoder": torch.cat([g.flatten() for g in _gradients(model, encoder)])}  # fmt: skip
    # the tiny encoder's Quora and SST gradients conflict: the case surgery is for
    assert F.cosine_similarity(alone["quora"]["encoder"], alone["sst"]["encoder"], 0) < -0.1
    plain_sum = sum(alone[task]["encoder"] for task in BATCHES)

    def surgery(method):
        model.zero_grad(set_to_none=True)
        losses = {task: model(task, b, labels=b["labels"]) for task, b in BATCHES.items()}
        jacobian = surgery_backward(model, losses, method)
        return torch.cat([g.flatten() for g in _gradients(model, encoder)]), jacobian

    for method in ("pcgrad", "upgrad", "mgda"):
        combined, jacobian = surgery(method)
        for task in BATCHES:
            for got, own in zip(_gradients(model, model.head(task).parameters()), alone[task]["head"]):  # fmt: skip
                torch.testing.assert_close(got, own)
        torch.testing.assert_close(jacobian, torch.stack([alone[t]["encoder"] for t in BATCHES]))
        assert not torch.allclose(combined, plain_sum, atol=1e-6), method
    torch.testing.assert_close(surgery("sum")[0], plain_sum, atol=1e-6, rtol=1e-5)  # the control


def test_surgery_gives_what_torchjds_own_mtl_backward_gives(tiny_encoder):
    """The shortcut (one backward per task's own graph) against torchjd's reference route."""
    from torchjd.aggregation import UPGrad
    from torchjd.autojac import jac_to_grad, mtl_backward

    model = MultitaskBert(tiny_encoder).set_mode("finetune").eval()
    shared = [p for p in model.encoder.parameters()]
    heads = [list(model.head(task).parameters()) for task in BATCHES]
    results = []
    for route in ("mtlab", "torchjd"):
        model.zero_grad(set_to_none=True)
        vectors = {task: model.vectors(task, b) for task, b in BATCHES.items()}
        losses = {t: model.objective(t, v, BATCHES[t]["labels"]) for t, v in vectors.items()}
        if route == "mtlab":
            surgery_backward(model, losses, "upgrad")
        else:
            features = [v for pair in vectors.values() for v in pair]
            mtl_backward(list(losses.values()), features=features, tasks_params=heads,
                         shared_params=shared, parallel_chunk_size=1)  # fmt: skip
            jac_to_grad(shared, UPGrad())
        results.append(_gradients(model, model.parameters()))
    for mine, theirs in zip(*results):
        torch.testing.assert_close(mine, theirs, atol=1e-6, rtol=1e-4)


def test_a_surgery_step_trains_every_task_with_clipping_and_fused_adamw(tiny_encoder):
    model = MultitaskBert(tiny_encoder).set_mode("finetune")
    config = TrainConfig(lr=1e-3, surgery="pcgrad", grad_clip=0.5).check()
    optimizer, scheduler = make_optimizer(model, config, total=4)
    assert optimizer.defaults["fused"]
    before = [p.clone() for p in model.parameters()]
    losses, grad_norm = training_step(model, BATCHES, optimizer, scheduler, config)
    assert set(losses) == set(BATCHES) and math.isfinite(grad_norm) and grad_norm > 0
    changed = [not torch.equal(a, b) for a, b in zip(before, model.parameters())]
    assert sum(changed) > len(changed) // 2


def test_train_with_surgery_takes_one_batch_of_every_task_per_step(tiny_encoder):
    model = MultitaskBert(tiny_encoder).set_mode("finetune")
    history = train(model, _tiny_sets(12), TrainConfig(batch_size=4, surgery="upgrad", log_every=1),
                    progress=False)  # fmt: skip
    assert history["step"].max() == 3  # 9 batches, 3 tasks a step
    assert (history.groupby("step")["task"].nunique() == 3).all()


def test_surgery_and_smart_refuse_what_they_cannot_do(tiny_encoder):
    with pytest.raises(ValueError, match="surgery must be None or one of"):
        TrainConfig(surgery="cagrad").check()
    with pytest.raises(ValueError, match="schedule='round_robin'"):
        TrainConfig(surgery="pcgrad", schedule="sqrt").check()
    with pytest.raises(ValueError, match="smart must be"):
        TrainConfig(smart=-1).check()
    model = MultitaskBert(tiny_encoder).set_mode("pretrain")
    for option in ({"surgery": "pcgrad"}, {"smart": 1.0}):
        with pytest.raises(ValueError, match="frozen in pretrain: use it in finetune"):
            train(model, _tiny_sets(4), TrainConfig(**option), progress=False)


# ------------------------------------------------------------------ SMART


@pytest.mark.parametrize("task", ["sst", "quora", "sts"])
def test_smart_penalty_is_zero_without_noise_and_positive_with_it(tiny_encoder, task):
    model = MultitaskBert(tiny_encoder).set_mode("finetune").eval()  # dropout off
    batch = BATCHES[task]
    clean = model(task, batch)
    torch.manual_seed(0)
    assert smart_penalty(model, task, batch, clean, noise=0.0).item() == 0
    penalty = smart_penalty(model, task, batch, clean)
    assert penalty.item() > 0 and penalty.requires_grad
    torch.manual_seed(0)
    larger = smart_penalty(model, task, batch, clean, step=1e-1)
    assert larger > penalty  # a bigger nudge moves the output further
    hook = model.encoder.bert.get_input_embeddings()._forward_hooks
    assert not hook  # the perturbation is gone again


def test_a_smart_step_trains_and_logs_the_task_loss_alone(tokenizer):
    from tests.conftest import make_tiny_encoder

    histories = []
    for smart in (0.0, 10.0):
        model = MultitaskBert(make_tiny_encoder(tokenizer)).set_mode("finetune")
        history = train(model, _tiny_sets(8), TrainConfig(batch_size=4, smart=smart, log_every=1,
                                                           max_steps=3), progress=False)  # fmt: skip
        histories.append(history)
    assert histories[1]["loss"].notna().all()
    assert histories[0]["loss"].iloc[0] == pytest.approx(histories[1]["loss"].iloc[0])  # step 1


# ------------------------------------------------------------------ learning rates


def test_layer_decay_and_head_lr_put_the_expected_rate_on_every_weight(tiny_encoder):
    model = MultitaskBert(tiny_encoder).set_mode("finetune")  # 2 layers
    config = TrainConfig(lr=1e-3, layer_decay=0.5, head_lr=1e-2)
    rate = {id(p): group["lr"] for group in parameter_groups(model, config) for p in group["params"]}  # fmt: skip
    expected = {"encoder.bert.embeddings.": 1e-3 * 0.25, "encoder.bert.encoder.layer.0.": 1e-3 * 0.5,
                "encoder.bert.encoder.layer.1.": 1e-3, "encoder.bert.pooler.": 1e-3, "heads.": 1e-2}  # fmt: skip
    for name, param in model.named_parameters():
        prefix = next(p for p in expected if name.startswith(p))
        assert rate[id(param)] == pytest.approx(expected[prefix]), name
    optimizer, scheduler = make_optimizer(model, config, total=10)
    for _ in range(3):
        optimizer.step()  # no gradients yet: nothing moves, but the schedule advances in order
        scheduler.step()
    by_lr = sorted(group["lr"] for group in optimizer.param_groups)
    assert by_lr[-1] / by_lr[0] == pytest.approx(1e-2 / 2.5e-4)  # the schedule keeps the ratios


def test_default_learning_rates_make_the_single_group_of_before(tiny_encoder):
    model = MultitaskBert(tiny_encoder).set_mode("finetune")
    groups = parameter_groups(model, TrainConfig(lr=3e-5))
    assert len(groups) == 1 and groups[0]["lr"] == 3e-5
    assert groups[0]["params"] == [p for p in model.parameters() if p.requires_grad]
    frozen = parameter_groups(model.set_mode("pretrain"), TrainConfig(lr=1e-3, head_lr=5e-3))
    assert [g["lr"] for g in frozen] == [5e-3]  # only the heads train in pretrain


def test_learning_rate_options_are_checked():
    for value in (0, 1.5, float("nan")):
        with pytest.raises(ValueError, match=r"layer_decay must be in \(0, 1\]"):
            TrainConfig(layer_decay=value).check()
    with pytest.raises(ValueError, match="head_lr must be None"):
        TrainConfig(head_lr=-1e-3).check()


def test_every_extension_is_a_finetune_option_on_the_command_line():
    config = parse_args(["--finetune-surgery", "upgrad", "--finetune-layer-decay", "0.9",
                         "--finetune-head-lr", "3e-4", "--finetune-smart", "0.5",
                         "--similarity-loss", "cosent", "--mnrl-weight", "0.1"])  # fmt: skip
    assert (config.finetune.surgery, config.finetune.layer_decay) == ("upgrad", 0.9)
    assert (config.finetune.head_lr, config.finetune.smart) == (3e-4, 0.5)
    assert config.pretrain == parse_args([]).pretrain  # the pretrain phase keeps its defaults
    assert (config.similarity_loss, config.mnrl_weight) == ("cosent", 0.1)
    with pytest.raises(ValueError, match="set it for finetune only"):
        check_before_work(parse_args(["--smart", "1"]))  # both phases: refused up front


@pytest.mark.slow
def test_the_lab_runs_with_every_extension_on(tmp_path, tiny_folder, capsys):
    out = tmp_path / "all"
    main_cli(["--data-dir", str(SAMPLE_DIR), "--encoder", str(tiny_folder), "--pretrain-epochs", "1",
              "--finetune-limit", "12", "--train-limit", "24", "--output-dir", str(out),
              "--finetune-surgery", "upgrad", "--finetune-smart", "0.5", "--finetune-layer-decay",
              "0.9", "--finetune-head-lr", "1e-3", "--similarity-loss", "cosent",
              "--mnrl-weight", "0.5"])  # fmt: skip
    assert "pearson" in capsys.readouterr().out
    model = load_checkpoint(out / "checkpoints" / "finetune.pt")  # rebuilt with its options
    assert model.head("sts").training_loss == "cosent" and model.head("quora").mnrl_weight == 0.5


# ------------------------------------------------------------------ masked-LM pass


def test_masking_hides_only_real_tokens(tiny_encoder):
    inputs = tiny_encoder.tokenize(["a fine film", "dull and rather long, with a slow end"])
    masked, labels = mask_tokens(inputs, tiny_encoder.tokenizer, torch.Generator().manual_seed(0))
    special = torch.isin(inputs["input_ids"], torch.tensor(tiny_encoder.tokenizer.all_special_ids))
    chosen = labels != -100
    assert chosen.any() and not (chosen & (special | (inputs["attention_mask"] == 0))).any()
    assert torch.equal(labels[chosen], inputs["input_ids"][chosen])
    assert torch.equal(masked["input_ids"][~chosen], inputs["input_ids"][~chosen])


def test_further_pretraining_lowers_the_masked_lm_loss_and_saves_a_loadable_encoder(
    tmp_path, tiny_encoder
):
    sentences = task_sentences(SAMPLE_DIR)
    assert len(sentences) > 500 and len(set(sentences)) == len(sentences)
    summary = further_pretrain(tiny_encoder, sentences, steps=15, batch_size=16, lr=3e-3,
                               progress=False)  # fmt: skip
    assert summary["steps"] == 15
    assert summary["held_out_loss"]["after"] < summary["held_out_loss"]["before"] - 0.5
    assert tiny_encoder.frozen is False  # the mode it came in with
    folder = save_encoder(tiny_encoder, tmp_path / "mlm", summary)
    model = MultitaskBert.from_pretrained(folder)
    for mine, loaded in zip(tiny_encoder.bert.state_dict().values(), model.encoder.bert.state_dict().values()):  # fmt: skip
        assert torch.equal(mine, loaded)


def test_further_pretrain_command_honours_its_budget(tmp_path, tiny_folder, capsys):
    out = tmp_path / "mlm"
    main(["--data-dir", str(SAMPLE_DIR), "--encoder", str(tiny_folder), "--steps", "1000",
          "--minutes", "0.02", "--out", str(out), "--batch-size", "8"])  # fmt: skip
    printed = capsys.readouterr().out
    assert "held-out" in printed and f"--encoder {out}" in printed
    assert MultitaskBert.from_pretrained(out).encoder.hidden_size == 32
    assert (out / "further_pretrain.json").exists()
