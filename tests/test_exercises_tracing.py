"""Notebook 05's checks: right answers pass in their several forms, a stub is "not done yet",
and each wrong answer, written as a student would, is rejected with its mistake named."""

from collections import deque

import pytest
import torch

from mtlab.debugging.gradients import gradient_report
from mtlab.exercises.tracing import (
    check_fixed_head,
    check_step_with_grad_norms,
    check_unreached_parameters,
    mtlab_step_with_grad_norms,
    mtlab_unreached_parameters,
    use_step_with_grad_norms,
    use_unreached_parameters,
)
from mtlab.heads.kinds import SentimentHead
from tests.verdicts import assert_done, assert_named, assert_not_done, row


def stub(*_args, **_kwargs):
    raise NotImplementedError()


def norms_of(model, norm=lambda g: g.norm().item(), missing=None):
    return {
        n: missing if p.grad is None else norm(p.grad)
        for n, p in model.named_parameters()
        if p.requires_grad
    }


# ------------------------------------------------------------------ step_with_grad_norms


def zero_grad_first(model, loss, optimizer):  # the notebook's table order: also right
    optimizer.zero_grad()
    loss.backward()
    report = gradient_report(model)
    optimizer.step()
    return {
        row.parameter: None if row.status == "NO GRAD" else row.grad_norm
        for row in report.itertuples()
    }


def keeps_references(model, loss, optimizer):  # the grad tensors survive set_to_none
    loss.backward()
    grads = {n: p.grad for n, p in model.named_parameters()}
    optimizer.step()
    optimizer.zero_grad()
    return {n: None if g is None else g.norm() for n, g in grads.items()}


def with_linalg(model, loss, optimizer):
    loss.backward()
    norms = norms_of(model, lambda g: float(torch.linalg.vector_norm(g)))
    optimizer.step()
    model.zero_grad()
    return norms


@pytest.mark.parametrize(
    "answer", [mtlab_step_with_grad_norms, zero_grad_first, keeps_references, with_linalg]
)
def test_step_with_grad_norms_right_answers_pass(answer):
    assert_done(check_step_with_grad_norms(answer))


def test_step_with_grad_norms_stub_is_not_done():
    assert_not_done(check_step_with_grad_norms(stub))


def after_zero_grad(model, loss, optimizer):  # the seed's loop: read at the end
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    return norms_of(model)


def after_zero_grad_as_zeros(model, loss, optimizer):
    loss.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=False)
    return norms_of(model)


def after_model_zero_grad(model, loss, optimizer):
    loss.backward()
    optimizer.step()
    model.zero_grad()
    return norms_of(model, missing=0.0)


def after_zero_grad_unguarded(model, loss, optimizer):
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    return {n: p.grad.norm().item() for n, p in model.named_parameters()}


def unguarded(model, loss, optimizer):  # p.grad is None for the unused layer
    loss.backward()
    norms = {n: p.grad.norm().item() for n, p in model.named_parameters()}
    optimizer.step()
    optimizer.zero_grad()
    return norms


def before_backward(model, loss, optimizer):
    norms = norms_of(model)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    return norms


def before_backward_unguarded(model, loss, optimizer):
    norms = {n: p.grad.norm().item() for n, p in model.named_parameters()}
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    return norms


def no_backward(model, loss, optimizer):
    norms = norms_of(model)
    optimizer.step()
    return norms


def no_step(model, loss, optimizer):
    loss.backward()
    return norms_of(model)


def no_zero_grad(model, loss, optimizer):
    loss.backward()
    optimizer.step()
    return norms_of(model)


def autograd_grad(model, loss, optimizer):  # gradients computed, never stored in .grad
    names, params = zip(*model.named_parameters())
    grads = torch.autograd.grad(loss, params, allow_unused=True)
    optimizer.step()
    optimizer.zero_grad()
    return {n: None if g is None else g.norm().item() for n, g in zip(names, grads)}


def squared(model, loss, optimizer):
    loss.backward()
    norms = norms_of(model, lambda g: g.pow(2).sum().item())
    optimizer.step()
    optimizer.zero_grad()
    return norms


def l1(model, loss, optimizer):
    loss.backward()
    norms = norms_of(model, lambda g: g.abs().sum().item())
    optimizer.step()
    optimizer.zero_grad()
    return norms


def weight_norms(model, loss, optimizer):
    norms = {n: p.norm().item() for n, p in model.named_parameters()}
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    return {n: v if "spare" not in n else None for n, v in norms.items()}


def zero_for_unused(model, loss, optimizer):
    norms = mtlab_step_with_grad_norms(model, loss, optimizer)
    return {n: 0.0 if v is None else v for n, v in norms.items()}


