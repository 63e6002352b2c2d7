"""Figures (matplotlib, Agg): the Δ ranking, per-Δ-group accuracy of every method, accuracy against IPC and against
storage for every method of a table (published numbers beside ours), IDTD's redundancy scatter."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from vidstill.io import atomic_path


def pyplot():
    """matplotlib.pyplot on the file-only Agg backend (jobs have no display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_delta(delta: pd.DataFrame, path: str | Path, title: str = "") -> None:
    """Δ per class, sorted, with the spread over seeds as error bars and the group boundaries marked."""
    plt = pyplot()
    d = delta.sort_values("rank", ascending=False)
    fig, ax = plt.subplots(figsize=(max(6, 0.35 * len(d)), 4))
    err = d["delta_std"].fillna(0).to_numpy() * 100
    colors = plt.cm.viridis(d["group"].to_numpy() / max(d["group"].max(), 1))
    ax.bar(range(len(d)), 100 * d["delta"], yerr=err, color=colors, capsize=2)
    ax.set_xticks(range(len(d)), d["class"], rotation=70, ha="right", fontsize=7)
    ax.set_ylabel("Δ = acc(full) − acc(static) (%)")
    ax.axhline(0, color="black", lw=0.5)
    ax.set_title(title or f"Δ ranking ({int(d['seeds'].iloc[0])} seeds; colour = group, 0 most static)")
    save_figure(fig, path, dpi=120)


def plot_group_accuracy(groups: pd.DataFrame, labels: Mapping[str, str], path: str | Path) -> None:
    """One panel per (dataset, IPC): bars of mean accuracy per Δ group, one bar per method, with the Full Dataset
    row (IPC 0 in the runs) drawn in every panel of its dataset as the reference."""
    plt = pyplot()
    full = groups[groups["ipc"] == 0]
    panels = list(groups[groups["ipc"] != 0].groupby(["dataset", "ipc"], sort=False))
    fig, axes = plt.subplots(len(panels), 1, figsize=(9, 2.8 * max(len(panels), 1)), squeeze=False)
    for ax, ((dataset, ipc), g) in zip(axes[:, 0], panels):
        g = pd.concat([full[full["dataset"] == dataset], g])
        methods = list(dict.fromkeys(g["method"]))
        width = 0.8 / len(methods)
        for k, method in enumerate(methods):
            m = g[g["method"] == method]
            ax.bar(
                m["group"] + (k - (len(methods) - 1) / 2) * width,
                m["accuracy"],
                width,
                label=labels.get(method, method),
            )
        ax.set_title(f"{dataset}, IPC {ipc}")
        ax.set_xlabel("Δ group (0 = most static)")
        ax.set_ylabel("accuracy (%)")
        ax.set_xticks(sorted(g["group"].unique()))
        ax.legend(fontsize=6, ncol=min(len(methods), 6), loc="upper right")
    save_figure(fig, path, dpi=110)


def method_colours(methods: list[str]) -> dict[str, tuple[float, ...]]:
    """One colour per method, fixed by its position in the table, so a method looks the same in every figure."""
    plt = pyplot()
    cmap = plt.get_cmap("tab20")
    # tab20's strong colours first (even indices), then their light partners: neighbours in a table never share a hue
    return {m: cmap((2 * k) % 20 + (k // 10) % 2) for k, m in enumerate(methods)}


def _dataset_panels(cells: pd.DataFrame, width: float = 5.0, height: float = 4.0):
    plt = pyplot()
    datasets = list(dict.fromkeys(cells["dataset"]))
    fig, axes = plt.subplots(1, len(datasets), figsize=(width * len(datasets) + 2.5, height), squeeze=False)
    return plt, fig, list(zip(datasets, axes[0]))


def save_figure(fig, path: str | Path, dpi: int = 110) -> None:
    """Lay out, write atomically as PNG and close: every figure of the report ends here."""
    plt = pyplot()
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)


def plot_accuracy_vs_ipc(cells: pd.DataFrame, path: str | Path, metric: str = "top1") -> None:
    """One panel per dataset: mean ± std accuracy of every method against IPC (solid, filled), its published number
    where there is one (dashed, hollow, same colour), the Full Dataset row as a horizontal line. `cells` is the long
    table of report.tables.build_table."""
    plt, fig, panels = _dataset_panels(cells)
    methods = [m for m in dict.fromkeys(cells["method"]) if m != "full"]
    colours = method_colours(methods)
    ipcs = sorted(cells["ipc"].unique())
    pos = {ipc: k for k, ipc in enumerate(ipcs)}  # IPCs equally spaced: 1 and 5 (and 10, 50) read as steps
    for dataset, ax in panels:
        d = cells[cells["dataset"] == dataset]
        full = d[d["method"] == "full"]
        if not full.empty:
            ax.axhline(full["mean"].iloc[0], color="black", lw=1, label="Full Dataset")
            if full["published_mean"].notna().any():
                ax.axhline(
                    full["published_mean"].iloc[0], color="black", lw=1, ls="--", label="Full Dataset (published)"
                )
        for method in methods:
            m = d[d["method"] == method].sort_values("ipc")
            x = [pos[i] for i in m["ipc"]]
            ax.errorbar(
                x, m["mean"], yerr=m["std"], marker="o", color=colours[method], capsize=2, label=m["label"].iloc[0]
            )
            p = m[m["published_mean"].notna()]
            if not p.empty:
                ax.errorbar(
                    [pos[i] for i in p["ipc"]],
                    p["published_mean"],
                    yerr=p["published_std"].fillna(0),
                    marker="o",
                    mfc="none",
                    ls="--",
                    color=colours[method],
                    capsize=2,
                    alpha=0.8,
                )
        ax.set_xticks(range(len(ipcs)), [str(i) for i in ipcs])
        ax.set_xlim(-0.4, len(ipcs) - 0.6)
        ax.set_xlabel("IPC (videos per class)")
        ax.set_ylabel(f"{metric} accuracy (%)")
        ax.set_title(f"{dataset}: ours solid, published dashed/hollow", fontsize=9)
    panels[-1][1].legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1))
    save_figure(fig, path)


def plot_accuracy_vs_storage(cells: pd.DataFrame, path: str | Path, metric: str = "top1") -> None:
    """One panel per dataset: accuracy (mean ± std) against the megabytes a method stores (log scale), a marker shape
    per IPC, the Full Dataset row at its stored training frames. `cells`: build_table's long table with storage_mb."""
    plt, fig, panels = _dataset_panels(cells)
    methods = [m for m in dict.fromkeys(cells["method"]) if m != "full"]
    colours = method_colours(methods)
    markers = dict(zip(sorted(cells["ipc"].unique()), "os^Dv<>p*h"))
    for dataset, ax in panels:
        d = cells[cells["dataset"] == dataset]
        full = d[d["method"] == "full"].head(1)
        for r in full.itertuples():
            ax.errorbar(
                r.storage_mb,
                r.mean,
                yerr=r.std,
                marker="*",
                ms=12,
                color="black",
                capsize=2,
                ls="none",
                label="Full Dataset",
            )
        for method in methods:
            for r in d[d["method"] == method].itertuples():
                ax.errorbar(
                    r.storage_mb,
                    r.mean,
                    yerr=r.std,
                    marker=markers[r.ipc],
                    color=colours[method],
                    capsize=2,
                    ls="none",
                    label=f"{r.label} (IPC {r.ipc})",
                )
        ax.set_xscale("log")
        ax.set_xlabel("stored (MB, log scale)")
        ax.set_ylabel(f"{metric} accuracy (%)")
        ax.set_title(f"{dataset}: accuracy against storage", fontsize=9)
    panels[-1][1].legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1), ncol=2)
    save_figure(fig, path)


