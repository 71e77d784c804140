"""Check a head before training it: run it on random vectors and say, in words, what is wrong.

`check_head(head, task, hidden)` builds a tiny batch from the task table (one vector per
example, or two for a pair task; random labels of the task's kind) and trains on it once:
the output's shape and dtype, that it is still in the autograd graph, that the head's own
loss is the task's usual one, that the loss is a finite number, and that a gradient reaches
every trainable parameter and the sentence vectors themselves. Then, in eval mode, what a
training loss cannot show: outputs that change between two calls (dropout left on), rows
that depend on the other rows of the batch, logits that can never go negative or never grow
(a softmax, sigmoid, ReLU or tanh after the last layer), and NaN or inf on large inputs.

Each problem has an id from `mtlab.exercises.mistakes.MISTAKES`, so the exercise checks
built on `check_head` name the same mistake the same way.
"""

from __future__ import annotations

import math
import re

import torch
from torch import nn
from torch.nn.modules.module import register_module_parameter_registration_hook

from mtlab.debugging.gradients import gradient_report
from mtlab.debugging.graph_breaks import GraphBreakDetector
from mtlab.debugging.head_probes import HeadCheck, eval_behaviour
from mtlab.exercises import NotDone, StudentError, first_line, student
from mtlab.heads.base import usual_loss
from mtlab.heads.losses import TaskLossError
from mtlab.tasks import Task, get_task


def random_labels(spec: Task, batch_size: int) -> torch.Tensor:
    """Labels of the task's kind: class indices, or float scores within its range."""
    if spec.is_classification:
        return torch.randint(0, spec.num_classes, (batch_size,))
    low, high = spec.score_range
    return low + torch.rand(batch_size) * (high - low)


def output_fits(spec: Task, shape: tuple[int, ...], batch_size: int) -> bool:
    """(B, classes) logits, (B,) for one logit of a 2-class task, (B,) scores for a score task."""
    if not spec.is_classification:
        return shape == (batch_size,)
    return shape == (batch_size, spec.num_classes) or (
        spec.num_classes == 2 and shape == (batch_size,)
    )


def check_head(head: nn.Module, task: str | Task, hidden: int, batch_size: int = 4) -> HeadCheck:
    """Run a head on random sentence vectors: shape, dtype, loss, gradients, eval behaviour."""
    spec = get_task(task)
    found = HeadCheck(spec.name, [], [])
    torch.manual_seed(0)  # the same inputs, labels and dropout masks whatever ran before
    one_vector = not spec.is_pair or getattr(head, "cross_encodes", False)
    leaves = [torch.randn(batch_size, hidden).requires_grad_() for _ in range(2 - one_vector)]
    labels = random_labels(spec, batch_size)
    was_training = head.training
    try:
        _training_pass(head, spec, leaves, labels, found)
        if found.ok:
            with torch.random.fork_rng():  # the caller's random numbers stay as they were
                eval_behaviour(head, spec, hidden, len(leaves), found)
    finally:
        head.train(was_training)
    return found


def _training_pass(head, spec: Task, leaves, labels: torch.Tensor, found: HeadCheck) -> None:
    """One forward, loss and backward in train mode, checked at each stage."""
    if not any(p.requires_grad for p in head.parameters()):
        found.problem(
            "head.no-parameters",
            "the head has no trainable parameter: nothing in it can learn, and with the "
            "encoder frozen (pretrain mode) loss.backward() fails, as the seed's STS branch "
            "did. Give it a layer with weights (nn.Linear) and use it in forward()",
        )
        return
    inputs = [leaf * 1 for leaf in leaves]  # not leaves: like the encoder's output in finetune
    head.train()
    head.zero_grad()
    out, built, detector = _forward(head, spec, inputs, found)
    if out is None or not _output_ok(spec, out, len(labels), detector, found):
        return
    loss = _loss(head, spec, out, labels, found)
    if loss is None:
        return
    found.notes.append(f"output {tuple(out.shape)} {out.dtype}, loss {loss.item():.3f}")
    try:
        student(loss.backward)
    except StudentError as raised:
        found.problem("head.backward-failed", f"loss.backward() failed: {raised.describe()}")
        return
    _gradients(head, leaves, built, found)


def _forward(head, spec: Task, inputs, found: HeadCheck):
    """The head's output on `inputs` (None if it failed), the layers built, the graph breaks."""
    built: list[str] = []
    hook = register_module_parameter_registration_hook(
        lambda module, name, param: built.append(type(module).__name__)
    )
    detector = GraphBreakDetector()
    try:
        with detector:
            out = student(head, *inputs)
    except NotDone:
        found.problem(
            "head.not-written", "forward() is not written yet: it raises NotImplementedError"
        )
        return None, built, detector
    except StudentError as raised:
        _forward_failed(inputs, raised, found)
        return None, built, detector
    finally:
        hook.remove()
    return out, built, detector