def skips_unused(model, loss, optimizer):
    norms = mtlab_step_with_grad_norms(model, loss, optimizer)
    return {n: v for n, v in norms.items() if v is not None}


def whole_gradients(model, loss, optimizer):
    loss.backward()
    grads = {n: None if p.grad is None else p.grad.clone() for n, p in model.named_parameters()}
    optimizer.step()
    optimizer.zero_grad()
    return grads


def by_position(model, loss, optimizer):
    norms = mtlab_step_with_grad_norms(model, loss, optimizer)
    return dict(enumerate(norms.values()))


WRONG_STEPS = [
    row(
        after_zero_grad,
        "step_with_grad_norms.after-zero-grad",
        "after zero_grad() had cleared",
        "seed mistake 6",
    ),
    row(after_zero_grad_as_zeros, "step_with_grad_norms.after-zero-grad", "None or 0"),
    row(after_model_zero_grad, "step_with_grad_norms.after-zero-grad", "None or 0"),
    row(
        after_zero_grad_unguarded,
        "step_with_grad_norms.after-zero-grad",
        "AttributeError",
        "already cleared",
        "seed mistake 6",
    ),
    row(
        unguarded,
        "step_with_grad_norms.unused-crash",
        "'NoneType' object has no attribute 'norm'",
        "None if p.grad is None",
    ),
    row(before_backward, "step_with_grad_norms.before-backward", "before loss.backward()"),
    row(before_backward_unguarded, "step_with_grad_norms.before-backward", "not written it yet"),
    row(no_backward, "step_with_grad_norms.no-backward", "never called loss.backward()"),
    row(no_step, "step_with_grad_norms.no-step", "optimizer.step() was not called"),
    row(autograd_grad, "step_with_grad_norms.no-update", "autograd.grad"),
    row(no_zero_grad, "step_with_grad_norms.no-zero-grad", "call optimizer.zero_grad()"),
    row(squared, "step_with_grad_norms.squared", "squared norm"),
    row(l1, "step_with_grad_norms.l1", "absolute values"),
    row(weight_norms, "step_with_grad_norms.weight-norm", "norm of the weights"),
    row(zero_for_unused, "step_with_grad_norms.zero-for-unused", "return None for it"),
    row(skips_unused, "step_with_grad_norms.unused-left-out", "Keep them, with None"),
    row(whole_gradients, "answer.wrong-type", "expected a number"),
    row(by_position, "step_with_grad_norms.names", "named_parameters()"),
    row(
        lambda m, loss, o: list(mtlab_step_with_grad_norms(m, loss, o).values()),
        "answer.wrong-type",
        "a dict",
        name="list",
    ),
    row(
        lambda m, loss, o: dict(list(mtlab_step_with_grad_norms(m, loss, o).items())[:3]),
        "step_with_grad_norms.names",
        "expected the names",
        name="some-names",
    ),
]


@pytest.mark.parametrize("answer, mistake_id, words", WRONG_STEPS)
def test_step_with_grad_norms_wrong_answers_are_named(answer, mistake_id, words):
    assert_named(check_step_with_grad_norms(answer), mistake_id, words)


def test_use_step_with_grad_norms_falls_back(capsys):
    assert use_step_with_grad_norms(stub) is mtlab_step_with_grad_norms
    assert "not done yet: the cells below use mtlab's version" in capsys.readouterr().out
    assert use_step_with_grad_norms(zero_grad_first) is zero_grad_first


# ------------------------------------------------------------------ FixedHead


class FixedHead(SentimentHead):
    def forward(self, u):
        logits = self.net(u)
        return logits - logits.max(dim=-1, keepdim=True).values


class DetachedShift(SentimentHead):  # the shift needs no gradient: the softmax ignores it
    def forward(self, u):
        logits = self.net(u)
        return logits - logits.max(dim=-1, keepdim=True).values.detach()


class ItemShift(SentimentHead):  # .item() on each row's largest is a constant: also fine
    def forward(self, u):
        logits = self.net(u)
        return torch.stack([row - row.max().item() for row in logits])


class TransposedShift(SentimentHead):
    def forward(self, u):
        logits = self.net(u)
        return (logits.T - logits.max(dim=1).values).T


class AmaxShift(SentimentHead):
    def forward(self, u):
        logits = self.net(u)
        return logits - torch.amax(logits, dim=-1, keepdim=True)


@pytest.mark.parametrize("head", [FixedHead, DetachedShift, ItemShift, TransposedShift, AmaxShift])
def test_fixed_head_right_answers_pass(head):
    assert_done(check_fixed_head(head))


class StubHead(SentimentHead):
    def forward(self, u):
        raise NotImplementedError()


def test_fixed_head_stub_is_not_done():
    assert_not_done(check_fixed_head(StubHead))


