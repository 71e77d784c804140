"""Tests for mtlab.data: the bundled sample, the real course files, malformed files, data lookup."""

import os
from pathlib import Path

import pandas as pd
import pytest

from mtlab.data import datasets as data
from mtlab.data.datasets import (
    SAMPLE_DIR,
    SAMPLE_MESSAGE,
    DataFormatError,
    DataSource,
    LabelledPairDataset,
    LabelledSentenceDataset,
    RowProblem,
    UnlabelledPairDataset,
    UnlabelledSentenceDataset,
    load_dataset,
    read_task_file,
    resolve_data_dir,
    to_dataframe,
)
from tests.conftest import REAL_DATA as REAL
from tests.conftest import TASK_FILES

needs_real_data = pytest.mark.skipif(
    not (REAL / "ids-sst-train.csv").is_file(), reason=f"real course data not found in {REAL}"
)

ALL_SPLITS = [(task, split) for task, splits in TASK_FILES.items() for split in splits]

SAMPLE_SIZES = {
    ("sst", "train"): 200,
    ("sst", "dev"): 60,
    ("sst", "test"): 40,
    ("quora", "train"): 200,
    ("quora", "dev"): 60,
    ("quora", "test"): 40,
    ("sts", "train"): 200,
    ("sts", "dev"): 60,
    ("sts", "test"): 40,
    ("cfimdb", "train"): 60,
    ("cfimdb", "dev"): 20,
    ("cfimdb", "test"): 20,
}

# Good rows per real file: the README's row counts, minus the one broken Quora row each.
REAL_SIZES = {
    ("sst", "train"): 8544,
    ("sst", "dev"): 1101,
    ("sst", "test"): 2210,
    ("quora", "train"): 14721,
    ("quora", "dev"): 2612,
    ("quora", "test"): 2879,
    ("sts", "train"): 6040,
    ("sts", "dev"): 863,
    ("sts", "test"): 1725,
    ("cfimdb", "train"): 1707,
    ("cfimdb", "dev"): 245,
    ("cfimdb", "test"): 488,
}

EXPECTED_CLASS = {
    "sst": (LabelledSentenceDataset, UnlabelledSentenceDataset),
    "cfimdb": (LabelledSentenceDataset, UnlabelledSentenceDataset),
    "quora": (LabelledPairDataset, UnlabelledPairDataset),
    "sts": (LabelledPairDataset, UnlabelledPairDataset),
}

HEADERS = {
    "sst": "\tid\tsentence\tsentiment",
    "cfimdb": "\tid\tsentence\tsentiment",
    "quora": "\tid\tsentence1\tsentence2\tis_duplicate",
    "sts": "\tid\tsentence1\tsentence2\tsimilarity",
}


def write(folder: Path, name: str, lines: list[str]) -> Path:
    """Write a small tab-separated file; each string is one physical line."""
    path = folder / name
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def good_row(task: str, index: int, label: str) -> str:
    """A well-formed row for the task, with the given label text."""
    if task in ("sst", "cfimdb"):
        return f"{index}\tid{index}\t A fine sentence number {index} .\t{label}"
    return f"{index}\tid{index}\tFirst question {index}?\tSecond question {index}?\t{label}"


# --- the bundled sample -------------------------------------------------------------------


@pytest.mark.parametrize(("task", "split"), ALL_SPLITS)
def test_sample_split_loads_cleanly_with_the_right_shape(task, split):
    dataset = load_dataset(task, split, SAMPLE_DIR)

    assert dataset.problems == []
    assert len(dataset) == SAMPLE_SIZES[task, split]
    labelled_class, unlabelled_class = EXPECTED_CLASS[task]
    assert type(dataset) is (unlabelled_class if split == "test" else labelled_class)
    text_keys = ["sentence"] if task in ("sst", "cfimdb") else ["sentence1", "sentence2"]
    expected_keys = {"id", *text_keys} | (set() if split == "test" else {"label"})
    ids = set()
    for example in dataset:
        assert set(example) == expected_keys
        assert len(example["id"]) == 25
        ids.add(example["id"])
        for key in text_keys:
            assert example[key] == example[key].strip() != ""
        if split == "test":
            continue
        label = example["label"]
        if task == "sts":
            assert type(label) is float and 0.0 <= label <= 5.0
        else:
            assert type(label) is int and 0 <= label <= (4 if task == "sst" else 1)
    assert len(ids) == len(dataset)


