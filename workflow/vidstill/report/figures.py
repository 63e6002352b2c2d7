"""Figures (matplotlib, Agg): the Δ ranking, per-Δ-group accuracy of every method, IDTD's redundancy scatter."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from vidstill.io import atomic_path


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_delta(delta: pd.DataFrame, path: str | Path, title: str = "") -> None:
    """Δ per class, sorted, with the spread over seeds as error bars and the group boundaries marked."""
    plt = _plt()
    d = delta.sort_values("rank", ascending=False)
    fig, ax = plt.subplots(figsize=(max(6, 0.35 * len(d)), 4))
    err = d["delta_std"].fillna(0).to_numpy() * 100
    colors = plt.cm.viridis(d["group"].to_numpy() / max(d["group"].max(), 1))
    ax.bar(range(len(d)), 100 * d["delta"], yerr=err, color=colors, capsize=2)
    ax.set_xticks(range(len(d)), d["class"], rotation=70, ha="right", fontsize=7)
    ax.set_ylabel("Δ = acc(full) − acc(static) (%)")
    ax.axhline(0, color="black", lw=0.5)
    ax.set_title(title or f"Δ ranking ({int(d['seeds'].iloc[0])} seeds; colour = group, 0 most static)")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)


def plot_group_accuracy(groups: pd.DataFrame, labels: Mapping[str, str], path: str | Path) -> None:
    """One panel per (dataset, IPC): bars of mean accuracy per Δ group, one bar per method, with the Full Dataset
    row (IPC 0 in the runs) drawn in every panel of its dataset as the reference."""
    plt = _plt()
    full = groups[groups["ipc"] == 0]
    panels = list(groups[groups["ipc"] != 0].groupby(["dataset", "ipc"], sort=False))
    fig, axes = plt.subplots(len(panels), 1, figsize=(9, 2.8 * max(len(panels), 1)), squeeze=False)
    for ax, ((dataset, ipc), g) in zip(axes[:, 0], panels):
        g = pd.concat([full[full["dataset"] == dataset], g])
        methods = list(dict.fromkeys(g["method"]))
        width = 0.8 / len(methods)
        for k, method in enumerate(methods):
            m = g[g["method"] == method]
            ax.bar(m["group"] + (k - (len(methods) - 1) / 2) * width, m["accuracy"], width, label=labels.get(method, method))
        ax.set_title(f"{dataset}, IPC {ipc}")
        ax.set_xlabel("Δ group (0 = most static)")
        ax.set_ylabel("accuracy (%)")
        ax.set_xticks(sorted(g["group"].unique()))
        ax.legend(fontsize=6, ncol=min(len(methods), 6), loc="upper right")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)


def plot_redundancy_gain(table: pd.DataFrame, path: str | Path, title: str = "") -> None:
    """IDTD's Fig. 4: one circle per class at (R_t, R_IC), its area growing with |gain|, red for a gain of the
    method over the baseline, blue for a loss; class names beside."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 5))
    gain = table["gain"].to_numpy()
    size = 30 + 600 * np.abs(gain) / max(np.abs(gain).max(), 1e-9)
    ax.scatter(table["R_t"], table["R_IC"], s=size, c=np.where(gain >= 0, "tab:red", "tab:blue"), alpha=0.5, edgecolors="black")
    for x, y, name, g in zip(table["R_t"], table["R_IC"], table["class"], gain):
        ax.annotate(f"{name} {g:+.0f}", (x, y), fontsize=6)
    ax.set_xlabel("within-sample redundancy R_t")
    ax.set_ylabel("inter-sample redundancy R_IC")
    ax.set_title(title or "gain per class (red: gain, blue: loss; area ∝ |gain|)", fontsize=9)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)


def nonempty_png(path: str | Path) -> bool:
    """True when the PNG has more than one colour (an empty axes renders as a flat image)."""
    from matplotlib.image import imread

    img = imread(str(path))
    return bool(np.ptp(img.reshape(-1, img.shape[-1]), axis=0).max() > 0)
