"""The machinery under every check: the guard around the student's code, the registry of
mistakes, the verdict's words; and, for all 28 checks, a stub is "not done yet"."""

import ast
import re
from pathlib import Path

import pytest
import torch
from torch import nn

import mtlab.exercises as exercises
from mtlab.exercises import (
    CHECK_ERROR,
    MISTAKES,
    NOT_DONE,
    SEED_MISTAKES,
    WRONG,
    Verdict,
    Wrong,
    check,
    data,
    extensions,
    logs,
    multitask,
    pairs,
    schedules,
    sentiment,
    similarity,
    student,
    tasks,
    tracing,
)
from mtlab.heads.kinds import SentimentHead
from tests.verdicts import assert_not_done

SOURCES = [
    *Path(exercises.__file__).parent.glob("*.py"),
    *(Path(exercises.__file__).parents[1] / "debugging").glob("*.py"),
]


def stub(*_args, **_kwargs):
    raise NotImplementedError()


# ------------------------------------------------------------------ the guard


@check("demo")
def check_demo(answer) -> list[str]:
    """A check in the shape of the real ones: the student's call guarded, its own work not."""
    out = student(answer, 2)
    if out != 4:
        raise Wrong(f"expected 4, got {out!r}", id="answer.wrong-value")
    return ["4"]


@check("faulty")
def check_faulty(answer) -> list[str]:
    student(answer, 2)
    return [{}["the check's own bug"]]


def test_a_student_exception_names_itself_and_the_students_line():
    def answer(x):
        return x + "2"  # TypeError, here

    verdict = check_demo(answer)
    assert verdict.status == WRONG and verdict.mistake_id == "code.raised"
    assert "your code raised TypeError" in str(verdict)
    assert "test_exercises_guard.py line" in str(verdict) and 'return x + "2"' in str(verdict)


def test_a_fault_in_the_check_itself_is_the_checks_not_the_students():
    verdict = check_faulty(lambda x: x)
    assert verdict.status == CHECK_ERROR and isinstance(verdict.error, KeyError)
    assert "a fault of the check, not of your answer" in str(verdict)
    assert "your code" not in str(verdict) and str(verdict).startswith("⚠ faulty: check error")


def test_a_fault_in_the_check_can_be_raised_for_debugging(monkeypatch):
    monkeypatch.setenv(exercises.RAISE_FAULTS_ENV, "raise")
    with pytest.raises(KeyError, match="the check's own bug"):
        check_faulty(lambda x: x)
    assert check_demo(lambda x: 2 * x).ok  # the student's code still runs guarded


def test_a_stub_anywhere_in_the_students_code_is_not_done():
    def helper(x):
        raise NotImplementedError()

    assert_not_done(check_demo(lambda x: helper(x)))


def test_a_not_implemented_error_raised_inside_torch_is_not_a_stub():
    verdict = check_demo(lambda x: nn.Module()(torch.ones(1)))  # a module without forward
    assert verdict.status == WRONG and "NotImplementedError" in str(verdict)


def test_an_unknown_mistake_id_is_a_fault_of_the_check():
    @check("unknown")
    def check_unknown(answer):
        raise Wrong("words", id="no.such-id")

    verdict = check_unknown(None)
    assert verdict.status == CHECK_ERROR and "no.such-id" in str(verdict)


def test_a_verdict_names_seed_mistakes_by_number_and_others_by_name():
    seed = Verdict("x", WRONG, ["the words"], "graph.cut")
    assert seed.mistake == 7 and "(seed mistake 7: " in str(seed) and "notebook 05" in str(seed)
    other = Verdict("x", WRONG, ["the words"], "swap_gap.sign")
    assert other.mistake is None and f"({MISTAKES['swap_gap.sign'].name})" in str(other)


# ------------------------------------------------------------------ the registry


def _literals() -> dict[str, set[str]]:
    """Every string constant in the checks' sources, by file."""
    found = {}
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found[path.name] = {
            n.value
            for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str)
        }
    return found


def test_every_id_a_check_can_raise_is_in_the_registry():
    topics = {key.split(".")[0] for key in MISTAKES}
    pattern = re.compile(rf"^({'|'.join(topics)})\.[a-z0-9-]+$")
    used = {s for strings in _literals().values() for s in strings if pattern.match(s)}
    assert used - set(MISTAKES) == set()


def test_every_id_in_the_registry_is_raised_somewhere():
    """By a check in mtlab, or by a notebook's hidden tests (which only the instructor has)."""
    used = {s for strings in _literals().values() for s in strings}
    for path in (Path(__file__).parents[1] / "notebooks").glob("*.ipynb"):
        used |= set(re.findall(r'id=\\"([a-z_.-]+)\\"', path.read_text(encoding="utf-8")))
    assert set(MISTAKES) - used == set()


def test_ids_are_stable_names_and_the_seeds_numbers_are_the_seeds():
    assert all(re.fullmatch(r"[a-z_]+\.[a-z0-9]+(-[a-z0-9]+)*", key) for key in MISTAKES)
    assert {m.seed for m in MISTAKES.values() if m.seed is not None} <= set(SEED_MISTAKES)
    for key in MISTAKES:  # every id reads as a verdict's first line
        assert MISTAKES[key].name in str(Verdict("x", WRONG, [], key)) or MISTAKES[key].seed
    assert all(m.name and m.name == m.name.strip() for m in MISTAKES.values())


def test_no_issue_numbers_in_what_a_student_reads():
    for name, strings in _literals().items():
        for text in strings:
            assert not re.search(r"#\d|\bissue\b", text, re.IGNORECASE), (name, text)


# ------------------------------------------------------------------ every check: stub is not done


