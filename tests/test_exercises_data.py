"""Notebook 01's checks: right answers pass in their several forms, a stub is "not done yet",
and each wrong answer, written as a student would, is rejected with its mistake named."""

import numpy as np
import pandas as pd
import pytest
import torch

import mtlab
from mtlab.batching import Batch, collate
from mtlab.data.datasets import (
    SAMPLE_DIR,
    LabelledPairDataset,
    LabelledSentenceDataset,
    UnlabelledPairDataset,
    UnlabelledSentenceDataset,
    load_dataset,
)
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
from tests.verdicts import assert_done, assert_named, assert_not_done, row


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


def with_int_check(text, task):  # int(value) == value instead of is_integer, ranges by hand
    spec = get_task(task)
    value = float(text.strip())
    if spec.is_classification:
        if int(value) != value or value not in range(spec.num_classes):
            raise ValueError(text)
        return int(value)
    if value != value or not 0 <= value <= 5:
        raise ValueError(text)
    return value


@pytest.mark.parametrize("answer", [mtlab_read_label, by_hand, with_int_check])
def test_read_label_right_answers_pass(answer):
    assert_done(check_read_label(answer))


def test_read_label_stub_is_not_done():
    assert_not_done(check_read_label(stub))


def truncating(text, task):
    return int(float(text))


def int_when_whole(text, task):
    value = by_hand(text, task)
    return int(value) if float(value).is_integer() else value


def rounding(text, task):
    value = by_hand(text, task)
    return round(value) if task == "sts" else value


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


def off_by_one(text, task):
    spec = get_task(task)
    value = float(text)
    if spec.is_classification:
        if not (value.is_integer() and 0 <= value <= spec.num_classes):
            raise ValueError(text)
        return int(value)
    return by_hand(text, task)


def open_range(text, task):  # 0 < value < 5: the ends refused
    spec = get_task(task)
    if spec.is_classification:
        return by_hand(text, task)
    value = float(text)
    if not 0 < value < 5:
        raise ValueError(text)
    return value


def swallowing(text, task):
    try:
        return by_hand(text, task)
    except ValueError:
        return 0


def assert_instead(text, task):
    spec = get_task(task)
    value = float(text)
    assert spec.is_classification or spec.score_range[0] <= value <= spec.score_range[1]
    return by_hand(text, task)


def key_error_instead(text, task):
    try:
        return by_hand(text, task)
    except ValueError:
        raise KeyError(text) from None


WRONG_LABELS = [
    row(
        lambda text, task: round(by_hand(text, task), 1),
        "read_label.rounded",
        "rounded",
        name="round-1",
    ),
    row(truncating, "read_label.score-as-int", "must stay a float", "seed mistake 3"),
    row(int_when_whole, "read_label.score-as-int", "must stay a float"),
    row(rounding, "read_label.score-as-int", "must stay a float"),
    row(
        lambda text, task: int(text) if task != "sts" else float(text),
        "read_label.int-of-float-text",
        "int('1.0') fails",
        name="int-of-text",
    ),
    row(
        lambda text, task: float(text),
        "read_label.class-as-float",
        "a float: a class must come back as the int",
        name="always-float",
    ),
    row(
        no_range_check,
        "read_label.off-by-one",
        "must raise ValueError, since a sst label is an integer from 0 to 4",
    ),
    row(off_by_one, "read_label.off-by-one", "one past the last"),
    row(nan_slips_through, "read_label.accepts-nan", "every comparison with NaN is False"),
    row(class_by_int, "read_label.accepts-fraction", "a class must be a whole number"),
    row(open_range, "read_label.refuses-an-end", "both ends included"),
    row(swallowing, "read_label.swallows-errors", "try/except"),
    row(assert_instead, "read_label.wrong-exception", "AssertionError", "raise ValueError"),
    row(key_error_instead, "read_label.wrong-exception", "KeyError"),
    row(
        lambda text, task: torch.tensor(by_hand(text, task)),
        "read_label.wrong-value",
        "expected the int 1",
        name="tensor",
    ),
    row(
        lambda text, task: str(by_hand(text, task)),
        "read_label.not-converted",
        "convert it",
        name="string",
    ),
    row(lambda text, task: text, "read_label.not-converted", "the text itself", name="text"),
    row(
        lambda text, task: (
            np.float64(by_hand(text, task)) if task == "sts" else by_hand(text, task)
        ),
        "read_label.numpy-float",
        "float64",
        name="numpy-scores",
    ),
    row(
        lambda text, task: by_hand(text.split(".")[0], task),
        "read_label.truncated",
        "the fraction is lost",
        "seed mistake 3",
        name="split-at-dot",
    ),
]


