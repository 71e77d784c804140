"""What the exercise tables assert about a verdict: done, not done, or wrong with a named mistake.

Each table row is a wrong answer written the way a student would write it, the id of the
mistake its verdict must name, and words its message must contain.
"""

import pytest

from mtlab.exercises import CHECK_ERROR, DONE, MISTAKES, NOT_DONE, WRONG, Verdict


def row(answer, mistake_id: str, *words: str, name: str | None = None):
    """One wrong answer of a table: pytest.param(answer, mistake_id, words) with a readable id."""
    label = name or getattr(answer, "__name__", None) or mistake_id
    return pytest.param(answer, mistake_id, words, id=label)


def assert_done(verdict: Verdict) -> None:
    assert verdict.status == DONE, str(verdict)
    assert verdict.mistake_id is None


def assert_not_done(verdict: Verdict) -> None:
    assert verdict.status == NOT_DONE, str(verdict)
    assert "not done yet" in str(verdict)


def assert_named(verdict: Verdict, mistake_id: str, words) -> None:
    """Rejected, with the mistake's id and every one of `words` in what the student reads."""
    assert verdict.status != CHECK_ERROR, f"the check itself failed: {verdict}"
    assert verdict.status == WRONG, str(verdict)
    assert verdict.mistake_id == mistake_id, f"named {verdict.mistake_id!r}:\n{verdict}"
    assert mistake_id in MISTAKES
    text = str(verdict)
    for word in words:
        assert word in text, f"{word!r} not in:\n{text}"