@pytest.mark.parametrize(("task", "n_labels"), [("sst", 5), ("cfimdb", 2), ("quora", 2)])
def test_sample_train_uses_every_class(task, n_labels):
    labels = {example["label"] for example in load_dataset(task, "train", SAMPLE_DIR)}
    assert labels == set(range(n_labels))


def test_sample_sts_scores_span_the_whole_range():
    scores = [example["label"] for example in load_dataset("sts", "train", SAMPLE_DIR)]
    assert min(scores) == 0.0 and max(scores) == 5.0
    assert {int(score) for score in scores} == {0, 1, 2, 3, 4, 5}


def test_sample_has_the_real_files_quirks():
    sst_lines = (SAMPLE_DIR / "ids-sst-train.csv").read_text(encoding="utf-8").splitlines()
    assert sst_lines[0] == "\tid\tsentence\tsentiment"
    assert sst_lines[1].split("\t")[2].startswith(" ")
    test_header = (SAMPLE_DIR / "ids-sst-test-student.csv").read_text(encoding="utf-8")
    assert test_header.startswith("0\t\tid\tsentence\n")
    quora_lines = (SAMPLE_DIR / "quora-train.csv").read_text(encoding="utf-8").splitlines()
    assert {line.rsplit("\t", 1)[1] for line in quora_lines[1:]} == {"0.0", "1.0"}
    assert set(os.listdir(SAMPLE_DIR)) == {name for s in TASK_FILES.values() for name in s.values()}


def test_sample_sst_sentences_keep_their_tokenization():
    sentences = [example["sentence"] for example in load_dataset("sst", "train", SAMPLE_DIR)]
    assert any(" 's " in sentence for sentence in sentences)
    assert any(" n't " in sentence for sentence in sentences)


# --- the real course files ----------------------------------------------------------------


@needs_real_data
@pytest.mark.parametrize(("task", "split"), ALL_SPLITS)
def test_real_file_parses_to_the_readme_row_count(task, split):
    dataset = load_dataset(task, split, REAL)
    assert len(dataset) == REAL_SIZES[task, split]
    assert type(dataset) is EXPECTED_CLASS[task][split == "test"]
    if task != "quora":
        assert dataset.problems == []


@needs_real_data
def test_real_quora_broken_rows_are_reported_with_file_and_line(capsys):
    train = load_dataset("quora", "train", REAL)
    dev = load_dataset("quora", "dev", REAL)

    assert [(p.path.name, p.line) for p in train.problems] == [("quora-train.csv", 1866)]
    assert str(train.problems[0]) == (
        "quora-train.csv line 1866: blank label in column 'is_duplicate' (expected 0 or 1)"
    )
    assert [(p.path.name, p.line) for p in dev.problems] == [("quora-dev.csv", 1863)]
    assert "blank sentence in column 'sentence2'" in dev.problems[0].problem
    assert "blank label in column 'is_duplicate'" in dev.problems[0].problem
    err = capsys.readouterr().err
    assert "quora-train.csv: skipped 1 malformed row (line 1866: blank label" in err
    assert "quora-dev.csv: skipped 1 malformed row (line 1863: " in err


@needs_real_data
@pytest.mark.parametrize(("split", "line"), [("train", 1866), ("dev", 1863)])
def test_real_quora_strict_raises_naming_file_and_line(split, line):
    with pytest.raises(DataFormatError, match=rf"quora-{split}\.csv line {line}: blank"):
        load_dataset("quora", split, REAL, strict=True)


