"""Inputs an adversarial user tried: each gets a clear error or a report, never silence.

One test (or parametrized family) per class of hole: the reader's label and text grammar,
paths, limits, the command line, checkpoints, cached vectors and encoder folders.
"""

import os
import subprocess
import sys

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mtlab import (
    CheckpointError,
    DataFormatError,
    FeatureCache,
    LabelledSentenceDataset,
    ModelNotFoundError,
    MultitaskBert,
    TrainConfig,
    load_checkpoint,
    load_dataset,
    resolve_data_dir,
    save_checkpoint,
    train,
)
from mtlab.__main__ import main as cli_main
from mtlab.data.datasets import SAMPLE_DIR, warn_if_shared_ids
from mtlab.encoder import Encoder
from mtlab.heads.kinds import SentimentHead
from tests.conftest import make_tiny_encoder

SST = "\tid\tsentence\tsentiment"


def write_sst(folder, *rows: str, raw: bytes | None = None, name: str = "ids-sst-train.csv"):
    path = folder / name
    if raw is not None:
        path.write_bytes(raw)
    else:
        path.write_text("\n".join([SST, *rows]) + "\n", encoding="utf-8")
    return path


def problems(folder, name="ids-sst-train.csv") -> list[str]:
    split = "dev" if "dev" in name else "train"
    return [f"{p.line}: {p.problem}" for p in load_dataset("sst", split, folder).problems]


# --- labels: plain ASCII numbers only ---------------------------------------------------------


@pytest.mark.parametrize(
    "label", ["0_3", "٣", "３", "1_0", "nan", "inf", "-inf", "1e", "+", ".", "1.2.3", "0x1", "²"]
)
def test_labels_that_float_reads_but_are_not_plain_numbers_are_refused(tmp_path, label):
    write_sst(tmp_path, f"0\ta\tfine .\t{label}", "1\tb\tgood .\t3")
    assert problems(tmp_path) == [
        f"2: non-numeric label {label!r} in column 'sentiment' (expected an integer from 0 to 4);"
        " a label is written in plain ASCII digits"
    ]


@settings(max_examples=40, deadline=None)
@given(st.text(st.sampled_from("0123456789_٠١٢٣٤٥٦٧٨٩０１２３"), min_size=1, max_size=4))
def test_any_label_is_kept_only_if_it_is_an_ascii_integer_in_range(tmp_path_factory, label):
    folder = tmp_path_factory.mktemp("labels")
    write_sst(folder, f"0\ta\tfine .\t{label}", "1\tb\tgood .\t3")
    dataset = load_dataset("sst", "train", folder)
    plain = label.isascii() and label.isdigit() and int(label) <= 4
    assert (len(dataset) == 2) == plain, (label, dataset.problems)


# --- text and ids with nothing visible --------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["\x00", "\u200b", "\u200b\u200d\ufeff", "\x00\x01 \u2060", "\u00ad"]
)
def test_a_sentence_or_id_with_nothing_visible_is_blank(tmp_path, text):
    write_sst(tmp_path, f"0\ta\t{text}\t1", f"1\t{text}\tgood .\t3", "2\tc\tok .\t2")
    found = problems(tmp_path)
    assert found[0].startswith("2: blank sentence in column 'sentence' (it holds only invisible")
    assert found[1].startswith("3: blank id in column 'id' (it holds only invisible")


# --- quotes, header copies, line ends ---------------------------------------------------------


def test_quotes_at_the_start_of_an_unquoted_field_are_reported_not_eaten(tmp_path):
    write_sst(tmp_path, '0\ta\t"Hello" he said .\t3', '1\tb\tsay "hi" there .\t2')
    dataset = load_dataset("sst", "train", tmp_path)
    assert [e["sentence"] for e in dataset] == ['say "hi" there .']
    assert "starts with a quote but goes on after the closing quote" in dataset.problems[0].problem


def test_a_repeated_header_row_is_reported(tmp_path):
    write_sst(tmp_path, "0\ta\tfine .\t3", SST, "1\tb\tgood .\t2")
    assert problems(tmp_path) == ["3: a copy of the header row (were two files joined into one?)"]


def test_a_closed_quote_holding_a_line_break_is_named_as_such(tmp_path):
    write_sst(tmp_path, '0\ta\t"first half\r', 'second half"\t3', "1\tb\tgood .\t2")
    found = problems(tmp_path)
    assert found[0].startswith("2: a quoted field holds a line break")
    assert [int(f.split(":")[0]) for f in found] == [2, 3]  # and line 4 is read as line 4
    assert len(load_dataset("sst", "train", tmp_path)) == 1