def plot_redundancy_gain(table: pd.DataFrame, path: str | Path, title: str = "") -> None:
    """IDTD's Fig. 4: one circle per class at (R_t, R_IC), its area growing with |gain|, red for a gain of the
    method over the baseline, blue for a loss; class names beside."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 5))
    gain = table["gain"].to_numpy()
    size = 30 + 600 * np.abs(gain) / max(np.abs(gain).max(), 1e-9)
    ax.scatter(
        table["R_t"], table["R_IC"], s=size, c=np.where(gain >= 0, "tab:red", "tab:blue"), alpha=0.5, edgecolors="black"
    )
    for x, y, name, g in zip(table["R_t"], table["R_IC"], table["class"], gain):
        ax.annotate(f"{name} {g:+.0f}", (x, y), fontsize=6)
    ax.set_xlabel("within-sample redundancy R_t")
    ax.set_ylabel("inter-sample redundancy R_IC")
    ax.set_title(title or "gain per class (red: gain, blue: loss; area ∝ |gain|)", fontsize=9)
    save_figure(fig, path, dpi=120)


def nonempty_png(path: str | Path) -> bool:
    """True when the PNG has more than one colour (an empty axes renders as a flat image)."""
    from matplotlib.image import imread

    img = imread(str(path))
    return bool(np.ptp(img.reshape(-1, img.shape[-1]), axis=0).max() > 0)