@pytest.mark.parametrize("answer, mistake_id, words", WRONG_LABELS)
def test_read_label_wrong_answers_are_named(answer, mistake_id, words):
    assert_named(check_read_label(answer), mistake_id, words)


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


def by_keys(examples):  # every key of the first row, pluralised
    plural = {
        "id": "ids",
        "sentence": "sentences",
        "sentence1": "sentences1",
        "sentence2": "sentences2",
        "label": "labels",
    }
    batch = {plural[k]: [e[k] for e in examples] for k in examples[0]}
    if "labels" in batch:
        batch["labels"] = torch.tensor(batch["labels"])
    return batch


@pytest.mark.parametrize(
    "answer", [collate, plain_collate, by_keys, lambda rows: Batch(plain_collate(rows))]
)
def test_collate_right_answers_pass(answer):
    assert_done(check_collate(answer))


def test_collate_tip_is_for_plain_dicts_only():
    assert "mtlab.Batch" in str(check_collate(plain_collate))
    assert "tip" not in str(check_collate(lambda rows: Batch(plain_collate(rows))))


def test_collate_stub_is_not_done():
    assert_not_done(check_collate(stub))


def renamed(old, new):
    def answer(examples):
        batch = plain_collate(examples)
        if old in batch:
            batch[new] = batch.pop(old)
        return batch

    answer.__name__ = f"{old}-as-{new}"
    return answer


def with_labels(make, name):
    def answer(examples):
        batch = plain_collate(examples)
        if "labels" in batch:
            batch["labels"] = make([e["label"] for e in examples])
        return batch

    answer.__name__ = name
    return answer


def joined(examples):
    batch = plain_collate(examples)
    if "sentences1" in batch:
        pairs = zip(batch.pop("sentences1"), batch.pop("sentences2"))
        batch["sentences"] = [f"{a} [SEP] {b}" for a, b in pairs]
    return batch


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


def sentences_only(examples):  # pairs forgotten
    return {
        "ids": [e["id"] for e in examples],
        "sentences": [e["sentence"] for e in examples],
        **(
            {"labels": torch.tensor([e["label"] for e in examples])}
            if "label" in examples[0]
            else {}
        ),
    }


def no_ids(examples):
    batch = plain_collate(examples)
    del batch["ids"]
    return batch


WRONG_BATCHES = [
    row(
        renamed("labels", "label"),
        "collate.singular-keys",
        "'label' where a batch has 'labels'",
        "seed mistake 2",
    ),
    row(renamed("sentences", "sentence"), "collate.singular-keys", "'sentence'"),
    row(renamed("sentences1", "sentence1"), "collate.singular-keys", "'sentence1'"),
    row(renamed("ids", "id"), "collate.singular-keys", "'id'"),
    row(
        with_labels(lambda x: torch.tensor(x, dtype=torch.long), "long"),
        "collate.int-scores",
        "sts train",
        "seed mistake 3",
    ),
    row(with_labels(torch.LongTensor, "LongTensor"), "collate.int-scores", "integer targets"),
    row(
        with_labels(lambda x: torch.tensor([int(v) for v in x]), "int-each"),
        "collate.int-scores",
        "truncate",
    ),
    row(joined, "collate.one-string", "one string", "seed mistake 12"),
    row(tuples, "collate.tuples", "(sentence1, sentence2) tuples"),
    row(
        with_labels(lambda x: torch.tensor(x, dtype=torch.float32), "float"),
        "collate.float-classes",
        "cross-entropy wants",
    ),
    row(
        with_labels(lambda x: torch.from_numpy(np.array(x)), "numpy"),
        "collate.float64-scores",
        "float64",
    ),
    row(with_labels(list, "list"), "collate.labels-not-tensor", "'labels' is a list"),
    row(
        with_labels(lambda x: torch.tensor(x[::-1]), "reversed"),
        "collate.labels-wrong",
        "expected [3, 0, 4]",
    ),
    row(always_labels, "collate.labels-on-test", "must have no 'labels' key"),
    row(always_reads_label, "collate.labels-on-test", "on rows without labels"),
    row(sentences_only, "collate.one-kind-of-row", "'sentence1' and 'sentence2'"),
    row(no_ids, "collate.keys", "['ids'] missing"),
    row(
        lambda rows: list(plain_collate(rows).values()),
        "answer.wrong-type",
        "returned a list",
        name="list-of-values",
    ),
    row(
        lambda rows: {**plain_collate(rows), "ids": "s1"},
        "collate.wrong-list",
        "expected the list",
        name="ids-string",
    ),
    row(
        lambda rows: {**plain_collate(rows), "extra": 1},
        "collate.keys",
        "your batch has keys",
        name="extra-key",
    ),
]