@needs_real_data
def test_real_quoted_fields_keep_their_quotes():
    examples, _ = read_task_file(REAL / "quora-dev.csv", "quora", labelled=True)
    assert any('"' in example["sentence1"] for example in examples)


# --- whole files that cannot be used ------------------------------------------------------


def test_missing_file_says_where_it_looked_and_how_to_get_data(tmp_path):
    with pytest.raises(DataFormatError) as error:
        load_dataset("sst", "train", tmp_path)
    message = str(error.value)
    assert "ids-sst-train.csv not found in" in message
    assert str(tmp_path) in message
    assert "MTLAB_DATA_DIR" in message and "data/ folder" in message


def test_empty_file(tmp_path):
    write(tmp_path, "ids-sst-train.csv", [])
    with pytest.raises(DataFormatError, match=r"ids-sst-train\.csv is empty"):
        load_dataset("sst", "train", tmp_path)


def test_header_without_rows(tmp_path):
    write(tmp_path, "sts-dev.csv", [HEADERS["sts"]])
    with pytest.raises(DataFormatError) as error:
        load_dataset("sts", "dev", tmp_path)
    assert str(error.value) == (
        "sts-dev.csv has a header but no data rows: expected at least one row of tab-separated "
        "columns ['id', 'sentence1', 'sentence2', 'similarity']"
    )


def test_header_missing_a_column_names_expected_and_found(tmp_path):
    write(tmp_path, "quora-train.csv", ["\tid\tsentence1\tsentence2", "0\ta\tQ1?\tQ2?"])
    with pytest.raises(DataFormatError) as error:
        load_dataset("quora", "train", tmp_path)
    message = str(error.value)
    assert message.startswith("quora-train.csv line 1: header lacks column(s) ['is_duplicate']")
    assert "expected columns ['id', 'sentence1', 'sentence2', 'is_duplicate']" in message
    assert "found ['', 'id', 'sentence1', 'sentence2']" in message


@pytest.mark.parametrize(
    ("delimiter", "name"), [(",", "comma"), (";", "semicolon"), ("|", "pipe"), (" ", "space")]
)
def test_other_delimiters_are_recognised(tmp_path, delimiter, name):
    header = delimiter.join(["", "id", "sentence", "sentiment"])
    write(tmp_path, "ids-sst-dev.csv", [header, delimiter.join(["0", "a", "Fine", "3"])])
    with pytest.raises(DataFormatError) as error:
        load_dataset("sst", "dev", tmp_path)
    assert str(error.value) == (
        f"ids-sst-dev.csv line 1: header looks {name}-separated; expected tab-separated "
        f"columns ['id', 'sentence', 'sentiment'], found {header.strip()!r}"
    )


def test_column_named_twice_in_the_header(tmp_path):
    header = "\tid\tsentence1\tsentence2\tis_duplicate\tsentence2"
    write(tmp_path, "quora-dev.csv", [header, "0\ta\tQ1?\tQ2?\t1.0\tQ3?"])
    with pytest.raises(DataFormatError) as error:
        load_dataset("quora", "dev", tmp_path)
    assert str(error.value).startswith(
        "quora-dev.csv line 1: header names column 'sentence2' more than once, as fields 4 and 6;"
    )


def test_test_student_file_cannot_be_read_as_labelled(tmp_path):
    write(tmp_path, "ids-sst-test-student.csv", ["0\t\tid\tsentence", "1\t0.0\ta\t Fine ."])
    path = tmp_path / "ids-sst-test-student.csv"
    with pytest.raises(DataFormatError, match=r"lacks column\(s\) \['sentiment'\]"):
        read_task_file(path, "sst", labelled=True)


