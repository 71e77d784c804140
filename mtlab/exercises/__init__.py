"""Exercises: the student writes the code, a check says at once, in words, what is wrong.

Each notebook's exercises have a statement, a stub the student fills (nbgrader's markers:
the solution sits between ``### BEGIN SOLUTION`` and ``### END SOLUTION``, and the student
version, made by `make student`, has ``raise NotImplementedError()`` there) and a check
cell. A check returns a `Verdict`:

- "not done yet" while the stub still raises NotImplementedError, wherever the student's
  code runs into it (a function, or a method of a class the student writes);
- "wrong", with what is wrong: the symptom, the likely cause, what to do. A named mistake
  carries an id from `mtlab.exercises.mistakes.MISTAKES` (and, when it is one of the seed
  project's mistakes, its number, its name and where the lab shows it);
- "done" only when every test the check makes passes. A check never passes a stub;
- "check error" when the check's own code failed: that is the check's fault, never the
  student's, and the verdict says so.

A check calls the student's code only through `student(...)`, the guard that tells the two
apart: an exception there is the student's (named with the line of their code it came from),
an exception anywhere else is the check's. `yours_or_mtlab` lets the cells after an unfilled
stub run on mtlab's own version, and says so. The checks for each notebook live in the module
named after its topic (`mtlab.exercises.pairs` for notebook 03, ...).

Graded (nbgrader): a check knows it is graded when ``NBGRADER_EXECUTION`` is set, which
``nbgrader autograde`` and ``nbgrader validate`` do in the kernel they start (or when
``MTLAB_GRADING=1``). Then a verdict other than "done" raises `ExerciseNotPassed`, so the
grade cell fails and the exercise gets no points; what the cell shows is the same verdict in
words, never a traceback. A "done" verdict is shown at once (the check returns None), so a
grade cell with hidden tests after its check shows both. In the student's own notebook the
check returns its verdict, which shows itself.
Either way the verdict's output carries its record (`Verdict.record`) in the output's
metadata under ``VERDICT_KEY``, which the class view (`mtlab.exercises.class_view`) reads back.
"""

from __future__ import annotations

import functools
import json
import os
import sysconfig
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mtlab.exercises.hints import hint
from mtlab.exercises.mistakes import MISTAKES, SEED_MISTAKES

DONE, NOT_DONE, WRONG, CHECK_ERROR = "done", "not done yet", "wrong", "check error"

# The key of a verdict's record in its output's metadata (and the JSON in ExerciseNotPassed).
VERDICT_KEY = "mtlab_verdict"

# MTLAB_CHECK_FAULTS=raise: a check's own failure raises instead of becoming a verdict (debugging).
RAISE_FAULTS_ENV = "MTLAB_CHECK_FAULTS"


@dataclass
class Verdict:
    """What a check found; shown as a few lines of plain words in the notebook.

    `mistake_id` names the mistake (a key of MISTAKES) when the check recognised it;
    `mistake` is its seed number, when it is one of the seed project's 14.
    """

    exercise: str
    status: str  # DONE, NOT_DONE, WRONG or CHECK_ERROR
    lines: list[str] = field(default_factory=list)
    mistake_id: str | None = None
    error: BaseException | None = None  # CHECK_ERROR: the check's own exception

    @property
    def ok(self) -> bool:
        return self.status == DONE

    @property
    def mistake(self) -> int | None:
        """The seed's number for this mistake, if it is one of the seed's."""
        return MISTAKES[self.mistake_id].seed if self.mistake_id else None

    def __str__(self) -> str:
        mark = {DONE: "✓", NOT_DONE: "…", WRONG: "✗", CHECK_ERROR: "⚠"}[self.status]
        head = f"{mark} {self.exercise}: {self.status}"
        if self.mistake is not None:
            name, where = SEED_MISTAKES[self.mistake]
            head += f" (seed mistake {self.mistake}: {name}; see {where})"
        elif self.mistake_id is not None:
            head += f" ({MISTAKES[self.mistake_id].name})"
        return "\n".join([head, *(f"  {line}" for line in self.lines)])

    __repr__ = __str__

    def record(self) -> dict:
        """What the class view counts: the exercise, the status, the mistake's id and seed number."""
        return {
            "exercise": self.exercise,
            "status": self.status,
            "mistake_id": self.mistake_id,
            "seed": self.mistake,
        }

    def _ipython_display_(self) -> None:
        """Shown as plain words, with the record in the output's metadata for the class view."""
        from IPython.display import display

        display({"text/plain": str(self)}, raw=True, metadata={VERDICT_KEY: self.record()})


