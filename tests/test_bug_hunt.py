"""Notebook 08's planted bugs are real: fixing each one alone makes its own symptom go away."""

from pathlib import Path

import nbformat
import pytest
import torch

from mtlab import MultitaskBert, load_dataset
from mtlab.data.datasets import SAMPLE_DIR

NOTEBOOK = Path(__file__).parents[1] / "notebooks" / "08_bug_hunt.ipynb"

# The answer key's fixes (notebooks/answers/08_bug_hunt.md), as edits of the script's text.
FIXES = {
    "detach": [("torch.relu(self.hidden(u)).detach()", "torch.relu(self.hidden(u))")],
    "linear": [
        ("self.score = nn.Linear(2 * hidden, 1)",
         "self.score = nn.Sequential(nn.Linear(4 * hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1))"),
        ("return self.score(torch.cat([u, v], dim=-1)).squeeze(-1)",
         "return self.score(torch.cat([u, v, (u - v).abs(), u * v], dim=-1)).squeeze(-1)"),
    ],
    "truncated targets": [("labels = labels.long().float()", "labels = labels.float()")],
    "zero_grad": [
        ("        optimizer.step()\n        optimizer.zero_grad()\n", "        optimizer.step()\n"),
        ("        loss.backward()\n", "        optimizer.zero_grad()\n        loss.backward()\n"),
    ],
    "logging": [("log_every: int = 1000", "log_every: int = 10")],
}  # fmt: skip


def teammate_script() -> str:
    cells = nbformat.read(NOTEBOOK, as_version=4).cells
    (cell,) = [c for c in cells if "teammate" in c.metadata.get("tags", [])]
    return cell.source


@pytest.fixture(scope="module")
def frozen():
    return MultitaskBert.from_pretrained().set_mode("pretrain")


def symptoms(source: str, frozen: MultitaskBert) -> dict:
    """Run the script (as edited) on the sample; measure the five symptoms."""
    namespace: dict = {}
    exec(compile(source, "teammate", "exec"), namespace)
    model = MultitaskBert(frozen.encoder, features=frozen.feature_cache).set_mode("pretrain")
    seen = namespace["run"](model, SAMPLE_DIR)
    questions = [e["sentence1"] for e in load_dataset("quora", "dev", SAMPLE_DIR)]
    with torch.inference_mode():
        same = model("quora", {"sentences1": questions, "sentences2": questions}).mean()
        other = model("quora", {"sentences1": questions,
                                "sentences2": questions[1:] + questions[:1]}).mean()  # fmt: skip
    return {
        "detach": not seen["trained"]["heads.sst.hidden.weight"],
        "linear": abs(same - other).item() < 1e-4,
        "truncated targets": all(float(t).is_integer() for t in seen["sts_targets"]),
        "zero_grad": all(g is None for g in seen["checked_grad"]),
        "logging": seen["history"] == [],
    }


def apply(source: str, fix: list[tuple[str, str]]) -> str:
    for old, new in fix:
        assert old in source, f"the notebook's script no longer contains {old!r}"
        source = source.replace(old, new)
    return source


@pytest.mark.slow
def test_every_planted_bug_is_real_and_its_fix_removes_only_its_symptom(frozen):
    source = teammate_script()
    buggy = symptoms(source, frozen)
    assert buggy == dict.fromkeys(FIXES, True), buggy  # every symptom shows
    for name, fix in FIXES.items():
        fixed = symptoms(apply(source, fix), frozen)
        assert not fixed[name], f"fixing {name!r} did not remove its symptom"
        others = {k: v for k, v in fixed.items() if k != name}
        assert all(others.values()), f"fixing {name!r} also changed {others}"


def test_the_answer_key_names_every_bug():
    key = (NOTEBOOK.parent / "answers" / "08_bug_hunt.md").read_text(encoding="utf-8")
    for text in (".detach()", "linear layer", "labels.long().float()", "zero_grad()", "log_every"):
        assert text in key
    assert key.count("\n| ") >= 1 + len(FIXES)
