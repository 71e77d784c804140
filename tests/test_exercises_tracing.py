"""Notebook 05's checks: the solution passes, a stub is "not done yet", wrong answers are named."""

from collections import deque

import pytest
import torch

from mtlab.debugging.gradients import gradient_report
from mtlab.exercises import DONE, NOT_DONE, WRONG
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


def stub(*_args, **_kwargs):
    raise NotImplementedError()


def norms_of(model):
    return {n: None if p.grad is None else p.grad.norm().item()
            for n, p in model.named_parameters() if p.requires_grad}  # fmt: skip


# ------------------------------------------------------------------ step_with_grad_norms


def zero_grad_first(model, loss, optimizer):  # the notebook's table order: also right
    optimizer.zero_grad()
    loss.backward()
    report = gradient_report(model)
    optimizer.step()
    return {row.parameter: None if row.status == "NO GRAD" else row.grad_norm
            for row in report.itertuples()}  # fmt: skip


def keeps_references(model, loss, optimizer):  # the grad tensors survive set_to_none
    loss.backward()
    grads = {n: p.grad for n, p in model.named_parameters()}
    optimizer.step()
    optimizer.zero_grad()
    return {n: None if g is None else g.norm() for n, g in grads.items()}


@pytest.mark.parametrize("answer", [mtlab_step_with_grad_norms, zero_grad_first, keeps_references])
def test_step_with_grad_norms_solutions_pass(answer):
    verdict = check_step_with_grad_norms(answer)
    assert verdict.status == DONE, str(verdict)


def test_step_with_grad_norms_stub_is_not_done():
    assert check_step_with_grad_norms(stub).status == NOT_DONE


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
    return {n: 0.0 if p.grad is None else p.grad.norm().item() for n, p in model.named_parameters()}


@pytest.mark.parametrize(
    "answer", [after_zero_grad, after_zero_grad_as_zeros, after_model_zero_grad]
)
def test_reading_gradients_after_zero_grad_is_mistake_6(answer):
    verdict = check_step_with_grad_norms(answer)
    assert verdict.status == WRONG and verdict.mistake == 6, str(verdict)
    assert "after zero_grad() had cleared it" in str(verdict)


def before_backward(model, loss, optimizer):
    norms = norms_of(model)
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


def squared(model, loss, optimizer):
    loss.backward()
    norms = {n: None if p.grad is None else p.grad.pow(2).sum().item()
             for n, p in model.named_parameters()}  # fmt: skip
    optimizer.step()
    optimizer.zero_grad()
    return norms


def zero_for_unused(model, loss, optimizer):
    norms = mtlab_step_with_grad_norms(model, loss, optimizer)
    return {n: 0.0 if v is None else v for n, v in norms.items()}


def whole_gradients(model, loss, optimizer):
    loss.backward()
    grads = {n: None if p.grad is None else p.grad.clone() for n, p in model.named_parameters()}
    optimizer.step()
    optimizer.zero_grad()
    return grads


@pytest.mark.parametrize(
    "answer, says",
    [
        (before_backward, "before loss.backward() had written it"),
        (no_backward, "never called loss.backward()"),
        (no_step, "optimizer.step() was not called"),
        (no_zero_grad, "call optimizer.zero_grad()"),
        (squared, "squared norm"),
        (zero_for_unused, "return None for it"),
        (whole_gradients, "expected a number"),
        (lambda m, loss, o: list(mtlab_step_with_grad_norms(m, loss, o).values()), "a dict"),
        (lambda m, loss, o: dict(list(mtlab_step_with_grad_norms(m, loss, o).items())[:4]),
         "expected the names"),
    ],
)  # fmt: skip
def test_step_with_grad_norms_other_problems_are_named(answer, says):
    verdict = check_step_with_grad_norms(answer)
    assert verdict.status == WRONG and verdict.mistake is None and says in str(verdict), str(
        verdict
    )


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


@pytest.mark.parametrize("head", [FixedHead, DetachedShift, ItemShift])
def test_fixed_head_solutions_pass(head):
    verdict = check_fixed_head(head)
    assert verdict.status == DONE, str(verdict)


class StubHead(SentimentHead):
    def forward(self, u):
        raise NotImplementedError()


def test_fixed_head_stub_is_not_done():
    assert check_fixed_head(StubHead).status == NOT_DONE


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


@pytest.mark.parametrize(
    "head, says",
    [
        (ListShift, "numpy round trip"),
        (NumpyShift, "numpy round trip"),
        (NoGradShift, "no_grad"),
        (DetachedLogits, "detach()"),
        (DataInput, ".data at"),
        (DetachedInput, "no gradient reaches its input vectors"),
    ],
)
def test_a_head_cut_from_the_graph_is_mistake_7_and_the_break_is_named(head, says):
    verdict = check_fixed_head(head)
    assert verdict.status == WRONG and verdict.mistake == 7 and says in str(verdict), str(verdict)


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


class Probabilities(SentimentHead):  # right graph, wrong output: softmax instead of shift
    def forward(self, u):
        return self.net(u).softmax(-1)


@pytest.mark.parametrize(
    "head, says",
    [
        (Unshifted, "unshifted"),
        (BatchShift, "whole batch"),
        (ColumnShift, "dim=0"),
        (NoKeepdim, "RuntimeError"),
        (Probabilities, "values differ"),
    ],
)
def test_fixed_head_wrong_values_are_named(head, says):
    verdict = check_fixed_head(head)
    assert verdict.status == WRONG and verdict.mistake is None and says in str(verdict), str(
        verdict
    )


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


@pytest.mark.parametrize("answer", [walk, walk_recursive, mtlab_unreached_parameters])
def test_unreached_parameters_solutions_pass(answer):
    assert check_unreached_parameters(answer).status == DONE


def test_unreached_parameters_stub_is_not_done():
    assert check_unreached_parameters(stub).status == NOT_DONE


def one_level(loss, model):
    reached = {id(fn.variable) for fn, _ in loss.grad_fn.next_functions if hasattr(fn, "variable")}
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
    loss.backward()
    return [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]


def crashes_without_graph(loss, model):
    loss.grad_fn.name()
    return walk(loss, model)


@pytest.mark.parametrize(
    "answer, says",
    [
        (one_level, "Keep walking next_functions"),
        (grad_is_none, "Keep walking next_functions"),
        (reached_ones, "the parameters the gradient reaches"),
        (with_frozen, "frozen parameters"),
        (by_backward, "A loss with no grad_fn reaches nothing"),
        (crashes_without_graph, "A loss with no grad_fn reaches nothing"),
        (lambda loss, model: [], "for notebook 05's mystery model expected"),
        (lambda loss, model: "out.weight", "expected a list"),
    ],
)
def test_unreached_parameters_wrong_answers_are_named(answer, says):
    verdict = check_unreached_parameters(answer)
    assert verdict.status == WRONG and says in str(verdict), str(verdict)


def test_use_unreached_parameters_falls_back(capsys):
    assert use_unreached_parameters(stub) is mtlab_unreached_parameters
    assert use_unreached_parameters(walk) is walk
    assert "the cells below use your unreached_parameters" in capsys.readouterr().out


def test_the_mystery_case_names_the_unused_output_layer():
    verdict = check_unreached_parameters(lambda loss, model: ["hidden.weight"])
    assert "expected ['out.weight', 'out.bias']" in str(verdict)