def test_a_lone_carriage_return_is_reported_and_keeps_line_numbers(tmp_path):
    write_sst(tmp_path, "0\ta\tone\rtwo\t3", "1\tb\tgood .\t2", "1\tb\tagain .\t2")
    assert problems(tmp_path) == [
        "2: a carriage return (\\r) in the middle of the line: each row must be one line ending "
        "in \\n (or \\r\\n)",
        "4: duplicate id 'b' (first seen on line 3)",
    ]


def test_one_huge_row_is_skipped_not_the_file(tmp_path):
    write_sst(tmp_path, f"0\ta\t{'x' * 300_000}\t3", "1\tb\tgood .\t2")
    assert problems(tmp_path) == ["2: a field longer than 131,072 characters"]


def test_blank_lines_before_the_header_are_named(tmp_path):
    write_sst(tmp_path, raw=("\n\n" + SST + "\n0\ta\tfine .\t3\n").encode())
    with pytest.raises(DataFormatError, match="line 1 is blank; expected the header"):
        load_dataset("sst", "train", tmp_path)


@pytest.mark.parametrize(
    "raw",
    [
        (SST + "\n0\ta\tfine .\t3\n").encode("utf-16-le"),
        b"\x00" * 5000,
        b"\xff\xfe" + b"a\x00" * 50,
    ],
)
def test_utf16_and_nul_files_get_a_short_clear_error(tmp_path, raw):
    write_sst(tmp_path, raw=raw)
    with pytest.raises(DataFormatError) as error:
        load_dataset("sst", "train", tmp_path)
    assert "UTF-16 or binary data" in str(error.value) and len(str(error.value)) < 300


# --- paths and limits -------------------------------------------------------------------------


def test_a_folder_a_dangling_link_and_a_link_loop_are_each_named(tmp_path):
    (tmp_path / "ids-sst-train.csv").mkdir()
    with pytest.raises(DataFormatError, match="is a folder; expected the data file"):
        load_dataset("sst", "train", tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    (other / "ids-sst-train.csv").symlink_to(other / "ids-sst-train.csv")  # a loop
    (other / "ids-sst-dev.csv").symlink_to(other / "missing.csv")
    for split in ("train", "dev"):
        with pytest.raises(DataFormatError, match="symbolic link that leads nowhere"):
            load_dataset("sst", split, other)


def test_a_file_given_as_the_data_folder_and_tilde_in_the_setting(tmp_path, monkeypatch):
    path = write_sst(tmp_path, "0\ta\tfine .\t3")
    with pytest.raises(DataFormatError, match="is a file; expected the folder"):
        resolve_data_dir(path)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("MTLAB_FAST", raising=False)
    monkeypatch.setenv("MTLAB_DATA_DIR", "~")
    assert resolve_data_dir().path == tmp_path


@pytest.mark.parametrize("limit", [0, -1, 1.5, "3", True])
def test_bad_limits_on_the_dataset_classes(limit):
    with pytest.raises(ValueError, match="limit must be a positive whole number"):
        LabelledSentenceDataset("sst", "train", SAMPLE_DIR / "ids-sst-train.csv", limit=limit)


def test_dev_ids_that_are_also_in_train_are_reported(capsys):
    train_set = load_dataset("sst", "train", SAMPLE_DIR)
    assert warn_if_shared_ids(train_set, load_dataset("sst", "dev", SAMPLE_DIR)) == []
    assert capsys.readouterr().err == ""
    shared = warn_if_shared_ids(train_set, train_set)
    assert len(shared) == len(train_set)
    assert f"warning: {len(train_set)} dev row(s) of 'sst' have ids" in capsys.readouterr().err


# --- the command line: checked before any work, one line per error -----------------------------


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, "MTLAB_FAST": "1", **(env or {})}
    return subprocess.run([sys.executable, "-m", "mtlab", *args], capture_output=True, text=True,
                          env=environment, timeout=120)  # fmt: skip


@pytest.mark.parametrize(
    "args, message",
    [
        (["--lr", "nan"], "argument --lr: must be a finite number, got nan"),
        (["--finetune-lr", "inf"], "argument --finetune-lr: must be a finite number, got inf"),
        (["--eval-every", "nan"], "argument --eval-every: must be a finite number, got nan"),
        (["--seed", "-1"], "argument --seed: must be 0 or more, got -1"),
        (["--seed", "4294967296"], "argument --seed: must be below 2**32"),
        (["--batch-size", "0"], "argument --batch-size: must be a positive number, got 0"),
        (["--pretrain-epochs", "1.5"], "argument --pretrain-epochs: invalid int value: '1.5'"),
    ],
)
def test_bad_numbers_are_refused_by_the_parser(args, message, capsys):
    # in-process: `python -m mtlab` calls this same main(); a subprocess per case cost 5 s each
    with pytest.raises(SystemExit) as exit_:
        cli_main(args)
    assert exit_.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.slow
