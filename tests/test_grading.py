"""Graded checks: the notebooks' nbgrader metadata, a check under the autograder, the class view."""

import json
import re
from pathlib import Path

import nbformat
import pytest

from mtlab.exercises import (
    MISTAKES,
    VERDICT_KEY,
    ExerciseNotPassed,
    Verdict,
    check,
    grading,
    student,
)
from mtlab.exercises.class_view import class_table, outcome, plot_class, read_class
from mtlab.exercises.sentiment import check_sentiment_loss

ROOT = Path(__file__).parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
EXERCISE = re.compile(r"^#+ Exercise (\d+)\.(\d+)", re.M)


def right_loss(logits, labels):
    return -logits.log_softmax(-1)[range(len(labels)), labels].mean()


def summed_loss(logits, labels):
    return -logits.log_softmax(-1)[range(len(labels)), labels].sum()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_exercise_is_an_answer_cell_then_a_locked_grade_cell(path):
    """nbgrader's metadata sits where the exercise headings say, with unique grade ids."""
    cells, number, ids = nbformat.read(path, as_version=4).cells, None, []
    for index, cell in enumerate(cells):
        if cell.cell_type == "markdown" and EXERCISE.search(cell.source):
            number = "ex{}_{}".format(*EXERCISE.search(cell.source).groups())
        meta = cell.metadata.get("nbgrader")
        tags = cell.metadata.get("tags", [])
        if "### BEGIN SOLUTION" in cell.source:
            assert meta and meta["solution"], f"{path.name} cell {index}: a solution outside one"
        if "solution" in tags:
            assert meta == {"grade": False, "grade_id": f"{number}_answer", "locked": False,
                            "schema_version": 3, "solution": True, "task": False}  # fmt: skip
            ids.append(meta["grade_id"])
        if "check" in tags:
            assert cells[index - 1].metadata["nbgrader"]["grade_id"] == f"{number}_answer"
            assert meta["grade"] and meta["locked"] and meta["points"] == 1
            assert meta["grade_id"] == number and not meta["solution"]
            ids.append(meta["grade_id"])
    assert len(ids) == len(set(ids)), f"{path.name}: a grade id twice"


def test_the_course_has_28_graded_exercises_and_no_grades_in_the_tour_or_the_bug_hunt():
    graded = {p.stem: sum(c.metadata.get("nbgrader", {}).get("grade", False)
                          for c in nbformat.read(p, as_version=4).cells) for p in NOTEBOOKS}  # fmt: skip
    assert sum(graded.values()) == 28
    assert graded["00_tour"] == graded["08_bug_hunt"] == 0


def test_hidden_tests_name_a_registered_mistake_and_call_the_student_through_the_guard():
    hidden = [c.source.split("### BEGIN HIDDEN TESTS")[1] for p in NOTEBOOKS
              for c in nbformat.read(p, as_version=4).cells if "HIDDEN TESTS" in c.source]  # fmt: skip
    assert len(hidden) >= 4
    for block in hidden:
        assert "student(" in block and "### END HIDDEN TESTS" in block
        assert all(key in MISTAKES for key in re.findall(r'id="([^"]+)"', block))


