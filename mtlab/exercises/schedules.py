"""Notebook 06's exercises 6.3 and 6.4: which task each step trains, round robin and proportional."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable

import numpy as np
import torch

from mtlab.batching import MultitaskBatches, make_loader
from mtlab.exercises import Wrong, check, student

# ---------------------------------------------------------------- schedules

ORDER_CASES = [{"sst": 3, "quora": 5, "sts": 2}, {"b": 4, "a": 1}, {"only": 3}]
COURSE_BATCHES = {"sst": 267, "quora": 461, "sts": 189}  # notebook 06: the course data, batch 32


def mtlab_round_robin(batches: dict[str, int]) -> list[str]:
    """One pass: as many steps as all tasks hold batches, the tasks taking turns."""
    tasks = list(batches)
    return [tasks[i % len(tasks)] for i in range(sum(batches.values()))]


def mtlab_proportional(batches: dict[str, int], seed: int) -> list[str]:
    """One pass: every batch of every task once, in a seeded random order."""
    order = [task for task, n in batches.items() for _ in range(n)]
    random.Random(seed).shuffle(order)
    return order


def _order(answer, batches: dict[str, int]) -> list[str]:
    if isinstance(answer, list) and all(isinstance(t, str) for t in answer):
        return answer
    if isinstance(answer, list) and None in answer:
        raise Wrong(
            f"for {batches} the list holds None where a task name belongs: "
            "itertools.zip_longest fills the shorter tasks with None. Give the tasks turns "
            "over all the steps of the pass instead",
            id="round_robin.none-entries",
        )
    hint = ": list(...) of it" if hasattr(answer, "__next__") or hasattr(answer, "__iter__") else ""
    raise Wrong(
        f"for {batches} it returned {str(answer)[:60]}, expected a list of task names{hint}",
        id="answer.wrong-type",
    )


def _skipping(batches: dict[str, int]) -> list[str]:
    """Turns in order, but a task whose batches ran out loses its turn."""
    left, order = dict(batches), []
    while any(left.values()):
        for task in [t for t in left if left[t]]:
            order.append(task)
            left[task] -= 1
    return order


def _length_id(got: int, total: int, zipped: int, longest: int) -> str:
    if got == zipped:
        return "round_robin.stops-at-smallest"
    if got == longest:
        return "round_robin.largest-turns"
    return "round_robin.off-by-one" if abs(got - total) == 1 else "round_robin.length"


@check("round_robin")
def check_round_robin(round_robin: Callable) -> list[str]:
    """Three small cases, then the course's sizes against MultitaskBatches."""
    for batches in ORDER_CASES:
        got = _order(student(round_robin, dict(batches)), batches)
        want = mtlab_round_robin(batches)
        if got == want:
            continue
        tasks, total, where = list(batches), sum(batches.values()), f"for batches {batches}"
        if Counter(got) == Counter(batches):
            if got == [t for t in tasks for _ in range(batches[t])]:
                raise Wrong(
                    f"{where} each task trains its batches in one block: no turns at all",
                    id="round_robin.blocks",
                )
            if got == _skipping(batches):
                raise Wrong(
                    f"{where} a task whose batches run out loses its turn; round robin "
                    "starts it over (small tasks repeat), so each task keeps its share",
                    id="round_robin.skips-finished",
                )
            raise Wrong(
                f"{where} each task trains as many steps as it has batches: that is the "
                "proportional schedule; round robin gives the tasks turns",
                id="round_robin.proportional",
            )
        smallest, largest = min(batches.values()), max(batches.values())
        if len(got) != total:
            hint = (
                " (you stopped when the smallest task ran out, as zip does)"
                if len(got) == smallest * len(tasks)
                else " (every task got as many turns as the largest has batches)"
                if len(got) == largest * len(tasks)
                else " (off by one)"
                if abs(len(got) - total) == 1
                else ""
            )
            raise Wrong(
                f"{where} you made {len(got)} steps, expected {total}: one pass is as "
                f"many steps as all the tasks hold batches together{hint}",
                id=_length_id(len(got), total, smallest * len(tasks), largest * len(tasks)),
            )
        if got == mtlab_round_robin(dict(sorted(batches.items()))):
            raise Wrong(
                f"{where} the tasks take turns alphabetically; take them in the dict's "
                f"order, {tasks}",
                id="round_robin.sorted",
            )
        i = next(i for i, (a, b) in enumerate(zip(got, want)) if a != b)
        raise Wrong(
            f"{where} step {i + 1} trains {got[i]!r}, expected {want[i]!r} (the tasks take "
            f"turns in the dict's order, {tasks}, over and over)",
            id="answer.wrong-value",
        )
    loaders = {t: make_loader(range(n), 1) for t, n in COURSE_BATCHES.items()}
    mine = student(round_robin, dict(COURSE_BATCHES))
    if mine != MultitaskBatches(loaders, "round_robin").task_order():
        raise Wrong(
            f"for the course's batches {COURSE_BATCHES} your order differs from "
            "MultitaskBatches(..., 'round_robin')",
            id="answer.wrong-value",
        )
    counts = Counter(mine)
    return [
        f"right on {len(ORDER_CASES)} cases; for the course's batches, the same "
        f"{len(mine)} steps as MultitaskBatches: " + ", ".join(f"{t} {counts[t]}" for t in counts)
    ]


