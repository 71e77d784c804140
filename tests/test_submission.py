"""The six prediction files in the course's layout, and `python -m mtlab submit`."""

import shutil
import zipfile

import pytest

from mtlab.__main__ import main
from mtlab.data.datasets import SAMPLE_DIR
from mtlab.evaluation.submission import (
    SubmissionError,
    output_file,
    read_predictions,
    submit,
    write_course_file,
)

SIX = ["para-dev-output.csv", "para-test-output.csv", "sst-dev-output.csv",
       "sst-test-output.csv", "sts-dev-output.csv", "sts-test-output.csv"]  # fmt: skip


@pytest.fixture(scope="module")
def run(tmp_path_factory, tokenizer):
    """One quick run on the sample with a tiny encoder; its output folder."""
    from tests.conftest import make_tiny_encoder

    folder = tmp_path_factory.mktemp("tiny")
    encoder = make_tiny_encoder(tokenizer)
    encoder.bert.save_pretrained(folder / "bert")
    encoder.tokenizer.save_pretrained(folder / "bert")
    out = folder / "run"
    code = main(["--data-dir", str(SAMPLE_DIR), "--encoder", str(folder / "bert"), "--epochs", "1",
                 "--train-limit", "16", "--no-feature-cache", "--output-dir", str(out)])  # fmt: skip
    assert code == 0
    return out


@pytest.mark.slow
def test_a_run_writes_the_six_files_in_the_course_layout_and_the_zip(run, capsys):
    predictions = run / "predictions"
    assert sorted(p.name for p in predictions.iterdir()) == SIX
    assert sorted(zipfile.ZipFile(run / "submission.zip").namelist()) == [
        f"predictions/{n}" for n in SIX
    ]
    text = (predictions / "sts-test-output.csv").read_text()
    assert text.startswith("id \t Predicted_Similiary \n")  # the course's header, its spelling
    first = text.splitlines()[1]
    assert first.count(" , ") == 1 and first.endswith(" ")
    # parsed back as the course's files are: split the header on tabs, rows on commas
    para = read_predictions(predictions / "para-test-output.csv")
    assert list(para.columns) == ["id", "Predicted_Is_Paraphrase"]
    assert set(para["Predicted_Is_Paraphrase"]) <= {"0", "1"}


def test_submit_checks_and_zips(run, tmp_path, capsys):
    zipped = tmp_path / "submission.zip"
    assert main(["submit", "--predictions", str(run / "predictions"), "--data-dir", str(SAMPLE_DIR),
                 "--out", str(zipped)]) == 0  # fmt: skip
    assert sorted(zipfile.ZipFile(zipped).namelist()) == [f"predictions/{n}" for n in SIX]
    assert "checked 6 files" in capsys.readouterr().out


def test_submit_refuses_an_incomplete_or_wrong_set(run, tmp_path):
    folder = tmp_path / "predictions"
    shutil.copytree(run / "predictions", folder)
    (folder / "para-test-output.csv").unlink()
    with pytest.raises(SubmissionError, match="lacks 1 of the 6 course files: para-test-output"):
        submit(folder, SAMPLE_DIR, tmp_path / "s.zip")
    shutil.copy(run / "predictions" / "para-test-output.csv", folder)
    rows = read_predictions(folder / "sst-dev-output.csv")
    ids, values = rows["id"].tolist(), rows["Predicted_Sentiment"].tolist()
    write_course_file(folder / "sst-dev-output.csv", "Predicted_Sentiment",
                      [*ids[1:], ids[2], "stranger"], [*values[1:], "7", "1"])  # fmt: skip
    with pytest.raises(SubmissionError) as error:
        submit(folder, SAMPLE_DIR, tmp_path / "s.zip")
    message = str(error.value)
    for part in ("sst-dev-output.csv: 1 missing ids", "1 ids not in the input",
                 "1 ids given more than once", "value(s) out of range, e.g. ['7']"):  # fmt: skip
        assert part in message
    assert not (tmp_path / "s.zip").exists()


@pytest.mark.slow
def test_a_data_folder_without_a_test_file_writes_the_rest(tmp_path, tiny_folder, capsys):
    data = tmp_path / "data"
    shutil.copytree(SAMPLE_DIR, data)
    (data / "quora-test-student.csv").unlink()
    out = tmp_path / "run"
    code = main(["--data-dir", str(data), "--encoder", str(tiny_folder), "--epochs", "1",
                 "--train-limit", "16", "--no-feature-cache", "--output-dir", str(out)])  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0
    assert f"note: no quora-test-student.csv in {data}: no quora test predictions" in printed
    written = sorted(p.name for p in (out / "predictions").iterdir())
    assert written == [n for n in SIX if n != "para-test-output.csv"]
    for name in written:
        assert f"predictions/{name}" in printed
    assert "para-test-output" not in printed and "submission.zip" not in printed


def test_course_file_names():
    assert [output_file(t, s) for t in ("sst", "quora", "sts") for s in ("dev", "test")] == sorted(
        SIX, key=lambda n: ["sst", "para", "sts"].index(n.split("-")[0])
    )
