"""Notebook 03's exercises: pair features, a paraphrase head, the baseline a head must beat."""

from __future__ import annotations

from collections.abc import Callable

import torch

from mtlab.exercises import Wrong, check, student, yours_or_mtlab
from mtlab.exercises.heads import (
    build,
    eval_outputs,
    head_checked,
    require_head,
    require_written,
)
from mtlab.exercises.probes import (
    as_number,
    close,
    follows_rows,
    gradients_match,
    require_dtype,
    require_graph,
    tensor_answer,
)
from mtlab.exercises.swap import check_swap_gap, duplicate_scores, mtlab_swap_gap, use_swap_gap
from mtlab.heads.kinds import ParaphraseHead

__all__ = [  # exercise 3.3, the swap test, lives in mtlab.exercises.swap
    "check_majority_baseline",
    "check_pair_features",
    "check_pair_head",
    "check_swap_gap",
    "mtlab_pair_features",
    "mtlab_swap_gap",
    "use_pair_features",
    "use_pair_head",
    "use_swap_gap",
]


def mtlab_pair_features(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """[u; v; |u - v|; u * v], side by side: one row per pair (Sentence-BERT's features)."""
    return torch.cat([u, v, (u - v).abs(), u * v], dim=-1)


def _pairs(batch: int = 4, hidden: int = 5, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    u = torch.randn(batch, hidden, generator=generator).requires_grad_()
    v = torch.randn(batch, hidden, generator=generator).requires_grad_()
    return u, v


BLOCKS = ["u", "v", "|u - v|", "u * v"]
OTHER_BLOCKS = {  # what students put in a block instead, and the id of each
    "u - v, without the absolute value (it changes sign when the two sentences swap places)": (
        "pair_features.no-abs",
        lambda u, v: u - v,
    ),
    "v - u, without the absolute value (it changes sign when the two sentences swap places)": (
        "pair_features.no-abs",
        lambda u, v: v - u,
    ),
    "(u - v)², the squared difference: close, but the exercise (and Sentence-BERT) use |u - v|": (
        "pair_features.squared-difference",
        lambda u, v: (u - v) ** 2,
    ),
    "|u| - |v|: the absolute values of each vector, then their difference. Take the "
    "difference first: (u - v).abs()": (
        "pair_features.wrong-block",
        lambda u, v: u.abs() - v.abs(),
    ),
    "u + v: the exercise wants the element-wise product, u * v": (
        "pair_features.wrong-block",
        lambda u, v: u + v,
    ),
}


def _shape_problem(out: torch.Tensor, batch: int, hidden: int) -> None:
    """Wrong naming what a shape other than (B, 4H) says about how the blocks were joined."""
    shape, where = tuple(out.shape), f"for {batch} pairs of {hidden}-dim vectors"
    if out.dim() >= 1 and out.shape[0] in (2 * batch, 3 * batch, 4 * batch):
        raise Wrong(
            f"{where} you returned shape {shape}: the vectors were stacked along dim=0, the "
            f"batch, so each pair became {out.shape[0] // batch} rows. Join them along the "
            "features: torch.cat([...], dim=-1)",
            id="pair_features.cat-batch",
        )
    if out.dim() == 3:
        raise Wrong(
            f"{where} you returned shape {shape}: torch.stack adds a new dimension. Join the "
            "blocks side by side along the features with torch.cat([...], dim=-1)",
            id="pair_features.stacked",
        )
    if shape == (batch, 2 * hidden):
        raise Wrong(
            f"{where} shape {shape} is [u; v] alone (the seed's fix). A head on [u; v] must "
            "learn to compare the two halves itself; give it |u - v| and u * v as well, so "
            "'how far apart' and 'which dimensions agree' are features it can read directly",
            id="pair_features.only-u-v",
        )
    if shape in ((batch, 3 * hidden + 1), (batch, 3 * hidden + batch)):
        extra = "one column" if shape[1] == 3 * hidden + 1 else f"{batch} columns"
        raise Wrong(
            f"{where} you returned shape {shape}: the last block is {extra}, the dot product "
            "((u * v).sum(-1), or u @ v.T). Here u * v is the element-wise product: "
            f"{hidden} numbers per pair, which dimensions agree, not one total",
            id="pair_features.dot-product",
        )
    if shape == (batch, 3 * hidden):
        raise Wrong(
            f"{where} you returned shape {shape}: three blocks of {hidden}; the four are "
            "[u; v; |u - v|; u * v]",
            id="pair_features.missing-block",
        )
    raise Wrong(
        f"{where} expected shape ({batch}, {4 * hidden}), got {shape}: four blocks of {hidden} "
        "side by side",
        id="answer.wrong-shape",
    )


def _name_of(block: torch.Tensor, expected: list[torch.Tensor]) -> str:
    return next((BLOCKS[j] for j, want in enumerate(expected) if close(block, want)), "?")


def _block_problem(out: torch.Tensor, u: torch.Tensor, v: torch.Tensor) -> None:
    """Wrong naming the first block that is not what belongs there."""
    hidden = u.shape[1]
    expected = [u, v, (u - v).abs(), u * v]
    blocks = [out[:, i * hidden : (i + 1) * hidden] for i in range(4)]
    for i, (block, want) in enumerate(zip(blocks, expected)):
        if close(block, want, atol=1e-6):
            continue
        where = f"block {i + 1} of 4 (columns {i * hidden}-{(i + 1) * hidden - 1})"
        found = [BLOCKS[j] for j, w in enumerate(expected) if close(block, w, atol=1e-6)]
        if found:
            order = [_name_of(b, expected) for b in blocks]
            raise Wrong(
                f"{where} holds {found[0]}, where {BLOCKS[i]} belongs: the blocks are in the "
                f"order [{'; '.join(order)}], the exercise's is [u; v; |u - v|; u * v]",
                id="pair_features.block-order",
            )
        for what, (id, make) in OTHER_BLOCKS.items():
            if close(block, make(u, v), atol=1e-6):
                raise Wrong(f"{where} should be {BLOCKS[i]}; it is {what}", id=id)
        raise Wrong(f"{where} should be {BLOCKS[i]}", id="pair_features.wrong-block")


@check("pair_features")
def check_pair_features(pair_features: Callable) -> list[str]:
    """[u; v; |u-v|; u*v] for a batch of pairs: shape, rows, each block, dtype, the graph."""
    u, v = _pairs(batch=6, hidden=5)
    batch, hidden = u.shape
    out = tensor_answer(student(pair_features, u.clone(), v.clone()), "pair_features", "a tensor")
    if tuple(out.shape) != (batch, 4 * hidden):
        _shape_problem(out, batch, hidden)
    if not follows_rows(pair_features, u, v):
        raise Wrong(
            "the shape is right, but the rows are mixed: reorder the pairs and the rows of "
            "your result do not follow. Stacking along dim=0 and then .view/.reshape to "
            f"({batch}, {4 * hidden}) puts pieces of different pairs into one row; join the "
            "blocks with torch.cat([...], dim=-1)",
            id="pair_features.rows-mixed",
        )
    _block_problem(out, u, v)
    require_dtype(out, u, "the features are")
    require_graph(out, "the result has")
    if not gradients_match(out, mtlab_pair_features(u, v), [u, v]):
        raise Wrong(
            "the values are right, but the gradient that reaches u and v is not the one "
            "through all four blocks: part of the result was cut from the graph (.data, "
            ".detach(), a NumPy round trip in one block)",
            id="graph.part-cut",
        )
    return [f"({batch}, {hidden}) and ({batch}, {hidden}) -> {tuple(out.shape)}, every block right"]


def use_pair_features(pair_features: Callable) -> Callable:
    """The student's pair_features, or mtlab's while the stub is unfilled."""
    return yours_or_mtlab(
        "pair_features", pair_features, mtlab_pair_features, lambda f: f(*_pairs())
    )


def _is_sum_of_parts(head: torch.nn.Module, hidden: int) -> bool:
    """Whether the head's score for (u, v) is f(u) + g(v): swapping partners keeps the total.

    For such a head the total score over the pairs does not change when v's rows are shifted
    to other partners, for any vectors (6 distinct pairs here), so it cannot tell whether u
    and v match (seed mistake 10).
    """
    u, v = (t.detach() for t in _pairs(batch=6, hidden=hidden, seed=1))
    given, swapped = eval_outputs(head, u, v), eval_outputs(head, u, v.roll(1, dims=0))
    return close(duplicate_scores(given).sum(), duplicate_scores(swapped).sum(), atol=1e-5)


@check("PairHead")
def check_pair_head(head_class: type, hidden: int = 8) -> list[str]:
    """A paraphrase head: (u, v) -> (B, 2) logits, trainable, able to compare u with v."""
    head = build(head_class, hidden)
    require_written(head, hidden, inputs=2)
    require_head(head, "quora")
    notes = head_checked(head, "quora", hidden)
    if _is_sum_of_parts(head, hidden):
        raise Wrong(
            "the head's score is a score of u plus a score of v: swapping the partners of the "
            "pairs leaves the total unchanged, so it cannot tell whether u and v match, and it "
            "ends up predicting one class for everything. Put a non-linearity after a layer "
            "that sees both sentences, or give it |u - v| and u * v",
            id="pair_head.sum-of-parts",
        )
    return notes


def use_pair_head(head_class: type) -> type:
    """The student's head class, or mtlab's ParaphraseHead while the stub is unfilled."""
    return yours_or_mtlab(
        "PairHead", head_class, ParaphraseHead, lambda cls: cls(8)(*_pairs(hidden=8))
    )


BASELINE_CASES = [[0, 0, 0, 1], [1, 1, 0, 1, 1], [0, 1], [2, 2, 1, 0, 2]]


def _counts(labels: list[int]) -> torch.Tensor:
    return torch.bincount(torch.tensor(labels))


WRONG_BASELINES = [  # (id, what it is, its value on a list of labels)
    (
        "majority_baseline.majority-class",
        "the majority class itself, not its share of the labels",
        lambda labels: _counts(labels).argmax().item(),
    ),
    (
        "majority_baseline.count",
        "the count of the majority class, not its share: divide by the number of labels",
        lambda labels: _counts(labels).max().item(),
    ),
    (
        "majority_baseline.integer-division",
        "the share rounded down to 0 by integer division (//): divide with /",
        lambda labels: _counts(labels).max().item() // len(labels),
    ),
    (
        "majority_baseline.mean-label",
        "the mean label (the share of 1s): right only when 1 is the most common label",
        lambda labels: sum(labels) / len(labels),
    ),
    (
        "majority_baseline.share-of-0",
        "the share of class 0: right only when 0 is the most common label",
        lambda labels: _counts(labels)[0].item() / len(labels),
    ),
    (
        "majority_baseline.minority",
        "the share of the least common label, not of the most common",
        lambda labels: _counts(labels)[_counts(labels) > 0].min().item() / len(labels),
    ),
    (
        "majority_baseline.uniform",
        "1 / the number of classes: a uniform guess, not the majority's share",
        lambda labels: 1 / len(_counts(labels)),
    ),
]


def _majority(labels: list[int]) -> float:
    return _counts(labels).max().item() / len(labels)


@check("majority_baseline")
def check_majority_baseline(majority_baseline: Callable) -> list[str]:
    """The accuracy of always answering the most common label: the bar every head must clear."""
    answers = []
    for labels in BASELINE_CASES:
        out = student(majority_baseline, torch.tensor(labels))
        if as_number(out) is None:
            raise Wrong(
                f"for labels {labels} it returned {out!r}, expected a number (a share between "
                "0 and 1)",
                id="answer.wrong-type",
            )
        answers.append(as_number(out))
    wrong = [
        (a, labels)
        for a, labels in zip(answers, BASELINE_CASES)
        if not abs(a - _majority(labels)) <= 1e-6  # NaN is not near either
    ]
    if not wrong:
        return [f"right on {len(BASELINE_CASES)} label lists, 2 and 3 classes"]
    got, labels = wrong[0]
    first_wrong = BASELINE_CASES.index(labels) + 1
    # a wrong computation that gives the same on every list, else on the lists up to this one
    for cases in (BASELINE_CASES, BASELINE_CASES[: max(2, first_wrong)]):
        for id, what, value in WRONG_BASELINES:
            if all(abs(a - value(case)) < 1e-6 for a, case in zip(answers, cases)):
                raise Wrong(
                    f"for labels {labels} expected {_majority(labels):.3f}, got {got:.3f}: {what}",
                    id=id,
                )
    raise Wrong(
        f"for labels {labels} expected {_majority(labels):.3f}, got {got:.3f}: count each label "
        "(torch.bincount), take the largest count, divide by the number of labels",
        id="answer.wrong-value",
    )
