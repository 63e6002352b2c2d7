"""The Δ-ranking of DAViD §4.1.2: which classes need time to be recognised.

Δ(class) = accuracy(model trained and tested on full clips) − accuracy(same model, same protocol, trained and tested on
static clips where one random frame is repeated over time). Each training runs with several seeds; Δ is the mean over
seeds of the per-seed differences and `delta_std` its spread, so a ranking built on noise is visible as such.

Groups (DAViD Fig. 3 uses 11 on UCF101 without saying how they are cut; our rule): classes sorted by Δ ascending are
split into `groups` groups of as equal size as possible (numpy.array_split), group 0 the most static, the last group
the most dynamic. Ties in Δ are broken by class name so the grouping is deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def delta_table(full: Sequence[pd.DataFrame], static: Sequence[pd.DataFrame], groups: int = 11) -> pd.DataFrame:
    """Per class: acc_full, acc_static (means over seeds), delta, delta_std, seeds, rank (1 = largest Δ), group.

    `full[i]` and `static[i]` are the per-class test accuracies (columns label, class, accuracy) of seed i.
    """
    if not full or len(full) != len(static):
        raise ValueError(f"need the same non-zero number of full and static runs, got {len(full)} and {len(static)}")
    acc_full = np.stack([_by_label(f) for f in full])
    acc_static = np.stack([_by_label(s) for s in static])
    per_seed = acc_full - acc_static
    classes = full[0].sort_values("label")["class"].to_numpy()
    out = pd.DataFrame(
        {
            "label": np.arange(len(classes)),
            "class": classes,
            "acc_full": acc_full.mean(0),
            "acc_static": acc_static.mean(0),
            "delta": per_seed.mean(0),
            "delta_std": per_seed.std(0, ddof=1) if len(full) > 1 else np.full(len(classes), np.nan),
            "seeds": len(full),
        }
    )
    order = out.sort_values(["delta", "class"], ascending=[False, True]).index
    out.loc[order, "rank"] = np.arange(1, len(out) + 1)
    ascending = out.sort_values(["delta", "class"], ascending=[True, False]).index
    for g, chunk in enumerate(np.array_split(ascending.to_numpy(), min(groups, len(out)))):
        out.loc[chunk, "group"] = g
    return out.astype({"rank": int, "group": int}).sort_values("rank").reset_index(drop=True)


def _by_label(df: pd.DataFrame) -> np.ndarray:
    return df.sort_values("label")["accuracy"].to_numpy(dtype=float)


def top_k_classes(delta: pd.DataFrame, k: int) -> list[str]:
    """The k classes with the largest Δ (TR-UCF: the top 50 of UCF101)."""
    if not 1 <= k <= len(delta):
        raise ValueError(f"top_k_by_delta must be in 1..{len(delta)} (classes ranked), got {k}")
    return delta.sort_values("rank")["class"].head(k).tolist()


def group_accuracy(
    runs: pd.DataFrame, class_names: dict[str, list[str]], delta: dict[str, pd.DataFrame]
) -> pd.DataFrame:
    """Mean per-class accuracy per Δ group, for every (dataset, method, ipc) of an evaluation-runs table.

    `class_names[dataset]` maps a dataset's labels to class names; `delta[dataset]` is the ranking that groups them
    (a subset's classes are grouped by its parent's ranking). Returns dataset, method, ipc, group, accuracy (%),
    classes (how many classes the group has in that dataset), runs.
    """
    rows = []
    for (dataset, method, ipc), g in runs.groupby(["dataset", "method", "ipc"], sort=False):
        if dataset not in delta:
            continue
        per_class = np.nanmean(np.stack(g["per_class"].map(np.asarray).to_list()), axis=0)
        group_of = delta[dataset].set_index("class")["group"]
        names = class_names[dataset]
        frame = pd.DataFrame({"class": names, "accuracy": per_class[: len(names)]})
        frame["group"] = frame["class"].map(group_of)
        for group, cg in frame.dropna(subset=["group"]).groupby("group"):
            rows.append(
                dict(
                    dataset=dataset,
                    method=method,
                    ipc=int(ipc),
                    group=int(group),
                    accuracy=100 * float(cg["accuracy"].mean()),
                    classes=len(cg),
                    runs=len(g),
                )
            )
    return pd.DataFrame(rows, columns=["dataset", "method", "ipc", "group", "accuracy", "classes", "runs"])
