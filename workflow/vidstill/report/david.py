"""DAViD's two reports: the temporal resolution each class was given beside its Δ (does the agent give the classes
that need time more frames?), and the search cost of Table 3 (grid search vs RL vs RL on early-stage DD)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd


def resolution_table(
    sets: Sequence[Mapping[str, Any]],
    delta: pd.DataFrame,
    kinds: Mapping[str, str],
    field: str = "resolution_per_class",
    column: str = "resolution",
) -> pd.DataFrame:
    """One row per (distilled set, class): the method's per-class choice (meta[`field`]: DAViD's resolution, PRISM's
    mean key frames per video, `keyframes_per_class`) as `column`, beside the class's Δ, group and rank from the
    ranking stage (matched by class name, so a subset's own labels do not matter) and its kind where the dataset
    declares one (the synthetic benchmark: appearance / motion / mixed)."""
    by_class = delta.set_index("class")
    rows = []
    for meta in sets:
        frames = int(meta["frames"])
        for label, (name, value) in enumerate(zip(meta["classes"], meta[field], strict=True)):
            if name not in by_class.index:
                raise ValueError(f"class {name!r} of {meta['dataset']} is not in the Δ-ranking")
            d = by_class.loc[name]
            rows.append(
                dict(
                    dataset=meta["dataset"],
                    ipc=int(meta["ipc"]),
                    seed=int(meta["seed"]),
                    label=label,
                    **{"class": name},
                    kind=kinds.get(name, ""),
                    **{column: int(value) if column == "resolution" else float(value)},
                    frames=frames,
                    delta=float(d["delta"]),
                    delta_std=float(d["delta_std"]),
                    group=int(d["group"]),
                    rank=int(d["rank"]),
                )
            )
    return pd.DataFrame(rows)


def resolution_summary(table: pd.DataFrame, column: str = "resolution") -> pd.DataFrame:
    """Mean of `column` per (dataset, IPC) and kind, and its Spearman correlation with Δ: the answer in two numbers."""
    out = []
    for (dataset, ipc), g in table.groupby(["dataset", "ipc"]):
        row = {"dataset": dataset, "ipc": ipc, f"spearman_{column}_delta": g[column].rank().corr(g["delta"].rank())}
        row |= {f"mean_{column}_{k}": v for k, v in g.groupby("kind")[column].mean().items() if k}
        out.append(row)
    return pd.DataFrame(out)


PUBLISHED_SEARCH = {"grid": "Grid Search", "rl": "RL Search", "rl_early": "RL Search w. Early Stage DD"}


def search_cost_table(
    sets: Sequence[Mapping[str, Any]], searches: Mapping[str, str], published: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Wall-clock of each temporal-policy search (`searches`: search kind -> method instance) per (dataset, IPC, seed),
    as measured by its distill job, with ratios to grid search (Table 3) and how often it chose grid search's
    resolution. With `published` (resources/paper_results.csv), the paper's GPU hours on HMDB51 at the same IPC and
    their ratio to its grid search stand beside ours."""
    kind_of = {instance: kind for kind, instance in searches.items()}
    rows = [
        dict(
            dataset=m["dataset"],
            ipc=int(m["ipc"]),
            seed=int(m["seed"]),
            search=kind_of[m["instance"]],
            instance=m["instance"],
            dm_iterations_search=int(m["search_dm_iterations"]),
            dm_iterations_synthesis=int(m["synthesis_dm_iterations"]),
            search_seconds=float(m["search_seconds"]),
            total_seconds=float(m["wall_time"]),
            resolution_per_class=list(m["resolution_per_class"]),
        )
        for m in sets
    ]
    table = pd.DataFrame(rows)
    keys = ["dataset", "ipc", "seed"]
    grid = table[table["search"] == "grid"].set_index(keys)
    if grid.empty:
        raise ValueError("the search cost table needs a grid search to compare with")
    ref = grid.loc[pd.MultiIndex.from_frame(table[keys])]
    table["search_to_grid"] = table["search_seconds"].to_numpy() / ref["search_seconds"].to_numpy()
    table["total_to_grid"] = table["total_seconds"].to_numpy() / ref["total_seconds"].to_numpy()
    table["agrees_with_grid"] = [
        sum(a == b for a, b in zip(x, y, strict=True)) / len(x)
        for x, y in zip(table["resolution_per_class"], ref["resolution_per_class"], strict=True)
    ]
    table["resolution_per_class"] = [" ".join(map(str, x)) for x in table["resolution_per_class"]]
    if published is not None:
        t3 = published[(published["paper"] == "DAViD") & (published["table"].astype(str) == "3")]
        hours = {(str(r.ipc), r.method): float(r.mean) for r in t3.itertuples()}
        table["published_gpu_hours"] = [
            hours.get((str(i), PUBLISHED_SEARCH[k]), float("nan")) for i, k in zip(table["ipc"], table["search"])
        ]
        table["published_to_grid"] = [
            h / hours.get((str(i), PUBLISHED_SEARCH["grid"]), float("nan"))
            for h, i in zip(table["published_gpu_hours"], table["ipc"])
        ]
    order = {k: i for i, k in enumerate(PUBLISHED_SEARCH)}
    return table.sort_values([*keys, "search"], key=lambda s: s.map(order) if s.name == "search" else s).reset_index(
        drop=True
    )
