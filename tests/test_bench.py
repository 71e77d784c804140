"""The benchmark's pieces, on the tiny model (the real numbers come from python -m bench)."""

import pytest
import torch

from bench.baselines import mtlab_finetune, naive_finetune
from bench.flops import matmul_flops, training_flops_per_token
from bench.step_profile import operation_kinds, step_stages
from mtlab.model import MultitaskBert

SST = [{"id": str(i), "sentence": f"a film number {i} , fine", "label": i % 5} for i in range(16)]


def test_matmul_flops_is_a_positive_rate():
    assert matmul_flops(64, 32, 16, repeats=2) > 0


def test_step_stages_split_a_step_into_its_parts(tiny_encoder):
    model = MultitaskBert(tiny_encoder)
    stages = step_stages(model, SST, steps=2, batch_size=4)
    assert list(stages) == ["batch + tokenize", "forward", "backward", "optimizer"]
    assert all(seconds > 0 for seconds in stages.values())


def test_operation_kinds_find_the_matrix_products(tiny_encoder):
    kinds = operation_kinds(MultitaskBert(tiny_encoder), SST, steps=2, batch_size=4)
    assert abs(kinds["share"].sum() - 1) < 1e-6
    assert kinds["matrix product"].any() and not kinds["matrix product"].all()
    assert kinds.loc[kinds["operation"] == "aten::addmm", "matrix product"].all()


def test_both_finetune_loops_train_and_count_sentences(tiny_encoder):
    model = MultitaskBert(tiny_encoder).set_mode("finetune")
    assert naive_finetune(model, SST, steps=2, batch_size=4)[1] == 8
    seconds, sentences = mtlab_finetune(model, SST, steps=2, batch_size=4)
    assert sentences == 8 and seconds > 0


def test_flops_per_token_counts_weights_not_embeddings(tiny_encoder):
    model = MultitaskBert(tiny_encoder)
    per_token = training_flops_per_token(model, seq_len=10)
    layer_weights = sum(
        p.numel() for n, p in tiny_encoder.bert.named_parameters() if "embeddings" not in n
    )
    assert 6 * layer_weights < per_token < 6 * layer_weights * 1.5


def test_the_bench_names_the_cpu_and_its_bf16_units():
    from bench.__main__ import describe_cpu

    text = describe_cpu()
    assert "bf16 units: " in text and text.split(",")[0].strip()


@pytest.mark.slow
def test_every_extension_gets_a_cost_row_per_batch(tiny_folder):
    from bench.extension_costs import TIMED, extension_rows
    from bench.extension_table import EXTENSIONS

    words = ["good", "bad", "fine", "dull", "long", "short", "warm", "cold"]
    sets = {
        "sst": [{"id": f"s{i}", "sentence": f"a {words[i % 8]} film", "label": i % 5} for i in range(64)],
        "quora": [{"id": f"q{i}", "sentence1": f"is it {words[i % 8]}?",
                   "sentence2": f"is it {words[i * 3 % 8]}?", "label": i % 2} for i in range(64)],
        "sts": [{"id": f"t{i}", "sentence1": f"the {words[i % 8]} cat",
                 "sentence2": f"a {words[i % 5]} cat", "label": float(i % 6)} for i in range(64)],
    }  # fmt: skip
    rows = extension_rows(sets, steps=2, encoder=str(tiny_folder))
    assert [row[0].split(" vs ")[1] for row in rows] == [EXTENSIONS[name].flags for name in TIMED]
    for _figure, defaults, option, ratio in rows:
        assert defaults > 0 and option > 0 and abs(ratio - option / defaults) < 1e-12


def test_dropout_off_leaves_no_randomness_in_a_training_forward_pass(tiny_model):
    from bench.speed_options import without_dropout

    model = without_dropout(tiny_model.set_mode("finetune")).train()
    assert all(m.p == 0 for m in model.modules() if isinstance(m, torch.nn.Dropout))
    inputs = model.encoder.tokenize(["a fine film", "a dull one"])
    assert torch.equal(model.encoder(**inputs), model.encoder(**inputs))


def test_each_speed_option_gets_a_row_per_precision(tiny_folder):
    from bench.speed_options import speed_option_rows, without_dropout
    from mtlab.runtime import has_fast_bf16

    sst = [{"id": f"s{i}", "sentence": f"a film number {i}", "label": i % 5} for i in range(16)]
    rows = speed_option_rows(sst, steps=2, batch_size=4, options={"dropout off": without_dropout},
                             encoder=str(tiny_folder))  # fmt: skip
    assert len(rows) == (2 if has_fast_bf16(torch.device("cpu")) else 1)
    for figure, base, rate, ratio in rows:
        assert "mtlab vs dropout off" in figure and base > 0 and rate > 0
        assert abs(ratio - rate / base) < 1e-12
