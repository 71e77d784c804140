"""Notebook 01's checks: the solution passes, a stub is "not done yet", wrong answers are named."""

import numpy as np
import pandas as pd
import pytest
import torch

from mtlab.batching import Batch, collate
from mtlab.data.datasets import (
    SAMPLE_DIR,
    LabelledPairDataset,
    LabelledSentenceDataset,
    UnlabelledPairDataset,
    UnlabelledSentenceDataset,
    load_dataset,
)
from mtlab.exercises import DONE, NOT_DONE, WRONG
from mtlab.exercises.data import (
    check_collate,
    check_dataset_class,
    check_padded_positions,
    check_read_label,
    mtlab_dataset_class,
    mtlab_padded_positions,
    mtlab_read_label,
    use_collate,
    use_dataset_class,
    use_padded_positions,
)
from mtlab.tasks import get_task


def stub(*_args, **_kwargs):
    raise NotImplementedError()


# -- read_label --------------------------------------------------------------------------------


def by_hand(text, task):  # what the notebook's solution does
    spec = get_task(task)
    value = float(text)
    if spec.is_classification:
        if not (value.is_integer() and 0 <= value < spec.num_classes):
            raise ValueError(f"{text!r}: expected {spec.describe_labels()}")
        return int(value)
    low, high = spec.score_range
    if not low <= value <= high:
        raise ValueError(f"{text!r}: expected {spec.describe_labels()}")
    return value


@pytest.mark.parametrize("answer", [mtlab_read_label, by_hand])
def test_read_label_solutions_pass(answer):
    assert check_read_label(answer).status == DONE


def test_read_label_stub_is_not_done():
    assert check_read_label(stub).status == NOT_DONE


def truncating(text, task):
    return int(float(text))


def int_when_whole(text, task):
    value = by_hand(text, task)
    return int(value) if float(value).is_integer() else value


def rounding(text, task):
    value = by_hand(text, task)
    return round(value) if task == "sts" else value


@pytest.mark.parametrize("answer", [truncating, int_when_whole, rounding])
def test_read_label_integer_scores_are_mistake_3(answer):
    verdict = check_read_label(answer)
    assert verdict.status == WRONG and verdict.mistake == 3, str(verdict)
    assert "must stay a float" in str(verdict)


def no_range_check(text, task):
    value = float(text)
    return int(value) if get_task(task).is_classification else value


def nan_slips_through(text, task):
    spec = get_task(task)
    value = float(text)
    if spec.is_classification:
        return by_hand(text, task)
    if value < spec.score_range[0] or value > spec.score_range[1]:
        raise ValueError(text)
    return value


def class_by_int(text, task):  # int(float("0.5")) is 0: a half class becomes class 0
    spec = get_task(task)
    if spec.is_classification:
        value = int(float(text))
        if not 0 <= value < spec.num_classes:
            raise ValueError(text)
        return value
    return by_hand(text, task)


def assert_instead(text, task):
    spec = get_task(task)
    value = float(text)
    assert spec.is_classification or spec.score_range[0] <= value <= spec.score_range[1]
    return by_hand(text, task)


@pytest.mark.parametrize(
    "answer, says",
    [
        (lambda text, task: int(text) if task != "sts" else float(text), "int('1.0') fails"),
        (lambda text, task: float(text), "a float: a class must come back as the int"),
        (no_range_check, "must raise ValueError, since a sst label is an integer from 0 to 4"),
        (nan_slips_through, "every comparison with NaN is False"),
        (class_by_int, "a class must be a whole number"),
        (assert_instead, "raised AssertionError; raise ValueError"),
        (lambda text, task: torch.tensor(by_hand(text, task)), "expected the int 1"),
        (lambda text, task: str(by_hand(text, task)), "expected the int 1"),
    ],
)
def test_read_label_wrong_answers_are_named(answer, says):
    verdict = check_read_label(answer)
    assert verdict.status == WRONG and says in str(verdict), str(verdict)


# -- collate -----------------------------------------------------------------------------------


def plain_collate(examples):  # the notebook's solution
    batch = {"ids": [e["id"] for e in examples]}
    if "sentence" in examples[0]:
        batch["sentences"] = [e["sentence"] for e in examples]
    else:
        batch["sentences1"] = [e["sentence1"] for e in examples]
        batch["sentences2"] = [e["sentence2"] for e in examples]
    if "label" in examples[0]:
        batch["labels"] = torch.tensor([e["label"] for e in examples])
    return batch


