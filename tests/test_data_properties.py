"""Property-based tests for mtlab.data: random valid files round-trip, one bad row is found.

Rows are random unicode (tabs, quotes, odd spaces, but no line breaks), written with
csv.writer(delimiter="\\t") in the course layout, and read back with load_dataset.
"""

from __future__ import annotations

import csv
import math
import tempfile
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mtlab.data.datasets import DataFormatError, load_dataset
from mtlab.data.reader import NOT_IN_AN_ID
from tests.conftest import LABEL_COLUMN, SENTENCE_COLUMNS, TASK_FILES

SETTINGS = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)  # fmt: skip
ALL_SPLITS = [(task, split) for task, splits in TASK_FILES.items() for split in splits]

# Any character that UTF-8 can hold except line breaks (the loader numbers physical lines).
CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n")
SPICY = st.sampled_from(["\t", '"', "'", " ", "\u00a0", "\u3000", "\ufeff", "\\", ",", ";"])
TEXT = st.lists(st.one_of(CHARS, SPICY), min_size=1, max_size=30).map("".join)
SENTENCE = TEXT.filter(lambda s: any(unicodedata.category(ch)[0] not in "CZ" for ch in s))
ID_TEXT = TEXT.map(lambda s: NOT_IN_AN_ID.sub("", s))


