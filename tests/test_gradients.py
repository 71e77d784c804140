import pytest
import torch
from torch import nn

from mtlab import GraphBreakDetector, check_head, gradient_report, trace_backward
from mtlab.heads.kinds import ParaphraseHead, SentimentHead, SimilarityHead


class FrozenAndUnused(nn.Module):
    """A frozen layer, a used layer and a layer forward() never calls."""

    def __init__(self):
        super().__init__()
        self.frozen = nn.Linear(4, 4).requires_grad_(False)
        self.used = nn.Linear(4, 2)
        self.unused = nn.Linear(4, 2)

    def forward(self, x):
        return self.used(torch.relu(self.frozen(x)))


def test_gradient_report_is_exact_for_frozen_and_unused_parts():
    model = FrozenAndUnused()
    model(torch.randn(3, 4)).sum().backward()
    status = dict(zip(gradient_report(model)["parameter"], gradient_report(model)["status"]))
    assert status == {
        "frozen.weight": "frozen", "frozen.bias": "frozen",
        "used.weight": "ok", "used.bias": "ok",
        "unused.weight": "NO GRAD", "unused.bias": "NO GRAD",
    }  # fmt: skip


def test_trace_backward_lists_reached_and_missed_parameters():
    model = FrozenAndUnused()
    trace = trace_backward(model(torch.randn(3, 4)).sum(), model)
    assert trace.reached == ["used.weight", "used.bias"]
    assert trace.missed == ["unused.weight", "unused.bias"]
    assert "AccumulateGrad  <- used.weight" in trace.tree()
    assert (
        trace.table()["depth"].iloc[0] == 0 and trace.table()["operation"].iloc[0] == "SumBackward0"
    )


def test_trace_of_a_detached_tensor_says_there_is_no_graph():
    model = FrozenAndUnused()
    trace = trace_backward(model(torch.randn(3, 4)).detach().sum(), model)
    assert trace.root is None and trace.reached == [] and len(trace.missed) == 4
    assert "no grad_fn" in str(trace)


def _breaks(fn):
    w = torch.randn(3, requires_grad=True)
    with GraphBreakDetector() as detector:
        fn(w)
    return [b.kind for b in detector.breaks], detector


@pytest.mark.parametrize(
    "fn,kind",
    [
        (lambda w: (w * 2).detach(), "detach()"),
        (lambda w: (w * 2).data, ".data"),
        (lambda w: (w * 2).sum().item(), ".item()"),
        (lambda w: torch.tensor((w * 2).detach().numpy()), "numpy round trip"),
        (lambda w: torch.tensor((w * 2).tolist()), "numpy round trip"),
        (lambda w: torch.tensor(w * 2), "torch.tensor(t)"),
    ],
)
@pytest.mark.filterwarnings("ignore:To copy construct")
def test_each_graph_break_is_caught_and_named(fn, kind):
    kinds, _ = _breaks(fn)
    assert kinds == [kind]


def test_op_under_no_grad_is_caught_with_its_line():
    def forward(w):
        with torch.no_grad():
            return w * 2

    kinds, detector = _breaks(forward)
    assert kinds == ["no_grad"]
    assert "test_gradients.py line" in str(detector.breaks[0]) and "w * 2" in str(
        detector.breaks[0]
    )


def test_ordinary_forward_has_no_breaks():
    kinds, detector = _breaks(lambda w: (w.view(3, 1) * 2).reshape(-1).sum())
    assert kinds == [] and detector.report() == "no graph breaks seen"


@pytest.mark.parametrize(
    "head,task",
    [(SentimentHead(8), "sst"), (ParaphraseHead(8), "quora"), (ParaphraseHead(8, variant="linear"), "quora"),
     (ParaphraseHead(8, variant="cross"), "quora"), (SimilarityHead(8), "sts")],
)  # fmt: skip
def test_mtlab_heads_pass_the_checker(head, task):
    result = check_head(head, task, hidden=8)
    assert result.ok, str(result)


