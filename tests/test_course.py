"""A class of five through the real nbgrader command line: release, autograde, feedback, class view.

The course is the shipped course/nbgrader_config.py with the assignment that
scripts/build_course.py lays out. Autograding runs every notebook for every student, so the
class hands in three of the graded notebooks (01, 02, 04: a minute for all five); the release
is built and checked from all ten.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tests.nbgrader_course import ROOT, nbgrader, nbgrader_env, new_course

pytestmark = pytest.mark.slow
GRADED = ["01_data", "02_sentiment_head", "04_similarity_head"]

# What each student writes in an answer cell (by grade id); the rest is the notebook's solution.
WRONG = {
    "carol": {
        "ex2_1_answer": "def sentiment_loss(logits, labels):\n"
        "    return -logits.log_softmax(-1)[torch.arange(len(labels)), labels].sum()",
        "ex4_1_answer": "def scaled_dot(pu, pv):\n    return (pu * pv).sum(-1)",
    },
    "dan": {
        "ex2_2_answer": "def accuracy(logits, labels):\n"
        "    return (logits.argmax(dim=-1) == labels).sum().item()",
        "ex4_1_answer": "def scaled_dot(pu, pv):\n    return (pu * pv).sum(-1)",
    },
    "erin": {
        "ex1_1_answer": "def read_label(text, task):\n    return int(float(text))",
        "ex2_1_answer": "def my_loss(logits, labels):  # renamed: the check cannot find it\n"
        "    return torch.nn.functional.cross_entropy(logits, labels)",
    },
}


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    return nbgrader_env(tmp_path_factory.mktemp("kernels"))


def test_the_release_holds_no_solution_hidden_test_or_output_and_links_inside_itself(tmp_path, env):
    course = new_course(tmp_path, sorted((ROOT / "notebooks").glob("*.ipynb")), env)
    release = course / "release" / "mtlab"
    stubs = 0
    for path in sorted(release.glob("*.ipynb")):
        text = path.read_text(encoding="utf-8")
        assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text, path.name
        assert not re.search(r'\]\(\.\./|\\"\.\./', text), f"{path.name} reaches outside its folder"
        notebook = nbformat.read(path, as_version=4)
        assert not any(cell.get("outputs") for cell in notebook.cells), path.name
        stubs += sum("raise NotImplementedError()" in c.source for c in notebook.cells
                     if c.metadata.get("nbgrader", {}).get("solution"))  # fmt: skip
        for link in re.findall(r"\]\(((?:results|answers)/[^ )]+)", text):
            assert (release / link).is_file(), f"{path.name} links {link}, not in the release"
    assert stubs == 28
    assert (release / "answers" / "08_bug_hunt.md").is_file()
    pages = sorted((release / "answers").glob("*_questions.md"))
    assert len(pages) == 9, [page.name for page in pages]
    links = 0
    for page in pages:  # the answers link results/ from answers/: ../results/X
        text = page.read_text(encoding="utf-8")
        assert "../../" not in text, f"{page.name} reaches outside the release"
        for link in re.findall(r"\]\((\.\./results/[^ )]+)", text):
            assert (page.parent / link).is_file(), f"{page.name} links {link}, not in the release"
            links += 1
    assert links > 0


def submit(course: Path, student: str, answers: dict[str, str] | None) -> None:
    """A student's hand-in: the release with the solutions (or `answers`) in its answer cells."""
    folder = course / "submitted" / student / "mtlab"
    folder.mkdir(parents=True)
    for path in sorted((course / "release" / "mtlab").glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        source = nbformat.read(course / "source" / "mtlab" / path.name, as_version=4)
        solutions = {c.metadata.nbgrader.grade_id: c.source for c in source.cells
                     if c.metadata.get("nbgrader", {}).get("solution")}  # fmt: skip
        for cell in notebook.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if answers is not None and grade_id in solutions:
                mine = answers.get(grade_id, solutions[grade_id])
                cell.source = "\n".join(line for line in mine.splitlines() if "### " not in line)
        nbformat.write(notebook, folder / path.name)


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory, env):
    course = new_course(tmp_path_factory.mktemp("class"),
                        [ROOT / "notebooks" / f"{name}.ipynb" for name in GRADED], env)  # fmt: skip
    submit(course, "alice", {})  # every answer right
    submit(course, "bob", None)  # the stubs left as released
    for student, answers in WRONG.items():
        submit(course, student, answers)
    nbgrader(course, "autograde", "mtlab", env=env)
    nbgrader(course, "generate_feedback", "mtlab", env=env)
    return course


