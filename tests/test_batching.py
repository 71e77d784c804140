from collections import Counter

import pytest
import torch

from mtlab.batching import Batch, BatchKeyError, MultitaskBatches, collate, make_loader


def test_collate_sentences_and_pairs():
    batch = collate(
        [{"id": "a", "sentence": "x", "label": 3}, {"id": "b", "sentence": "y", "label": 0}]
    )
    assert batch["sentences"] == ["x", "y"] and batch["labels"].dtype == torch.long
    pairs = collate([{"id": "a", "sentence1": "x", "sentence2": "y", "label": 4.2}])
    assert pairs["sentences2"] == ["y"] and pairs["labels"].dtype == torch.float32


def test_misspelled_key_suggests_the_right_one():
    batch = Batch(ids=[], sentences=[], labels=torch.zeros(0))
    with pytest.raises(BatchKeyError, match="Did you mean 'labels'"):
        batch["label"]


def test_unlabelled_batch_explains_missing_labels():
    batch = collate([{"id": "a", "sentence": "x"}])
    with pytest.raises(KeyError, match="unlabelled"):
        batch["labels"]


def _loaders(sizes, batch_size=2):
    return {
        task: make_loader(
            [{"id": str(i), "sentence": task, "label": i} for i in range(n)], batch_size
        )
        for task, n in sizes.items()
    }


def test_round_robin_alternates_and_restarts_small_tasks():
    batches = MultitaskBatches(_loaders({"a": 2, "b": 8}), "round_robin")
    seen = list(batches)
    assert len(batches) == 5  # 1 + 4 batches, taken in turns
    assert [task for task, _ in seen] == ["a", "b", "a", "b", "a"]
    assert [b["ids"] for task, b in seen if task == "a"] == [["0", "1"]] * 3  # "a" restarted


def test_proportional_sees_every_batch_once():
    batches = MultitaskBatches(_loaders({"a": 2, "b": 8}), "proportional", seed=1)
    seen = [(task, tuple(batch["ids"])) for task, batch in batches]
    assert Counter(task for task, _ in seen) == {"a": 1, "b": 4}
    assert len(set(seen)) == len(seen)


def test_proportional_order_is_seeded():
    orders = [MultitaskBatches(_loaders({"a": 20, "b": 40}), "proportional", seed=3).task_order()
              for _ in range(2)]  # fmt: skip
    assert orders[0] == orders[1]


def test_unknown_schedule():
    with pytest.raises(ValueError, match="round_robin"):
        MultitaskBatches({}, "random")


def test_shuffled_loader_is_reproducible():
    data = [{"id": str(i), "sentence": "s", "label": i} for i in range(10)]
    runs = [[b["ids"] for b in make_loader(data, 3, shuffle=True, seed=7)] for _ in range(2)]
    assert runs[0] == runs[1] and runs[0] != [b["ids"] for b in make_loader(data, 3)]