def test_file_with_only_bad_rows_is_unusable(tmp_path):
    write(tmp_path, "ids-cfimdb-dev.csv", [HEADERS["cfimdb"], good_row("cfimdb", 0, "")])
    with pytest.raises(DataFormatError, match=r"ids-cfimdb-dev\.csv: none of its 1 rows"):
        load_dataset("cfimdb", "dev", tmp_path)


def test_file_that_is_not_utf8(tmp_path):
    text = "\tid\tsentence\tsentiment\n0\ta\t Fine .\t3\n1\tb\t Caf\u00e9 .\t3\n"
    (tmp_path / "ids-sst-train.csv").write_bytes(text.encode("latin-1"))
    with pytest.raises(DataFormatError, match=r"ids-sst-train\.csv line 3: not UTF-8 text"):
        load_dataset("sst", "train", tmp_path)


def test_csv_parser_errors_name_file_and_line(tmp_path):
    huge = "x" * 200_000
    write(
        tmp_path, "ids-sst-dev.csv", [HEADERS["sst"], good_row("sst", 0, "1"), f"1\tb\t{huge}\t2"]
    )
    dataset = load_dataset("sst", "dev", tmp_path)  # the huge row is skipped, not the file
    assert [str(p) for p in dataset.problems] == [
        "ids-sst-dev.csv line 3: a field longer than 131,072 characters"
    ]


# --- bad rows -----------------------------------------------------------------------------

BAD_LABELS = [
    ("sst", "", "blank label in column 'sentiment'"),
    ("sst", "great", "non-numeric label 'great' in column 'sentiment' (expected an integer"),
    (
        "sst",
        "5",
        "label '5' in column 'sentiment' is out of range: expected an integer from 0 to 4",
    ),
    ("sst", "-1", "out of range"),
    ("sst", "2.5", "out of range"),
    ("cfimdb", "", "blank label in column 'sentiment'"),
    ("cfimdb", "yes", "non-numeric label 'yes'"),
    (
        "cfimdb",
        "2",
        "label '2' in column 'sentiment' is out of range: expected 0 or 1",
    ),
    ("quora", "", "blank label in column 'is_duplicate' (expected 0 or 1)"),
    ("quora", "true", "non-numeric label 'true' in column 'is_duplicate'"),
    ("quora", "2.0", "label '2.0' in column 'is_duplicate' is out of range"),
    ("quora", "0.5", "out of range"),
    ("sts", "", "blank label in column 'similarity' (expected a number from 0 to 5)"),
    ("sts", "high", "non-numeric label 'high' in column 'similarity'"),
    (
        "sts",
        "5.5",
        "label '5.5' in column 'similarity' is out of range: expected a number from 0 to 5",
    ),
    ("sts", "-0.2", "out of range"),
    ("sts", "nan", "non-numeric"),
]


@pytest.mark.parametrize(("task", "label", "problem"), BAD_LABELS)
def test_bad_label_is_skipped_and_reported(tmp_path, capsys, task, label, problem):
    name = TASK_FILES[task]["train"]
    rows = [good_row(task, 0, "1"), good_row(task, 1, label), good_row(task, 2, "0")]
    write(tmp_path, name, [HEADERS[task], *rows])

    dataset = load_dataset(task, "train", tmp_path)

    assert [example["id"] for example in dataset] == ["id0", "id2"]
    assert len(dataset.problems) == 1
    assert dataset.problems[0].line == 3
    assert problem in dataset.problems[0].problem
    err = capsys.readouterr().err
    assert err.startswith(f"{name}: skipped 1 malformed row (line 3: ")
    assert problem in err


@pytest.mark.parametrize(("task", "label", "problem"), BAD_LABELS)
def test_bad_label_in_strict_mode_raises_with_file_and_line(tmp_path, task, label, problem):
    name = TASK_FILES[task]["dev"]
    write(tmp_path, name, [HEADERS[task], good_row(task, 0, "1"), good_row(task, 1, label)])
    with pytest.raises(DataFormatError) as error:
        load_dataset(task, "dev", tmp_path, strict=True)
    assert str(error.value).startswith(f"{name} line 3: ")
    assert problem in str(error.value)