def _forward_failed(inputs, raised: StudentError, found: HeadCheck) -> None:
    batch, hidden = inputs[0].shape
    text = first_line(raised.error)
    stacked = re.search(r"\((\d+)x(\d+) and", text)
    hint, id = "", "head.forward-failed"
    if "shape" in text or "size" in text.lower():
        if len(inputs) == 2:
            hint = (
                f" (inputs were 2 ({batch}, {hidden}) vector batch(es); torch.cat(dim=0) stacks "
                "a pair into one long batch, dim=-1 joins them side by side)"
            )
            if stacked and int(stacked.group(1)) > batch:
                id = "head.cat-batch"
        else:
            hint = (
                f" (the input was one ({batch}, {hidden}) batch of sentence vectors: does the "
                f"first layer take {hidden} inputs?)"
            )
    if "dtype" in text and ("Double" in text or "Half" in text or "Float" in text):
        id = "head.dtype-mismatch"
        hint = (
            " (the sentence vectors are float32: a layer made .double() or .half(), or a "
            "NumPy float64 array in forward, does not fit them; leave the head in float32)"
        )
    if isinstance(raised.error, NotImplementedError) and "forward" in text:
        id, hint = "head.no-forward", " (the method that runs the head must be named forward)"
    where = f" at {raised.where}" if raised.where else ""
    found.problem(id, f"forward failed: {type(raised.error).__name__}: {text}{hint}{where}")


def _output_ok(spec: Task, out, batch: int, detector, found: HeadCheck) -> bool:
    """The output's kind, shape, dtype and graph; whether the loss can be tried on it."""
    if not isinstance(out, torch.Tensor):
        found.problem(
            "head.not-a-tensor",
            f"forward returned a {type(out).__name__}, expected a tensor: {spec.describe_output()}",
        )
        return False
    if not out.is_floating_point():  # class indices: that is also why the shape is off
        found.problem(
            "head.output-not-float",
            f"output dtype {out.dtype}, shape {tuple(out.shape)}, expected "
            f"{spec.describe_output()}"
            + (
                ": return the logits; the class (their argmax) is Head.predict's job"
                * (spec.is_classification)
            ),
        )
    elif out.dim() >= 1 and out.shape[0] == 2 * batch and spec.is_pair:
        found.problem(
            "head.cat-batch",
            f"output shape {tuple(out.shape)}: two rows per pair. The pair's vectors were "
            "stacked along dim=0, the batch; join them side by side: torch.cat([...], dim=-1)",
        )
    elif not output_fits(spec, tuple(out.shape), batch):
        per_row = out.dim() == 2 and out.shape[0] == batch and spec.is_classification
        found.problem(
            "head.output-shape",
            f"output shape {tuple(out.shape)}, expected {spec.describe_output()} with B = {batch}"
            + (
                f": the last layer gives {out.shape[1]} number{'s' * (out.shape[1] != 1)} per "
                f"example, the task has {spec.num_classes} classes "
                f"(nn.Linear(..., {spec.num_classes}))"
                if per_row
                else ""
            ),
        )
    if out.is_floating_point() and out.grad_fn is None:
        found.problem(
            "head.graph-cut",
            "output is cut from the graph (no grad_fn), nothing would train: "
            + (
                detector.report()
                if detector.breaks
                else "no break seen inside forward(), so an operation without a gradient ends "
                "the graph (a comparison such as > 0, argmax, round)"
            ),
        )
    if found.ok and not torch.isfinite(out).all():
        found.problem(
            "head.not-finite",
            f"the output holds NaN or inf on ordinary inputs: {out.detach().flatten()[:6].tolist()}",
        )
    return found.ok


def _loss(head, spec: Task, out: torch.Tensor, labels: torch.Tensor, found: HeadCheck):
    """The loss to train on: the head's own if it has one, compared with the task's usual one."""
    try:
        usual = usual_loss(spec, out, labels)
    except TaskLossError as error:
        found.problem(
            "head.output-dtype",
            f"the task's loss refuses the output ({out.dtype}): "
            + " ".join(line.strip() for line in str(error).splitlines()),
        )
        return None
    if not hasattr(head, "loss"):
        return usual if _finite(usual, found) else None
    try:
        own = student(head.loss, out, labels)
    except StudentError as raised:
        found.problem("head.loss-failed", f"the head's loss failed: {raised.describe()}")
        return None
    if not _same_loss(spec, own, usual, out, labels, found):
        return None
    return own if _finite(own, found) else None