def test_bad_device_and_paths_fail_before_any_data_is_read(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    cases = [
        (["--device", "tpu"], {}, "unknown device 'tpu'"),
        (["--output-dir", str(afile)], {}, f"--output-dir {afile} is a file"),
        ([], {"MTLAB_CACHE_DIR": str(afile)}, f"feature cache folder {afile} is a file"),
    ]
    for args, env, message in cases:
        result = run_cli(*args, env=env)
        assert result.returncode == 2, result.stderr
        assert f"python -m mtlab: error: {message}" in result.stderr
        assert "Traceback" not in result.stderr and "sample" not in result.stdout


@pytest.mark.slow
def test_mtlab_errors_are_one_line_and_debug_shows_the_traceback(tmp_path, tiny_folder):
    args = ["--encoder", str(tiny_folder), "--max-length", "500", "--output-dir", str(tmp_path)]
    result = run_cli(*args)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "max_length must be a whole number from 2 to the encoder's 64 positions" in result.stderr
    assert "Traceback" in run_cli(*args, "--debug").stderr


# --- training, checkpoints, cached vectors, encoder folders -----------------------------------


class Exploding(SentimentHead):
    def forward(self, u):
        return super().forward(u) * float("inf")


def test_a_non_finite_loss_stops_training_naming_the_task_and_step(tiny_model):
    tiny_model.add_head("sst", Exploding(tiny_model.encoder.hidden_size))
    data = {"sst": load_dataset("sst", "train", SAMPLE_DIR, limit=8)}
    with pytest.raises(FloatingPointError, match=r"pretrain step 1 of \d+: the 'sst' loss is nan"):
        train(tiny_model.set_mode("pretrain"), data, TrainConfig(batch_size=4), progress=False)


def test_a_checkpoint_whose_encoder_is_not_here(tiny_model, tmp_path):
    tiny_model.encoder.name = str(tmp_path / "gone-bert")
    save_checkpoint(tiny_model, tmp_path / "c.pt")
    with pytest.raises(CheckpointError, match="was trained on the encoder .*gone-bert.*cannot be"):
        load_checkpoint(tmp_path / "c.pt")


def test_cached_vectors_of_the_wrong_width_are_ignored_and_encoded_again(
    tokenizer, tmp_path, capsys
):
    encoder = make_tiny_encoder(tokenizer)
    encoder.set_mode("pretrain")
    cache = FeatureCache(tmp_path)
    path = cache.file_for(encoder)
    torch.save({"keys": [("a dog",)], "vectors": torch.zeros(1, 7)}, path)
    cache.warm(encoder, ["a dog"], progress=False)
    assert "ignoring the damaged feature cache" in capsys.readouterr().out
    assert cache.vectors[("a dog",)].shape == (encoder.hidden_size,)


class NotATensor:
    """A pickled object: torch.load(weights_only=True) refuses to build it."""


@pytest.mark.parametrize(
    "damage", ["truncated safetensors", "pickled object", "other weights", "no tokenizer"]
)
def test_damaged_encoder_folders_are_named(tiny_folder, damage):
    if damage == "truncated safetensors":
        weights = tiny_folder / "model.safetensors"
        weights.write_bytes(weights.read_bytes()[:1000])
    elif damage == "pickled object":
        (tiny_folder / "model.safetensors").unlink()
        torch.save({"x": NotATensor()}, tiny_folder / "pytorch_model.bin")
    elif damage == "other weights":  # loads, but fits no tensor of the model: random weights
        (tiny_folder / "model.safetensors").unlink()
        torch.save({"x": torch.zeros(1)}, tiny_folder / "pytorch_model.bin")
    else:
        for name in ("tokenizer.json", "vocab.txt", "tokenizer_config.json"):
            (tiny_folder / name).unlink(missing_ok=True)
    with pytest.raises(ModelNotFoundError, match=str(tiny_folder)) as error:
        Encoder.from_pretrained(tiny_folder)
    assert len(str(error.value)) < 800
    if damage == "no tokenizer":
        assert "has a model but no tokenizer" in str(error.value)
    if damage == "other weights":
        assert "do not fit its config" in str(error.value)


def test_model_from_a_damaged_folder_keeps_the_message(tiny_folder):
    (tiny_folder / "model.safetensors").write_bytes(b"not weights")
    with pytest.raises(ModelNotFoundError, match="Could not load the encoder in"):
        MultitaskBert.from_pretrained(tiny_folder)
