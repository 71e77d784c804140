"""Every mistake a check can name: one table, an id for each, in plain words.

A `Verdict` (and a `check_head` problem) names its mistake by one of these ids, so that a
class can be counted by mistake. The ids are stable: change a name's words, never its id.
An id is "<topic>.<what went wrong>": the topic is an exercise (`pair_features.`), or a
kind of code that several exercises share (`head.` for any head, `graph.` for the autograd
graph, `code.` for code that fails). Where a mistake is one of the seed project's 14
(../shared/seed/README.md), `seed` is its number there, and SEED_MISTAKES says where the
lab shows it.
"""

from __future__ import annotations

from dataclasses import dataclass

# The seed project's mistakes: number -> (name, where the lab shows it).
SEED_MISTAKES: dict[int, tuple[str, str]] = {
    1: ("torch.cat along the wrong dimension", "notebook 03, 'Mistake 1'"),
    2: ("a misspelled dictionary key", "notebook 01, 'Mistake 2'"),
    3: ("MSE with integer (or truncated) targets", "notebook 04, 'Mistake 3'"),
    4: ("a branch with nothing to train", "notebook 05, 'Mistake 4'"),
    5: ("the test-set dataset class used for training", "notebook 01, 'Mistake 5'"),
    6: ("gradients read after zero_grad() cleared them", "notebook 05, 'Mistake 6'"),
    7: ("a detach / .item() / NumPy round trip that cuts the graph", "notebook 05, 'Mistake 7'"),
    8: ("logging too rarely to see training move", "notebook 06, 'Mistake 8'"),
    9: ("not tracing back from the symptom, level by level", "notebook 05, 'Mistake 9'"),
    10: ("a pair score that is a score of u plus a score of v", "notebook 03, 'Mistake 10'"),
    11: ("BERT's dropout reused in the heads", "notebook 03, 'Mistake 11'"),
    12: ("both sentences packed into one sequence", "notebook 03, 'Mistake 12'"),
    13: ("judging heads on a tiny debug subset", "notebook 03, 'Mistake 13'"),
    14: ("an unscaled dot product that saturates the loss", "notebook 04, 'Mistake 14'"),
}


@dataclass(frozen=True)
class Mistake:
    name: str  # plain words, as a verdict's first line shows it
    seed: int | None = None  # its number among the seed's mistakes, if it is one


MISTAKES: dict[str, Mistake] = {}


def mistakes(topic: str, seeds: dict[str, int] | None = None, **names: str) -> None:
    """Add a topic's mistakes, `slug="name"`; `seeds` maps a slug to its seed number.

    The id is "topic.slug", with the slug's underscores written as dashes.
    """
    for slug, name in names.items():
        key = f"{topic}.{slug.replace('_', '-')}"
        if key in MISTAKES:
            raise ValueError(f"mistake id {key!r} is defined twice")
        MISTAKES[key] = Mistake(name, (seeds or {}).get(slug))