def scores(course: Path) -> dict[str, dict[str, float]]:
    """Points per student and grade cell, from nbgrader's gradebook."""
    from nbgrader.api import Gradebook

    points = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for student in gradebook.students:
            submission = gradebook.find_submission("mtlab", student.id)
            points[student.id] = {grade.name: grade.score for notebook in submission.notebooks
                                  for grade in notebook.grades if not grade.name.endswith("_answer")}  # fmt: skip
    return points


def test_the_gradebook_gives_points_per_exercise(graded_class):
    points = scores(graded_class)
    assert set(points) == {"alice", "bob", "carol", "dan", "erin"}
    assert len(points["alice"]) == 11 and all(p == 1 for p in points["alice"].values())
    assert all(p == 0 for p in points["bob"].values())
    lost = {s: sorted(g for g, p in by_cell.items() if p == 0) for s, by_cell in points.items()}
    assert lost["carol"] == ["ex2_1", "ex4_1"]
    assert lost["dan"] == ["ex2_2", "ex4_1"]
    assert lost["erin"] == ["ex1_1", "ex2_1"]


def test_feedback_shows_the_verdict_in_words_without_a_traceback(graded_class):
    page = (graded_class / "feedback" / "carol" / "mtlab" / "04_similarity_head.html").read_text()
    assert "scaled_dot: wrong" in page and "seed mistake 14" in page
    assert "no points for this exercise" in page
    assert "most recent call last" not in page and "ExerciseNotPassed" not in page


def test_hidden_tests_ran_under_the_autograder(graded_class):
    notebook = nbformat.read(graded_class / "autograded" / "alice" / "mtlab" / "01_data.ipynb", 4)
    cell = next(
        c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "ex1_3"
    )
    shown = [o["data"]["text/plain"] for o in cell.outputs if o.output_type == "display_data"]
    assert any("padded_positions: done" in s for s in shown)
    assert any("a case you have not seen: done" in s for s in shown)


def test_the_class_view_counts_each_mistake_per_exercise(graded_class):
    done = subprocess.run([sys.executable, "-m", "mtlab", "class-view", str(graded_class)],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "5 students, 11 exercises" in done.stdout
    table = {(r["exercise"], r["outcome"]): r for r in read_csv(graded_class / "class.csv")}
    assert table[("4.1", "scaled_dot.unscaled")]["students"] == "2"
    assert table[("4.1", "scaled_dot.unscaled")]["seed"] == "14"
    assert table[("2.1", "sentiment_loss.sum-not-mean")]["who"] == "carol"
    assert table[("2.2", "accuracy.count")]["who"] == "dan"
    assert table[("1.1", "read_label.score-as-int")]["seed"] == "3"
    assert table[("2.1", "no verdict (NameError)")]["who"] == "erin"
    assert table[("4.1", "not done yet")]["who"] == "bob"
    assert table[("1.1", "done")]["students"] == "3"
    assert (graded_class / "class.png").stat().st_size > 10_000


def read_csv(path: Path) -> list[dict]:
    import csv

    with open(path, newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def test_a_graded_verdict_record_is_json_in_the_failed_cell(graded_class):
    notebook = nbformat.read(
        graded_class / "autograded" / "dan" / "mtlab" / "02_sentiment_head.ipynb", 4
    )
    cell = next(
        c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "ex2_2"
    )
    (error,) = [o for o in cell.outputs if o.output_type == "error"]
    assert json.loads(error["evalue"])["mistake_id"] == "accuracy.count"