def test_graded_when_nbgrader_says_so_or_mtlab_grading(monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.delenv("MTLAB_GRADING", raising=False)
    assert not grading()
    for value in ("autograde", "validate"):
        monkeypatch.setenv("NBGRADER_EXECUTION", value)
        assert grading()
    monkeypatch.delenv("NBGRADER_EXECUTION")
    monkeypatch.setenv("MTLAB_GRADING", "1")
    assert grading()


def test_outside_grading_a_check_returns_its_verdict_and_raises_nothing(monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.delenv("MTLAB_GRADING", raising=False)
    verdict = check_sentiment_loss(summed_loss)
    assert isinstance(verdict, Verdict) and verdict.mistake_id == "sentiment_loss.sum-not-mean"


def test_graded_a_wrong_answer_raises_with_the_verdict_in_words_and_its_record(monkeypatch):
    monkeypatch.setenv("MTLAB_GRADING", "1")
    with pytest.raises(ExerciseNotPassed) as raised:
        check_sentiment_loss(summed_loss)
    shown = "\n".join(raised.value._render_traceback_())
    assert "✗ sentiment_loss: wrong (the sum over the batch" in shown
    assert "no points" in shown and "Traceback" not in shown
    assert json.loads(str(raised.value)) == {"exercise": "sentiment_loss", "status": "wrong",
                                             "mistake_id": "sentiment_loss.sum-not-mean",
                                             "seed": None}  # fmt: skip


def test_graded_a_stub_raises_as_not_done_and_a_right_answer_shows_itself(monkeypatch, capsys):
    monkeypatch.setenv("MTLAB_GRADING", "1")

    def stub(logits, labels):
        raise NotImplementedError()

    with pytest.raises(ExerciseNotPassed, match='"not done yet"'):
        check_sentiment_loss(stub)
    assert check_sentiment_loss(right_loss) is None
    assert "✓ sentiment_loss: done" in capsys.readouterr().out


def test_graded_a_warning_becomes_a_line_of_the_verdict_not_stderr(monkeypatch, capsys):
    """nbgrader takes a grade cell's points for anything on stderr."""
    import warnings

    monkeypatch.setenv("MTLAB_GRADING", "1")

    @check("noisy")
    def noisy():
        student(lambda: warnings.warn("careful", UserWarning, stacklevel=1))

    noisy()
    printed = capsys.readouterr()
    assert "a warning was raised: UserWarning: careful" in printed.out and not printed.err


def test_a_verdict_carries_its_record_in_its_outputs_metadata(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda *a, **k: shown.append((a, k)))
    Verdict("scaled_dot", "wrong", ["too big"], "scaled_dot.unscaled")._ipython_display_()
    (data,), options = shown[0]
    assert data["text/plain"].startswith("✗ scaled_dot: wrong (seed mistake 14")
    assert options["metadata"][VERDICT_KEY] == {"exercise": "scaled_dot", "status": "wrong",
                                                "mistake_id": "scaled_dot.unscaled", "seed": 14}  # fmt: skip


def verdict_output(record: dict, failed: bool = False) -> dict:
    if failed:
        return nbformat.v4.new_output("error", ename="ExerciseNotPassed",
                                      evalue=json.dumps(record), traceback=[])  # fmt: skip
    return nbformat.v4.new_output(
        "display_data", {"text/plain": "..."}, metadata={VERDICT_KEY: record}
    )


def record(status: str, mistake_id: str | None = None) -> dict:
    seed = MISTAKES[mistake_id].seed if mistake_id else None
    return {"exercise": "x", "status": status, "mistake_id": mistake_id, "seed": seed}


def test_an_outcome_is_the_first_verdict_not_done_else_done():
    visible, hidden = record("done"), record("wrong", "answer.hidden-case")
    assert outcome([visible, hidden], None)["outcome"] == "answer.hidden-case"
    assert outcome([visible], None)["outcome"] == "done"
    assert outcome([], "NameError")["outcome"] == "no verdict (NameError)"
    assert outcome([], None)["outcome"] == "no verdict (no output)"


def graded_notebook(outputs_by_id: dict[str, list[dict]]) -> nbformat.NotebookNode:
    cells = []
    for grade_id, outputs in outputs_by_id.items():
        answer = nbformat.v4.new_code_cell("def f(): ...")
        answer.metadata["nbgrader"] = {
            "grade": False,
            "solution": True,
            "grade_id": f"{grade_id}_answer",
        }
        graded = nbformat.v4.new_code_cell("check_f(f)")
        graded.metadata["nbgrader"] = {
            "grade": True,
            "solution": False,
            "grade_id": grade_id,
            "points": 1,
        }
        graded.outputs = outputs
        cells += [answer, graded]
    return nbformat.v4.new_notebook(cells=cells)


def test_the_class_view_counts_mistakes_per_exercise_seed_numbers_included(tmp_path):
    course = tmp_path / "course"
    source = course / "source" / "mtlab"
    source.mkdir(parents=True)
    nbformat.write(graded_notebook({"ex4_1": [], "ex4_2": []}), source / "04.ipynb")
    unscaled = [verdict_output(record("wrong", "scaled_dot.unscaled"), failed=True)]
    submissions = {
        "ann": {
            "ex4_1": [verdict_output(record("done"))],
            "ex4_2": [verdict_output(record("done"))],
        },
        "ben": {"ex4_1": unscaled, "ex4_2": [verdict_output(record("not done yet"), failed=True)]},
        "cat": {
            "ex4_1": unscaled,
            "ex4_2": [nbformat.v4.new_output("error", ename="NameError", evalue="", traceback=[])],
        },  # fmt: skip
    }
    for name, outputs in submissions.items():
        (course / "autograded" / name / "mtlab").mkdir(parents=True)
        nbformat.write(
            graded_notebook(outputs), course / "autograded" / name / "mtlab" / "04.ipynb"
        )
    (course / "autograded" / "dee" / "mtlab").mkdir(parents=True)  # handed in nothing
    table = class_table(read_class(course))
    counts = {(r.exercise, r.outcome): (r.students, r.seed, r.who) for r in table.itertuples()}
    assert counts[("4.1", "scaled_dot.unscaled")] == (2, 14, "ben, cat")
    assert counts[("4.1", "done")][0] == 1 and counts[("4.1", "missing")][0] == 1
    assert counts[("4.2", "not done yet")][0] == 1
    assert counts[("4.2", "no verdict (NameError)")][0] == 1
    assert (
        table.loc[table.outcome == "scaled_dot.unscaled", "mistake"].iloc[0]
        == MISTAKES["scaled_dot.unscaled"].name
    )
    figure = plot_class(table)
    labels = [t.get_text() for t in figure.axes[0].texts]
    assert "seed 14" in labels
    assert [t.get_text() for t in figure.axes[0].get_yticklabels()] == ["Ex 4.1", "Ex 4.2"]


def test_the_class_view_says_what_to_run_when_nothing_is_graded(tmp_path, capsys):
    from mtlab.exercises.class_view import main

    (tmp_path / "source" / "mtlab").mkdir(parents=True)
    assert main([str(tmp_path)]) == 2
    assert "nbgrader autograde mtlab" in capsys.readouterr().err
