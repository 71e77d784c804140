"""`python -m mtlab submit` against hostile input: an --out that is an input or someone's file,
prediction files that are not what they seem, and files far larger than the sample's.

The six prediction files are made from a copy of the sample data (no training), so a test
may point --out at a data file without any risk to mtlab's own sample.
"""

import errno
import os
import shutil
import zipfile

import pytest

from mtlab.__main__ import main
from mtlab.data.datasets import SAMPLE_DIR, load_dataset
from mtlab.evaluation import submission
from mtlab.evaluation.submission import (
    SPLITS,
    SubmissionError,
    compare_ids,
    output_file,
    read_predictions,
    submit,
    write_course_file,
)
from mtlab.tasks import COURSE_TASKS, get_task

SIX = sorted(output_file(t, s) for t in COURSE_TASKS for s in SPLITS)
SST_DEV = "sst-dev-output.csv"


@pytest.fixture
def data(tmp_path):
    folder = tmp_path / "data"
    shutil.copytree(SAMPLE_DIR, folder)
    return folder


@pytest.fixture
def pred(tmp_path, data):
    """The six course files with a valid prediction for every id of the sample copy."""
    folder = tmp_path / "predictions"
    for task in COURSE_TASKS:
        spec = get_task(task)
        for split in SPLITS:
            ids = [example["id"] for example in load_dataset(task, split, data)]
            values = (
                [i % 2 for i in range(len(ids))] if spec.is_classification else [2.5] * len(ids)
            )
            write_course_file(
                folder / output_file(task, split), spec.prediction_column, ids, values
            )
    return folder


def snapshot(*folders):
    """Every file's bytes under the folders: what no failed or refused submit may change."""
    return {
        path: path.read_bytes() for folder in folders for path in sorted(folder.rglob("*"))
        if path.is_file() and not path.is_symlink()
    }  # fmt: skip


def cli(pred, data, out, *more):
    return main(["submit", "--predictions", str(pred), "--data-dir", str(data), "--out", str(out), *more])  # fmt: skip


def one_line_error(capsys, start):
    err = capsys.readouterr().err
    assert err.startswith(f"python -m mtlab submit: error: {start}"), err
    assert err.count("\n") == 1 and "Traceback" not in err
    return err


# --- --out never replaces an input or a file of the user's ----------------------------------


def test_the_zip_holds_exactly_the_checked_bytes(pred, data, tmp_path):
    out = tmp_path / "submission.zip"
    assert submit(pred, data, out) == SIX
    with zipfile.ZipFile(out) as archive:
        assert archive.testzip() is None
        assert {n: archive.read(n) for n in archive.namelist()} == {
            f"predictions/{name}": (pred / name).read_bytes() for name in SIX
        }
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


@pytest.mark.parametrize("force", [[], ["--force"]])
@pytest.mark.parametrize("target", ["prediction", "data", "symlink", "hard link", "data link"])
def test_out_that_is_an_input_is_refused_even_with_force(target, force, pred, data, tmp_path, capsys):  # fmt: skip
    out = {
        "prediction": pred / SST_DEV,
        "data": data / "ids-sst-train.csv",
        "symlink": tmp_path / "via-symlink.zip",
        "hard link": tmp_path / "via-hard-link.zip",
        "data link": tmp_path / "data-hard-link.zip",
    }[target]
    if target == "symlink":
        out.symlink_to(pred / SST_DEV)
    elif target == "hard link":
        os.link(pred / SST_DEV, out)
    elif target == "data link":
        os.link(data / "quora-dev.csv", out)
    before = snapshot(pred, data)
    assert cli(pred, data, out, *force) == 2
    err = one_line_error(capsys, f"--out {out} is ")
    assert "an input of this submission" in err and "would destroy it" in err
    assert snapshot(pred, data) == before
    assert [p for p in tmp_path.rglob("*.tmp")] == []


