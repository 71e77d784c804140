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


def plot_history(history: pd.DataFrame, path: str | Path | None = None, *, overlay: bool = False):
    """Training loss per task against steps, one panel per task (losses differ in scale).

    Phases follow one another on the step axis (finetune starts where pretrain ended, a dashed
    line between them); `overlay=True` draws them over the same steps instead, to compare runs.
    Dev scores (train with dev_sets) appear on a second axis with a marker per phase, on a
    fixed 0-1 scale, so a change in the third decimal does not look like a trend.
    """
    tasks = list(dict.fromkeys(history["task"]))
    offsets, start = {}, 0
    for phase in dict.fromkeys(history["phase"]):
        offsets[phase] = 0 if overlay else start
        start += int(history.loc[history["phase"] == phase, "step"].max())
    fig, axes = plt.subplots(1, len(tasks), figsize=(4 * len(tasks), 3), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        rows = history[history["task"] == task]
        for phase, part in rows.dropna(subset=["loss"]).groupby("phase", sort=False):
            ax.plot(part["step"] + offsets[phase], part["loss"], label=phase)
        for offset in list(offsets.values())[1:] if not overlay else []:
            ax.axvline(offset, color="0.6", ls="--", lw=0.8)
        ax.set_title(task)
        ax.set_xlabel(
            "step" if overlay or len(offsets) == 1 else "step (" + ", then ".join(offsets) + ")"
        )
        ax.set_ylabel("training loss")
        ax.legend(fontsize=8)
        if "dev" in rows and rows["dev"].notna().any():
            dev_ax = ax.twinx()
            scored = rows.dropna(subset=["dev"])
            for (phase, part), marker in zip(scored.groupby("phase", sort=False), "osd^v"):
                dev_ax.plot(
                    part["step"] + offsets[phase],
                    part["dev"],
                    ":",
                    marker=marker,
                    markersize=4,
                    color="gray",
                    label=f"dev, {phase}",
                )
            dev_ax.set_ylim(min(0.0, scored["dev"].min() - 0.05), 1.0)
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