mistakes(
    "code",
    raised="the code raised an exception",
)
mistakes(
    "answer",
    not_a_tensor="an answer that is not a tensor",
    wrong_type="an answer of the wrong type",
    wrong_shape="an answer of the wrong shape",
    dtype="a float64 (or other) result from float32 inputs",
    wrong_value="a wrong value the check has no name for",
)
mistakes(
    "graph",
    {"cut": 7, "part_cut": 7},
    cut="a result cut from the autograd graph (.detach(), .item(), NumPy, torch.tensor)",
    part_cut="part of a result cut from the autograd graph",
)
mistakes(
    "head",
    {
        "no_parameters": 4,
        "cat_batch": 1,
        "graph_cut": 7,
        "inputs_cut": 7,
        "loss_truncates_targets": 3,
    },
    not_a_head="a head that is not an mtlab Head",
    wrong_task="a head for another task than the exercise's",
    linear="a head with no non-linearity (two Linear layers are one)",
    ignores_n_classes="a head that ignores the n_classes it is given",
    not_written="a method that still raises NotImplementedError",
    no_forward="a head without a forward() method",
    no_parameters="a head with no trainable parameter",
    forward_failed="forward() raised an exception",
    cat_batch="a pair stacked along the batch (dim=0)",
    not_a_tensor="forward() returns something other than a tensor",
    output_shape="an output of the wrong shape",
    output_not_float="an output that is not a float tensor (class indices?)",
    graph_cut="an output cut from the autograd graph",
    not_finite="NaN or inf in the output or the loss",
    output_dtype="an output dtype that the loss refuses",
    loss_failed="the head's own loss raised an exception",
    own_loss_differs="a loss method that differs from the task's usual loss",
    loss_truncates_targets="a loss that cuts float targets to whole numbers",
    backward_failed="loss.backward() failed",
    unused_parameters="a layer that no gradient reaches",
    layer_in_forward="a layer built inside forward()",
    zero_gradient="a layer whose gradient is exactly zero",
    ignores_input="a pair head that ignores one of the two sentences",
    inputs_cut="no gradient reaches the sentence vectors (the encoder would not train)",
    dropout_in_eval="dropout that stays on after eval()",
    rows_mixed="rows of the batch mixed together",
    softmax_at_end="a head that ends in a softmax",
    sigmoid_at_end="a head that ends in a sigmoid",
    relu_at_end="a head that ends in a ReLU",
    never_negative="logits that can never go negative",
    bounded_logits="logits squashed into [-1, 1] (a tanh at the end)",
)

# -- notebook 03
mistakes(
    "majority_baseline",
    majority_class="the majority class itself instead of its share",
    count="the majority class's count instead of its share",
    integer_division="a share rounded down by integer division",
    mean_label="the mean label instead of the majority's share",
    share_of_0="the share of class 0, whichever class is the majority",
    minority="the share of the least common class",
    uniform="1 / the number of classes",
)
mistakes(
    "pair_features",
    {"cat_batch": 1},
    cat_batch="the pair's vectors stacked along the batch (dim=0)",
    stacked="torch.stack instead of torch.cat (a new dimension)",
    only_u_v="[u; v] alone, without |u - v| and u * v",
    dot_product="the dot product in place of the element-wise product",
    missing_block="a block missing",
    rows_mixed="rows of different pairs mixed by a reshape",
    block_order="the blocks in the wrong order",
    no_abs="u - v without the absolute value",
    squared_difference="(u - v) squared instead of |u - v|",
    wrong_block="a block that is none of u, v, |u - v|, u * v",
)
mistakes(
    "swap_gap",
    zero_for_comparing="nothing swapped, or whole pairs reordered (always 0)",
    not_raw_scores="probabilities or classes compared instead of raw scores",
    sign="the gap with the wrong sign",
    mean_not_sum="means compared instead of totals",
    wrong_shift="v shifted another way than roll(1)",
    one_logit="logit 1 alone instead of logit 1 - logit 0",
    random_shuffle="a random permutation instead of a shift",
)
mistakes(
    "pair_head",
    {"sum_of_parts": 10},
    sum_of_parts="a pair score that is a score of u plus a score of v",
)

# -- notebook 02
mistakes(
    "sentiment_loss",
    softmax_twice="softmax applied before cross-entropy",
    sum_not_mean="the sum over the batch instead of the mean",
    batch_dim="the softmax over the batch (dim=0) instead of the classes",
    no_log_softmax="nll_loss (or picking) on raw logits, without log_softmax",
    probabilities_not_logs="probabilities picked, without the log",
    sign="the minus sign missing",
    mean_over_classes="the mean over the (B, C) table (divided by the classes)",
    all_pairs="log_probs[:, labels]: every row's every label",
    rows_by_label="log_probs[labels]: whole rows picked by label",
    mse="MSE instead of cross-entropy",
    binary="binary cross-entropy per class instead of softmax cross-entropy",
    float_labels="class labels made float",
    per_example="one loss per example, not their mean",
    overflow="softmax then log: -inf on confident logits",
)
mistakes(
    "accuracy",
    count="the count of right answers instead of their share",
    argmax_batch_dim="argmax over the batch (dim=0)",
    error_rate="the error rate instead of the accuracy",
    percentage="a percentage instead of a share",
    integer_division="a share rounded down by integer division",
    keepdim="argmax(keepdim=True) against (B,) labels: a (B, B) table",
    flat_argmax="argmax without dim (an index into the flattened table)",
    scores_not_classes="scores or probabilities compared with class numbers",
    mean_of_bools="the mean of a bool tensor",
    per_row="one right-or-wrong per row instead of their mean",
)
mistakes(
    "confusion",
    by_columns="columns normalised instead of rows",
    no_keepdim="row sums without keepdim=True: each column divided by another row's count",
    transposed="rows and columns swapped",
    whole_sum="the whole matrix normalised to 1",
    counts="counts, not normalised",
    integer_division="shares rounded down by integer division",
    empty_row="a class with no examples given a non-zero row",
    nan_row="0 / 0 for a class with no examples (nan)",
    shape="a matrix of the classes seen instead of n_classes",
)

