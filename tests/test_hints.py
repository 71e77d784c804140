"""Every exercise has a hint, the notebook says how to ask for it, and no hint is its solution."""

import re
from pathlib import Path

import nbformat
import pytest

from mtlab.exercises import hint
from mtlab.exercises.hints import HINTS

ROOT = Path(__file__).parents[1]


def exercises() -> dict[str, tuple[str, str]]:
    """Exercise number -> (its statement, its solution's lines), from the solved notebooks."""
    found, statement = {}, None
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            match = re.match(r"#+ Exercise (\d+\.\d+)", cell.source)
            if cell.cell_type == "markdown" and match:
                number, statement = match.group(1), cell.source
            if "solution" in cell.metadata.get("tags", []):
                inside = cell.source.split("### BEGIN SOLUTION")[1].split("### END SOLUTION")[0]
                found[number] = (statement, inside)
    return found


EXERCISES = exercises()


def test_there_is_a_hint_for_every_exercise_and_no_other():
    assert len(EXERCISES) == 28
    assert set(HINTS) == set(EXERCISES)


@pytest.mark.parametrize("number", sorted(EXERCISES))
def test_the_statement_says_how_to_ask_and_the_hint_is_not_the_solution(number, capsys):
    statement, solution = EXERCISES[number]
    assert f'hint("{number}")' in statement
    hint(number)
    shown = capsys.readouterr().out
    assert shown.startswith(f"Hint for exercise {number}: ")
    for line in solution.splitlines():
        code = line.split("#")[0].strip()
        if len(code) > 25:
            assert code not in shown, f"hint {number} holds the solution's line {code!r}"


def test_an_unknown_exercise_lists_the_known_ones():
    with pytest.raises(KeyError, match="the exercises are 1.1, 1.2"):
        hint("2.9")
    hint("Ex 2.3")  # as the headings write it