@pytest.mark.parametrize(
    ("task", "text", "expected"),
    [
        ("quora", "1", 1),
        ("quora", "0.0", 0),
        ("sts", "3", 3.0),
        ("sts", " 4.2 ", 4.2),
        ("sst", "4", 4),
    ],
)
def test_label_spellings_that_are_accepted(tmp_path, task, text, expected):
    write(tmp_path, "f.csv", [HEADERS[task], good_row(task, 0, text)])
    examples, problems = read_task_file(tmp_path / "f.csv", task, labelled=True)
    assert problems == []
    assert examples[0]["label"] == expected
    assert type(examples[0]["label"]) is type(expected)


def test_blank_sentence(tmp_path, capsys):
    lines = [HEADERS["sts"], good_row("sts", 0, "2.0"), "1\tid1\t  \tSomething else.\t1.0"]
    write(tmp_path, "sts-train.csv", lines)
    dataset = load_dataset("sts", "train", tmp_path)
    assert len(dataset) == 1
    assert str(dataset.problems[0]) == "sts-train.csv line 3: blank sentence in column 'sentence1'"
    assert (
        "sts-train.csv: skipped 1 malformed row (line 3: blank sentence" in capsys.readouterr().err
    )


def test_wrong_number_of_fields(tmp_path):
    lines = [HEADERS["sst"], "0\tid0\t Too few fields .", good_row("sst", 1, "3")]
    write(tmp_path, "ids-sst-train.csv", lines)
    dataset = load_dataset("sst", "train", tmp_path)
    assert len(dataset) == 1
    assert str(dataset.problems[0]) == (
        "ids-sst-train.csv line 2: expected 4 tab-separated fields, found 3"
    )


def test_duplicate_id_keeps_the_first_and_reports_the_second(tmp_path):
    lines = [
        HEADERS["sst"],
        good_row("sst", 7, "3"),
        good_row("sst", 8, "1"),
        good_row("sst", 7, "0"),
    ]
    write(tmp_path, "ids-sst-dev.csv", lines)
    dataset = load_dataset("sst", "dev", tmp_path)
    assert [example["label"] for example in dataset] == [3, 1]
    assert str(dataset.problems[0]) == (
        "ids-sst-dev.csv line 4: duplicate id 'id7' (first seen on line 2)"
    )


def test_summary_lists_five_lines_then_dots(tmp_path, capsys):
    bad = [good_row("cfimdb", i, "9") for i in range(7)]
    write(tmp_path, "ids-cfimdb-train.csv", [HEADERS["cfimdb"], good_row("cfimdb", 99, "1"), *bad])
    dataset = load_dataset("cfimdb", "train", tmp_path)
    assert [problem.line for problem in dataset.problems] == [3, 4, 5, 6, 7, 8, 9]
    err = capsys.readouterr().err
    assert err.startswith("ids-cfimdb-train.csv: skipped 7 malformed rows (line 3: ")
    assert "line 7: " in err and "line 8: " not in err
    assert err.rstrip().endswith("; ...)")


def test_blank_line_in_the_middle_is_reported(tmp_path):
    write(tmp_path, "quora-dev.csv", [HEADERS["quora"], good_row("quora", 0, "1.0"), ""])
    dataset = load_dataset("quora", "dev", tmp_path)
    assert (
        str(dataset.problems[0]) == "quora-dev.csv line 3: expected 5 tab-separated fields, found 0"
    )


# --- what a real CSV parser must handle ---------------------------------------------------