class StubHead(SentimentHead):  # __init__ done (mtlab's), forward still the stub
    def forward(self, *inputs):
        raise NotImplementedError()


class StubInit(nn.Module):
    def __init__(self, *args, **kwargs):
        raise NotImplementedError()


ALL_CHECKS = [
    data.check_read_label,
    data.check_collate,
    data.check_padded_positions,
    data.check_dataset_class,
    sentiment.check_sentiment_loss,
    sentiment.check_accuracy,
    sentiment.check_sentiment_head,
    sentiment.check_confusion,
    pairs.check_majority_baseline,
    pairs.check_pair_features,
    pairs.check_swap_gap,
    pairs.check_pair_head,
    similarity.check_scaled_dot,
    similarity.check_cosine_score,
    similarity.check_regression_targets,
    tracing.check_step_with_grad_norms,
    tracing.check_fixed_head,
    tracing.check_unreached_parameters,
    multitask.check_my_step,
    logs.check_log_means,
    schedules.check_round_robin,
    schedules.check_proportional,
    tasks.check_register_cfimdb,
    tasks.check_review_head,
    tasks.check_save_predictions,
    extensions.check_cosent,
    extensions.check_beyond_noise,
    extensions.check_paired_gaps,
]
HEAD_CHECKS = {"SentimentMLP", "PairHead", "FixedHead", "ReviewHead"}


def test_there_are_28_checks():
    assert len({c.__name__ for c in ALL_CHECKS}) == 28


@pytest.mark.parametrize("check_function", ALL_CHECKS, ids=lambda c: c.__name__)
def test_every_check_says_not_done_yet_to_a_stub(check_function):
    assert_not_done(check_function(stub))


@pytest.mark.parametrize(
    "check_function",
    [
        sentiment.check_sentiment_head,
        pairs.check_pair_head,
        tracing.check_fixed_head,
        tasks.check_review_head,
    ],
    ids=lambda c: c.__name__,
)
@pytest.mark.parametrize("head", [StubInit, StubHead])
def test_every_head_check_says_not_done_yet_to_a_stub_in_init_or_forward(check_function, head):
    verdict = check_function(head)
    assert verdict.status == NOT_DONE, str(verdict)


# ------------------------------------------------------------------ odd answers: never a fault of the check

FUNCTION_CHECKS = [
    c
    for c in ALL_CHECKS
    if c.__name__
    not in {"check_sentiment_head", "check_pair_head", "check_fixed_head", "check_review_head"}
]


def odd_answers():
    """Answers of every odd kind a student's function may give back, whatever its inputs."""
    return {
        "None": lambda *a, **k: None,
        "a string": lambda *a, **k: "42",
        "a dict": lambda *a, **k: {"x": 1},
        "an int": lambda *a, **k: 3,
        "nan": lambda *a, **k: float("nan"),
        "a nan tensor": lambda *a, **k: torch.full((3,), float("nan")),
        "an empty tensor": lambda *a, **k: torch.zeros(0),
        "a 3-d tensor": lambda *a, **k: torch.ones(2, 3, 4),
        "a complex tensor": lambda *a, **k: torch.ones(3, dtype=torch.complex64),
        "a generator": lambda *a, **k: (x for x in range(3)),
        "a ValueError": lambda *a, **k: (_ for _ in ()).throw(ValueError("no")),
        "a KeyError": lambda *a, **k: {}["missing"],
        "an IndexError": lambda *a, **k: [][1],
        "a ZeroDivisionError": lambda *a, **k: 1 / 0,
        "the first argument": lambda *a, **k: a[0] if a else None,
    }


@pytest.mark.parametrize("check_function", FUNCTION_CHECKS, ids=lambda c: c.__name__)
def test_no_odd_answer_makes_a_function_check_fail_on_its_own(check_function):
    for what, answer in odd_answers().items():
        verdict = check_function(answer)
        assert verdict.status == WRONG, f"{what}: {verdict}"


class OddHead(nn.Module):
    """A head whose forward returns `make(inputs)`, for any number of inputs."""

    make = staticmethod(lambda *inputs: None)

    def __init__(self, hidden, *args, **kwargs):
        super().__init__()
        self.layer = nn.Linear(hidden, hidden)

    def forward(self, *inputs):
        return self.make(*(self.layer(x) for x in inputs))


def odd_heads():
    heads = {
        "None": lambda *x: None,
        "a tuple": lambda *x: tuple(x),
        "a string": lambda *x: "logits",
        "a nan tensor": lambda *x: x[0] * float("nan"),
        "an int tensor": lambda *x: x[0].long(),
        "a 3-d tensor": lambda *x: x[0][:, None, :],
        "a scalar": lambda *x: x[0].sum(),
        "a ValueError": lambda *x: (_ for _ in ()).throw(ValueError("no")),
        "a RuntimeError": lambda *x: torch.ones(2) @ torch.ones(3),
    }
    return {
        what: type(what, (OddHead,), {"make": staticmethod(make)}) for what, make in heads.items()
    }


class RaisesInInit(nn.Module):
    def __init__(self, *args, **kwargs):
        raise TypeError("__init__() got an unexpected keyword argument")


@pytest.mark.parametrize(
    "check_function",
    [
        sentiment.check_sentiment_head,
        pairs.check_pair_head,
        tracing.check_fixed_head,
        tasks.check_review_head,
    ],
    ids=lambda c: c.__name__,
)
def test_no_odd_head_makes_a_head_check_fail_on_its_own(check_function):
    for what, head in {**odd_heads(), "raises in __init__": RaisesInInit}.items():
        verdict = check_function(head)
        assert verdict.status == WRONG, f"{what}: {verdict}"