def test_collate_solutions_pass_and_stub_is_not_done():
    assert check_collate(collate).status == DONE
    verdict = check_collate(plain_collate)
    assert verdict.status == DONE and "mtlab.Batch" in str(verdict)
    assert "tip" not in str(check_collate(lambda rows: Batch(plain_collate(rows))))
    assert check_collate(stub).status == NOT_DONE


def renamed(old, new):
    def answer(examples):
        batch = plain_collate(examples)
        if old in batch:
            batch[new] = batch.pop(old)
        return batch

    return answer


@pytest.mark.parametrize(
    "answer",
    [
        renamed("labels", "label"),
        renamed("sentences", "sentence"),
        renamed("sentences1", "sentence1"),
        renamed("ids", "id"),
    ],  # fmt: skip
)
def test_collate_singular_keys_are_mistake_2(answer):
    verdict = check_collate(answer)
    assert verdict.status == WRONG and verdict.mistake == 2, str(verdict)


def with_labels(make):
    def answer(examples):
        batch = plain_collate(examples)
        if "labels" in batch:
            batch["labels"] = make([e["label"] for e in examples])
        return batch

    return answer


@pytest.mark.parametrize(
    "answer",
    [
        with_labels(lambda x: torch.tensor(x, dtype=torch.long)),
        with_labels(torch.LongTensor),
        with_labels(lambda x: torch.tensor([int(v) for v in x])),
    ],  # fmt: skip
)
def test_collate_integer_scores_are_mistake_3(answer):
    verdict = check_collate(answer)
    assert verdict.status == WRONG and verdict.mistake == 3 and "sts train" in str(verdict)


def joined(examples):
    batch = plain_collate(examples)
    if "sentences1" in batch:
        batch["sentences"] = [f"{a} [SEP] {b}" for a, b in
                              zip(batch.pop("sentences1"), batch.pop("sentences2"))]  # fmt: skip
    return batch


def test_collate_pair_in_one_string_is_mistake_12():
    verdict = check_collate(joined)
    assert verdict.status == WRONG and verdict.mistake == 12, str(verdict)


def tuples(examples):
    batch = plain_collate(examples)
    if "sentences1" in batch:
        batch["sentences"] = list(zip(batch.pop("sentences1"), batch.pop("sentences2")))
    return batch


def always_labels(examples):
    batch = plain_collate(examples)
    batch.setdefault("labels", torch.tensor([-1] * len(examples)))
    return batch


def always_reads_label(examples):
    batch = plain_collate(examples)
    batch["labels"] = torch.tensor([e["label"] for e in examples])
    return batch


@pytest.mark.parametrize(
    "answer, says",
    [
        (tuples, "(sentence1, sentence2) tuples"),
        (with_labels(lambda x: torch.tensor(x, dtype=torch.float32)), "cross-entropy wants"),
        (with_labels(lambda x: torch.from_numpy(np.array(x))), "float64"),
        (with_labels(list), "'labels' is a list"),
        (with_labels(lambda x: torch.tensor(x[::-1])), "expected [3, 0, 4]"),
        (always_labels, "must have no 'labels' key"),
        (always_reads_label, "on rows without labels"),
        (lambda rows: list(plain_collate(rows).values()), "returned a list"),
        (lambda rows: {**plain_collate(rows), "ids": "s1"}, "expected the list"),
        (lambda rows: {**plain_collate(rows), "extra": 1}, "your batch has keys"),
    ],
)
def test_collate_wrong_answers_are_named(answer, says):
    verdict = check_collate(answer)
    assert verdict.status == WRONG and says in str(verdict), str(verdict)


def test_use_collate_falls_back_and_says_so(capsys):
    assert use_collate(stub) is collate
    assert "not done yet: the cells below use mtlab's version" in capsys.readouterr().out
    assert use_collate(plain_collate) is plain_collate


# -- padded_positions --------------------------------------------------------------------------


def by_slices(lengths, batch_size=32):  # the notebook's solution
    total = 0
    for start in range(0, len(lengths), batch_size):
        batch = lengths.iloc[start : start + batch_size]
        total += len(batch) * batch.max()
    return int(total)