def _finite(loss: torch.Tensor, found: HeadCheck) -> bool:
    if not torch.isfinite(loss):
        found.problem("head.not-finite", f"loss is {loss.item()}, not a finite number")
    return found.ok


def _same_loss(spec: Task, own, usual, out, labels, found: HeadCheck) -> bool:
    """Whether the head's own loss has the value and gradient of the usual one."""
    kind = "cross-entropy" if spec.is_classification else "MSE"
    if not isinstance(own, torch.Tensor) or own.numel() != 1:
        shape = f" of shape {tuple(own.shape)}" if isinstance(own, torch.Tensor) else ""
        found.problem(
            "head.own-loss-differs",
            f"the head's loss returned a {type(own).__name__}{shape}: a loss is one number, "
            "a tensor the mean over the batch",
        )
        return False
    if own.grad_fn is None:
        found.problem("head.graph-cut", "the head's loss has no grad_fn: it is cut from the graph")
        return False
    (own_grad,) = torch.autograd.grad(own.sum(), out, retain_graph=True, allow_unused=True)
    (usual_grad,) = torch.autograd.grad(usual, out, retain_graph=True)
    own_grad = torch.zeros_like(usual_grad) if own_grad is None else own_grad
    same_value = math.isclose(own.item(), usual.item(), rel_tol=1e-4, abs_tol=1e-6)
    if same_value and torch.allclose(own_grad.to(usual_grad.dtype), usual_grad, atol=1e-6):
        return True
    with torch.no_grad():
        whole = [usual_loss(spec, out, labels.trunc()), usual_loss(spec, out, labels.round())]
    if not spec.is_classification and any(
        math.isclose(own.item(), w.item(), rel_tol=1e-4) for w in whole
    ):
        found.problem(
            "head.loss-truncates-targets",
            f"the head's loss is {own.item():.4f}, the {kind} against the labels made whole "
            f"numbers ({usual.item():.4f} against the labels as given, e.g. "
            f"{labels[0].item():.2f}): an int cast (.long(), .int(), round) throws away the "
            "fraction of every score. Keep the targets float: labels.float(), or Head's own loss",
        )
        return False
    what = (
        "the right value, but not the gradient (is part of it detached?)"
        if same_value
        else f"{own.item():.4f} where the task's usual loss ({kind}) gives {usual.item():.4f}"
    )
    found.problem(
        "head.own-loss-differs",
        f"on the same outputs and labels the head's own loss gives {what}. Delete the loss "
        "method to use Head's, or make it the usual "
        + ("F.cross_entropy(logits, labels)" if spec.is_classification else "F.mse_loss"),
    )
    return False


def _gradients(head, leaves, built: list[str], found: HeadCheck) -> None:
    """After backward: a gradient in every trainable parameter, and in the sentence vectors."""
    report = gradient_report(head)
    missing = report.loc[report["status"] == "NO GRAD", "parameter"].tolist()
    zero = report.loc[(report["status"] == "ok") & (report["grad_norm"] == 0), "parameter"].tolist()
    if missing and built:
        found.problem(
            "head.layer-in-forward",
            f"no gradient reaches {missing}: forward() builds a new {built[0]} at every call, so "
            "the layers made in __init__ are never used, and the new one starts from fresh "
            "random weights each time and is never trained. Make every layer once, in __init__",
        )
    elif missing:
        found.problem(
            "head.unused-parameters",
            f"no gradient reaches {missing}: unused in forward(), or cut off",
        )
    if zero:
        found.problem("head.zero-gradient", f"gradient is exactly zero for {zero}")
    cut = [i for i, leaf in enumerate(leaves) if leaf.grad is None or not leaf.grad.any()]
    if cut and len(cut) < len(leaves):
        side = ["u (the first sentence)", "v (the second sentence)"][cut[0]]
        found.problem(
            "head.ignores-input",
            f"no gradient reaches {side}: the output does not depend on it, so the head judges "
            "a pair from one sentence alone. Feed both vectors to the layers",
        )
    elif cut:
        found.problem(
            "head.inputs-cut",
            "the head's own layers train, but no gradient reaches the sentence vectors it was "
            "given: in finetune mode the encoder would never train. Something between the "
            "input and the layers (.data, .detach(), a NumPy round trip) cut it off, or "
            "forward() does not use its input at all",
        )
    if not missing and not zero and not cut:
        found.notes.append(
            f"gradient reaches all {int((report['status'] == 'ok').sum())} trainable tensors"
        )