def grading() -> bool:
    """Whether the notebook runs under the autograder (see the module's docstring)."""
    graded = os.environ.get("NBGRADER_EXECUTION") in ("autograde", "validate")
    return graded or os.environ.get("MTLAB_GRADING") == "1"


class ExerciseNotPassed(Exception):
    """A graded check did not pass: its grade cell fails, so the exercise gets no points.

    The message is the verdict's record as JSON (for the class view); the notebook shows the
    verdict in words instead of a traceback.
    """

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(json.dumps(verdict.record()))
        self.verdict = verdict

    def _render_traceback_(self) -> list[str]:
        return [str(self.verdict), "no points for this exercise: its check did not pass"]


def _settle(verdict: Verdict, caught: list[warnings.WarningMessage]) -> None:
    """Graded: a verdict other than "done" raises ExerciseNotPassed; a "done" one is shown
    here, so that a grade cell shows every verdict it makes, not only its last line's. A
    warning becomes a line of the verdict (in nbgrader, stderr in a grade cell costs its points).
    """
    for warning in caught:
        verdict.lines.append(
            f"a warning was raised: {warning.category.__name__}: {warning.message}"
        )
    if not verdict.ok:
        raise ExerciseNotPassed(verdict)
    from IPython.display import display

    display(verdict)


class Wrong(Exception):
    """Raised inside a check: the answer is wrong; the message says why, `id` names it."""

    def __init__(self, message: str, id: str | None = None) -> None:
        if id is not None and id not in MISTAKES:
            raise KeyError(f"mistake id {id!r} is not in mtlab.exercises.mistakes.MISTAKES")
        super().__init__(message)
        self.id = id


class NotDone(Exception):
    """The student's code still raises the stub's NotImplementedError."""


class StudentError(Exception):
    """The student's code raised `error`; `where` is the line of their code it came from."""

    def __init__(self, error: Exception) -> None:
        super().__init__(f"{type(error).__name__}: {first_line(error)}")
        self.error = error
        self.where = student_line(error)

    def describe(self) -> str:
        """'TypeError: ... (at cell line 3: `...`)', for a verdict."""
        return f"{self} (at {self.where})" if self.where else str(self)


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else ""


_LIBRARY = tuple(
    str(Path(p).resolve())
    for p in {
        sysconfig.get_paths()["stdlib"],
        sysconfig.get_paths()["purelib"],
        sysconfig.get_paths()["platlib"],
        str(Path(__file__).resolve().parents[1]),  # mtlab itself
    }
)


def _is_library(filename: str) -> bool:
    if filename.startswith("<") and "ipython-input" not in filename:
        return True  # <frozen ...>, <string>
    resolved = filename if filename.startswith("<") else str(Path(filename).resolve())
    return any(resolved.startswith(root) for root in _LIBRARY) and "ipykernel_" not in resolved


def student_line(error: BaseException) -> str:
    """The innermost line of the traceback that is the student's code: 'cell line 3: `...`'."""
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if _is_library(frame.filename):
            continue
        place = "cell" if "ipykernel" in frame.filename else Path(frame.filename).name
        code = (frame.line or "").strip()
        return f"{place} line {frame.lineno}" + (f": `{code}`" if code else "")
    return ""


