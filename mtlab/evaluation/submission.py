"""Prediction files exactly as the course writes them, and the checked zip a student hands in.

The course's `evaluation.py` writes, for each task and split, `predictions/<name>-<split>-output.csv`
(names `sst`, `para`, `sts`) with a header `id \\t Predicted_Sentiment ` and one row per example,
`<id> , <value> `. `write_course_file` writes that layout; `read_predictions` reads it back the
way the course's graders split it. `python -m mtlab submit` checks the six files (every input id
once, values in range) and zips them: never over an input or over a file of the user's, and
never half-written (`submit`).

    python -m mtlab submit --predictions runs/latest/predictions --out submission.zip
"""

from __future__ import annotations

import argparse
import codecs
import math
import os
import re
import stat
import sys
import time
import zipfile
from collections import Counter
from pathlib import Path

import pandas as pd

from mtlab.data.datasets import load_dataset, resolve_data_dir
from mtlab.data.safe_files import UnusableFileError, describe, open_for_reading, replacing
from mtlab.tasks import COURSE_TASKS, Task, get_task

SPLITS = ("dev", "test")
MAX_BYTES = 64 << 20  # far above any course predictions file (Quora test: about 1 MB)
# What a row `<id> , <value>` cannot hold: a quote (CSV readers take it for quoting), a control
# character or line separator (readers split or drop the line there). An id cannot hold a
# comma or a tab either.
_UNREADABLE = re.compile(r'["\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]')
_NOT_IN_AN_ID = re.compile(rf"[,\t]|{_UNREADABLE.pattern}")
_SUBMITTED = re.compile(r"predictions/[^/]+-output\.csv")  # the members of a submission zip


class SubmissionError(ValueError):
    """A prediction file is missing or does not match its input file; the message says how."""


class NotUTF8Error(UnicodeDecodeError):
    """A predictions file in another encoding: a UnicodeDecodeError whose text is one line
    naming the file, where, and the fix."""

    def __init__(self, path: Path, data: bytes, start: int, got: str) -> None:
        before = data[:start]
        line = before.count(b"\n") + 1
        column = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
        super().__init__("utf-8", data[start : start + 1], 0, 1, got)
        self.message = (
            f"{path} line {line} column {column}: expected UTF-8 text, got {got}: "
            "save the file as UTF-8 (write_course_file does)"
        )

    def __str__(self) -> str:
        return self.message


def output_file(task: str | Task, split: str) -> str:
    """The course's name for a task's predictions: sst-dev-output.csv, para-test-output.csv, ..."""
    return f"{get_task(task).output_name}-{split}-output.csv"


def write_course_file(path: str | Path, column: str, ids: list, values: list) -> None:
    """`id \\t <column> ` then `<id> , <value> ` per row: the course's evaluation.py layout.

    An id the layout cannot hold (a comma, a quote, a line break) is refused: the graders
    would split it into other ids.
    """
    for row, id_ in enumerate(ids, 1):
        text = str(id_).strip()
        if not text or (bad := _NOT_IN_AN_ID.search(text)):
            got = f"{bad.group()!r} at column {bad.start() + 1}" if text else "an empty id"
            raise SubmissionError(
                f"{path}: id {row} ({text!r}) cannot be written in the course's layout: "
                f"expected an id without commas, tabs, quotes or line breaks, got {got}"
            )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [f"id \t {column} \n", *(f"{i} , {v} \n" for i, v in zip(ids, values))]
    path.write_text("".join(rows), encoding="utf-8")


def read_predictions(path: str | Path) -> pd.DataFrame:
    """A course-layout predictions file as a DataFrame (columns: id and the prediction column).

    Anything the graders could not read raises SubmissionError naming the file (and line and
    column); text in another encoding than UTF-8 raises NotUTF8Error, a UnicodeDecodeError.
    """
    path = Path(path)
    return _frame(path, _read_bytes(path)[0])


def _read_bytes(path: Path) -> tuple[bytes, float]:
    """A predictions file's bytes and modification time, read once: what is checked is zipped.

    A folder, named pipe (not waited on), broken link, empty or oversized file is an error.
    """
    try:
        with open_for_reading(path, follow=True) as (file, info):
            data = file.read(MAX_BYTES + 1)
    except UnusableFileError as error:
        raise SubmissionError(f"{error}: expected a predictions file") from None
    except OSError as error:
        raise SubmissionError(f"{path}: cannot read it ({error.strerror})") from None
    if len(data) > MAX_BYTES:
        raise SubmissionError(
            f"{path} is over {MAX_BYTES:,} bytes, far larger than any course predictions file"
        )
    if not data:
        raise SubmissionError(f"{path} is empty: expected the header 'id \\t Predicted_...'")
    return data, info.st_mtime