# -- notebook 04
mistakes(
    "scores",
    all_pairs="every u against every v (a (B, B) table)",
    batch_dim="a sum or cosine along the batch (dim=0)",
    column="(B, 1) scores against (B,) targets",
    one_number="one number for the whole batch",
    rows_mixed="scores that depend on the other pairs of the batch",
)
mistakes(
    "scaled_dot",
    {"unscaled": 14},
    unscaled="the dot product not divided by √d",
    cosine="the cosine instead of the scaled dot product",
    divided_by_d="divided by d instead of √d",
    batch_size="divided by the square root of the batch size",
    multiplied="multiplied by √d instead of divided",
    hard_coded="a fixed number instead of √d read from the vectors",
    wrong_scale="divided by another number than √d",
)
mistakes(
    "cosine_score",
    missing_5="cos without the factor 5",
    not_normalised="a dot product that grows with the vectors' lengths",
    one_length="divided by one vector's length only",
    batch_norm="lengths of the whole batch instead of each pair's",
    shifted="5 · (cos + 1) / 2 instead of 5 · cos",
    abs="5 · |cos|",
    scaled_dot="the scaled dot product instead of the cosine",
    zero_vector="nan for a zero vector",
)
mistakes(
    "regression_targets",
    {"truncated": 3, "rounded": 3, "int": 3},
    truncated="scores cut to whole numbers",
    rounded="scores rounded to whole numbers",
    int="integer targets",
    scaled="scores divided by 5",
    reordered="scores in another order than given",
    column="a (B, 1) column of targets",
    dtype="targets of another dtype than float32",
)

# -- notebook 05
mistakes(
    "step_with_grad_norms",
    {"after_zero_grad": 6},
    after_zero_grad="gradients read after zero_grad() cleared them",
    before_backward="gradients read before backward() wrote them",
    unused_crash="p.grad.norm() on a parameter that got no gradient (None)",
    no_backward="loss.backward() never called",
    no_step="optimizer.step() not called after backward()",
    no_update="gradients computed but not stored (autograd.grad), so step() moves nothing",
    names="a dict keyed by something else than the parameters' names",
    unused_left_out="parameters without a gradient left out of the dict",
    squared="the squared norm",
    l1="the L1 norm (sum of absolute values)",
    weight_norm="the norm of the weights instead of their gradient",
    zero_for_unused="0 for a parameter that got no gradient, instead of None",
    no_zero_grad="gradients left in .grad after the step",
)
mistakes(
    "fixed_head",
    unshifted="the logits unshifted",
    batch_max="shifted by the largest logit of the whole batch",
    column_max="shifted by each column's largest (dim=0)",
    min="shifted by each row's smallest",
    log_softmax="log_softmax instead of the shift by the largest",
    softmax="probabilities instead of shifted logits",
    no_keepdim="the row maxima without keepdim=True",
    max_pair="max(dim=...) used without .values",
)
mistakes(
    "unreached_parameters",
    no_graph="a loss without grad_fn not handled",
    none_node="a None entry of next_functions not skipped",
    compare_by_value="parameters compared by value instead of identity",
    backward="backward() run instead of walking the graph",
    not_names="parameters returned instead of their names",
    frozen="frozen parameters counted as unreached",
    reached="the reached parameters instead of the unreached",
    module_names="module names instead of parameter names",
    stopped_early="a walk that stops before the end of the graph",
)

