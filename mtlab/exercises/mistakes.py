"""Every mistake a check can name: one table, an id for each, in plain words.

A `Verdict` (and a `check_head` problem) names its mistake by one of these ids, so that a
class can be counted by mistake. The ids are stable: change a name's words, never its id.
An id is "<topic>.<what went wrong>": the topic is an exercise (`pair_features.`), or a
kind of answer that several exercises share (`head.` for any head, `graph.` for the autograd
graph, `answer.` for an answer of the wrong kind, `code.` for code that fails). Where a
mistake is one of the seed project's 14 (../shared/seed/README.md), the table's middle
column is its number there (- for the others), and SEED_MISTAKES says where the lab
shows it.

`answer.wrong-value` is the one id that names no mistake: the answer is wrong in a way the
check does not recognise, and its message says what was expected.
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


# id, the seed's number (- if it is none of the seed's mistakes), the mistake in plain words
TABLE = """
# -- shared by several exercises
code.raised                             -  the code raised an exception
answer.not-a-tensor                     -  an answer that is not a tensor
answer.wrong-type                       -  an answer of the wrong type
answer.wrong-shape                      -  an answer of the wrong shape
answer.dtype                            -  a float64 (or other) result from float32 inputs
answer.wrong-value                      -  not the value expected (no usual mistake recognised)
answer.hidden-case                      -  wrong on a case the notebook does not show (a hidden test)
graph.cut                               7  a result cut from the autograd graph (.detach(), .item(), NumPy, torch.tensor)
graph.part-cut                          7  part of a result cut from the autograd graph
head.not-a-head                         -  a head that is not an mtlab Head
head.wrong-task                         -  a head for another task than the exercise's
head.linear                             -  a head with no non-linearity (two Linear layers are one)
head.ignores-n-classes                  -  a head that ignores the n_classes it is given
head.not-written                        -  a method that still raises NotImplementedError
head.no-forward                         -  a head without a forward() method
head.dtype-mismatch                     -  layers of another dtype than the sentence vectors (float32)
head.no-parameters                      4  a head with no trainable parameter
head.forward-failed                     -  forward() raised an exception
head.cat-batch                          1  a pair stacked along the batch (dim=0)
head.not-a-tensor                       -  forward() returns something other than a tensor
head.output-shape                       -  an output of the wrong shape
head.output-not-float                   -  an output that is not a float tensor (class indices?)
head.graph-cut                          7  an output cut from the autograd graph
head.not-finite                         -  NaN or inf in the output or the loss
head.output-dtype                       -  an output dtype that the loss refuses
head.loss-failed                        -  the head's own loss raised an exception
head.own-loss-differs                   -  a loss method that differs from the task's usual loss
head.loss-truncates-targets             3  a loss that cuts float targets to whole numbers
head.backward-failed                    -  loss.backward() failed
head.unused-parameters                  -  a layer that no gradient reaches
head.layer-in-forward                   -  a layer built inside forward()
head.zero-gradient                      -  a layer whose gradient is exactly zero
head.ignores-input                      -  a pair head that ignores one of the two sentences
head.inputs-cut                         7  no gradient reaches the sentence vectors (the encoder would not train)
head.dropout-in-eval                    -  dropout that stays on after eval()
head.rows-mixed                         -  rows of the batch mixed together
head.softmax-at-end                     -  a head that ends in a softmax
head.sigmoid-at-end                     -  a head that ends in a sigmoid
head.relu-at-end                        -  a head that ends in a ReLU
head.never-negative                     -  logits that can never go negative
head.bounded-logits                     -  logits squashed into [-1, 1] (a tanh at the end)
head.squeeze                            -  .squeeze() that drops the batch dimension of a one-row batch
scores.all-pairs                        -  every u against every v (a (B, B) table)
scores.batch-dim                        -  a sum or cosine along the batch (dim=0)
scores.column                           -  (B, 1) scores against (B,) targets
scores.one-number                       -  one number for the whole batch
scores.rows-mixed                       -  scores that depend on the other pairs of the batch
# -- notebook 01
read_label.int-of-float-text            -  int() on a label written '1.0'
read_label.refuses-an-end               -  a valid label at an end of the range refused
read_label.refuses-valid                -  a valid label refused
read_label.not-converted                -  the label's text returned unconverted
read_label.class-as-float               -  a class returned as a float
read_label.score-as-int                 3  an STS score returned as an int
read_label.truncated                    3  an STS score that lost its fraction
read_label.rounded                      -  an STS score rounded
read_label.numpy-float                  -  a NumPy float instead of a Python float
read_label.wrong-value                  -  a label read as another value
read_label.swallows-errors              -  a try/except that returns a default for a broken label
read_label.accepts-nan                  -  nan let through by the range test
read_label.accepts-fraction             -  a fraction accepted as a class
read_label.off-by-one                   -  num_classes accepted as a class (off by one)
read_label.accepts-out-of-range         -  an out-of-range label accepted
read_label.wrong-exception              -  another exception than ValueError
collate.one-string                     12  both sentences of a pair packed into one string
collate.tuples                          -  a pair kept as (sentence1, sentence2) tuples
collate.singular-keys                   2  a row's key ('sentence', 'label') where a batch has its plural
collate.labels-on-test                  -  labels for test rows, which have none
collate.keys                            -  other keys than a batch has
collate.one-kind-of-row                 -  only one kind of row (sentences or pairs) handled
collate.wrong-list                      -  a batch list that is not the rows' values in order
collate.labels-not-tensor               -  labels left a list instead of a tensor
collate.int-scores                      3  STS scores as integers
collate.float64-scores                  -  STS scores as float64
collate.float-classes                   -  class labels as floats
collate.labels-wrong                    -  labels that are not the rows' labels in order
padded_positions.no-padding             -  no padding counted
padded_positions.global-max             -  every sentence padded to the longest of all
padded_positions.full-last-batch        -  the last, shorter batch counted as full
padded_positions.pad-128                -  padding to 128
padded_positions.max-per-batch          -  one longest length per batch, not times its sentences
padded_positions.sorted                 -  the lengths sorted before batching
padded_positions.last-batch-dropped     -  the last, shorter batch left out
dataset_class.instance                  -  a dataset returned instead of its class
dataset_class.name                      -  a class name (string) returned instead of the class
dataset_class.unlabelled-for-labelled   5  an unlabelled (test-set) class for a labelled split
dataset_class.labelled-for-test         -  a labelled class for the test split
dataset_class.pair-or-not               -  a pair class for a single-sentence task, or the other way round
# -- notebook 02
sentiment_loss.softmax-twice            -  softmax applied before cross-entropy
sentiment_loss.sum-not-mean             -  the sum over the batch instead of the mean
sentiment_loss.batch-dim                -  the softmax over the batch (dim=0) instead of the classes
sentiment_loss.no-log-softmax           -  nll_loss (or picking) on raw logits, without log_softmax
sentiment_loss.probabilities-not-logs   -  probabilities picked, without the log
sentiment_loss.sign                     -  the minus sign missing
sentiment_loss.mean-over-classes        -  the mean over the (B, C) table (divided by the classes)
sentiment_loss.all-pairs                -  log_probs[:, labels]: every row's every label
sentiment_loss.rows-by-label            -  log_probs[labels]: whole rows picked by label
sentiment_loss.mse                      -  MSE instead of cross-entropy
sentiment_loss.binary                   -  binary cross-entropy per class instead of softmax cross-entropy
sentiment_loss.label-smoothing          -  label smoothing where plain cross-entropy is asked
sentiment_loss.log-base                 -  the log in base 2 instead of the natural log
sentiment_loss.float-labels             -  class labels made float
sentiment_loss.per-example              -  one loss per example, not their mean
sentiment_loss.overflow                 -  softmax then log: -inf on confident logits
accuracy.count                          -  the count of right answers instead of their share
accuracy.argmax-batch-dim               -  argmax over the batch (dim=0)
accuracy.error-rate                     -  the error rate instead of the accuracy
accuracy.percentage                     -  a percentage instead of a share
accuracy.integer-division               -  a share rounded down by integer division
accuracy.keepdim                        -  argmax(keepdim=True) against (B,) labels: a (B, B) table
accuracy.argmin                         -  argmin instead of argmax
accuracy.flat-argmax                    -  argmax without dim (an index into the flattened table)
accuracy.scores-not-classes             -  scores or probabilities compared with class numbers
accuracy.mean-of-bools                  -  the mean of a bool tensor
accuracy.per-row                        -  one right-or-wrong per row instead of their mean
confusion.by-columns                    -  columns normalised instead of rows
confusion.no-keepdim                    -  row sums without keepdim=True: each column divided by another row's count
confusion.transposed                    -  rows and columns swapped
confusion.whole-sum                     -  the whole matrix normalised to 1
confusion.counts                        -  counts, not normalised
confusion.integer-division              -  shares rounded down by integer division
confusion.empty-row                     -  a class with no examples given a non-zero row
confusion.nan-row                       -  / 0 for a class with no examples (nan)
confusion.shape                         -  a matrix of the classes seen instead of n_classes
# -- notebook 03
majority_baseline.majority-class        -  the majority class itself instead of its share
majority_baseline.count                 -  the majority class's count instead of its share
majority_baseline.integer-division      -  a share rounded down by integer division
majority_baseline.mean-label            -  the mean label instead of the majority's share
majority_baseline.share-of-0            -  the share of class 0, whichever class is the majority
majority_baseline.minority              -  the share of the least common class
majority_baseline.uniform               1  / the number of classes
pair_features.cat-batch                 1  the pair's vectors stacked along the batch (dim=0)
pair_features.stacked                   -  torch.stack instead of torch.cat (a new dimension)
pair_features.only-u-v                  -  [u; v] alone, without |u - v| and u * v
pair_features.dot-product               -  the dot product in place of the element-wise product
pair_features.missing-block             -  a block missing
pair_features.rows-mixed                -  rows of different pairs mixed by a reshape
pair_features.block-order               -  the blocks in the wrong order
pair_features.no-abs                    -  u - v without the absolute value
pair_features.squared-difference        -  (u - v) squared instead of |u - v|
pair_features.wrong-block               -  a block that is none of u, v, |u - v|, u * v
swap_gap.zero-for-comparing             -  nothing swapped, or whole pairs reordered (always 0)
swap_gap.not-raw-scores                 -  probabilities or classes compared instead of raw scores
swap_gap.sign                           -  the gap with the wrong sign
swap_gap.mean-not-sum                   -  means compared instead of totals
swap_gap.wrong-shift                    -  v shifted another way than roll(1)
swap_gap.one-logit                      -  logit 1 alone instead of logit 1 - logit 0
swap_gap.random-shuffle                 -  a random permutation instead of a shift
pair_head.sum-of-parts                 10  a pair score that is a score of u plus a score of v
# -- notebook 04
scaled_dot.unscaled                    14  the dot product not divided by √d
scaled_dot.cosine                       -  the cosine instead of the scaled dot product
scaled_dot.divided-by-d                 -  divided by d instead of √d
scaled_dot.batch-size                   -  divided by the square root of the batch size
scaled_dot.multiplied                   -  multiplied by √d instead of divided
scaled_dot.hard-coded                   -  a fixed number instead of √d read from the vectors
scaled_dot.wrong-scale                  -  divided by another number than √d
cosine_score.missing-5                  -  cos without the factor 5
cosine_score.not-normalised             -  a dot product that grows with the vectors' lengths
cosine_score.one-length                 -  divided by one vector's length only
cosine_score.batch-norm                 -  lengths of the whole batch instead of each pair's
cosine_score.shifted                    5  · (cos + 1) / 2 instead of 5 · cos
cosine_score.abs                        5  · |cos|
cosine_score.scaled-dot                 -  the scaled dot product instead of the cosine
cosine_score.zero-vector                -  nan for a zero vector
regression_targets.truncated            3  scores cut to whole numbers
regression_targets.rounded              3  scores rounded to whole numbers
regression_targets.int                  3  integer targets
regression_targets.scaled               -  scores divided by 5
regression_targets.reordered            -  scores in another order than given
regression_targets.column               -  a (B, 1) column of targets
regression_targets.dtype                -  targets of another dtype than float32
regression_targets.precision            -  scores that went through float16 and lost precision
# -- notebook 05
step_with_grad_norms.after-zero-grad    6  gradients read after zero_grad() cleared them
step_with_grad_norms.before-backward    -  gradients read before backward() wrote them
step_with_grad_norms.unused-crash       -  p.grad.norm() on a parameter that got no gradient (None)
step_with_grad_norms.no-backward        -  loss.backward() never called
step_with_grad_norms.no-step            -  optimizer.step() not called after backward()
step_with_grad_norms.no-update          -  gradients computed but not stored (autograd.grad), so step() moves nothing
step_with_grad_norms.names              -  a dict keyed by something else than the parameters' names
step_with_grad_norms.unused-left-out    -  parameters without a gradient left out of the dict
step_with_grad_norms.squared            -  the squared norm
step_with_grad_norms.l1                 -  the L1 norm (sum of absolute values)
step_with_grad_norms.weight-norm        -  the norm of the weights instead of their gradient
step_with_grad_norms.zero-for-unused    -  0 for a parameter that got no gradient, instead of None
step_with_grad_norms.no-zero-grad       -  gradients left in .grad after the step
fixed_head.not-a-sentiment-head         -  a FixedHead that is not a SentimentHead
fixed_head.unshifted                    -  the logits unshifted
fixed_head.batch-max                    -  shifted by the largest logit of the whole batch
fixed_head.column-max                   -  shifted by each column's largest (dim=0)
fixed_head.min                          -  shifted by each row's smallest
fixed_head.log-softmax                  -  log_softmax instead of the shift by the largest
fixed_head.softmax                      -  probabilities instead of shifted logits
fixed_head.no-keepdim                   -  the row maxima without keepdim=True
fixed_head.max-pair                     -  max(dim=...) used without .values
unreached_parameters.no-graph           -  a loss without grad_fn not handled
unreached_parameters.none-node          -  a None entry of next_functions not skipped
unreached_parameters.compare-by-value   -  parameters compared by value instead of identity
unreached_parameters.backward           -  backward() run instead of walking the graph
unreached_parameters.not-names          -  parameters returned instead of their names
unreached_parameters.frozen             -  frozen parameters counted as unreached
unreached_parameters.reached            -  the reached parameters instead of the unreached
unreached_parameters.module-names       -  module names instead of parameter names
unreached_parameters.stopped-early      -  a walk that stops before the end of the graph
# -- notebook 06
my_step.backward-twice                  -  backward() called twice on one loss
my_step.no-backward                     -  loss.backward() missing
my_step.no-step                         -  optimizer.step() missing
my_step.step-before-backward            -  optimizer.step() before loss.backward()
my_step.cleared-before-step             6  gradients cleared between backward() and step()
my_step.accumulates                     -  gradients left from the step before (no zero_grad)
my_step.not-clipped                     -  gradients not clipped to the clip given
my_step.clip-hard-coded                 -  clipped to 1.0 instead of the clip given
my_step.no-schedule                     -  scheduler.step() missing
my_step.schedule-before-step            -  scheduler.step() before optimizer.step()
my_step.schedule-count                  -  scheduler.step() called more than once a step
my_step.returns-tensor                  -  the loss returned as a tensor, not a float
my_step.loss-after-step                 -  the loss after the update returned
log_means.one-mean-for-all-tasks        -  one mean over all tasks instead of one per task
log_means.columns                       -  other columns than step, task, loss
log_means.duplicate-rows                -  two rows for one step and task
log_means.rows-for-idle-tasks           -  rows for tasks that did not train since the last row
log_means.one-batch                     8  one batch's loss instead of the mean since the last row
log_means.too-rare                      8  logging too rarely to see training move
log_means.last-stretch                  -  the steps after the last multiple of log_every never logged
log_means.steps-from-0                  -  steps counted from 0
log_means.steps                         -  rows at other steps than every log_every
log_means.missing-task                  -  no row for a task that trained since the last row
log_means.mean-since-start              -  the mean since the start of training
log_means.median                        -  the median instead of the mean
round_robin.none-entries                -  None entries from zip_longest
round_robin.blocks                      -  each task's batches in one block
round_robin.skips-finished              -  a task that ran out loses its turn
round_robin.proportional                -  the proportional schedule instead of turns
round_robin.stops-at-smallest           -  a pass that stops when the smallest task runs out (zip)
round_robin.largest-turns               -  every task as many turns as the largest has batches
round_robin.off-by-one                  -  one step too many or too few
round_robin.length                      -  a pass of another length than all the batches
round_robin.sorted                      -  the tasks in alphabetical order instead of the dict's
proportional.round-robin                -  round robin's counts instead of every batch once
proportional.counts                     -  other counts than every batch once
proportional.blocks                     -  the tasks in blocks: no shuffle
proportional.unseeded                   -  a shuffle that ignores the seed (the global generator)
proportional.seed-ignored               -  the same order for every seed
proportional.global-generator           -  the global random generator reseeded or drawn from
# -- notebook 07
register_cfimdb.refused                 -  an entry register_task refuses
register_cfimdb.nothing-registered      -  no task registered
register_cfimdb.misspelt-name           2  the task's name misspelt
register_cfimdb.other-name              -  another name than 'cfimdb'
register_cfimdb.scores-not-classes      -  a score range for class labels
register_cfimdb.missing-split           -  a split missing from files
register_cfimdb.files-swapped           -  one split's file given for another
register_cfimdb.no-such-file            -  a file name the data folder does not have
register_cfimdb.swapped-columns         -  the text and label columns swapped
register_cfimdb.pair-task               -  two text columns: a pair task
register_cfimdb.misspelt-column         2  a column name misspelt
register_cfimdb.no-such-column          -  a column the file does not have
register_cfimdb.wrong-column            -  another column than the review's
register_cfimdb.num-classes             -  another number of classes than the labels have
register_cfimdb.prediction-column       -  another prediction column than the course reads
register_cfimdb.label-names             -  label names in another order than the classes
register_cfimdb.no-return               -  the entry not returned
register_cfimdb.unreadable              -  an entry with which the files cannot be read
review_head.hard-coded-classes          -  the number of classes fixed instead of read from the task table
review_head.options                     -  options that do not rebuild the head (hidden, n_classes, dropout)
save_predictions.nothing-written        -  nothing written to the path given
save_predictions.layout                 -  a file in another layout than the course's
save_predictions.pandas-csv             -  a pandas CSV instead of the course's layout
save_predictions.column                 -  another prediction column than the task's
save_predictions.rows                   -  another number of rows than predictions
save_predictions.order                  -  rows in another order, or other ids
save_predictions.float-classes          -  classes written as floats
save_predictions.values                 -  values that are not the predictions given
save_predictions.labels                 -  the labels written instead of the predictions
save_predictions.not-clipped            -  scores not clipped to the task's range
save_predictions.rounded                -  scores rounded to whole numbers
save_predictions.changed-input          -  the DataFrame it was given changed
save_predictions.returned               -  not the table written returned
# -- notebook 09
cosent.not-one-number                   -  one loss per pair instead of one number
cosent.reversed                         -  the reversed order of the pairs
cosent.missing-one                      -  the 1 inside log(1 + Σ) missing
cosent.ties-ranked                      -  pairs with equal gold scores ranked too
cosent.scale-missing                    -  the scale left out
cosent.scale-ignored                    -  the scale argument ignored (20 written in)
cosent.mean-inside                      -  the mean of the exponentials instead of their sum
cosent.per-pair                         -  log(1 + e^x) per pair, summed, instead of one log
cosent.uses-distances                   -  a loss that depends on how far apart the gold scores are
cosent.nothing-to-rank                  -  a non-zero loss for a batch with nothing to rank
cosent.overflow                         -  exp(...).sum() that overflows instead of logsumexp
beyond_noise.population-sd              -  the population sd (ddof=0)
beyond_noise.sd-not-se                  -  a standard deviation where a standard error belongs
beyond_noise.one-error                  -  once the standard error instead of twice
beyond_noise.errors-added               -  the two standard errors added instead of their squares
beyond_noise.no-square-root             -  the variance of the difference without its square root
beyond_noise.one-direction              -  only a gain counted, not a loss
beyond_noise.any-gap                    -  any gap counted as beyond noise
paired_gaps.one-number                  -  the gap of the means instead of one gap per seed
paired_gaps.sign                        -  baseline minus option
paired_gaps.sorted                      -  the lists sorted before pairing
paired_gaps.abs                         -  gaps without their signs
paired_gaps.relative                    -  relative gaps
paired_gaps.ratio                       -  ratios instead of differences
paired_gaps.wrong-exception             -  another exception than ValueError for lists of other lengths
paired_gaps.no-length-check             -  lists of other lengths not refused
"""


def _read(table: str) -> dict[str, Mistake]:
    mistakes: dict[str, Mistake] = {}
    for line in (line.strip() for line in table.splitlines()):
        if not line or line.startswith("#"):
            continue
        key, seed, name = line.split(maxsplit=2)
        if key in mistakes:
            raise ValueError(f"mistake id {key!r} is in the table twice")
        mistakes[key] = Mistake(name, None if seed == "-" else int(seed))
    return mistakes


MISTAKES: dict[str, Mistake] = _read(TABLE)