def _frame(path: Path, data: bytes) -> pd.DataFrame:
    """The rows of a predictions file's bytes, split as the course's graders split them."""
    lines = _decode(path, data).split("\n")
    if lines[-1] == "":  # the newline that ends the last row
        lines.pop()
    lines = [line.removesuffix("\r") for line in lines]
    header = [name.strip() for name in lines[0].split("\t")]
    if len(header) != 2 or header[0] != "id":
        raise SubmissionError(f"{path} line 1: expected 'id \\t Predicted_...', got {lines[0]!r}")
    rows = [_row(f"{path} line {number}", line) for number, line in enumerate(lines[1:], 2)]
    return pd.DataFrame(rows, columns=header)


def _decode(path: Path, data: bytes) -> str:
    """data as UTF-8 text; UTF-16, a byte-order mark or other bytes get a one-line error."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\0" in data[:2]:
        raise NotUTF8Error(path, data, 0, "UTF-16 (a byte-order mark or NUL bytes)")
    if data.startswith(codecs.BOM_UTF8):
        raise SubmissionError(
            f"{path} starts with a byte-order mark (U+FEFF), which the graders read as part of "
            "'id': save it as UTF-8 without a byte-order mark"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        got = f"byte 0x{data[error.start]:02x}, which is not UTF-8"
        raise NotUTF8Error(path, data, error.start, got) from None
    if (nul := data.find(b"\0")) >= 0:
        raise NotUTF8Error(path, data, nul, "a NUL byte (binary data, not text)")
    return text


def _row(where: str, line: str) -> list[str]:
    """`<id> , <value>` as the graders split it; an id they would misread is an error."""
    if bad := _UNREADABLE.search(line):
        raise SubmissionError(
            f"{where} column {bad.start() + 1}: expected '<id> , <value>' with no quotes or "
            f"control characters (the course's layout cannot hold them), got {bad.group()!r} "
            f"in {line!r}"
        )
    commas = [column for column, char in enumerate(line, 1) if char == ","]
    if len(commas) != 1:
        got = "no comma" if not commas else f"another comma at column {commas[1]}"
        raise SubmissionError(
            f"{where}: expected '<id> , <value>' with one comma (an id cannot hold a comma), "
            f"got {got} in {line!r}"
        )
    fields = [field.strip() for field in line.split(",")]
    if not fields[0]:
        raise SubmissionError(f"{where}: expected '<id> , <value>', got no id in {line!r}")
    return fields


def check_predictions(path: Path, task: str, split: str, data_dir: Path) -> list[str]:
    """Problems with one predictions file: ids against the input file, values in range."""
    return _problems(read_predictions(path), task, split, data_dir)


def _problems(predicted: pd.DataFrame, task: str, split: str, data_dir: Path) -> list[str]:
    spec = get_task(task)
    expected = [example["id"] for example in load_dataset(task, split, data_dir)]
    problems = compare_ids(predicted["id"].tolist(), expected)
    if predicted.columns[1] != spec.prediction_column:
        problems.append(f"column {predicted.columns[1]!r}, expected {spec.prediction_column!r}")
    bad = [v for v in predicted.iloc[:, 1] if not _in_range(v, spec)]
    if bad:
        problems.append(
            f"{len(bad)} value(s) out of range, e.g. {bad[:3]}; expected {spec.describe_labels()}"
        )
    return problems


def compare_ids(predicted: list[str], expected: list[str]) -> list[str]:
    """Missing, unknown and repeated ids, each kind with examples; in time linear in the ids
    (the Quora test file has over 40,000)."""
    counts = Counter(predicted)
    wanted = set(expected)
    found = {
        "missing ids": [i for i in expected if i not in counts],
        "ids not in the input": [i for i in counts if i not in wanted],
        "ids given more than once": [i for i, n in counts.items() if n > 1],
    }
    return [f"{len(ids)} {what} (e.g. {ids[:3]})" for what, ids in found.items() if ids]


def _in_range(text: str, spec: Task) -> bool:
    try:
        value = float(text)
    except ValueError:
        return False
    if spec.is_classification:
        return value.is_integer() and 0 <= value < spec.num_classes
    return math.isfinite(value) and spec.score_range[0] <= value <= spec.score_range[1]


def submit(predictions: Path, data_dir: Path, out: Path, *, force: bool = False) -> list[str]:
    """Check the six course files in `predictions`, then zip them to `out`; the names zipped.

    `out` is never an input (a predictions file, a file of the data folder), nor a folder,
    nor, unless force, an existing file other than an earlier submission zip. It is written
    under a temporary name and takes its name only when complete.
    """
    predictions, data_dir, out = Path(predictions), Path(data_dir), Path(out)
    _check_out_folder(out)
    names = _prediction_names(predictions)
    _check_out(out, [predictions / name for name in names], data_dir, force)
    contents = {name: _read_bytes(predictions / name) for name in names}
    problems = []
    for task in COURSE_TASKS:
        for split in SPLITS:
            name = output_file(task, split)
            frame = _frame(predictions / name, contents[name][0])
            problems += [f"{name}: {p}" for p in _problems(frame, task, split, data_dir)]
    if problems:
        raise SubmissionError("; ".join(problems))
    _write_zip(out, contents)
    return names


def _check_out_folder(out: Path) -> None:
    """--out is a file name in a folder that exists (or can be made) and can be written in."""
    if out.is_dir():
        raise SubmissionError(
            f"--out {out} is a folder: give the zip's file name, e.g. {out / 'submission.zip'}"
        )
    folder = out.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise SubmissionError(f"--out {out}: {folder} is a file, not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise SubmissionError(f"--out {out}: cannot write in the folder {folder} (no permission)")


def _prediction_names(predictions: Path) -> list[str]:
    """The *-output.csv names in the folder; all six course files must be among them."""
    if not predictions.is_dir():
        what = "is not a folder" if predictions.exists() else "does not exist"
        raise SubmissionError(f"--predictions {predictions} {what}: give the folder a run wrote")
    six = [output_file(t, s) for t in COURSE_TASKS for s in SPLITS]
    missing = [name for name in six if not os.path.lexists(predictions / name)]
    if missing:
        raise SubmissionError(
            f"{predictions} lacks {len(missing)} of the 6 course files: {', '.join(missing)}"
        )
    return sorted(path.name for path in predictions.glob("*-output.csv"))


def _check_out(out: Path, inputs: list[Path], data_dir: Path, force: bool) -> None:
    """Refuse an --out that is an input (also through a link), a pipe or device, or an
    existing file that is not an earlier submission zip, unless force."""
    if not os.path.lexists(out):
        return
    inputs = [*inputs, *(path for path in data_dir.iterdir() if path.is_file())]
    same = [path for path in inputs if _same_file(out, path)]
    if same:
        linked = os.path.abspath(out) != os.path.abspath(same[0])
        raise SubmissionError(
            f"--out {out} is an input of this submission ({same[0]}"
            f"{', through a link' if linked else ''}): the zip would destroy it; give another "
            "--out, e.g. submission.zip"
        )
    if not stat.S_ISREG(mode := out.lstat().st_mode) and not stat.S_ISLNK(mode):
        raise SubmissionError(  # not even with force: replacing a device or pipe breaks things
            f"--out {out} is {describe(out)}, not a file: give the zip's file name"
        )
    if not force and not _is_submission(out):
        raise SubmissionError(
            f"--out {out} already exists and is not an earlier submission zip (of "
            "predictions/*-output.csv only): give another --out, or add --force to replace it"
        )


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or os.path.samefile(a, b)
    except OSError:  # a broken link: not the same as a file that exists
        return False


def _is_submission(path: Path) -> bool:
    """Whether path is a zip of prediction files only (predictions/<...>-output.csv), as this
    command writes, also for another set of files (a run with one more task)."""
    try:
        with open_for_reading(path, follow=True) as (file, _), zipfile.ZipFile(file) as archive:
            members = archive.namelist()
    except (UnusableFileError, OSError, zipfile.BadZipFile):
        return False
    return bool(members) and all(_SUBMITTED.fullmatch(member) for member in members)


def _write_zip(out: Path, contents: dict[str, tuple[bytes, float]]) -> None:
    """The zip, written whole under a temporary name, then renamed to out; on any error
    (a full disk) the temporary file is removed and out is as it was."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with replacing(out) as file, zipfile.ZipFile(file, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, (data, mtime) in contents.items():
                stamp = max(time.localtime(mtime)[:6], (1980, 1, 1, 0, 0, 0))  # zip's first day
                member = zipfile.ZipInfo(f"predictions/{name}", stamp)
                member.compress_type, member.external_attr = zipfile.ZIP_DEFLATED, 0o644 << 16
                archive.writestr(member, data)
    except OSError as error:
        raise SubmissionError(
            f"--out {out}: could not write the zip ({error.strerror or error}); "
            "nothing was replaced"
        ) from None


def main(argv: list[str] | None = None) -> int:
    """`python -m mtlab submit`: 0 when the zip was written, 2 with one line saying what is wrong."""
    parser = argparse.ArgumentParser(
        prog="python -m mtlab submit", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--predictions",
        type=Path,
        default=Path("runs/latest/predictions"),
        help="the folder a run wrote (default: runs/latest/predictions)",
    )
    parser.add_argument(
        "--data-dir",
        help="the course data the predictions are for (default: $MTLAB_DATA_DIR, data/, sample)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("submission.zip"),
        help="the zip to write (default: submission.zip); a file name, not a folder. It never "
        "replaces an input, and replaces an existing file only if that is an earlier "
        "submission zip, or with --force",
    )
    parser.add_argument(
        "--force", action="store_true", help="replace an existing --out that is no submission"
    )
    args = parser.parse_args(argv)
    try:
        data_dir = resolve_data_dir(args.data_dir).path
        names = submit(args.predictions, data_dir, args.out, force=args.force)
    except ValueError as error:  # SubmissionError, NotUTF8Error, DataFormatError
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 2
    print(f"checked {len(names)} files, wrote {args.out}: {', '.join(names)}")
    print("Add your own .py files to the zip as the course's prepare_submit.py does.")
    return 0
