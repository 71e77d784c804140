"""Pictures of a run: pretrain vs finetune per task, and loss curves."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd


def plot_comparison(table: pd.DataFrame, path: str | Path | None = None, title: str = ""):
    """Grouped bars: one group per task, one bar per phase column (pretrain, finetune, ...).

    `table` is indexed by task with one numeric column per phase (see `comparison_table`).
    """
    phases = [c for c in table.columns if c != "metric"]
    x = np.arange(len(table))
    width = 0.8 / len(phases)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for i, phase in enumerate(phases):
        bars = ax.bar(x + (i - (len(phases) - 1) / 2) * width, table[phase], width, label=phase)
        ax.bar_label(bars, fmt="%.3f", fontsize=8)
    labels = [f"{task}\n({metric})" for task, metric in zip(table.index, table["metric"])]
    ax.set_xticks(x, labels)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("dev score")
    ax.set_title(title or "pretrain (frozen encoder) vs finetune")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig


def plot_history(history: pd.DataFrame, path: str | Path | None = None):
    """Training loss per task against steps, one panel per task (losses differ in scale).

    Where the history has dev scores (train with dev_sets), they appear dotted on a
    second axis: a loss that keeps falling while dev stalls is overfitting.
    """
    tasks = list(dict.fromkeys(history["task"]))
    fig, axes = plt.subplots(1, len(tasks), figsize=(4 * len(tasks), 3), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        rows = history[history["task"] == task]
        for phase, part in rows.dropna(subset=["loss"]).groupby("phase", sort=False):
            ax.plot(part["step"], part["loss"], label=phase)
        ax.set_title(task)
        ax.set_xlabel("step")
        ax.set_ylabel("training loss")
        ax.legend(fontsize=8)
        if "dev" in rows and rows["dev"].notna().any():
            dev_ax = ax.twinx()
            for _phase, part in rows.dropna(subset=["dev"]).groupby("phase", sort=False):
                dev_ax.plot(part["step"], part["dev"], ":o", markersize=3, color="gray")
            dev_ax.set_ylabel("dev score (dotted)")
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig


class LiveLossPlot:
    """Redraw the loss curves in a notebook while training runs (seed mistake 8).

    plot = LiveLossPlot()
    train(model, train_sets, config, on_log=plot)
    """

    def __init__(self, every: int = 1) -> None:
        from IPython.display import display

        self.every = every  # redraw on every n-th log call
        self.calls = 0
        self.handle = display(None, display_id=True)

    def __call__(self, history: pd.DataFrame) -> None:
        self.calls += 1
        if self.calls % self.every:
            return
        fig = plot_history(history)
        self.handle.update(fig)
        plt.close(fig)