@pytest.mark.parametrize("answer, mistake_id, words", WRONG_BATCHES)
def test_collate_wrong_answers_are_named(answer, mistake_id, words):
    assert_named(check_collate(answer), mistake_id, words)


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


def by_numpy(lengths, batch_size=32):
    values = lengths.to_numpy()
    return sum(
        len(c) * c.max() for c in np.array_split(values, range(batch_size, len(values), batch_size))
    )


@pytest.mark.parametrize("answer", [mtlab_padded_positions, by_slices, by_numpy])
def test_padded_positions_right_answers_pass(answer):
    assert_done(check_padded_positions(answer))


def test_padded_positions_matches_the_notebooks_formula():
    lengths = pd.Series([12, 20, 7, 9, 30, 4, 4])
    assert mtlab_padded_positions(lengths, 3) == 3 * 20 + 3 * 30 + 4


def test_padded_positions_stub_is_not_done():
    assert_not_done(check_padded_positions(stub))


def full_last_batch(lengths, batch_size=32):
    starts = range(0, len(lengths), batch_size)
    return sum(batch_size * lengths.iloc[i : i + batch_size].max() for i in starts)


def sorted_first(lengths, batch_size=32):
    return by_slices(lengths.sort_values(ignore_index=True), batch_size)


def full_batches_only(lengths, batch_size=32):
    batches = len(lengths) // batch_size
    return sum(
        batch_size * lengths.iloc[i * batch_size : (i + 1) * batch_size].max()
        for i in range(batches)
    )


