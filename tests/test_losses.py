import pytest
import torch

from mtlab.heads.losses import TaskLossError, binary_loss, classification_loss, regression_loss


def test_regression_loss_rejects_integer_targets_with_fix():
    with pytest.raises(TaskLossError) as e:
        regression_loss("sts", torch.zeros(4), torch.tensor([1, 2, 3, 4]))
    message = str(e.value)
    assert "[sts]" in message and "torch.int64" in message and "torch.float32" in message
    assert "targets.to(torch.float32)" in message


def test_regression_loss_refuses_to_broadcast_mismatched_shapes():
    # torch.nn.functional.mse_loss would broadcast (4, 1) with (4,) to (4, 4) and return a number.
    with pytest.raises(TaskLossError, match=r"\(4, 1\).*\(4,\)"):
        regression_loss("sts", torch.zeros(4, 1), torch.zeros(4))


def test_regression_loss_matches_mse_on_good_input():
    pred, target = torch.tensor([1.0, 2.0]), torch.tensor([1.5, 2.0])
    assert regression_loss("sts", pred, target).item() == pytest.approx(0.125)


def test_classification_loss_names_task_shapes_and_dtypes():
    with pytest.raises(TaskLossError) as e:
        classification_loss("quora", torch.zeros(8, 2), torch.zeros(4, dtype=torch.long))
    assert "[quora]" in str(e.value) and "(8, 2)" in str(e.value) and "(4,)" in str(e.value)
    assert "dim=-1" in str(e.value)  # points at the torch.cat mistake


def test_classification_loss_rejects_float_labels_and_out_of_range():
    with pytest.raises(TaskLossError, match="integers"):
        classification_loss("quora", torch.zeros(2, 2), torch.tensor([0.0, 1.0]))
    with pytest.raises(TaskLossError, match="0..4"):
        classification_loss("sst", torch.zeros(2, 5), torch.tensor([0, 5]))
    with pytest.raises(TaskLossError, match="2-D"):
        classification_loss("sst", torch.zeros(2, 5, 1), torch.tensor([0, 1]))


def test_binary_loss_wants_one_logit_per_example():
    with pytest.raises(TaskLossError, match="squeeze"):
        binary_loss("quora", torch.zeros(3, 1), torch.tensor([0, 1, 1]))
    assert binary_loss("quora", torch.zeros(3), torch.tensor([0, 1, 1])).item() == pytest.approx(
        0.6931, abs=1e-4
    )