def test_an_unclosed_quote_costs_its_own_row_only(tmp_path, capsys):
    """Each line is parsed on its own, so an open quote never swallows the rows after it."""
    rows = [good_row("sst", i, "2") for i in range(5000)]
    rows[4] = '4\tid4\t"It never closes .\t2'
    write(tmp_path, "ids-sst-train.csv", [HEADERS["sst"], *rows])
    dataset = load_dataset("sst", "train", tmp_path)
    assert len(dataset) == 4999
    assert [str(p) for p in dataset.problems] == [
        "ids-sst-train.csv line 6: a quote opened on this line is never closed: remove it, or "
        'close it (a quote inside a quoted field is written ""); if quotes are plain text in '
        "this file, register its task with quoting='none'"
    ]
    with pytest.raises(DataFormatError, match="line 6: a quote opened on this line"):
        load_dataset("sst", "train", tmp_path, strict=True)


def test_quoted_fields_with_tabs_and_doubled_quotes(tmp_path):
    lines = [HEADERS["quora"], '5\tq5\t"What does ""carpe\tdiem"" mean?"\tWhat is Latin?\t0.0']
    write(tmp_path, "quora-train.csv", lines)
    dataset = load_dataset("quora", "train", tmp_path)
    assert dataset.problems == []
    assert dataset[0]["sentence1"] == 'What does "carpe\tdiem" mean?'


def test_columns_are_found_by_name_in_the_test_student_layout(tmp_path):
    lines = ["0\t\tid\tsentence", "1\t0.0\tx1\t It 's fine .", "2\t1.0\tx2\t Not bad ."]
    write(tmp_path, "ids-cfimdb-test-student.csv", lines)
    dataset = load_dataset("cfimdb", "test", tmp_path)
    assert isinstance(dataset, UnlabelledSentenceDataset)
    assert dataset.examples == [
        {"id": "x1", "sentence": "It 's fine ."},
        {"id": "x2", "sentence": "Not bad ."},
    ]


def test_byte_order_mark_is_tolerated(tmp_path):
    text = HEADERS["sst"] + "\n" + good_row("sst", 0, "2") + "\n"
    (tmp_path / "ids-sst-train.csv").write_text(text, encoding="utf-8-sig")
    assert len(load_dataset("sst", "train", tmp_path)) == 1


def test_unlabelled_read_of_a_labelled_file_ignores_labels(tmp_path):
    write(tmp_path, "sts-dev.csv", [HEADERS["sts"], good_row("sts", 0, "2.4")])
    examples, problems = read_task_file(tmp_path / "sts-dev.csv", "sts", labelled=False)
    assert problems == [] and "label" not in examples[0]


# --- load_dataset, datasets, to_dataframe -------------------------------------------------


def test_unknown_task_or_split_lists_the_valid_ones():
    with pytest.raises(
        ValueError, match="unknown task 'imdb'; known tasks: sst, quora, sts, cfimdb"
    ):
        load_dataset("imdb", "train", SAMPLE_DIR)
    with pytest.raises(
        ValueError, match="task 'quora' has no split 'valid'; valid splits: train, dev, test"
    ):
        load_dataset("quora", "valid", SAMPLE_DIR)


def test_limit_keeps_the_first_good_rows():
    full = load_dataset("sst", "train", SAMPLE_DIR)
    short = load_dataset("sst", "train", SAMPLE_DIR, limit=10)
    assert short.examples == full.examples[:10]
    with pytest.raises(ValueError, match="limit"):
        load_dataset("sst", "train", SAMPLE_DIR, limit=0)


def test_dataset_repr_and_attributes():
    dataset = load_dataset("sts", "test", SAMPLE_DIR)
    assert repr(dataset) == (
        "UnlabelledPairDataset(task='sts', split='test', 40 rows from sts-test-student.csv)"
    )
    assert (dataset.task, dataset.split) == ("sts", "test")
    assert dataset.path == SAMPLE_DIR / "sts-test-student.csv"


