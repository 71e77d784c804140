"""The one-place corpus of malformed inputs, each with the error or report it must give.

Three families: data files (mtlab.data), encoder folders (mtlab.encoder), and names and
options (tasks, heads, poolings, the command line). Every message must say where the
problem is (file and line, folder, or argument) and what was expected.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest
import torch
from transformers import BertConfig, BertModel

from mtlab.__main__ import parse_args
from mtlab.batching import SCHEDULES
from mtlab.data.datasets import DataFormatError, load_dataset, read_task_file
from mtlab.encoder import POOLINGS, Encoder, ModelNotFoundError, load_pretrained
from mtlab.heads.kinds import ParaphraseHead, SentimentHead, SimilarityHead
from mtlab.model import MultitaskBert
from tests.conftest import TASK_FILES

HEADERS = {
    "sst": "\tid\tsentence\tsentiment",
    "cfimdb": "\tid\tsentence\tsentiment",
    "quora": "\tid\tsentence1\tsentence2\tis_duplicate",
    "sts": "\tid\tsentence1\tsentence2\tsimilarity",
}
TEST_HEADER = "0\t\tid\tsentence"  # SST and CFIMDB test-student files


def row(task: str, index: int, label: str | None = "1") -> str:
    """A good row (label None: the unlabelled layout) whose id is f'id{index}'."""
    if task in ("sst", "cfimdb"):
        text = f"{index}\tid{index}\t A fine sentence number {index} ."
    else:
        text = f"{index}\tid{index}\tFirst question {index}?\tSecond question {index}?"
    return text if label is None else f"{text}\t{label}"


def lines(*physical: str) -> str:
    return "".join(line + "\n" for line in physical)


def with_label(task: str, label: str) -> str:
    """Header, a good row (line 2), a row with this label (line 3), a good row (line 4)."""
    return lines(HEADERS[task], row(task, 0), row(task, 1, label), row(task, 2, "0"))


@dataclass
class FileCase:
    """A data file and what loading it must give.

    error: the DataFormatError message must start with error[0] ({name} is the file name)
    and contain every later string. skipped: (line, text in the problem) for each row
    that must be skipped and reported; kept: the ids that must survive.
    """

    id: str
    task: str
    split: str
    content: str | bytes
    error: tuple[str, ...] = ()
    skipped: list[tuple[int, str]] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


KEEP_0_2 = ["id0", "id2"]


def label_case(id_, task, label, problem) -> FileCase:
    return FileCase(
        id_, task, "train", with_label(task, label), skipped=[(3, problem)], kept=KEEP_0_2
    )


FILE_CASES = [
    # --- delimiters and header columns: the file cannot be used at all ----------------------
    FileCase(
        "comma-delimited",
        "sst",
        "dev",
        lines(",id,sentence,sentiment", "0,id0,Fine .,3"),
        error=(
            "{name} line 1: header looks comma-separated; expected tab-separated columns "
            "['id', 'sentence', 'sentiment']",
        ),
    ),  # fmt: skip
    FileCase(
        "semicolon-delimited",
        "sst",
        "dev",
        lines(";id;sentence;sentiment", "0;id0;Fine .;3"),
        error=(
            "{name} line 1: header looks semicolon-separated; expected tab-separated columns "
            "['id', 'sentence', 'sentiment'], found ';id;sentence;sentiment'",
        ),
    ),  # fmt: skip
    FileCase(
        "pipe-delimited",
        "quora",
        "dev",
        lines("|id|sentence1|sentence2|is_duplicate", "0|id0|Q1?|Q2?|1.0"),
        error=("{name} line 1: header looks pipe-separated; expected tab-separated columns",),
    ),  # fmt: skip
    FileCase(
        "space-delimited",
        "cfimdb",
        "train",
        lines(" id sentence sentiment", "0 id0 Fine 1"),
        error=("{name} line 1: header looks space-separated; expected tab-separated columns",),
    ),  # fmt: skip
    FileCase(  # commas inside a name do not hide that the names are space-separated
        "space-delimited-with-a-comma",
        "sts",
        "train",
        lines("index, id sentence1 sentence2 similarity", "0 id0 A. B. 2.0"),
        error=("{name} line 1: header looks space-separated",),
    ),  # fmt: skip
    FileCase(
        "header-missing-label-column",
        "quora",
        "train",
        lines("\tid\tsentence1\tsentence2", "0\tid0\tQ1?\tQ2?"),
        error=(
            "{name} line 1: header lacks column(s) ['is_duplicate']; expected columns "
            "['id', 'sentence1', 'sentence2', 'is_duplicate'], found "
            "['', 'id', 'sentence1', 'sentence2']",
        ),
    ),  # fmt: skip
    FileCase(
        "header-wrong-case",
        "sts",
        "dev",
        lines("\tID\tSentence1\tSentence2\tSimilarity", row("sts", 0)),
        error=(
            "{name} line 1: header lacks column(s) ['id', 'sentence1', 'sentence2', 'similarity']",
        ),
    ),  # fmt: skip
    FileCase(
        "test-student-layout-where-labels-are-needed",
        "sst",
        "dev",
        lines(TEST_HEADER, "1\t0.0\tid0\t Fine ."),
        error=("{name} line 1: header lacks column(s) ['sentiment']",),
    ),  # fmt: skip
    FileCase(
        "duplicate-header-column",
        "sst",
        "dev",
        lines("\tid\tid\tsentence\tsentiment", "0\tid0\tother\t Fine .\t3"),
        error=(
            "{name} line 1: header names column 'id' more than once, as fields 2 and 3; "
            "expected each of ['id', 'sentence', 'sentiment'] once",
        ),
    ),  # fmt: skip
    # --- encodings --------------------------------------------------------------------------
    FileCase(
        "latin-1-bytes",
        "sst",
        "train",
        lines(HEADERS["sst"], row("sst", 0), "1\tid1\t Caf\u00e9 .\t3").encode("latin-1"),
        error=("{name} line 3: not UTF-8 text (byte 0xe9); expected a UTF-8 tab-separated file",),
    ),  # fmt: skip
    FileCase(
        "utf-16",
        "sts",
        "train",
        lines(HEADERS["sts"], row("sts", 0)).encode("utf-16"),
        error=("{name}: UTF-16 or binary data (NUL bytes at the start); expected a UTF-8",),
    ),  # fmt: skip
    FileCase(
        "byte-order-mark-accepted",
        "sst",
        "train",
        lines(HEADERS["sst"], row("sst", 0)).encode("utf-8-sig"),
        kept=["id0"],
    ),  # fmt: skip
    FileCase(
        "crlf-line-ends-accepted",
        "quora",
        "dev",
        (HEADERS["quora"] + "\r\n" + row("quora", 0, "1.0") + "\r\n"),
        kept=["id0"],
    ),  # fmt: skip
    # --- empty and nearly empty files -------------------------------------------------------
    FileCase(
        "empty-file",
        "sst",
        "train",
        "",
        error=("{name} is empty: expected a tab-separated header ['id', 'sentence', 'sentiment']",),
    ),  # fmt: skip
    FileCase(
        "blank-lines-only",
        "sts",
        "train",
        "\n\n\n",
        error=("{name} line 1 is blank; expected the header, tab-separated columns",),
    ),  # fmt: skip
    FileCase(
        "header-only",
        "sts",
        "dev",
        lines(HEADERS["sts"]),
        error=(
            "{name} has a header but no data rows: expected at least one row of tab-separated "
            "columns ['id', 'sentence1', 'sentence2', 'similarity']",
        ),
    ),  # fmt: skip
    FileCase(
        "every-row-bad",
        "cfimdb",
        "dev",
        lines(HEADERS["cfimdb"], row("cfimdb", 0, "7")),
        error=(
            "{name}: none of its 1 rows is usable ({name} line 2: label '7'",
            "expected 0 or 1",
        ),
    ),  # fmt: skip
    # --- rows of the wrong shape ------------------------------------------------------------
    FileCase(
        "missing-field",
        "sst",
        "train",
        lines(HEADERS["sst"], row("sst", 0), "1\tid1\t Too few fields .", row("sst", 2)),
        skipped=[(3, "expected 4 tab-separated fields, found 3")],
        kept=KEEP_0_2,
    ),  # fmt: skip
    FileCase(
        "extra-field",
        "sts",
        "train",
        lines(HEADERS["sts"], row("sts", 0), row("sts", 1, "2.0\textra"), row("sts", 2)),
        skipped=[(3, "expected 5 tab-separated fields, found 6")],
        kept=KEEP_0_2,
    ),  # fmt: skip
    FileCase(
        "blank-line-in-the-middle",
        "quora",
        "dev",
        lines(HEADERS["quora"], row("quora", 0), "", row("quora", 2)),
        skipped=[(3, "expected 5 tab-separated fields, found 0")],
        kept=KEEP_0_2,
    ),  # fmt: skip
    FileCase(
        "unbalanced-quote-on-the-last-row",
        "sst",
        "dev",
        lines(HEADERS["sst"], row("sst", 0), '1\tid1\t"It never closes .\t2'),
        skipped=[(3, "a quote opened on this line is never closed")],
        kept=["id0"],
    ),  # fmt: skip
    FileCase(  # each line is parsed on its own: the open quote costs its own row only
        "unbalanced-quote-mid-file",
        "sst",
        "dev",
        lines(
            HEADERS["sst"],
            row("sst", 0),
            '1\tid1\t"It never closes .\t2',
            row("sst", 2),
            row("sst", 3),
        ),
        skipped=[(3, "a quote opened on this line is never closed")],
        kept=["id0", "id2", "id3"],
    ),  # fmt: skip
    FileCase(
        "stray-quote-closed-on-a-later-line",
        "quora",
        "train",
        lines(
            HEADERS["quora"],
            '0\tid0\t"Why?\tHow?\t0.0',
            row("quora", 1),
            '2\tid2\tIs "this" it?\tYes.\t1.0',
            row("quora", 3),
        ),
        skipped=[(2, "a quote opened on this line is never closed")],
        kept=["id1", "id2", "id3"],
    ),  # fmt: skip
    FileCase(
        "quotes-and-tabs-inside-quotes-accepted",
        "quora",
        "train",
        lines(HEADERS["quora"], '0\tid0\t"What does ""carpe\tdiem"" mean?"\tLatin?\t0.0'),
        kept=["id0"],
    ),  # fmt: skip
    FileCase(
        "field-over-the-csv-size-limit",
        "sst",
        "dev",
        lines(HEADERS["sst"], row("sst", 0), f"1\tid1\t{'x' * 200_000}\t2"),
        skipped=[(3, "a field longer than 131,072 characters")],
        kept=["id0"],
    ),  # fmt: skip
    # --- blank and duplicate values ---------------------------------------------------------
    FileCase(
        "duplicate-id",
        "sst",
        "dev",
        lines(HEADERS["sst"], row("sst", 0), row("sst", 2), row("sst", 0, "4")),
        skipped=[(4, "duplicate id 'id0' (first seen on line 2)")],
        kept=KEEP_0_2,
    ),  # fmt: skip
    FileCase(
        "blank-id",
        "cfimdb",
        "train",
        lines(HEADERS["cfimdb"], row("cfimdb", 0), "1\t \t Fine .\t1", row("cfimdb", 2)),
        skipped=[(3, "blank id in column 'id'")],
        kept=KEEP_0_2,
    ),  # fmt: skip
    FileCase(
        "empty-sentence",
        "sst",
        "train",
        lines(HEADERS["sst"], row("sst", 0), "1\tid1\t   \t2", row("sst", 2)),
        skipped=[(3, "blank sentence in column 'sentence'")],
        kept=KEEP_0_2,
    ),  # fmt: skip
    FileCase(
        "empty-sentence-in-unlabelled-file",
        "sts",
        "test",
        lines(
            "\tid\tsentence1\tsentence2",
            row("sts", 0, None),
            "1\tid1\tA question?\t",
            row("sts", 2, None),
        ),
        skipped=[(3, "blank sentence in column 'sentence2'")],
        kept=KEEP_0_2,
    ),  # fmt: skip
    FileCase(  # the real quora-dev.csv line 1863 has this shape
        "blank-second-sentence-and-label",
        "quora",
        "dev",
        lines(HEADERS["quora"], row("quora", 0), "1\tid1\tA question?\t\t", row("quora", 2)),
        skipped=[(3, "blank sentence in column 'sentence2'; blank label in column 'is_duplicate'")],
        kept=KEEP_0_2,
    ),  # fmt: skip
    # --- labels -----------------------------------------------------------------------------
    label_case(
        "blank-label-sst",
        "sst",
        "",
        "blank label in column 'sentiment' (expected an integer from 0 to 4)",
    ),
    label_case(
        "blank-label-quora",
        "quora",
        "  ",
        "blank label in column 'is_duplicate' (expected 0 or 1)",
    ),
    label_case(
        "non-numeric-label-sst",
        "sst",
        "positive",
        "non-numeric label 'positive' in column 'sentiment' (expected an integer from 0 to 4)",
    ),
    label_case(
        "non-numeric-label-sts",
        "sts",
        "high",
        "non-numeric label 'high' in column 'similarity' (expected a number from 0 to 5)",
    ),
    label_case(
        "non-numeric-label-quora",
        "quora",
        "True",
        "non-numeric label 'True' in column 'is_duplicate' (expected 0 or 1)",
    ),
    label_case(
        "sst-label-5",
        "sst",
        "5",
        "label '5' in column 'sentiment' is out of range: expected an integer from 0 to 4",
    ),
    label_case("sst-label-minus-1", "sst", "-1", "expected an integer from 0 to 4"),
    label_case("sst-label-2.5", "sst", "2.5", "label '2.5' in column 'sentiment' is out of range"),
    label_case("cfimdb-label-2", "cfimdb", "2", "expected 0 or 1"),
    label_case(
        "quora-label-2",
        "quora",
        "2.0",
        "label '2.0' in column 'is_duplicate' is out of range: expected 0 or 1",
    ),
    label_case("quora-label-0.5", "quora", "0.5", "expected 0 or 1"),
    label_case(
        "sts-label-5.1",
        "sts",
        "5.1",
        "label '5.1' in column 'similarity' is out of range: expected a number from 0 to 5",
    ),
    label_case("sts-label-negative", "sts", "-0.5", "expected a number from 0 to 5"),
    label_case("sts-label-nan", "sts", "nan", "non-numeric label 'nan' in column 'similarity'"),
    label_case("sts-label-inf", "sts", "inf", "non-numeric label 'inf' in column 'similarity'"),
    FileCase(
        "label-spellings-accepted",
        "quora",
        "train",
        lines(
            HEADERS["quora"], row("quora", 0, "1.0"), row("quora", 1, " 0 "), row("quora", 2, "1")
        ),
        kept=["id0", "id1", "id2"],
    ),  # fmt: skip
]


def write_case(folder, case: FileCase) -> str:
    name = TASK_FILES[case.task][case.split]
    content = case.content.encode("utf-8") if isinstance(case.content, str) else case.content
    (folder / name).write_bytes(content)
    return name


@pytest.mark.parametrize("case", FILE_CASES, ids=lambda case: case.id)
def test_data_file(tmp_path, capsys, case):
    name = write_case(tmp_path, case)
    if case.error:
        with pytest.raises(DataFormatError) as error:
            load_dataset(case.task, case.split, tmp_path)
        message = str(error.value)
        assert message.startswith(case.error[0].format(name=name)), message
        for part in case.error[1:]:
            assert part.format(name=name) in message, message
        return

    dataset = load_dataset(case.task, case.split, tmp_path)

    assert [example["id"] for example in dataset] == case.kept
    assert [problem.line for problem in dataset.problems] == [line for line, _ in case.skipped]
    for problem, (_, text) in zip(dataset.problems, case.skipped):
        assert str(problem).startswith(f"{name} line {problem.line}: ")
        assert text in problem.problem
    err = capsys.readouterr().err
    if case.skipped:
        first_line, first_text = case.skipped[0]
        n = len(case.skipped)
        assert err.startswith(f"{name}: skipped {n} malformed row")
        assert f"(line {first_line}: " in err and first_text in err
    else:
        assert err == ""


SKIPPED_ROW_CASES = [case for case in FILE_CASES if case.skipped]


@pytest.mark.parametrize("case", SKIPPED_ROW_CASES, ids=lambda case: case.id)
def test_data_file_strict_raises_at_the_first_bad_row(tmp_path, case):
    name = write_case(tmp_path, case)
    line, text = case.skipped[0]
    with pytest.raises(DataFormatError) as error:
        load_dataset(case.task, case.split, tmp_path, strict=True)
    message = str(error.value)
    assert message.startswith(f"{name} line {line}: ")
    assert text in message
    assert message.endswith("(strict=True; strict=False skips it)")


def test_corpus_is_big_enough():
    assert len(FILE_CASES) >= 30


# --- long sentences: truncated to the encoder's maximum, not an error ----------------------

LONG = " ".join(f"word{i}" for i in range(400))  # far more than 32 tokens


def test_long_sentence_in_a_file_loads_whole(tmp_path):
    write_case(
        tmp_path,
        FileCase("long", "sst", "train", lines(HEADERS["sst"], f"0\tid0\t {LONG} .\t2")),
    )
    dataset = load_dataset("sst", "train", tmp_path)
    assert dataset.problems == [] and dataset[0]["sentence"] == f"{LONG} ."


def test_long_sentence_is_truncated_to_max_length(tiny_encoder):
    assert tiny_encoder.max_length == 32
    batch = tiny_encoder.tokenize([LONG, "short"])
    assert batch["input_ids"].shape == (2, 32)
    assert tiny_encoder.embed([LONG]).shape == (1, tiny_encoder.hidden_size)
    pair = tiny_encoder.tokenize([LONG], pair_with=[LONG])
    assert pair["input_ids"].shape == (1, 32)


def test_long_sentence_truncation_is_counted(tiny_encoder):
    tiny_encoder.set_mode("finetune")
    tiny_encoder.embed([LONG, "short", LONG + " again", LONG])  # LONG twice: counted once
    assert tiny_encoder.truncated == 2


# --- encoder folders ----------------------------------------------------------------------


def tiny_bert(vocab_size: int) -> BertModel:
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=vocab_size, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=64,
    )  # fmt: skip
    return BertModel(config)


def test_model_path_missing(tmp_path):
    missing = tmp_path / "no-such-model"
    with pytest.raises(ModelNotFoundError) as error:
        load_pretrained(missing)
    assert str(error.value).startswith(f"No encoder found at {missing}: the folder does not exist")
    assert "config.json" in str(error.value)  # what a model folder holds


def test_model_path_is_a_file(tmp_path):
    (tmp_path / "model.bin").write_bytes(b"\0" * 10)
    with pytest.raises(ModelNotFoundError, match=r"model\.bin is not a Hugging Face model folder"):
        load_pretrained(tmp_path / "model.bin")


def test_model_folder_without_config(tmp_path):
    (tmp_path / "notes.txt").write_text("not a model")
    with pytest.raises(ModelNotFoundError) as error:
        load_pretrained(tmp_path)
    message = str(error.value)
    assert message.startswith(f"{tmp_path} is not a Hugging Face model folder: expected config")
    assert "found ['notes.txt']" in message


def test_model_folder_with_broken_config_json(tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ModelNotFoundError, match="config.json' is not a valid JSON file"):
        load_pretrained(tmp_path)


def test_model_folder_without_weights(tmp_path, tokenizer):
    tiny_bert(len(tokenizer)).config.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    with pytest.raises(ModelNotFoundError, match=r"no file named model\.safetensors"):
        load_pretrained(tmp_path)


def test_tokenizer_that_does_not_match_the_model(tmp_path, tokenizer):
    tiny_bert(100).save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    with pytest.raises(ModelNotFoundError) as error:
        load_pretrained(tmp_path)
    assert str(error.value) == (
        f"The tokenizer of {tmp_path} has {len(tokenizer)} tokens but the model expects 100: "
        "they do not belong together."
    )


@pytest.mark.parametrize("config", [{"model_type": "bogus"}, {}], ids=["unknown-type", "no-type"])
def test_model_folder_with_an_unknown_model_type(tmp_path, tokenizer, config):
    tokenizer.save_pretrained(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelNotFoundError, match=str(tmp_path)):
        load_pretrained(tmp_path)


# --- unknown names: tasks, splits, heads, poolings, modes ---------------------------------


def test_unknown_task_in_load_dataset():
    with pytest.raises(
        ValueError, match="unknown task 'imdb'; known tasks: sst, quora, sts, cfimdb"
    ):
        load_dataset("imdb", "train")


def test_unknown_split_in_load_dataset():
    with pytest.raises(ValueError, match="task 'sts' has no split 'validation'; valid splits"):
        load_dataset("sts", "validation")


def test_unknown_task_in_read_task_file(tmp_path):
    with pytest.raises(
        ValueError, match="unknown task 'para'; known tasks: sst, quora, sts, cfimdb. Register"
    ):
        read_task_file(tmp_path / "x.csv", "para", labelled=True)


@pytest.mark.parametrize(
    ("option", "head"),
    [("sentiment", SentimentHead), ("paraphrase", ParaphraseHead), ("similarity", SimilarityHead)],
)
def test_unknown_head_name(tiny_encoder, option, head):
    with pytest.raises(ValueError) as error:
        MultitaskBert(tiny_encoder, **{option: "bogus"})
    assert str(error.value) == (
        f"unknown {head.__name__} variant 'bogus'; choose one of {head.variants}"
    )


def test_unknown_pooling(tiny_encoder):
    with pytest.raises(ValueError, match=r"pooling must be one of \('mean', 'cls'\), got 'max'"):
        Encoder(tiny_encoder.bert, tiny_encoder.tokenizer, pooling="max")


def test_unknown_mode(tiny_encoder):
    with pytest.raises(ValueError, match=r"mode must be one of \('pretrain', 'finetune'\)"):
        tiny_encoder.set_mode("frozen")


# --- the command line ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--train-limit", "many"], "argument --train-limit: invalid int value: 'many'"),
        (["--pretrain-lr", "fast"], "argument --pretrain-lr: invalid float value: 'fast'"),
        (["--no-such-option", "1"], "unrecognized arguments: --no-such-option 1"),
    ],
)
def test_command_line_rejects_bad_values_naming_the_argument(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_:
        parse_args(argv)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("option", "valid"),
    [
        ("--pooling", POOLINGS),
        ("--sentiment-head", SentimentHead.variants),
        ("--paraphrase-head", ParaphraseHead.variants),
        ("--similarity-head", SimilarityHead.variants),
        ("--schedule", SCHEDULES),
    ],
    ids=["pooling", "sentiment-head", "paraphrase-head", "similarity-head", "schedule"],
)
def test_command_line_rejects_an_unknown_name(capsys, option, valid):
    with pytest.raises(SystemExit):
        parse_args([option, "bogus"])
    err = capsys.readouterr().err
    assert option in err and "bogus" in err and all(name in err for name in valid)


@pytest.mark.parametrize(
    "argv",
    [["--batch-size", "0"], ["--max-length", "-3"], ["--train-limit", "0"]],
    ids=["batch-size-0", "max-length-negative", "train-limit-0"],
)
def test_command_line_rejects_numbers_that_cannot_work(capsys, argv):
    with pytest.raises(SystemExit):
        parse_args(argv)
    assert argv[0] in capsys.readouterr().err