class ListShift(SentimentHead):  # the planted head itself
    def forward(self, u):
        logits = self.net(u)
        return torch.tensor([[x - max(row) for x in row] for row in logits.tolist()])


class NumpyShift(SentimentHead):
    def forward(self, u):
        array = self.net(u).detach().numpy()
        return torch.tensor(array - array.max(axis=1, keepdims=True), requires_grad=True)


class NoGradShift(SentimentHead):
    def forward(self, u):
        with torch.no_grad():
            return FixedHead.forward(self, u)


class DetachedLogits(SentimentHead):
    def forward(self, u):
        return FixedHead.forward(self, u).detach()


class DataInput(SentimentHead):  # the `.data` head: trains, but the encoder would not
    def forward(self, u):
        return FixedHead.forward(self, u.data)


class DetachedInput(SentimentHead):
    def forward(self, u):
        return FixedHead.forward(self, u.detach())


class Unshifted(SentimentHead):
    def forward(self, u):
        return self.net(u)


class BatchShift(SentimentHead):
    def forward(self, u):
        logits = self.net(u)
        return logits - logits.max()


class ColumnShift(SentimentHead):
    def forward(self, u):
        logits = self.net(u)
        return logits - logits.max(dim=0).values


class NoKeepdim(SentimentHead):
    def forward(self, u):
        logits = self.net(u)
        return logits - logits.max(dim=-1).values


class MaxPair(SentimentHead):
    def forward(self, u):
        logits = self.net(u)
        return logits - logits.max(dim=-1, keepdim=True)


class MinShift(SentimentHead):
    def forward(self, u):
        logits = self.net(u)
        return logits - logits.min(dim=-1, keepdim=True).values


class LogSoftmax(SentimentHead):
    def forward(self, u):
        return self.net(u).log_softmax(-1)


class Probabilities(SentimentHead):  # right graph, wrong output: softmax instead of shift
    def forward(self, u):
        return self.net(u).softmax(-1)


class Flattened(SentimentHead):
    def forward(self, u):
        return FixedHead.forward(self, u).flatten()


WRONG_FIXED = [
    row(ListShift, "graph.cut", "numpy round trip", "seed mistake 7"),
    row(NumpyShift, "graph.cut", "numpy round trip"),
    row(NoGradShift, "graph.cut", "no_grad"),
    row(DetachedLogits, "graph.cut", "detach()"),
    row(DataInput, "head.inputs-cut", ".data at", "seed mistake 7"),
    row(DetachedInput, "head.inputs-cut", "no gradient reaches its input vectors"),
    row(Unshifted, "fixed_head.unshifted", "unshifted"),
    row(BatchShift, "fixed_head.batch-max", "whole batch"),
    row(ColumnShift, "fixed_head.column-max", "dim=0"),
    row(NoKeepdim, "fixed_head.no-keepdim", "keepdim=True", "RuntimeError"),
    row(MaxPair, "fixed_head.max-pair", ".values"),
    row(MinShift, "fixed_head.min", "smallest"),
    row(LogSoftmax, "fixed_head.log-softmax", "log-sum-exp"),
    row(Probabilities, "fixed_head.softmax", "probabilities"),
    row(Flattened, "answer.wrong-shape", "output shape (20,)"),
]


@pytest.mark.parametrize("head, mistake_id, words", WRONG_FIXED)
def test_fixed_head_wrong_answers_are_named(head, mistake_id, words):
    assert_named(check_fixed_head(head), mistake_id, words)


# ------------------------------------------------------------------ unreached_parameters


def walk(loss, model):  # the notebook's solution: breadth first, from the loss down
    reached, seen = set(), set()
    queue = deque([loss.grad_fn] if loss.grad_fn is not None else [])
    while queue:
        node = queue.popleft()
        if hasattr(node, "variable"):
            reached.add(id(node.variable))
        for child, _ in node.next_functions:
            if child is not None and child not in seen:
                seen.add(child)
                queue.append(child)
    return [n for n, p in model.named_parameters() if p.requires_grad and id(p) not in reached]


def walk_recursive(loss, model):  # depth first, no visited set: slower, still right
    reached = set()

    def visit(node):
        if node is None:
            return
        if hasattr(node, "variable"):
            reached.add(id(node.variable))
        for child, _ in node.next_functions:
            visit(child)

    visit(loss.grad_fn)
    return [n for n, p in model.named_parameters() if p.requires_grad and id(p) not in reached]


def walk_by_type_name(loss, model):  # AccumulateGrad found by its name, a set of names back
    reached, stack = [], [loss.grad_fn] if loss.grad_fn else []
    while stack:
        node = stack.pop()
        if type(node).__name__ == "AccumulateGrad":
            reached.append(node.variable)
        stack.extend(child for child, _ in node.next_functions if child is not None)
    return {
        n
        for n, p in model.named_parameters()
        if p.requires_grad and all(p is not r for r in reached)
    }


