"""A hint per exercise: a nudge to ask for before the solution, never the solution itself.

from mtlab.exercises import hint
hint("2.3")
"""

from __future__ import annotations

HINTS: dict[str, str] = {
    "1.1": "Read the text as a float first: float() takes '1.0', ' 2 ' and '3.8', and raises "
    "ValueError on '' and 'yes'. A class is then a whole number in range(num_classes); a score "
    "lies in score_range. Which of these tests does nan fail?",
    "1.2": "Look at the keys of the first example: a pair has 'sentence1' and 'sentence2'. "
    "Collect each key into a list; only the labels become one tensor, and its dtype depends "
    "on whether the task is a classification.",
    "1.3": "Walk over the Series in steps of batch_size (range(0, len(lengths), batch_size)). "
    "Each batch costs its number of sentences times its own longest one; the last batch may "
    "be shorter.",
    "1.4": "Two questions decide it: is the split a test split (no labels), and does the task "
    "have two sentences per row (get_task(task).is_pair)? Return the class, do not call it.",
    "2.1": "log_softmax over the classes (dim=-1), then pick each row's entry at its label: "
    "index with torch.arange(B) and the labels together. Cross-entropy is the mean of minus "
    "those values.",
    "2.2": "argmax over the classes gives one predicted class per row; compare it with the "
    "labels, turn True/False into floats, and take the mean. A share, not a count.",
    "2.3": "Linear(hidden, hidden), a ReLU, Linear(hidden, n_classes), with dropout between if "
    "you like. Return raw logits: Head's loss applies the softmax itself.",
    "2.4": "Count (true, predicted) pairs into an (n_classes, n_classes) tensor, then divide "
    "each row by its own sum. What must a row with no examples divide by?",
    "3.1": "torch.bincount(labels) counts each class. The most common class's count, over the "
    "number of labels, is the accuracy of always answering it.",
    "3.2": "Four (B, H) blocks side by side: join them along the last dimension, not the "
    "batch. |u - v| and u * v are element-wise.",
    "3.3": "Score the pairs as given and with v.roll(1, dims=0), both under torch.no_grad(). A "
    "2-logit head's score is logit 1 minus logit 0. Return the difference of the two sums.",
    "3.4": "Build the first layer for 4 * hidden inputs (your pair_features), then a ReLU and a "
    "layer to 2 logits; forward(u, v) feeds pair_features(u, v) through it.",
    "4.1": "Multiply element-wise and sum over the last dimension: one score per pair. Read d "
    "from pu.shape[-1] and divide by its square root.",
    "4.2": "F.cosine_similarity along the vectors' dimension (dim=-1), times 5. It already "
    "guards against zero vectors.",
    "4.3": "torch.tensor with an explicit dtype: the head's scores are float32, and MSE needs "
    "targets of the same dtype and shape (B,). Keep the fractions.",
    "5.1": "Order matters: backward() fills .grad, zero_grad() empties it. Read the norms "
    "between the two, and keep None for a parameter whose .grad is None.",
    "5.2": "Stay in torch: the row's largest logit is logits.max(dim=-1, keepdim=True).values. "
    "Any .tolist(), .item() or NumPy round trip cuts the graph.",
    "5.3": "Keep a list of nodes for the current level; each node's next_functions gives the "
    "level below (skip None). An AccumulateGrad node has .variable: compare it by identity "
    "with the model's parameters. Keep a set of nodes seen, so that shared nodes are walked once.",
    "6.1": "Five things, in order: clear the old gradients, compute the loss, backward, clip, "
    "then the optimizer's step and the scheduler's. Return loss.item() only at the end.",
    "6.2": "Keep the losses of each task since the last row (a dict of lists). At every "
    "log_every-th step, and at the very last one, write one row per task in it and empty it.",
    "6.3": "The tasks take turns in the dict's order: step i goes to tasks[i % len(tasks)]. How "
    "many steps does a pass have in all?",
    "6.4": "List every batch once as its task's name, then shuffle that list with "
    "random.Random(seed).shuffle: a generator of its own, never the global one.",
    "7.1": "register_task(name, text_columns=[...], label_column=..., num_classes=... (or "
    "score_range=...), files={'train': ..., 'dev': ..., 'test': ...}, prediction_column=...). "
    "help(register_task) lists every keyword.",
    "7.2": "Take n_classes from get_task('cfimdb').num_classes when it is None, and pass "
    "hidden, n_classes and dropout to super().__init__ before building the layers.",
    "7.3": "The column is get_task(task).prediction_column. Clip a score task's predictions "
    "to its score_range before writing; keep the rows in the order given.",
    "9.1": "Build the (B, B) table of s * (cos_j - cos_i) by broadcasting, keep the entries "
    "where gold_i > gold_j, and put a 0 in front of them: log(1 + sum exp) is a logsumexp.",
    "9.2": "statistics.variance is the sample variance (ddof=1). Add the two variances over "
    "their counts, take the square root, and compare the absolute gap with twice that.",
    "9.3": "Zip the two lists seed by seed and subtract: option minus baseline, signs kept. "
    "Check the lengths first.",
}


def hint(exercise: str) -> None:
    """Print the hint for an exercise, by its number as the notebook writes it ("2.3")."""
    key = str(exercise).strip().removeprefix("Ex").removeprefix("Exercise").strip()
    if key not in HINTS:
        known = ", ".join(HINTS)
        raise KeyError(f"no exercise {exercise!r}: the exercises are {known}")
    print(f"Hint for exercise {key}: {HINTS[key]}")
