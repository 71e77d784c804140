"""Files as people make them: joined with their byte order marks, ids the predictions file
cannot hold, named pipes, and task files written without quoting (MRPC's)."""

import codecs
import os
import threading

import pytest

from mtlab import DataFormatError, load_dataset, register_task
from mtlab.tasks import table_restored

BOM = codecs.BOM_UTF8
SST_HEADER = b"\tid\tsentence\tsentiment\n"
SST_TEST_HEADER = b"\tid\tsentence\n"


def _join(*parts: bytes) -> bytes:
    return b"".join(parts)


@pytest.mark.parametrize(
    "split, name, header, row",
    [
        ("train", "ids-sst-train.csv", SST_HEADER, b"{n}\tid{n}\ta fine film .\t3\n"),
        ("dev", "ids-sst-dev.csv", SST_HEADER, b"{n}\tid{n}\ta fine film .\t3\n"),
        ("test", "ids-sst-test-student.csv", SST_TEST_HEADER, b"{n}\tid{n}\ta fine film .\n"),
    ],
)
def test_two_files_joined_with_their_boms_skip_and_report_the_second_header(
    tmp_path, capsys, split, name, header, row
):
    rows = [row.replace(b"{n}", str(n).encode()) for n in range(4)]
    (tmp_path / name).write_bytes(_join(BOM, header, *rows[:2], BOM, header, *rows[2:]))
    dataset = load_dataset("sst", split, tmp_path)
    assert [e["id"] for e in dataset] == ["id0", "id1", "id2", "id3"]  # never "id" or "\ufeffid"
    assert [(p.line, p.problem) for p in dataset.problems] == [
        (4, "a copy of the header row (were two files joined into one?)")
    ]
    assert (
        f"{name}: skipped 1 malformed row (line 4: a copy of the header" in capsys.readouterr().err
    )


def test_a_header_of_another_layout_is_a_header_too(tmp_path):
    """A test-student file's header (its extra index column) inside a file of other columns."""
    body = _join(
        b"id\tsentence\tsentiment\n", b"a\tfine .\t3\n", SST_TEST_HEADER, b"b\tgood .\t2\n"
    )
    (tmp_path / "ids-sst-train.csv").write_bytes(body)
    dataset = load_dataset("sst", "train", tmp_path)
    assert [e["id"] for e in dataset] == ["a", "b"]
    assert "a copy of the header row" in dataset.problems[0].problem


def test_a_bom_before_a_data_row_is_not_part_of_its_id(tmp_path):
    (tmp_path / "ids-sst-dev.csv").write_bytes(
        _join(SST_HEADER, b"0\ta\tfine .\t3\n", BOM, b"1\tb\tgood .\t2\n")
    )
    assert [e["id"] for e in load_dataset("sst", "dev", tmp_path)] == ["a", "b"]


@pytest.mark.parametrize("bad_id", ["a,b", 'say"', "tab\tin", "x\x07"])
def test_an_id_the_predictions_file_cannot_hold_is_refused_where_it_is_read(tmp_path, bad_id):
    quoted = '"' + bad_id.replace('"', '""') + '"'
    text = f"\tid\tsentence\tsentiment\n0\tfine\tgood .\t3\n1\t{quoted}\tfine .\t2\n"
    (tmp_path / "ids-sst-train.csv").write_text(text, encoding="utf-8")
    dataset = load_dataset("sst", "train", tmp_path)
    assert [e["id"] for e in dataset] == ["fine"]
    assert dataset.problems[0].line == 3
    assert (
        "which the predictions file (id , value per line) cannot hold"
        in dataset.problems[0].problem
    )
    with pytest.raises(DataFormatError, match="line 3: id .* cannot hold"):
        load_dataset("sst", "train", tmp_path, strict=True)


def test_an_id_with_a_comma_in_rows_in_memory_is_refused_by_row():
    with table_restored():
        register_task("mem", text_columns=["t"], label_column="y", num_classes=2,
                      rows={"train": [{"id": "1,2", "t": "a", "y": 0}, {"id": "3", "t": "b", "y": 1}]})  # fmt: skip
        dataset = load_dataset("mem", "train")
    assert [e["id"] for e in dataset] == ["3"]
    assert str(dataset.problems[0]).startswith("mem train rows row 1: id '1,2'")


def test_a_named_pipe_is_named_and_never_opened(tmp_path):
    os.mkfifo(tmp_path / "ids-sst-dev.csv")
    found = []
    reader = threading.Thread(target=lambda: found.append(_error(tmp_path)), daemon=True)
    reader.start()
    reader.join(timeout=10)
    assert not reader.is_alive(), "reading a named pipe blocked"
    assert "ids-sst-dev.csv is a named pipe (FIFO); expected a data file" in found[0]


def _error(folder) -> str:
    try:
        load_dataset("sst", "dev", folder)
    except DataFormatError as error:
        return str(error)
    return "no error"


MRPC = (
    "Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n"
    '1\t702876\t702977\tHe said "we will win" on Monday .\tOn Monday he said "we will win" .\n'
    "0\t2108705\t2108831\t\"Yucaipa owned Dominick's before selling the chain .\tYucaipa sold it .\n"
    "1\t1330381\t1330521\tA plain row .\tAlso a plain row .\n"
)


def _register_mrpc(**options):
    return register_task(
        "mrpc", text_columns=["#1 String", "#2 String"], label_column="Quality",
        id_column="#1 ID", num_classes=2, files={"train": "msr_paraphrase_train.txt"}, **options,
    )  # fmt: skip


def test_a_task_without_quoting_reads_every_row_quotes_and_all(tmp_path):
    (tmp_path / "msr_paraphrase_train.txt").write_text(MRPC, encoding="utf-8")
    with table_restored():
        _register_mrpc()
        quoted = load_dataset("mrpc", "train", tmp_path)
        _register_mrpc(quoting="none")
        plain = load_dataset("mrpc", "train", tmp_path)
    assert len(quoted) < 3 and "register its task with quoting='none'" in quoted.problems[0].problem
    assert len(plain) == 3 and not plain.problems
    assert plain[0]["sentence1"] == 'He said "we will win" on Monday .'
    assert plain[1]["sentence1"] == "\"Yucaipa owned Dominick's before selling the chain ."


def test_quoting_must_be_one_the_reader_knows():
    with (
        table_restored(),
        pytest.raises(ValueError, match="quoting must be one of \\('csv', 'none'\\), got 'tsv'"),
    ):
        _register_mrpc(quoting="tsv")