class WrongShape(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.Linear(8, 1)

    def forward(self, u, v):
        return self.layer(u * v)  # (batch, 1), not (batch,)


class WrongDtype(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.Linear(8, 5)

    def forward(self, u):
        return self.layer(u).argmax(-1)  # class indices, not logits


class Detached(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.Linear(8, 5)

    def forward(self, u):
        return self.layer(u).detach()


class HalfUsed(nn.Module):
    def __init__(self):
        super().__init__()
        self.first, self.second = nn.Linear(8, 5), nn.Linear(8, 5)

    def forward(self, u):
        return self.first(u)


def test_checker_flags_a_wrong_shape():
    result = check_head(WrongShape(), "sts", hidden=8)
    assert (
        not result.ok
        and "output shape (4, 1), expected (B,) float scores with B = 4" in result.problems[0]
    )


def test_checker_flags_a_wrong_dtype():
    result = check_head(WrongDtype(), "sst", hidden=8)
    assert any("dtype torch.int64" in p for p in result.problems)


def test_checker_flags_a_detached_output_and_names_the_break():
    result = check_head(Detached(), "sst", hidden=8)
    assert not result.ok
    assert "cut from the graph" in result.problems[0] and "detach()" in result.problems[0]


def test_checker_flags_parameters_without_gradient():
    result = check_head(HalfUsed(), "sst", hidden=8)
    assert "no gradient reaches ['second.weight', 'second.bias']" in result.problems[0]


def test_checker_explains_a_cat_along_the_batch_dimension():
    class CatBatch(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = nn.Linear(16, 2)

        def forward(self, u, v):
            return self.layer(torch.cat([u, v], dim=0))

    result = check_head(CatBatch(), "quora", hidden=8)
    assert "forward failed" in result.problems[0] and "dim=-1" in result.problems[0]


def test_plot_of_a_cut_graph_says_so_instead_of_failing():
    import matplotlib.pyplot as plt

    trace = trace_backward(FrozenAndUnused()(torch.randn(3, 4)).detach().sum())
    ax = trace.plot()
    assert ax.texts[0].get_text() == "no backward graph: no grad_fn"
    plt.close(ax.figure)


def test_checker_names_the_tasks_it_knows():
    with pytest.raises(ValueError, match="unknown task 'imdb'; known tasks: sst, quora, sts"):
        check_head(SentimentHead(8), "imdb", hidden=8)


def test_checker_takes_the_expected_output_from_the_task_table():
    assert check_head(SentimentHead(8, n_classes=2, task="cfimdb"), "cfimdb", hidden=8).ok
    five = check_head(SentimentHead(8), "cfimdb", hidden=8)  # 5 logits for a 2-class task
    assert not five.ok and "expected (B, 2) float logits, or (B,) for a single-logit" in str(five)


def test_gradient_flow_marks_missing_gradients_apart_from_the_bars():
    import matplotlib

    matplotlib.use("Agg")
    from mtlab import plot_gradient_flow

    model = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.Linear(3, 1))
    model[1](torch.randn(2, 3)).sum().backward()  # the first layer gets no gradient
    ax = plot_gradient_flow(model)
    (missing, _frozen) = ax.collections
    assert [tuple(p) for p in missing.get_offsets()] == [(0.0, 1.03), (1.0, 1.03)]
    assert missing.get_transform() is not ax.transData  # axes fraction, not a gradient value
    assert "marked at the top" in missing.get_label()


def test_a_cut_leaf_is_drawn_apart_from_the_parameters():
    import matplotlib

    matplotlib.use("Agg")
    layer = torch.nn.Linear(3, 2)
    cut = torch.tensor(layer(torch.randn(4, 3)).tolist(), requires_grad=True)  # a copy, cut off
    trace = trace_backward((cut * 2).sum(), layer)
    (leaf,) = [n for n in trace.nodes.values() if n.parameter]
    assert leaf.leaf_only and leaf.parameter == "tensor(4, 2)"
    colors = {t.get_text(): t.get_bbox_patch().get_facecolor() for t in trace.plot().texts}
    assert colors["tensor(4, 2)"] != matplotlib.colors.to_rgba("#c8e6c9")