# -- notebook 01
mistakes(
    "read_label",
    {"score_as_int": 3, "truncated": 3},
    int_of_float_text="int() on a label written '1.0'",
    refuses_an_end="a valid label at an end of the range refused",
    refuses_valid="a valid label refused",
    not_converted="the label's text returned unconverted",
    class_as_float="a class returned as a float",
    score_as_int="an STS score returned as an int",
    truncated="an STS score that lost its fraction",
    numpy_float="a NumPy float instead of a Python float",
    wrong_value="a label read as another value",
    swallows_errors="a try/except that returns a default for a broken label",
    accepts_nan="nan let through by the range test",
    accepts_fraction="a fraction accepted as a class",
    off_by_one="num_classes accepted as a class (off by one)",
    accepts_out_of_range="an out-of-range label accepted",
    wrong_exception="another exception than ValueError",
)
mistakes(
    "collate",
    {"one_string": 12, "singular_keys": 2, "int_scores": 3},
    one_string="both sentences of a pair packed into one string",
    tuples="a pair kept as (sentence1, sentence2) tuples",
    singular_keys="a row's key ('sentence', 'label') where a batch has its plural",
    labels_on_test="labels for test rows, which have none",
    keys="other keys than a batch has",
    one_kind_of_row="only one kind of row (sentences or pairs) handled",
    wrong_list="a batch list that is not the rows' values in order",
    labels_not_tensor="labels left a list instead of a tensor",
    int_scores="STS scores as integers",
    float64_scores="STS scores as float64",
    float_classes="class labels as floats",
    labels_wrong="labels that are not the rows' labels in order",
)
mistakes(
    "padded_positions",
    no_padding="no padding counted",
    global_max="every sentence padded to the longest of all",
    full_last_batch="the last, shorter batch counted as full",
    pad_128="padding to 128",
    max_per_batch="one longest length per batch, not times its sentences",
    sorted="the lengths sorted before batching",
    last_batch_dropped="the last, shorter batch left out",
)
mistakes(
    "dataset_class",
    {"unlabelled_for_labelled": 5},
    instance="a dataset returned instead of its class",
    name="a class name (string) returned instead of the class",
    unlabelled_for_labelled="an unlabelled (test-set) class for a labelled split",
    labelled_for_test="a labelled class for the test split",
    pair_or_not="a pair class for a single-sentence task, or the other way round",
)

# -- notebook 07
mistakes(
    "register_cfimdb",
    {"misspelt_column": 2, "misspelt_name": 2},
    refused="an entry register_task refuses",
    nothing_registered="no task registered",
    misspelt_name="the task's name misspelt",
    other_name="another name than 'cfimdb'",
    scores_not_classes="a score range for class labels",
    missing_split="a split missing from files",
    files_swapped="one split's file given for another",
    no_such_file="a file name the data folder does not have",
    swapped_columns="the text and label columns swapped",
    pair_task="two text columns: a pair task",
    misspelt_column="a column name misspelt",
    no_such_column="a column the file does not have",
    wrong_column="another column than the review's",
    num_classes="another number of classes than the labels have",
    prediction_column="another prediction column than the course reads",
    label_names="label names in another order than the classes",
    no_return="the entry not returned",
    unreadable="an entry with which the files cannot be read",
)
mistakes(
    "review_head",
    hard_coded_classes="the number of classes fixed instead of read from the task table",
    options="options that do not rebuild the head (hidden, n_classes, dropout)",
)
mistakes(
    "save_predictions",
    nothing_written="nothing written to the path given",
    layout="a file in another layout than the course's",
    pandas_csv="a pandas CSV instead of the course's layout",
    column="another prediction column than the task's",
    rows="another number of rows than predictions",
    order="rows in another order, or other ids",
    float_classes="classes written as floats",
    values="values that are not the predictions given",
    labels="the labels written instead of the predictions",
    not_clipped="scores not clipped to the task's range",
    rounded="scores rounded to whole numbers",
    changed_input="the DataFrame it was given changed",
    returned="not the table written returned",
)

