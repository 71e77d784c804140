"""Exercises: the student writes the code, a check says at once, in words, what is wrong.

Each notebook's exercises have a statement, a stub the student fills (nbgrader's markers:
the solution sits between ``### BEGIN SOLUTION`` and ``### END SOLUTION``, and the student
version, made by `make student`, has ``raise NotImplementedError()`` there) and a check
cell. A check returns a `Verdict`:

- "not done yet" while the stub still raises NotImplementedError;
- "wrong", with what is wrong and, when the answer repeats one of the seed project's
  mistakes, its number, its name and where the lab shows it;
- "done" only when every test the check makes passes. A check never passes a stub.

`yours_or_mtlab` lets the cells after an unfilled stub run on mtlab's own version, and says so.
The checks for each notebook live in the module named after its topic (`mtlab.exercises.pairs`
for notebook 03, ...).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

# The seed project's mistakes (../shared/seed/README.md): number -> (name, where the lab shows it).
MISTAKES: dict[int, tuple[str, str]] = {
    1: ("torch.cat along the wrong dimension", "notebook 03, 'Mistake 1'"),
    2: ("a misspelled dictionary key", "notebook 01, 'Mistake 2'"),
    3: ("MSE with integer (or truncated) targets", "notebook 04, 'Mistake 3'"),
    4: ("a branch with nothing to train", "notebook 05, 'Mistake 4'"),
    5: ("the test-set dataset class used for training", "notebook 01, 'Mistake 5'"),
    6: ("gradients read after zero_grad() cleared them", "notebook 05, 'Mistake 6'"),
    7: ("a detach / .item() / NumPy round trip that cuts the graph", "notebook 05, 'Mistake 7'"),
    8: ("logging too rarely to see training move", "notebook 06, 'Mistake 8'"),
    9: ("not tracing back from the symptom, level by level", "notebook 05, 'Mistake 9'"),
    10: ("a pair score that is a score of u plus a score of v", "notebook 03, 'Mistake 10'"),
    11: ("BERT's dropout reused in the heads", "notebook 03, 'Mistake 11'"),
    12: ("both sentences packed into one sequence", "notebook 03, 'Mistake 12'"),
    13: ("judging heads on a tiny debug subset", "notebook 03, 'Mistake 13'"),
    14: ("an unscaled dot product that saturates the loss", "notebook 04, 'Mistake 14'"),
}

DONE, NOT_DONE, WRONG = "done", "not done yet", "wrong"


@dataclass
class Verdict:
    """What a check found; shown as a few lines of plain words in the notebook."""

    exercise: str
    status: str  # DONE, NOT_DONE or WRONG
    lines: list[str] = field(default_factory=list)
    mistake: int | None = None  # the seed's mistake this answer repeats, if any

    @property
    def ok(self) -> bool:
        return self.status == DONE

    def __str__(self) -> str:
        mark = {DONE: "✓", NOT_DONE: "…", WRONG: "✗"}[self.status]
        head = f"{mark} {self.exercise}: {self.status}"
        if self.mistake is not None:
            name, where = MISTAKES[self.mistake]
            head += f" (seed mistake {self.mistake}: {name}; see {where})"
        return "\n".join([head, *(f"  {line}" for line in self.lines)])

    __repr__ = __str__


class Wrong(Exception):
    """Raised inside a check: the answer is wrong; the message says why."""

    def __init__(self, message: str, mistake: int | None = None) -> None:
        super().__init__(message)
        self.mistake = mistake


def check(exercise: str) -> Callable:
    """Make a function that raises Wrong (or returns notes) into a check that returns a Verdict.

    A stub's NotImplementedError becomes "not done yet"; any other exception the student's
    code raises becomes "wrong" with its type and message, never a traceback.
    """

    def decorate(run: Callable[..., list[str] | None]) -> Callable[..., Verdict]:
        @functools.wraps(run)
        def checked(*args, **kwargs) -> Verdict:
            try:
                notes = run(*args, **kwargs) or []
            except NotImplementedError:
                return Verdict(
                    exercise,
                    NOT_DONE,
                    [
                        "fill in the cell above (replace the "
                        "`raise NotImplementedError()`), then run this "
                        "check again"
                    ],
                )
            except Wrong as wrong:
                return Verdict(exercise, WRONG, str(wrong).splitlines(), wrong.mistake)
            except Exception as error:  # the student's code failed: say how, in one line
                return Verdict(
                    exercise,
                    WRONG,
                    [
                        f"your code raised {type(error).__name__}: "
                        f"{str(error).splitlines()[0] if str(error) else ''}"
                    ],
                )
            return Verdict(exercise, DONE, notes)

        return checked

    return decorate


def is_stub(probe: Callable[[], object]) -> bool:
    """Whether running `probe` (a call of the student's code) still hits the stub."""
    try:
        probe()
    except NotImplementedError:
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