@pytest.mark.parametrize("kind", ["notes", "other zip", "dangling link"])
def test_an_existing_file_that_is_no_submission_needs_force(kind, pred, data, tmp_path, capsys):
    out = tmp_path / "mine.zip"
    if kind == "notes":
        out.write_text("my notes\n")
    elif kind == "other zip":
        with zipfile.ZipFile(out, "w") as archive:
            archive.writestr("predictions/sst-dev-output.csv", "id \t x \n")
            archive.writestr("my_model.py", "# the student's code\n")
    else:
        out.symlink_to(tmp_path / "nowhere")
    before = out.read_bytes() if kind in ("notes", "other zip") else None
    assert cli(pred, data, out) == 2
    one_line_error(capsys, f"--out {out} already exists and is not an earlier submission zip")
    assert os.path.lexists(out)
    if before is not None:
        assert out.read_bytes() == before

    assert cli(pred, data, out, "--force") == 0
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == [f"predictions/{name}" for name in SIX]
    assert not (tmp_path / "nowhere").exists()  # the link was replaced, not written through


@pytest.mark.parametrize("force", [[], ["--force"]])
def test_out_that_is_a_pipe_or_device_is_refused_even_with_force(force, pred, data, tmp_path, capsys):  # fmt: skip
    out = tmp_path / "pipe.zip"
    os.mkfifo(out)  # not opened at all: opening it would wait for a reader
    assert cli(pred, data, out, *force) == 2
    one_line_error(capsys, f"--out {out} is a named pipe (FIFO), not a file: give the zip's")
    if os.path.exists("/dev/null"):
        assert cli(pred, data, "/dev/null", *force) == 2
        one_line_error(capsys, "--out /dev/null is a device, not a file")
        assert os.path.exists("/dev/null") and not os.path.isfile("/dev/null")


@pytest.mark.parametrize("earlier", ["same files", "one file more"])
def test_an_earlier_submission_is_replaced_without_force(earlier, pred, data, tmp_path):
    out = tmp_path / "submission.zip"
    if earlier == "one file more":  # a run with another task: also a submission
        shutil.copy(pred / SST_DEV, pred / "cfimdb-dev-output.csv")
    submit(pred, data, out)
    (pred / "cfimdb-dev-output.csv").unlink(missing_ok=True)
    rows = read_predictions(pred / SST_DEV)
    flipped = [1 - int(v) for v in rows["Predicted_Sentiment"]]
    write_course_file(pred / SST_DEV, "Predicted_Sentiment", rows["id"].tolist(), flipped)
    submit(pred, data, out)
    with zipfile.ZipFile(out) as archive:
        assert archive.read(f"predictions/{SST_DEV}") == (pred / SST_DEV).read_bytes()
        assert sorted(archive.namelist()) == [f"predictions/{name}" for name in SIX]


def test_out_that_is_a_folder_or_under_a_file_is_named(pred, data, tmp_path, capsys):
    assert cli(pred, data, tmp_path) == 2
    one_line_error(capsys, f"--out {tmp_path} is a folder: give the zip's file name, e.g. ")
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    assert cli(pred, data, blocker / "sub" / "s.zip") == 2
    one_line_error(capsys, f"--out {blocker / 'sub' / 's.zip'}: {blocker} is a file, not a folder")
    assert cli(pred, data, tmp_path / "new" / "deeper" / "s.zip") == 0  # made as needed
    assert zipfile.is_zipfile(tmp_path / "new" / "deeper" / "s.zip")


def test_a_read_only_out_folder_is_named_before_any_work(pred, data, tmp_path, monkeypatch):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("run as root: folder permissions do not bind")
        monkeypatch.setattr(submission, "_prediction_names", None)  # work would fail otherwise
        with pytest.raises(SubmissionError, match=r"cannot write in the folder .*ro \(no perm"):
            submit(pred, data, folder / "s.zip")
    finally:
        folder.chmod(0o755)