# -- notebook 06
mistakes(
    "my_step",
    {"cleared_before_step": 6},
    backward_twice="backward() called twice on one loss",
    no_backward="loss.backward() missing",
    no_step="optimizer.step() missing",
    step_before_backward="optimizer.step() before loss.backward()",
    cleared_before_step="gradients cleared between backward() and step()",
    accumulates="gradients left from the step before (no zero_grad)",
    not_clipped="gradients not clipped to the clip given",
    clip_hard_coded="clipped to 1.0 instead of the clip given",
    no_schedule="scheduler.step() missing",
    schedule_before_step="scheduler.step() before optimizer.step()",
    schedule_count="scheduler.step() called more than once a step",
    returns_tensor="the loss returned as a tensor, not a float",
    loss_after_step="the loss after the update returned",
)
mistakes(
    "log_means",
    {"one_batch": 8, "too_rare": 8},
    one_mean_for_all_tasks="one mean over all tasks instead of one per task",
    columns="other columns than step, task, loss",
    duplicate_rows="two rows for one step and task",
    rows_for_idle_tasks="rows for tasks that did not train since the last row",
    one_batch="one batch's loss instead of the mean since the last row",
    too_rare="logging too rarely to see training move",
    last_stretch="the steps after the last multiple of log_every never logged",
    steps_from_0="steps counted from 0",
    steps="rows at other steps than every log_every",
    missing_task="no row for a task that trained since the last row",
    mean_since_start="the mean since the start of training",
    median="the median instead of the mean",
)
mistakes(
    "round_robin",
    none_entries="None entries from zip_longest",
    blocks="each task's batches in one block",
    skips_finished="a task that ran out loses its turn",
    proportional="the proportional schedule instead of turns",
    stops_at_smallest="a pass that stops when the smallest task runs out (zip)",
    largest_turns="every task as many turns as the largest has batches",
    off_by_one="one step too many or too few",
    length="a pass of another length than all the batches",
    sorted="the tasks in alphabetical order instead of the dict's",
)
mistakes(
    "proportional",
    round_robin="round robin's counts instead of every batch once",
    counts="other counts than every batch once",
    blocks="the tasks in blocks: no shuffle",
    unseeded="a shuffle that ignores the seed (the global generator)",
    seed_ignored="the same order for every seed",
    global_generator="the global random generator reseeded or drawn from",
)

# -- notebook 09
mistakes(
    "cosent",
    not_one_number="one loss per pair instead of one number",
    reversed="the reversed order of the pairs",
    missing_one="the 1 inside log(1 + Σ) missing",
    ties_ranked="pairs with equal gold scores ranked too",
    scale_missing="the scale left out",
    scale_ignored="the scale argument ignored (20 written in)",
    mean_inside="the mean of the exponentials instead of their sum",
    per_pair="log(1 + e^x) per pair, summed, instead of one log",
    uses_distances="a loss that depends on how far apart the gold scores are",
    nothing_to_rank="a non-zero loss for a batch with nothing to rank",
    overflow="exp(...).sum() that overflows instead of logsumexp",
)
mistakes(
    "beyond_noise",
    population_sd="the population sd (ddof=0)",
    sd_not_se="a standard deviation where a standard error belongs",
    one_error="once the standard error instead of twice",
    errors_added="the two standard errors added instead of their squares",
    no_square_root="the variance of the difference without its square root",
    one_direction="only a gain counted, not a loss",
    any_gap="any gap counted as beyond noise",
)
mistakes(
    "paired_gaps",
    one_number="the gap of the means instead of one gap per seed",
    sign="baseline minus option",
    sorted="the lists sorted before pairing",
    abs="gaps without their signs",
    relative="relative gaps",
    ratio="ratios instead of differences",
    wrong_exception="another exception than ValueError for lists of other lengths",
    no_length_check="lists of other lengths not refused",
)
