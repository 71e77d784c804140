"""Every notebook's closing questions have answers: notebooks/answers/NN_questions.md.

Each numbered question of a notebook's "## Questions" cell has exactly one numbered answer, in
the same order, and the Questions cell (or the small markdown cell right after it, where the
cell is at the length limit) links the file. Add a question without its answer, and this fails.
"""

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).parents[1]
NOTEBOOKS = ROOT / "notebooks"
ANSWERS = NOTEBOOKS / "answers"
NUMBERED = re.compile(r"^(\d+)\. ", re.M)  # "3. ..." at the start of a line; continuations indent


def numbered(text: str) -> list[int]:
    return [int(number) for number in NUMBERED.findall(text)]


def questions_and_next(path: Path) -> tuple[str, str]:
    """The Questions cell's text and the markdown cell after it ("" when there is none)."""
    cells = nbformat.read(path, as_version=4).cells
    for index, cell in enumerate(cells):
        if cell.cell_type == "markdown" and cell.source.startswith("## Questions"):
            after = cells[index + 1] if index + 1 < len(cells) else None
            return cell.source, after.source if after and after.cell_type == "markdown" else ""
    return "", ""


def mismatch(questions: str, answers: str) -> str | None:
    """Why the answers do not fit the questions, or None when each question has its answer."""
    asked, answered = numbered(questions), numbered(answers)
    if asked != list(range(1, len(asked) + 1)):
        return f"the questions are numbered {asked}, not 1 to {len(asked)}"
    if answered != asked:
        return f"{len(asked)} questions (numbered {asked}), but answers numbered {answered}"
    return None


WITH_QUESTIONS = [path for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
                  if questions_and_next(path)[0]]  # fmt: skip


def answers_of(path: Path) -> Path:
    return ANSWERS / f"{path.name[:2]}_questions.md"


def test_notebooks_01_to_09_end_with_questions():
    assert [path.name[:2] for path in WITH_QUESTIONS] == [f"{n:02d}" for n in range(1, 10)]


@pytest.mark.parametrize("path", WITH_QUESTIONS, ids=lambda p: p.name)
def test_each_question_has_one_answer(path):
    answers = answers_of(path)
    assert answers.is_file(), f"{path.name} has questions but no {answers.relative_to(ROOT)}"
    problem = mismatch(questions_and_next(path)[0], answers.read_text(encoding="utf-8"))
    assert problem is None, f"{path.name} and {answers.name}: {problem}"


@pytest.mark.parametrize("path", WITH_QUESTIONS, ids=lambda p: p.name)
def test_the_questions_link_their_answers(path):
    link = f"](answers/{answers_of(path).name})"
    assert any(link in text for text in questions_and_next(path)), (
        f"{path.name}: the Questions cell (or the markdown cell after it) does not link {link[2:-1]}"
    )


def test_every_answers_file_belongs_to_a_notebook_with_questions():
    expected = {answers_of(path).name for path in WITH_QUESTIONS}
    assert {path.name for path in ANSWERS.glob("*_questions.md")} <= expected


def test_a_question_added_without_its_answer_is_caught():
    path = WITH_QUESTIONS[0]
    questions = questions_and_next(path)[0]
    answers = answers_of(path).read_text(encoding="utf-8")
    assert mismatch(questions, answers) is None
    extra = len(numbered(questions)) + 1
    assert mismatch(questions + f"\n{extra}. A new question?", answers) is not None
    assert mismatch(questions, re.sub(r"^1\. ", "", answers, count=1, flags=re.M)) is not None