@pytest.mark.parametrize("error", [OSError(errno.ENOSPC, "No space left on device"), KeyboardInterrupt()])  # fmt: skip
def test_a_failed_write_leaves_the_earlier_zip_and_no_temporary_file(error, pred, data, tmp_path, monkeypatch):  # fmt: skip
    out = tmp_path / "submission.zip"
    submit(pred, data, out)
    earlier = out.read_bytes()
    calls = []

    def fail_on_the_third(archive, member, payload):
        calls.append(member.filename)
        if len(calls) == 3:
            raise error
        return original(archive, member, payload)

    original = zipfile.ZipFile.writestr
    monkeypatch.setattr(zipfile.ZipFile, "writestr", fail_on_the_third)
    with pytest.raises(type(error) if isinstance(error, KeyboardInterrupt) else SubmissionError) as caught:  # fmt: skip
        submit(pred, data, out)
    if isinstance(error, OSError):
        assert str(caught.value) == (
            f"--out {out}: could not write the zip (No space left on device); nothing was replaced"
        )
    assert out.read_bytes() == earlier
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "predictions", "submission.zip"]


# --- prediction files that are not what they seem -------------------------------------------


def utf16(path):
    path.write_text(path.read_text(encoding="utf-8"), encoding="utf-16")


def utf16_be_without_bom(path):
    path.write_bytes(path.read_text(encoding="utf-8").encode("utf-16-be"))


def latin1_on_line_3(path):
    lines = path.read_bytes().split(b"\n")
    lines[2] = b"caf\xe9" + lines[2]
    path.write_bytes(b"\n".join(lines))


def nul_on_line_2(path):
    lines = path.read_bytes().split(b"\n")
    lines[1] = lines[1][:3] + b"\0" + lines[1][3:]
    path.write_bytes(b"\n".join(lines))


def utf8_bom(path):
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())


def a_folder(path):
    path.unlink()
    path.mkdir()


def a_fifo(path):
    path.unlink()
    os.mkfifo(path)


def a_broken_link(path):
    path.unlink()
    path.symlink_to(path.with_name("gone.csv"))


def a_link_loop(path):
    path.unlink()
    path.symlink_to(path)


def empty(path):
    path.write_bytes(b"")


def edit_line(number, edit):
    def change(path):
        lines = path.read_text().split("\n")
        lines[number - 1] = edit(lines[number - 1])
        path.write_text("\n".join(lines))

    return change


BAD_FILES = [
    (
        utf16,
        "line 1 column 1: expected UTF-8 text, got UTF-16 (a byte-order mark or NUL bytes): save the file as UTF-8",
    ),  # fmt: skip
    (utf16_be_without_bom, "line 1 column 1: expected UTF-8 text, got UTF-16"),
    (latin1_on_line_3, "line 3 column 4: expected UTF-8 text, got byte 0xe9, which is not UTF-8"),
    (nul_on_line_2, "line 2 column 4: expected UTF-8 text, got a NUL byte (binary data, not text)"),
    (utf8_bom, "starts with a byte-order mark (U+FEFF), which the graders read as part of 'id'"),
    (a_folder, "is a folder, not a plain file: expected a predictions file"),
    (a_fifo, "is a named pipe (FIFO), not a plain file: expected a predictions file"),
    (
        a_broken_link,
        "is a broken symbolic link (to {folder}/gone.csv): expected a predictions file",
    ),  # fmt: skip
    (a_link_loop, "is a symbolic link loop, not a plain file"),
    (empty, "is empty: expected the header 'id \\t Predicted_...'"),
    (
        edit_line(1, lambda line: "id,Predicted_Sentiment"),
        "line 1: expected 'id \\t Predicted_...', got 'id,Predicted_Sentiment'",
    ),  # fmt: skip
    (
        edit_line(2, lambda line: line.replace(" , ", ",x , ", 1)),
        "line 2: expected '<id> , <value>' with one comma (an id cannot hold a comma), got another comma at column ",
    ),  # fmt: skip
    (
        edit_line(3, lambda line: f'"{line}'),
        "line 3 column 1: expected '<id> , <value>' with no quotes or control characters (the course's layout cannot hold them), got '\"'",
    ),  # fmt: skip
    (
        edit_line(4, lambda line: "ab\u2028" + line),
        "line 4 column 3: expected '<id> , <value>' with no quotes or control characters",
    ),  # fmt: skip
    (
        edit_line(2, lambda line: "a\rb" + line),
        "line 2 column 2: expected '<id> , <value>' with no quotes",
    ),  # fmt: skip
    (
        edit_line(5, lambda line: line.replace(" , ", " ; ")),
        "line 5: expected '<id> , <value>' with one comma (an id cannot hold a comma), got no comma",
    ),  # fmt: skip
    (edit_line(2, lambda line: " , 1"), "line 2: expected '<id> , <value>', got no id in ' , 1'"),
]


