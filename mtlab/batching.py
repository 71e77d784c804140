"""From datasets to batches, and from several tasks to one stream of batches.

A batch is a dictionary: "ids", "sentences" (or "sentences1" and "sentences2" for
pairs) and, for labelled data, "labels". Padding is dynamic: the encoder pads each
batch only to its own longest sentence (see `Encoder.tokenize`), never to a fixed 128.

`MultitaskBatches` interleaves the three tasks' loaders so that one training loop sees
all of them, either in turn (round robin) or in proportion to their sizes.
"""

from __future__ import annotations

import difflib
import math
import random
from collections.abc import Iterator, Mapping, Sequence

import torch
from torch.utils.data import DataLoader, Dataset, Sampler

SCHEDULES = ("round_robin", "proportional", "annealed", "sqrt")
ANNEAL_TO = 0.2  # the exponent annealed sampling ends at: near uniform (Stickland & Murray 2019)


class BatchKeyError(KeyError):
    """A key a batch does not have, with the keys it does have (seed mistake 2)."""

    def __str__(self) -> str:  # KeyError would print the message in quotes
        return str(self.args[0])


class Batch(dict):
    """A dict that answers a misspelled or missing key with the keys it has."""

    def __missing__(self, key):
        message = f"this batch has no key {key!r}; its keys are {sorted(self)}."
        close = difflib.get_close_matches(str(key), [str(k) for k in self], n=1)
        if close:
            message += f" Did you mean {close[0]!r}?"
        if key == "labels":
            message += (
                " It has no labels because it came from an unlabelled (test) dataset: "
                "train and evaluate on a Labelled...Dataset, predict on Unlabelled...Dataset."
            )
        raise BatchKeyError(message)


def collate(examples: list[Mapping]) -> Batch:
    """Stack a list of dataset items into one Batch (labels as a tensor)."""
    first = examples[0]
    batch = Batch(ids=[e["id"] for e in examples])
    if "sentence" in first:
        batch["sentences"] = [e["sentence"] for e in examples]
    else:
        batch["sentences1"] = [e["sentence1"] for e in examples]
        batch["sentences2"] = [e["sentence2"] for e in examples]
    if "label" in first:
        labels = [e["label"] for e in examples]
        # Regression targets (STS) must be float32 like the model's output (mistake 3).
        dtype = torch.float32 if isinstance(labels[0], float) else torch.long
        batch["labels"] = torch.tensor(labels, dtype=dtype)
    return batch


class LengthBuckets(Sampler):
    """Random batches of similar-length examples: little padding, still shuffled.

    Each epoch shuffles all examples, sorts each pool of `pool` batches' worth by length,
    cuts the pools into batches and shuffles the batches. Padding to a batch's longest
    sentence then wastes little, which makes finetuning faster.
    """

    def __init__(self, lengths: Sequence[int], batch_size: int, seed: int = 0, pool: int = 50):
        self.lengths, self.batch_size, self.pool = list(lengths), batch_size, pool
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return math.ceil(len(self.lengths) / self.batch_size)

    def __iter__(self) -> Iterator[list[int]]:
        order = torch.randperm(len(self.lengths), generator=self.generator).tolist()
        size = self.batch_size * self.pool
        batches = []
        for start in range(0, len(order), size):
            pool = sorted(order[start : start + size], key=lambda i: self.lengths[i])
            batches += [pool[i : i + self.batch_size] for i in range(0, len(pool), self.batch_size)]
        for i in torch.randperm(len(batches), generator=self.generator).tolist():
            yield batches[i]


def text_length(example: Mapping) -> int:
    """Characters of text in an example: a stand-in for its tokens where no tokenizer is at
    hand. Sorting by characters pads more than sorting by tokens (README, "Against the tools
    a student would pick instead": 1.29 vs 1.14 slots per real token on SST)."""
    return sum(len(example[k]) for k in ("sentence", "sentence1", "sentence2") if k in example)


def make_loader(
    dataset: Dataset,
    batch_size: int = 32,
    *,
    shuffle: bool = False,
    seed: int = 0,
    bucket: bool = False,
    lengths: Sequence[int] | None = None,
) -> DataLoader:
    """A DataLoader with mtlab's collate; shuffled (reproducibly) only when asked.

    bucket=True (with shuffle) groups examples of similar length (see LengthBuckets):
    `lengths` gives each example's tokens (`MultitaskBert.example_lengths`); without them
    the buckets sort by characters (`text_length`).
    """
    if shuffle and bucket:
        if lengths is None:
            lengths = [text_length(example) for example in dataset]
        elif len(lengths) != len(dataset):
            raise ValueError(
                f"lengths has {len(lengths)} entries for a dataset of {len(dataset)} "
                "examples: give one length per example"
            )
        sampler = LengthBuckets(lengths, batch_size, seed)
        # A generator of its own, so that starting an epoch never draws from the global RNG.
        generator = torch.Generator().manual_seed(seed)
        return DataLoader(dataset, batch_sampler=sampler, collate_fn=collate, generator=generator)
    generator = torch.Generator().manual_seed(seed) if shuffle else None
    return DataLoader(
        dataset, batch_size=batch_size, shuffle=shuffle, collate_fn=collate, generator=generator
    )


class MultitaskBatches:
    """Yield (task, batch) pairs from several loaders; one pass = as many batches as they hold.

    - "round_robin": tasks take turns, one batch each; a task that runs out starts over,
      so small tasks are seen as often as big ones.
    - "proportional": every batch of every loader exactly once, in a random order, so
      each task is seen in proportion to its size.
    - "annealed": each step draws its task with probability proportional to size**alpha,
      alpha falling from 1 (proportional) to ANNEAL_TO (near uniform) over the pass: a task
      ten times larger than the others dominates early, and the small ones are not starved.
    - "sqrt": each step draws its task with probability proportional to sqrt(size), the same
      at every step: a run cut short by a time budget still mixes every task in.
    """

    def __init__(
        self, loaders: Mapping[str, DataLoader], schedule: str = "round_robin", seed: int = 0
    ) -> None:
        if schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
        self.loaders = dict(loaders)
        self.schedule = schedule
        self.rng = random.Random(seed)

    def __len__(self) -> int:
        return sum(len(loader) for loader in self.loaders.values())

    def task_order(self) -> list[str]:
        """Which task each step of one pass trains."""
        tasks = list(self.loaders)
        if self.schedule == "round_robin":
            return [tasks[i % len(tasks)] for i in range(len(self))]
        sizes = [len(self.loaders[task]) for task in tasks]
        if self.schedule in ("annealed", "sqrt"):
            steps = len(self)
            alphas = (
                [1 - (1 - ANNEAL_TO) * t / max(1, steps - 1) for t in range(steps)]
                if self.schedule == "annealed"
                else [0.5] * steps
            )
            return [self.rng.choices(tasks, [n**a for n in sizes])[0] for a in alphas]
        order = [task for task, n in zip(tasks, sizes) for _ in range(n)]
        self.rng.shuffle(order)
        return order

    def __iter__(self) -> Iterator[tuple[str, Batch]]:
        iterators = {task: iter(loader) for task, loader in self.loaders.items()}
        for task in self.task_order():
            try:
                batch = next(iterators[task])
            except StopIteration:  # round robin, annealed, sqrt: this task ran out, start again
                iterators[task] = iter(self.loaders[task])
                batch = next(iterators[task])
            yield task, batch
