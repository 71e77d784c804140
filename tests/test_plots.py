"""The charts: what they draw, read back from the matplotlib objects."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from mtlab.debugging.plots import plot_comparison, plot_history  # noqa: E402
from mtlab.experiment import comparison_table  # noqa: E402


def history(with_dev: bool) -> pd.DataFrame:
    rows = [dict(phase="pretrain", step=s, task=t, loss=1 / s) for s in (1, 2, 3, 4)
            for t in ("sst", "sts")]  # fmt: skip
    if with_dev:
        rows += [dict(phase="pretrain", step=s, task=t, dev=0.1 * s) for s in (2, 4)
                 for t in ("sst", "sts")]  # fmt: skip
    return pd.DataFrame(rows)


def test_history_draws_one_loss_panel_per_task():
    fig = plot_history(history(with_dev=False))
    assert [ax.get_title() for ax in fig.axes] == ["sst", "sts"]
    (line,) = fig.axes[0].get_lines()
    assert list(line.get_ydata()) == [1, 1 / 2, 1 / 3, 1 / 4]


def test_dev_scores_go_on_a_second_axis_and_leave_the_loss_line_whole():
    fig = plot_history(history(with_dev=True))
    assert len(fig.axes) == 4  # two panels, each with its dev axis
    (loss,) = fig.axes[0].get_lines()
    assert not np.isnan(loss.get_ydata()).any() and len(loss.get_ydata()) == 4
    dev_axes = [ax for ax in fig.axes if ax.get_ylabel().startswith("dev")]
    assert list(dev_axes[0].get_lines()[0].get_ydata()) == [0.2, 0.4]


def test_comparison_chart_has_a_bar_per_task_and_phase(tmp_path):
    table = comparison_table({"pretrain": {"sst": 0.4, "quora": 0.8, "sts": 0.8},
                              "finetune": {"sst": 0.45, "quora": 0.82, "sts": 0.85}})  # fmt: skip
    fig = plot_comparison(table, tmp_path / "chart.png")
    heights = sorted(round(p.get_height(), 2) for p in fig.axes[0].patches if p.get_height() > 0)
    assert heights == [0.4, 0.45, 0.8, 0.8, 0.82, 0.85]
    assert (tmp_path / "chart.png").stat().st_size > 10_000


def two_phases() -> pd.DataFrame:
    rows = [dict(phase=p, step=s, task="sst", loss=1 / s) for p in ("pretrain", "finetune")
            for s in range(1, 11 if p == "pretrain" else 4)]  # fmt: skip
    rows += [dict(phase="pretrain", step=10, task="sst", dev=0.9552),
             dict(phase="finetune", step=3, task="sst", dev=0.9558)]  # fmt: skip
    return pd.DataFrame(rows)


def test_finetune_follows_pretrain_on_the_step_axis_unless_overlaid():
    fig = plot_history(two_phases())
    pre, fine = fig.axes[0].get_lines()[:2]
    assert list(fine.get_xdata()) == [11, 12, 13]  # after pretrain's 10 steps, not over them
    assert any(list(line.get_xdata()) == [10, 10] for line in fig.axes[0].get_lines())  # boundary
    assert "pretrain, then finetune" in fig.axes[0].get_xlabel()
    overlaid = plot_history(two_phases(), overlay=True)
    assert list(overlaid.axes[0].get_lines()[1].get_xdata()) == [1, 2, 3]


def test_dev_scores_get_a_marker_per_phase_on_a_fixed_scale():
    fig = plot_history(two_phases())
    dev_ax = next(ax for ax in fig.axes if ax.get_ylabel().startswith("dev"))
    markers = [line.get_marker() for line in dev_ax.get_lines()]
    assert len(set(markers)) == 2
    assert dev_ax.get_ylim() == (0.0, 1.0)  # 0.9552 vs 0.9558 is no trend