def test_dataset_class_refuses_the_wrong_kind_of_task():
    with pytest.raises(
        ValueError,
        match="LabelledPairDataset is not for the single-sentence task 'sst'; use LabelledSentenceDataset",
    ):
        LabelledPairDataset("sst", "train", SAMPLE_DIR / "ids-sst-train.csv")


def test_to_dataframe():
    frame = to_dataframe(load_dataset("quora", "dev", SAMPLE_DIR))
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == ["id", "sentence1", "sentence2", "label"]
    assert len(frame) == 60


def test_row_problem_str():
    problem = RowProblem(Path("/x/quora-train.csv"), 1866, "blank label in column 'is_duplicate'")
    assert str(problem) == "quora-train.csv line 1866: blank label in column 'is_duplicate'"


# --- finding the data folder --------------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No data settings, and a project data/ folder that is empty."""
    monkeypatch.delenv("MTLAB_FAST", raising=False)
    monkeypatch.delenv("MTLAB_DATA_DIR", raising=False)
    monkeypatch.setattr(data, "PROJECT_DATA_DIR", tmp_path / "project-data")
    return monkeypatch


def test_falls_back_to_the_sample_and_says_so(clean_env, capsys):
    source = resolve_data_dir()
    assert source == DataSource(SAMPLE_DIR, True, "sample data (no real data found)")
    out = capsys.readouterr().out
    assert out == SAMPLE_MESSAGE + "\n"
    assert out.startswith("Using mtlab's small sample data (mtlab/sample_data)")
    assert str(SAMPLE_DIR) not in out


def test_project_data_folder_is_used_when_it_holds_the_files(clean_env, tmp_path, capsys):
    folder = tmp_path / "project-data"
    folder.mkdir()
    (folder / "ids-sst-train.csv").write_text("", encoding="utf-8")
    assert resolve_data_dir() == DataSource(folder, False, "data/ folder")
    assert capsys.readouterr().out == ""


def test_env_var_beats_the_project_data_folder(clean_env, tmp_path, capsys):
    (tmp_path / "project-data").mkdir()
    (tmp_path / "project-data" / "ids-sst-train.csv").write_text("", encoding="utf-8")
    clean_env.setenv("MTLAB_DATA_DIR", str(tmp_path))
    assert resolve_data_dir() == DataSource(tmp_path, False, f"MTLAB_DATA_DIR={tmp_path}")
    assert capsys.readouterr().out == ""


def test_fast_profile_uses_the_sample_even_with_real_data_set(clean_env, tmp_path, capsys):
    clean_env.setenv("MTLAB_DATA_DIR", str(tmp_path))
    clean_env.setenv("MTLAB_FAST", "1")
    source = resolve_data_dir()
    assert source.path == SAMPLE_DIR and source.is_sample
    assert "MTLAB_FAST=1" in source.reason
    assert capsys.readouterr().out == SAMPLE_MESSAGE + "\n"


def test_explicit_argument_beats_everything(clean_env, tmp_path, capsys):
    clean_env.setenv("MTLAB_FAST", "1")
    assert resolve_data_dir(tmp_path) == DataSource(tmp_path, False, "the data_dir argument")
    assert capsys.readouterr().out == ""
    assert resolve_data_dir(str(SAMPLE_DIR)).is_sample


def test_missing_folders_are_named(clean_env, tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(DataFormatError, match=f"the data_dir argument: the folder {missing}"):
        resolve_data_dir(missing)
    clean_env.setenv("MTLAB_DATA_DIR", str(missing))
    with pytest.raises(DataFormatError, match=f"MTLAB_DATA_DIR={missing}: the folder {missing}"):
        resolve_data_dir()


def test_load_dataset_without_a_folder_resolves_one(clean_env, capsys):
    dataset = load_dataset("cfimdb", "dev")
    assert dataset.path == SAMPLE_DIR / "ids-cfimdb-dev.csv"
    assert capsys.readouterr().out == SAMPLE_MESSAGE + "\n"
