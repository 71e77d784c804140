"""Notebook 03's exercises: pair features, a paraphrase head, the baseline a head must beat."""

from __future__ import annotations

from collections.abc import Callable

import torch

from mtlab.debugging.checks import check_head
from mtlab.exercises import Wrong, check, yours_or_mtlab
from mtlab.heads.kinds import ParaphraseHead


def mtlab_pair_features(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """[u; v; |u - v|; u * v], side by side: one row per pair (Sentence-BERT's features)."""
    return torch.cat([u, v, (u - v).abs(), u * v], dim=-1)


def _pairs(batch: int = 3, hidden: int = 5, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    u = torch.randn(batch, hidden, generator=generator).requires_grad_()
    v = torch.randn(batch, hidden, generator=generator).requires_grad_()
    return u, v


@check("pair_features")
def check_pair_features(pair_features: Callable) -> list[str]:
    """[u; v; |u-v|; u*v] for a batch of pairs: shape, each block, and the graph."""
    u, v = _pairs()
    batch, hidden = u.shape
    out = pair_features(u, v)
    if not isinstance(out, torch.Tensor):
        raise Wrong(f"pair_features returned a {type(out).__name__}, expected a tensor")
    if out.shape[0] == 2 * batch or out.shape[0] == 4 * batch:
        raise Wrong(
            f"for {batch} pairs of {hidden}-dim vectors you returned shape {tuple(out.shape)}: the "
            f"vectors were stacked along dim=0, the batch, so each pair became {out.shape[0] // batch}"
            " rows. Join them along the features: torch.cat([...], dim=-1)",
            mistake=1,
        )
    if out.shape == (batch, 2 * hidden):
        raise Wrong(
            f"shape {tuple(out.shape)} is [u; v] alone (the seed's fix). A head on [u; v] must learn "
            "to compare the two halves itself; give it |u - v| and u * v as well, so 'how far "
            "apart' and 'which dimensions agree' are features it can read directly"
        )
    if out.shape != (batch, 4 * hidden):
        raise Wrong(
            f"for {batch} pairs of {hidden}-dim vectors expected shape "
            f"({batch}, {4 * hidden}), got {tuple(out.shape)}"
        )
    expected = mtlab_pair_features(u, v)
    names = ["u", "v", "|u - v|", "u * v"]
    for i, name in enumerate(names):
        block = slice(i * hidden, (i + 1) * hidden)
        if not torch.allclose(out[:, block], expected[:, block], atol=1e-6):
            hint = ""
            if name == "|u - v|" and torch.allclose(out[:, block], (u - v)[:, :], atol=1e-6):
                hint = ": that is u - v, without the absolute value (it would change sign when "
                hint += "the two sentences swap places)"
            raise Wrong(
                f"block {i + 1} of 4 (columns {block.start}-{block.stop - 1}) should be "
                f"{name}{hint}"
            )
    if out.grad_fn is None:
        raise Wrong(
            "the result has no grad_fn: nothing before it would train. Use torch "
            "operations only (no .detach(), .item(), .numpy())",
            mistake=7,
        )
    return [f"({batch}, {hidden}) and ({batch}, {hidden}) -> {tuple(out.shape)}, every block right"]


def use_pair_features(pair_features: Callable) -> Callable:
    """The student's pair_features, or mtlab's while the stub is unfilled."""
    return yours_or_mtlab(
        "pair_features", pair_features, mtlab_pair_features, lambda f: f(*_pairs())
    )


def _is_sum_of_parts(head: torch.nn.Module, hidden: int) -> bool:
    """Whether the head's score for (u, v) is f(u) + g(v): swapping partners keeps the total.

    For such a head score(u1, v1) + score(u2, v2) == score(u1, v2) + score(u2, v1) for any
    vectors, so it cannot tell whether u and v match (seed mistake 10).
    """
    u, v = _pairs(batch=2, hidden=hidden, seed=1)
    with torch.no_grad():
        out = head(u, v)
        swapped = head(u, v.flip(0))
    score = out[:, 1] - out[:, 0] if out.dim() == 2 else out
    score_swapped = swapped[:, 1] - swapped[:, 0] if swapped.dim() == 2 else swapped
    return torch.allclose(score.sum(), score_swapped.sum(), atol=1e-5)


@check("PairHead")
def check_pair_head(head_class: type, hidden: int = 8) -> list[str]:
    """A paraphrase head: (u, v) -> (B, 2) logits, trainable, able to compare u with v."""
    head = head_class(hidden)
    head.eval()
    head(*_pairs(hidden=hidden))  # a stub raises NotImplementedError here
    found = check_head(head, "quora", hidden)
    if not found.ok:
        cat = any("dim=0" in p or "stacks" in p for p in found.problems)
        raise Wrong("\n".join(found.problems), mistake=1 if cat else None)
    if _is_sum_of_parts(head, hidden):
        raise Wrong(
            "the head's score is a score of u plus a score of v: swapping the partners of two "
            "pairs leaves the total unchanged, so it cannot tell whether u and v match, and it "
            "ends up predicting one class for everything. Put a non-linearity after a layer that "
            "sees both sentences, or give it |u - v| and u * v",
            mistake=10,
        )
    return found.notes


def use_pair_head(head_class: type) -> type:
    """The student's head class, or mtlab's ParaphraseHead while the stub is unfilled."""
    return yours_or_mtlab(
        "PairHead", head_class, ParaphraseHead, lambda cls: cls(8)(*_pairs(hidden=8))
    )


@check("majority_baseline")
def check_majority_baseline(majority_baseline: Callable) -> list[str]:
    """The accuracy of always answering the most common label: the bar every head must clear."""
    cases = [[0, 0, 0, 1], [1, 1, 0, 1, 1], [0, 1], [2, 2, 1, 0, 2]]
    for labels in cases:
        got = majority_baseline(torch.tensor(labels))
        got = float(got) if isinstance(got, (int, float, torch.Tensor)) else got
        counts = torch.bincount(torch.tensor(labels))
        want = counts.max().item() / len(labels)
        if not isinstance(got, float):
            raise Wrong(f"for labels {labels} it returned {got!r}, expected a number (a share)")
        if abs(got - want) > 1e-6:
            hint = ""
            if abs(got - counts.argmax().item()) < 1e-6 and want != counts.argmax().item():
                hint = " (that is the majority class itself, not its share of the labels)"
            elif abs(got - sum(labels) / len(labels)) < 1e-6:
                hint = (
                    " (that is the mean label, the share of 1s: right only when 1 is the majority)"
                )
            raise Wrong(f"for labels {labels} expected {want:.3f}, got {got:.3f}{hint}")
    return [f"right on {len(cases)} label lists, 2 and 3 classes"]


def mtlab_swap_gap(head: torch.nn.Module, u: torch.Tensor, v: torch.Tensor) -> float:
    """Total duplicate score of the pairs as given minus with v's partners shifted by one."""
    with torch.no_grad():
        given, swapped = head(u, v), head(u, v.roll(1, dims=0))
    score = lambda out: out[:, 1] - out[:, 0] if out.dim() == 2 else out  # noqa: E731
    return (score(given).sum() - score(swapped).sum()).item()


@check("swap_gap")
def check_swap_gap(swap_gap: Callable) -> list[str]:
    """The swap test: zero for any head whose score is f(u) + g(v), non-zero for one that compares."""
    torch.manual_seed(0)
    additive = ParaphraseHead(6, variant="linear").eval()
    comparing = ParaphraseHead(6).eval()
    u, v = _pairs(batch=4, hidden=6, seed=2)
    u, v = u.detach(), v.detach()
    for name, head in (("the linear [u; v] head", additive), ("mtlab's comparing head", comparing)):
        got = swap_gap(head, u, v)
        want = mtlab_swap_gap(head, u, v)
        if not isinstance(got, (int, float)):
            raise Wrong(
                f"for {name} it returned a {type(got).__name__}, expected a number (a float)"
            )
        if abs(got - want) <= 1e-4:
            continue
        if head is comparing and abs(got) < 1e-6:
            raise Wrong(
                "it gives 0 for a head that does compare its two inputs: either nothing was "
                "swapped, or whole pairs were reordered (u and v together), which leaves "
                "every head's total unchanged. Shift only v's rows: v.roll(1, dims=0)"
            )
        if head is additive:
            raise Wrong(
                f"for the linear [u; v] head (mistake 10) the gap should be 0, got {got:.4f}:"
                " compare the raw scores (logit of 'duplicate' minus 'not'), not "
                "probabilities or predicted classes, which are no sums of parts",
                mistake=10,
            )
        raise Wrong(
            f"for {name} expected a gap of {want:.4f}, got {got:.4f}: sum the duplicate "
            "scores (logit 1 - logit 0) of the pairs as given, minus the same sum with "
            "v.roll(1, dims=0)"
        )
    return ["0 for the linear [u; v] head (it cannot compare), non-zero for mtlab's head"]


def use_swap_gap(swap_gap: Callable) -> Callable:
    """The student's swap_gap, or mtlab's while the stub is unfilled."""
    head = ParaphraseHead(6, variant="linear").eval()
    u, v = (t.detach() for t in _pairs(batch=4, hidden=6))
    return yours_or_mtlab("swap_gap", swap_gap, mtlab_swap_gap, lambda f: f(head, u, v))