def _raised_by_stub(error: NotImplementedError) -> bool:
    """A stub's `raise NotImplementedError()`: raised in the student's code, not in torch's."""
    frames = traceback.extract_tb(error.__traceback__)
    return not frames or not _is_library(frames[-1].filename)


def student(function: Callable, *args, **kwargs):
    """Run the student's code: a stub becomes NotDone, any other exception StudentError.

    Everything a check runs of the student's (their function, their class, its methods)
    goes through here, so that an exception outside it is known to be the check's own.
    """
    try:
        return function(*args, **kwargs)
    except (NotDone, StudentError, Wrong):
        raise
    except NotImplementedError as error:
        if _raised_by_stub(error):
            raise NotDone() from error
        raise StudentError(error) from error
    except Exception as error:
        raise StudentError(error) from error


NOT_DONE_LINE = (
    "fill in the cell above (replace the `raise NotImplementedError()`), then run this check again"
)


def _check_fault(exercise: str, error: Exception) -> Verdict:
    if os.environ.get(RAISE_FAULTS_ENV) == "raise":
        raise error
    frames = traceback.extract_tb(error.__traceback__)
    where = f" in {Path(frames[-1].filename).name} line {frames[-1].lineno}" if frames else ""
    return Verdict(
        exercise,
        CHECK_ERROR,
        [
            f"the check itself failed ({type(error).__name__}{where}: {first_line(error)}).",
            "This is a fault of the check, not of your answer, which may well be right:",
            "please report it, with this message, to whoever runs the course.",
        ],
        error=error,
    )


def check(exercise: str) -> Callable:
    """Make a function that raises Wrong (or returns notes) into a check that returns a Verdict.

    The function calls the student's code through `student(...)`. Its NotDone becomes "not
    done yet", a StudentError "wrong" with the exception and the student's line, Wrong
    "wrong" with its message and id; any other exception is the check's own fault.
    """

    def decorate(run: Callable[..., list[str] | None]) -> Callable[..., Verdict | None]:
        @functools.wraps(run)
        def checked(*args, **kwargs) -> Verdict | None:
            if not grading():
                return judge(*args, **kwargs)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                verdict = judge(*args, **kwargs)
            return _settle(verdict, caught)

        def judge(*args, **kwargs) -> Verdict:
            try:
                notes = run(*args, **kwargs) or []
            except NotDone:
                return Verdict(exercise, NOT_DONE, [NOT_DONE_LINE])
            except Wrong as wrong:
                return Verdict(exercise, WRONG, str(wrong).splitlines(), wrong.id)
            except StudentError as raised:
                line = f"your code raised {raised.describe()}"
                return Verdict(exercise, WRONG, [line], "code.raised")
            except Exception as error:  # the check's own code failed: its fault, said so
                return _check_fault(exercise, error)
            return Verdict(exercise, DONE, notes)

        return checked

    return decorate


def is_stub(probe: Callable[[], object]) -> bool:
    """Whether running `probe` (a call of the student's code) still hits the stub."""
    try:
        student(probe)
    except NotDone:
        return True
    except Exception:  # a wrong answer is the check's business, not this function's
        return False
    return False


def yours_or_mtlab(name: str, yours, mtlab_version, probe: Callable[[object], object]):
    """The student's function or class, or mtlab's own while the stub is not filled in yet.

    `probe(candidate)` runs the candidate on a small input (for a head class: builds one and
    runs its forward). Says which version the cells below will use.
    """
    if is_stub(lambda: probe(yours)):
        print(f"{name} is not done yet: the cells below use mtlab's version instead.")
        return mtlab_version
    print(f"the cells below use your {name}.")
    return yours


__all__ = [
    "CHECK_ERROR",
    "DONE",
    "VERDICT_KEY",
    "ExerciseNotPassed",
    "MISTAKES",
    "NOT_DONE",
    "SEED_MISTAKES",
    "WRONG",
    "NotDone",
    "StudentError",
    "Verdict",
    "Wrong",
    "check",
    "grading",
    "hint",
    "student",
    "yours_or_mtlab",
]