def padded(text: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Text with random leading and trailing spaces, which the loader must strip."""
    return st.tuples(st.sampled_from(["", " ", "  ", "\t"]), text, st.sampled_from(["", " "])).map(
        "".join
    )


def is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def label_strategy(task: str) -> st.SearchStrategy[tuple[str, int | float]]:
    """(text as written, value the loader must give) for a valid label of the task."""
    if task == "sts":
        return st.floats(0.0, 5.0).map(lambda x: (repr(x), x))
    top = 4 if task == "sst" else 1
    value = st.integers(0, top)
    return value.flatmap(lambda v: st.sampled_from([(str(v), v), (f"{v}.0", v), (f" {v} ", v)]))


def bad_label_strategy(task: str) -> st.SearchStrategy[tuple[str, str]]:
    """(label text, words the problem must contain) for a label that must be rejected."""
    blank = st.sampled_from(["", " "]).map(lambda t: (t, "blank label"))
    words = st.text("abcdefghijklmnopqrstuvwxyz_-", min_size=1, max_size=8)
    non_numeric = words.filter(lambda t: not is_float(t)).map(lambda t: (t, "non-numeric label"))
    if task == "sts":
        outside = st.one_of(st.floats(5.0, 1e6, exclude_min=True), st.floats(-1e6, -1e-9))
    else:
        top = 4 if task == "sst" else 1
        outside = st.one_of(
            st.integers(top + 1, 10**6),
            st.integers(-(10**6), -1),
            st.floats(0, top).filter(lambda x: not x.is_integer()),
        )
    out_of_range = outside.map(lambda x: (repr(x), "is out of range"))
    return st.one_of(blank, non_numeric, out_of_range)


@st.composite
def course_file(draw, task: str, split: str, min_rows: int = 1):
    """A valid file: (header, rows as field lists, expected examples) in the course layout."""
    labelled = split != "test"
    n = draw(st.integers(min_rows, 8))
    # "#<row number>" at the end keeps ids unique after stripping, with no retries.
    # An id holds no character the predictions file cannot (NOT_IN_AN_ID: comma, tab, quote...).
    ids = [draw(padded(ID_TEXT.map(lambda text, i=i: f"{text}#{i}"))) for i in range(n)]
    texts = SENTENCE_COLUMNS[task]
    if not labelled and len(texts) == 1:  # SST and CFIMDB test-student: an extra index column
        header = ["0", "", "id", *texts]
    else:
        header = ["", "id", *texts] + ([LABEL_COLUMN[task]] if labelled else [])
    rows, expected = [], []
    for index, id_ in enumerate(ids):
        sentences = [draw(padded(SENTENCE)) for _ in texts]
        fields = [str(index), id_, *sentences]
        if header[0] == "0":
            fields.insert(1, f"{index}.0")
        example = {"id": id_.strip(), **{c: s.strip() for c, s in zip(texts, sentences)}}
        if labelled:
            text, value = draw(label_strategy(task))
            fields.append(text)
            example["label"] = value
        rows.append(fields)
        expected.append(example)
    return header, rows, expected


def write_file(folder: Path, task: str, split: str, header, rows, newline: str = "\n") -> str:
    name = TASK_FILES[task][split]
    with open(folder / name, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, delimiter="\t", lineterminator=newline)
        writer.writerow(header)
        writer.writerows(rows)
    return name


def same_label(got, want) -> bool:
    return type(got) is type(want) and (got == want or (math.isnan(got) and math.isnan(want)))


@SETTINGS
@given(data=st.data())
def test_valid_rows_round_trip(data):
    task, split = data.draw(st.sampled_from(ALL_SPLITS), label="task, split")
    header, rows, expected = data.draw(course_file(task, split))
    newline = data.draw(st.sampled_from(["\n", "\r\n"]))
    with tempfile.TemporaryDirectory() as folder:
        write_file(Path(folder), task, split, header, rows, newline)
        dataset = load_dataset(task, split, folder)

    assert dataset.problems == []
    assert [example["id"] for example in dataset] == [example["id"] for example in expected]
    for got, want in zip(dataset.examples, expected):
        assert set(got) == set(want)
        for column in SENTENCE_COLUMNS[task]:
            assert got[column] == want[column]
        if "label" in want:
            assert same_label(got["label"], want["label"])


@st.composite
def bad_row(draw, task: str, split: str, good_rows: list[list[str]], position: int, header):
    """(fields, words the problem must contain) for a row that breaks one rule."""
    labelled = split != "test"
    id_column = header.index("id")
    sentence_columns = [header.index(c) for c in SENTENCE_COLUMNS[task]]
    template = list(good_rows[draw(st.integers(0, len(good_rows) - 1))])
    template[id_column] = "fresh"  # generated ids end with "#<number>", so this one is new
    kinds = ["too few fields", "too many fields", "blank sentence", "blank id"]
    kinds += ["label"] if labelled else []
    kinds += ["duplicate id"] if position > 0 else []
    kind = draw(st.sampled_from(kinds))
    if kind == "too few fields":
        return template[:-1], f"expected {len(header)} tab-separated fields, found"
    if kind == "too many fields":
        return [*template, draw(TEXT)], f"expected {len(header)} tab-separated fields, found"
    if kind == "blank sentence":
        column = draw(st.sampled_from(sentence_columns))
        template[column] = draw(st.sampled_from(["", " ", "\t", "\u3000"]))
        return template, f"blank sentence in column {header[column]!r}"
    if kind == "blank id":
        template[id_column] = draw(st.sampled_from(["", " "]))
        return template, "blank id in column 'id'"
    if kind == "label":
        text, words = draw(bad_label_strategy(task))
        template[-1] = text
        return template, f"{words}"
    earlier = draw(st.integers(0, position - 1))
    template[id_column] = good_rows[earlier][id_column]
    return template, f"(first seen on line {earlier + 2})"


@SETTINGS
@given(data=st.data())
def test_one_malformed_row_is_reported_at_its_line_and_the_rest_kept(data, capsys):
    task, split = data.draw(st.sampled_from(ALL_SPLITS), label="task, split")
    header, rows, expected = data.draw(course_file(task, split))
    position = data.draw(st.integers(0, len(rows)), label="position")
    fields, problem = data.draw(bad_row(task, split, rows, position, header), label="bad row")
    line = position + 2  # the header is line 1
    capsys.readouterr()
    with tempfile.TemporaryDirectory() as folder:
        name = write_file(
            Path(folder), task, split, header, [*rows[:position], fields, *rows[position:]]
        )
        dataset = load_dataset(task, split, folder)
        with pytest.raises(DataFormatError) as error:
            load_dataset(task, split, folder, strict=True)

    assert [example["id"] for example in dataset] == [example["id"] for example in expected]
    assert [(p.path.name, p.line) for p in dataset.problems] == [(name, line)]
    assert problem in dataset.problems[0].problem
    assert capsys.readouterr().err.startswith(f"{name}: skipped 1 malformed row (line {line}: ")
    assert str(error.value).startswith(f"{name} line {line}: ")


@SETTINGS
@given(
    digits=st.text(
        st.characters(whitelist_categories=("Nd",)).filter(lambda ch: not ch.isascii()),
        min_size=1,
        max_size=4,
    ),
    task=st.sampled_from(["sst", "quora", "sts"]),
)
def test_labels_in_other_scripts_digits_are_refused(tmp_path_factory, digits, task):
    """float() reads Arabic-Indic or full-width digits; a label must be plain ASCII."""
    folder = tmp_path_factory.mktemp("digits")
    header = ["", "id", *SENTENCE_COLUMNS[task], LABEL_COLUMN[task]]
    row = ["0", "id0", *(["a b"] * len(SENTENCE_COLUMNS[task])), digits]
    good = ["1", "id1", *(["c d"] * len(SENTENCE_COLUMNS[task])), "1"]
    name = TASK_FILES[task]["train"]
    (folder / name).write_text("\n".join("\t".join(r) for r in (header, row, good)) + "\n")
    dataset = load_dataset(task, "train", folder)
    assert [p.line for p in dataset.problems] == [2]
    assert "non-numeric label" in dataset.problems[0].problem