WRONG_COUNTS = [
    row(
        lambda lengths, batch_size=32: lengths.sum(),
        "padded_positions.no-padding",
        "no padding counted",
        name="sum",
    ),
    row(
        lambda lengths, batch_size=32: lengths.max() * len(lengths),
        "padded_positions.global-max",
        "longest of the whole",
        name="global-max",
    ),
    row(full_last_batch, "padded_positions.full-last-batch", "the last batch counted as full"),
    row(
        lambda lengths, batch_size=32: 128 * len(lengths),
        "padded_positions.pad-128",
        "padding to 128",
        name="128",
    ),
    row(
        lambda lengths, batch_size=32: lengths.groupby(lengths.index // batch_size).max().sum(),
        "padded_positions.max-per-batch",
        "multiply by the number of sentences",
        name="max-sum",
    ),
    row(sorted_first, "padded_positions.sorted", "in the order given"),
    row(full_batches_only, "padded_positions.last-batch-dropped", "left out"),
    row(
        lambda lengths, batch_size=32: str(by_slices(lengths, batch_size)),
        "answer.wrong-type",
        "expected a number",
        name="string",
    ),
    row(
        lambda lengths, batch_size=32: lengths.groupby(lengths.index // batch_size).transform(
            "max"
        ),
        "answer.wrong-type",
        "expected a number",
        name="series",
    ),
    row(
        lambda lengths, batch_size=32: by_slices(lengths, batch_size) + 1,
        "answer.wrong-value",
        "expected 28",
        name="plus-one",
    ),
]


@pytest.mark.parametrize("answer, mistake_id, words", WRONG_COUNTS)
def test_padded_positions_wrong_answers_are_named(answer, mistake_id, words):
    assert_named(check_padded_positions(answer), mistake_id, words)


def test_use_padded_positions_falls_back(capsys):
    assert use_padded_positions(stub) is mtlab_padded_positions
    assert "not done yet" in capsys.readouterr().out
    assert use_padded_positions(by_slices) is by_slices


# -- dataset_class -----------------------------------------------------------------------------


def by_table(task, split):  # the notebook's solution
    pair = get_task(task).is_pair
    if split == "test":
        return mtlab.UnlabelledPairDataset if pair else mtlab.UnlabelledSentenceDataset
    return mtlab.LabelledPairDataset if pair else mtlab.LabelledSentenceDataset


def by_dict(task, split):
    table = {
        (False, True): LabelledSentenceDataset,
        (False, False): UnlabelledSentenceDataset,
        (True, True): LabelledPairDataset,
        (True, False): UnlabelledPairDataset,
    }
    return table[get_task(task).is_pair, split in ("train", "dev")]


@pytest.mark.parametrize("answer", [mtlab_dataset_class, by_table, by_dict])
def test_dataset_class_right_answers_pass(answer):
    assert_done(check_dataset_class(answer))


def test_dataset_class_stub_is_not_done():
    assert_not_done(check_dataset_class(stub))


def test_mtlab_dataset_class_agrees_with_load_dataset():
    for task in ("sst", "quora", "sts"):
        for split in get_task(task).splits:
            assert type(load_dataset(task, split, SAMPLE_DIR)) is mtlab_dataset_class(task, split)


def pair_by_name(task, split):
    return UnlabelledPairDataset if task != "sst" else UnlabelledSentenceDataset


def quora_only(task, split):  # pairs by the task's name: STS forgotten
    if split == "test":
        return UnlabelledPairDataset if task == "quora" else UnlabelledSentenceDataset
    return LabelledPairDataset if task == "quora" else LabelledSentenceDataset


WRONG_CLASSES = [
    row(
        lambda task, split: UnlabelledSentenceDataset,
        "dataset_class.unlabelled-for-labelled",
        "training stops",
        "seed mistake 5",
        name="always-unlabelled",
    ),
    row(pair_by_name, "dataset_class.unlabelled-for-labelled", "train and dev files are labelled"),
    row(
        lambda task, split: (
            UnlabelledSentenceDataset if split != "test" else LabelledSentenceDataset
        ),
        "dataset_class.unlabelled-for-labelled",
        "seed mistake 5",
        name="inverted",
    ),
    row(
        lambda task, split: mtlab_dataset_class(task, "test" if split == "dev" else split),
        "dataset_class.unlabelled-for-labelled",
        "dev",
        name="dev-unlabelled",
    ),
    row(
        lambda task, split: mtlab_dataset_class(task, "train"),
        "dataset_class.labelled-for-test",
        "test files have no label",
        name="always-labelled",
    ),
    row(
        lambda task, split: LabelledPairDataset if split != "test" else UnlabelledPairDataset,
        "dataset_class.pair-or-not",
        "sst is a single-sentence task",
        name="always-pairs",
    ),
    row(
        lambda task, split: (
            LabelledSentenceDataset if split != "test" else UnlabelledSentenceDataset
        ),
        "dataset_class.pair-or-not",
        "sts is a pair task",
        name="never-pairs",
    ),
    row(quora_only, "dataset_class.pair-or-not", "is_pair"),
    row(
        lambda task, split: mtlab_dataset_class(task, split).__name__,
        "dataset_class.name",
        "return the class itself",
        name="class-name",
    ),
    row(
        lambda task, split: load_dataset(task, split, SAMPLE_DIR),
        "dataset_class.instance",
        "return the class itself",
        name="dataset",
    ),
    row(
        lambda task, split: mtlab.data.TaskDataset,
        "answer.wrong-type",
        "expected one of mtlab",
        name="base-class",
    ),
]


@pytest.mark.parametrize("answer, mistake_id, words", WRONG_CLASSES)
def test_dataset_class_wrong_answers_are_named(answer, mistake_id, words):
    assert_named(check_dataset_class(answer), mistake_id, words)


def test_use_dataset_class_falls_back(capsys):
    assert use_dataset_class(stub) is mtlab_dataset_class
    assert "not done yet" in capsys.readouterr().out