def _fresh_call(proportional: Callable, batches: dict[str, int], seed: int, noise: int):
    """Call with the global random generators set to `noise`; say whether it touched them."""
    with torch.random.fork_rng():
        state, numpy_state = random.getstate(), np.random.get_state()
        random.seed(noise)
        torch.manual_seed(noise)
        np.random.seed(noise)
        before = (random.getstate(), torch.get_rng_state(), np.random.get_state())
        try:
            order = _order(student(proportional, dict(batches), seed), batches)
            touched = (
                random.getstate() != before[0]
                or not torch.equal(torch.get_rng_state(), before[1])
                or not _same_numpy_state(np.random.get_state(), before[2])
            )
        finally:
            random.setstate(state)
            np.random.set_state(numpy_state)
    return order, touched


def _same_numpy_state(a, b) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a, b))


@check("proportional")
def check_proportional(proportional: Callable) -> list[str]:
    """Every batch once, mixed, the same order for the same seed, another for another seed."""
    batches = {"sst": 20, "quora": 40, "sts": 10}
    first, touched = _fresh_call(proportional, batches, seed=0, noise=1)
    if Counter(first) != Counter(batches):
        rr = Counter(mtlab_round_robin(batches))
        if Counter(first) == rr:
            raise Wrong(
                f"for batches {batches} every task got a third of the steps: that is "
                "round robin; proportional trains each task as often as it has batches",
                id="proportional.round-robin",
            )
        raise Wrong(
            f"for batches {batches} the steps per task are {dict(Counter(first))}: "
            "every batch of every task exactly once"
            + (
                " (random.choices draws with replacement: shuffle the list of all batches)"
                if len(first) == sum(batches.values())
                else ""
            ),
            id="proportional.counts",
        )
    runs = 1 + sum(a != b for a, b in zip(first, first[1:]))
    if runs == len(batches):
        raise Wrong(
            f"the tasks come in blocks ({', '.join(dict.fromkeys(first))}): the last "
            "task trains only after the others finished their whole pass. Shuffle the "
            "steps, so that the tasks mix",
            id="proportional.blocks",
        )
    again, _ = _fresh_call(proportional, batches, seed=0, noise=2)
    if again != first:
        raise Wrong(
            "two calls with seed=0 gave different orders: draw from your own "
            "random.Random(seed) (or a seeded torch.Generator), not the global one",
            id="proportional.unseeded",
        )
    other, _ = _fresh_call(proportional, batches, seed=1, noise=1)
    if other == first:
        raise Wrong(
            "seed=0 and seed=1 gave the same order: the seed should choose the shuffle",
            id="proportional.seed-ignored",
        )
    if touched:
        raise Wrong(
            "it reseeded or drew from the global random generator: every random number "
            "drawn after it (dropout, data shuffling) changes. Use random.Random(seed)",
            id="proportional.global-generator",
        )
    counts = Counter(student(proportional, dict(COURSE_BATCHES), 0))
    total = sum(counts.values())
    return [
        f"{len(first)} steps, mixed, repeatable by seed; for the course's batches: "
        + ", ".join(f"{t} {counts[t]} ({counts[t] / total:.0%})" for t in COURSE_BATCHES)
    ]