@pytest.mark.parametrize(("spoil", "complaint"), BAD_FILES)
def test_a_bad_prediction_file_is_one_line_naming_file_and_place(spoil, complaint, pred, data, tmp_path, capsys):  # fmt: skip
    path = pred / SST_DEV
    spoil(path)
    assert cli(pred, data, tmp_path / "s.zip") == 2
    one_line_error(capsys, f"{path} {complaint.format(folder=pred)}")
    assert not (tmp_path / "s.zip").exists()


def test_windows_line_endings_are_read(pred, data, tmp_path):
    path = pred / SST_DEV
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert submit(pred, data, tmp_path / "s.zip") == SIX


def test_read_predictions_still_raises_a_unicode_error_for_other_encodings(pred):
    utf16(pred / SST_DEV)
    with pytest.raises(UnicodeDecodeError, match="got UTF-16"):
        read_predictions(pred / SST_DEV)


def test_a_file_far_too_large_is_refused_before_parsing(pred, data, tmp_path, monkeypatch):
    monkeypatch.setattr(submission, "MAX_BYTES", 1000)
    with pytest.raises(SubmissionError, match=r"is over 1,000 bytes, far larger than any course"):
        submit(pred, data, tmp_path / "s.zip")


@pytest.mark.parametrize("folder", ["missing", "file"])
def test_a_predictions_folder_that_is_not_one_is_named(folder, pred, data, tmp_path):
    given = tmp_path / "not-there" if folder == "missing" else pred / SST_DEV
    what = "does not exist" if folder == "missing" else "is not a folder"
    with pytest.raises(SubmissionError, match=f"^--predictions .* {what}: give the folder"):
        submit(given, data, tmp_path / "s.zip")


@pytest.mark.parametrize(
    ("bad_id", "got"),
    [("a,b", "',' at column 2"), ('say "hi"', "'\"' at column 5"), ("x\ty", "'\\t' at column 2"),
     ("two\nlines", "'\\n' at column 4"), ("   ", "an empty id")],
)  # fmt: skip
def test_write_course_file_refuses_an_id_the_layout_cannot_hold(bad_id, got, tmp_path):
    path = tmp_path / "p.csv"
    with pytest.raises(SubmissionError) as error:
        write_course_file(path, "Predicted_Sentiment", ["fine", bad_id], [0, 1])
    assert str(error.value).startswith(f"{path}: id 2 ({bad_id.strip()!r}) cannot be written")
    assert str(error.value).endswith(f"got {got}")
    assert not path.exists()


# --- the id check is linear ---------------------------------------------------------------


class CountingId(str):
    """An id that counts how often it is hashed: a set or dict lookup hashes it once."""

    hashes = 0

    def __hash__(self):
        CountingId.hashes += 1
        return super().__hash__()


def test_comparing_ids_hashes_each_a_few_times_not_once_per_other_id():
    n = 2000
    expected = [CountingId(f"{i:06x}") for i in range(n)]
    predicted = [*expected[1:], expected[5], CountingId("stranger")]  # one missing, repeated, extra
    CountingId.hashes = 0
    problems = compare_ids(predicted, expected)
    assert problems == [
        "1 missing ids (e.g. ['000000'])",
        "1 ids not in the input (e.g. ['stranger'])",
        "1 ids given more than once (e.g. ['000005'])",
    ]
    assert CountingId.hashes <= 6 * n  # quadratic (a set per id) would be about n * n
