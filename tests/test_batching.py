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


def test_length_buckets_cover_every_example_once_in_similar_length_batches():
    data = [{"id": str(i), "sentence": "x" * (1 + (i * 37) % 90), "label": 0} for i in range(200)]
    loader = make_loader(data, 10, shuffle=True, seed=0, bucket=True)
    epoch = [b["ids"] for b in loader]
    assert sorted(int(i) for ids in epoch for i in ids) == list(range(200)) and len(loader) == 20
    spread = [max(map(len, b["sentences"])) - min(map(len, b["sentences"])) for b in loader]
    assert max(spread) < 20  # random batches of these lengths would spread over ~80
    assert [b["ids"] for b in loader] != epoch  # a new order each epoch
    again = make_loader(data, 10, shuffle=True, seed=0, bucket=True)
    assert [b["ids"] for b in again] == epoch  # seeded


def test_length_buckets_sort_by_the_lengths_given_not_the_characters():
    # Characters and the given lengths (the tokens) disagree: the buckets follow the lengths.
    data = [{"id": str(i), "sentence": "x" * (1 + (i * 37) % 90), "label": 0} for i in range(200)]
    tokens = [1 + (i * 53) % 70 for i in range(200)]
    loader = make_loader(data, 10, shuffle=True, seed=0, bucket=True, lengths=tokens)
    batches = [[int(i) for i in b["ids"]] for b in loader]
    assert sorted(i for b in batches for i in b) == list(range(200))
    assert max(max(tokens[i] for i in b) - min(tokens[i] for i in b) for b in batches) < 15
    assert max(max(map(len, b["sentences"])) - min(map(len, b["sentences"])) for b in loader) > 30


def test_lengths_must_give_one_per_example():
    data = [{"id": str(i), "sentence": "s", "label": 0} for i in range(5)]
    with pytest.raises(ValueError, match="4 entries for a dataset of 5 examples"):
        make_loader(data, 2, shuffle=True, bucket=True, lengths=[1, 2, 3, 4])


def test_starting_an_epoch_leaves_the_global_rng_alone():
    data = [{"id": str(i), "sentence": "x" * i, "label": 0} for i in range(20)]
    for bucket in (False, True):
        torch.manual_seed(0)
        expected = torch.rand(1)
        torch.manual_seed(0)
        list(make_loader(data, 4, shuffle=True, seed=1, bucket=bucket))
        assert torch.equal(torch.rand(1), expected)


def test_annealed_sampling_feeds_the_small_tasks_of_a_ten_times_larger_one():
    """Quora at course size is ~10x SST and STS: round robin starves it, proportional them."""
    sizes = {"quora": 2000, "sst": 200, "sts": 200}  # examples; batches of 2
    counts = {
        schedule: Counter(MultitaskBatches(_loaders(sizes), schedule, seed=0).task_order())
        for schedule in ("round_robin", "proportional", "annealed")
    }
    steps = sum(sizes.values()) // 2
    assert all(sum(c.values()) == steps for c in counts.values())
    for small in ("sst", "sts"):
        assert (
            counts["proportional"][small] < counts["annealed"][small] < counts["round_robin"][small]
        )
    assert counts["annealed"]["quora"] > steps / 2  # the big task still leads
    first, last = (MultitaskBatches(_loaders(sizes), "annealed", seed=0).task_order()[s]
                   for s in (slice(0, 200), slice(-200, None)))  # fmt: skip
    assert first.count("quora") > last.count("quora")  # proportional early, near uniform late


def test_annealed_order_is_seeded_and_restarts_tasks_that_run_out():
    batches = MultitaskBatches(_loaders({"a": 4, "b": 40}), "annealed", seed=5)
    assert (
        batches.task_order()
        == MultitaskBatches(_loaders({"a": 4, "b": 40}), "annealed", seed=5).task_order()
    )
    assert len(list(batches)) == 22


def test_sqrt_sampling_mixes_every_task_in_from_the_first_steps():
    sizes = {"quora": 2000, "sst": 200, "sts": 200}
    order = MultitaskBatches(_loaders(sizes), "sqrt", seed=0).task_order()
    first = Counter(order[:100])
    assert first["sst"] > 5 and first["sts"] > 5 and first["quora"] > 40  # sqrt(10) : 1 : 1
    whole = Counter(order)
    assert 0.5 < whole["quora"] / len(order) < 0.7