@pytest.mark.parametrize("answer", [mtlab_padded_positions, by_slices])
def test_padded_positions_solutions_pass(answer):
    assert check_padded_positions(answer).status == DONE


def test_padded_positions_matches_the_notebooks_formula():
    lengths = pd.Series([12, 20, 7, 9, 30, 4, 4])
    assert mtlab_padded_positions(lengths, 3) == 3 * 20 + 3 * 30 + 4


def test_padded_positions_stub_is_not_done():
    assert check_padded_positions(stub).status == NOT_DONE


def full_last_batch(lengths, batch_size=32):
    return sum(batch_size * lengths.iloc[i : i + batch_size].max()
               for i in range(0, len(lengths), batch_size))  # fmt: skip


@pytest.mark.parametrize(
    "answer, says",
    [
        (lambda lengths, batch_size=32: lengths.sum(), "no padding counted"),
        (lambda lengths, batch_size=32: lengths.max() * len(lengths), "longest of the whole"),
        (full_last_batch, "the last batch counted as full"),
        (lambda lengths, batch_size=32: 128 * len(lengths), "padding to 128"),
        (
            lambda lengths, batch_size=32: lengths.groupby(lengths.index // batch_size).max().sum(),
            "multiply by the number of sentences",
        ),
        (lambda lengths, batch_size=32: str(by_slices(lengths, batch_size)), "expected a number"),
        (lambda lengths, batch_size=32: by_slices(lengths, batch_size) + 1, "expected 28"),
    ],
)
def test_padded_positions_wrong_counts_are_named(answer, says):
    verdict = check_padded_positions(answer)
    assert verdict.status == WRONG and says in str(verdict), str(verdict)


def test_use_padded_positions_falls_back(capsys):
    assert use_padded_positions(stub) is mtlab_padded_positions
    assert "not done yet" in capsys.readouterr().out
    assert use_padded_positions(by_slices) is by_slices


# -- dataset_class -----------------------------------------------------------------------------


def test_dataset_class_solution_passes_and_stub_is_not_done():
    assert check_dataset_class(mtlab_dataset_class).status == DONE
    assert check_dataset_class(stub).status == NOT_DONE


def test_mtlab_dataset_class_agrees_with_load_dataset():
    for task in ("sst", "quora", "sts"):
        for split in get_task(task).splits:
            assert type(load_dataset(task, split, SAMPLE_DIR)) is mtlab_dataset_class(task, split)


def pair_by_name(task, split):
    return UnlabelledPairDataset if task != "sst" else UnlabelledSentenceDataset


@pytest.mark.parametrize(
    "answer",
    [
        lambda task, split: UnlabelledSentenceDataset,
        pair_by_name,
        lambda task, split: (
            UnlabelledSentenceDataset if split != "test" else LabelledSentenceDataset
        ),  # fmt: skip
        lambda task, split: mtlab_dataset_class(task, "test" if split == "dev" else split),
    ],
)
def test_dataset_class_unlabelled_for_training_is_mistake_5(answer):
    verdict = check_dataset_class(answer)
    assert verdict.status == WRONG and verdict.mistake == 5, str(verdict)


@pytest.mark.parametrize(
    "answer, says",
    [
        (lambda task, split: mtlab_dataset_class(task, "train"), "test files have no label"),
        (
            lambda task, split: LabelledPairDataset if split != "test" else UnlabelledPairDataset,
            "sst is a single-sentence task",
        ),
        (
            lambda task, split: (
                LabelledSentenceDataset if split != "test" else UnlabelledSentenceDataset
            ),
            "sts is a pair task",
        ),  # fmt: skip
        (lambda task, split: mtlab_dataset_class(task, split).__name__, "expected one of mtlab"),
        (lambda task, split: load_dataset(task, split, SAMPLE_DIR), "return the class itself"),
    ],
)
def test_dataset_class_wrong_answers_are_named(answer, says):
    verdict = check_dataset_class(answer)
    assert verdict.status == WRONG and says in str(verdict) and verdict.mistake is None


def test_use_dataset_class_falls_back(capsys):
    assert use_dataset_class(stub) is mtlab_dataset_class
    assert "not done yet" in capsys.readouterr().out
