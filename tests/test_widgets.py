import torch

from mtlab import get_task
from mtlab.debugging.widgets import predict_all, prediction_explorer, trace_level, trace_stepper


def test_predict_all_answers_for_each_head(tiny_model):
    answers = predict_all(tiny_model, "a fine film", "a good movie")
    assert set(answers) == {"sst", "quora", "sts"}
    assert answers["sts"].endswith("(scores from 0 to 5)")
    assert answers["sst"].split(" (")[0] in get_task("sst").label_names


def test_explorer_updates_when_a_sentence_changes(tiny_model):
    box = prediction_explorer(tiny_model)
    first, _, result = box.children
    before = result.value
    first.value = "an utterly different sentence about the stock market"
    assert result.value != before and "<table>" in result.value


def _two_layer_trace():
    from torch import nn

    from mtlab.debugging.gradients import trace_backward

    torch.manual_seed(0)
    head = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2), nn.Linear(2, 2))
    head[3].requires_grad_(False)  # frozen: never in the graph
    unused = nn.ModuleDict({"head": head, "spare": nn.Linear(4, 2)})
    loss = head(torch.randn(5, 4)).sum()
    return trace_backward(loss, unused)


def test_trace_level_lists_each_depth_with_what_it_feeds():
    trace = _two_layer_trace()
    top = trace_level(trace, 0)
    assert top.to_dict("records") == [{"operation": "SumBackward0", "parameter": "", "feeds": ""}]
    one = trace_level(trace, 1)
    assert one["operation"].tolist() == ["AddmmBackward0"] and one["feeds"][0] == "SumBackward0"
    params = {p for d in range(10) for p in trace_level(trace, d)["parameter"] if p}
    assert params == {"head.0.weight", "head.0.bias", "head.2.weight", "head.2.bias"}


def test_trace_stepper_moves_level_by_level_and_names_the_missed_parameters():
    trace = _two_layer_trace()
    stepper = trace_stepper(trace)
    slider, page = stepper.children
    assert slider.min == 0 and slider.max == max(n.depth for n in trace.nodes.values())
    assert "0 step(s) back" in page.value and "SumBackward0" in page.value
    assert "reached so far: 0 of 6" in page.value
    slider.value = slider.max
    assert f"{slider.max} step(s) back" in page.value and "reached so far: 4 of 6" in page.value
    assert "never reached (2)" in page.value and "spare.weight" in page.value


def test_trace_stepper_on_a_cut_graph_says_there_is_nothing_to_trace():
    from mtlab.debugging.gradients import trace_backward

    layer = torch.nn.Linear(3, 1)
    trace = trace_backward(layer(torch.randn(2, 3)).detach().sum(), layer)
    slider, page = trace_stepper(trace).children
    assert slider.disabled and "no grad_fn" in page.value and "does not reach: 2" in page.value


def test_explorer_names_each_task_and_its_kind_of_head(tiny_model):
    _, _, result = prediction_explorer(tiny_model).children
    for words in ("sst</b> (sentiment)", "quora</b> (paraphrase)", "sts</b> (similarity)"):
        assert words in result.value