@pytest.mark.parametrize(
    "answer", [walk, walk_recursive, walk_by_type_name, mtlab_unreached_parameters]
)
def test_unreached_parameters_right_answers_pass(answer):
    assert_done(check_unreached_parameters(answer))


def test_unreached_parameters_stub_is_not_done():
    assert_not_done(check_unreached_parameters(stub))


def one_level(loss, model):
    reached = {id(fn.variable) for fn, _ in loss.grad_fn.next_functions if hasattr(fn, "variable")}
    return [n for n, p in model.named_parameters() if p.requires_grad and id(p) not in reached]


def two_levels(loss, model):
    level = [fn for fn, _ in loss.grad_fn.next_functions if fn is not None]
    level += [child for fn in level for child, _ in fn.next_functions if child is not None]
    reached = {id(fn.variable) for fn in level if hasattr(fn, "variable")}
    return [n for n, p in model.named_parameters() if p.requires_grad and id(p) not in reached]


def reached_ones(loss, model):
    missed = walk(loss, model)
    return [n for n, p in model.named_parameters() if p.requires_grad and n not in missed]


def with_frozen(loss, model):
    missed = walk(loss, model)
    return missed + [n for n, p in model.named_parameters() if not p.requires_grad]


def grad_is_none(loss, model):  # .grad before any backward(): None everywhere
    return [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]


def by_backward(loss, model):  # right where there is a graph, fails where there is none
    loss.backward(retain_graph=True)
    return [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]


def crashes_without_graph(loss, model):
    loss.grad_fn.name()
    return walk(loss, model)


def none_not_skipped(loss, model):
    reached, queue = set(), deque([loss.grad_fn] if loss.grad_fn is not None else [])
    while queue:
        node = queue.popleft()
        if hasattr(node, "variable"):
            reached.add(id(node.variable))
        queue.extend(child for child, _ in node.next_functions)
    return [n for n, p in model.named_parameters() if p.requires_grad and id(p) not in reached]


def by_value(loss, model):
    reached, queue = [], deque([loss.grad_fn] if loss.grad_fn is not None else [])
    while queue:
        node = queue.popleft()
        if hasattr(node, "variable"):
            reached.append(node.variable)
        queue.extend(child for child, _ in node.next_functions if child is not None)
    return [n for n, p in model.named_parameters() if p.requires_grad and p not in reached]


def tensors(loss, model):
    names = walk(loss, model)
    return [p for n, p in model.named_parameters() if n in names]


def modules(loss, model):
    return sorted({n.rsplit(".", 1)[0] for n in walk(loss, model)})


WRONG_WALKS = [
    row(one_level, "unreached_parameters.stopped-early", "Keep walking next_functions"),
    row(two_levels, "unreached_parameters.stopped-early", "Keep walking"),
    row(grad_is_none, "unreached_parameters.stopped-early", "Keep walking next_functions"),
    row(reached_ones, "unreached_parameters.reached", "the parameters the gradient reaches"),
    row(with_frozen, "unreached_parameters.frozen", "frozen parameters"),
    row(
        by_backward,
        "unreached_parameters.no-graph",
        "A loss with no grad_fn reaches nothing",
        "mistake 4",
    ),
    row(crashes_without_graph, "unreached_parameters.no-graph", "Start from []"),
    row(none_not_skipped, "unreached_parameters.none-node", "(None, 0)"),
    row(by_value, "unreached_parameters.compare-by-value", "identity"),
    row(tensors, "unreached_parameters.not-names", "names"),
    row(modules, "unreached_parameters.module-names", "full parameter names"),
    row(
        lambda loss, model: [],
        "answer.wrong-value",
        "for notebook 05's mystery model expected",
        name="empty",
    ),
    row(lambda loss, model: "out.weight", "answer.wrong-type", "expected a list", name="string"),
]


@pytest.mark.parametrize("answer, mistake_id, words", WRONG_WALKS)
def test_unreached_parameters_wrong_answers_are_named(answer, mistake_id, words):
    assert_named(check_unreached_parameters(answer), mistake_id, words)


def test_use_unreached_parameters_falls_back(capsys):
    assert use_unreached_parameters(stub) is mtlab_unreached_parameters
    assert use_unreached_parameters(walk) is walk
    assert "the cells below use your unreached_parameters" in capsys.readouterr().out


def test_the_mystery_case_names_the_unused_output_layer():
    verdict = check_unreached_parameters(lambda loss, model: ["hidden.weight"])
    assert "expected ['out.bias', 'out.weight']" in str(verdict)
