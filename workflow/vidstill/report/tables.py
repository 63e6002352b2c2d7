"""Result tables: rows are methods (Full Dataset first), columns are dataset × IPC, cells "mean ± std" in percent.

Where a dataset is one the papers used (`datasets.<name>.published_as`) and a method has a published number for it
(`resources/paper_results.csv`, matched on the method's `published_as` or `label`), the published number and our
difference stand in the next columns; the markdown rendering marks cells outside the published mean ± 2 std.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

FULL = "full"
FULL_LABEL = "Full Dataset"


def collect_runs(paths: Sequence[str]) -> pd.DataFrame:
    """Every evaluation run of the table in one long frame (the `{table}_runs.parquet` artifact)."""
    if not paths:
        raise ValueError("a table needs at least one evaluation file")
    return pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)


def summarize(runs: pd.DataFrame, metric: str = "top1") -> pd.DataFrame:
    """mean / std (population std over runs, in %) and run count per dataset, method, IPC and architecture."""
    g = runs.groupby(["dataset", "method", "ipc", "arch"], sort=False)[metric]
    out = g.agg(mean=lambda s: 100 * s.mean(), std=lambda s: 100 * s.std(ddof=0), runs="count").reset_index()
    return out


def published_names(method: str, methods: Mapping[str, Mapping[str, Any]], source: Mapping[str, Any] | None = None) -> list[str]:
    """The names a method goes by in the papers, most specific first: the reproduced table's own name for it
    (`tables.<t>.published.names`), then its `published_as` (a name or a list: DAViD calls MTT+VDSD "VDSD"), else its
    label."""
    names = [str((source or {}).get("names", {}).get(method, ""))]
    given = methods.get(method, {}).get("published_as")
    names += [given] if isinstance(given, str) else list(given or [method_label(method, methods)])
    return [n for n in dict.fromkeys(names) if n]


def published_number(published: pd.DataFrame, dataset: str | None, names: str | Sequence[str], ipc: int, metric: str,
                     source: Mapping[str, Any] | None = None) -> tuple[float, float] | None:
    """The published (mean, std) of a cell, or None. With `source` ({paper, table}) only that table's rows count;
    otherwise the first paper listing the cell (all papers quote the same baseline numbers within rounding)."""
    if not dataset:
        return None
    rows = published[(published["dataset"] == dataset) & (published["ipc"].astype(str) == ("full" if ipc == 0 else str(ipc)))
                     & (published["metric"] == metric)]
    if source and "paper" in source:
        rows = rows[rows["paper"] == source["paper"]]
    if source and "table" in source:
        rows = rows[rows["table"].astype(str) == str(source["table"])]
    for name in [names] if isinstance(names, str) else names:
        match = rows[rows["method"] == name]
        if not match.empty:
            row = match.iloc[0]
            return float(row["mean"]), float(row["std"]) if pd.notna(row["std"]) else float("nan")
    return None


def method_label(method: str, methods: Mapping[str, Mapping[str, Any]]) -> str:
    return FULL_LABEL if method == FULL else str(methods.get(method, {}).get("label", method))


def table_cells(runs: pd.DataFrame, spec: Mapping[str, Any]) -> Iterator[tuple[str, int, str, pd.DataFrame]]:
    """Every cell of a table in its order (dataset, IPC, Full Dataset row first, then the methods) with the
    evaluation runs behind it; the Full Dataset row's runs are its ipc-0 runs. A cell without runs is an error."""
    order = ([FULL] if spec.get("full", True) else []) + list(spec["methods"])
    for dataset in spec["datasets"]:
        for ipc in spec["ipc"]:
            for method in order:
                key_ipc = 0 if method == FULL else ipc
                cell = runs[(runs["dataset"] == dataset) & (runs["method"] == method) & (runs["ipc"] == key_ipc)]
                if cell.empty:
                    raise ValueError(f"no evaluation runs for {dataset} / {method} / ipc {key_ipc}")
                yield dataset, ipc, method, cell


def build_table(
    runs: pd.DataFrame,
    spec: Mapping[str, Any],
    methods: Mapping[str, Mapping[str, Any]],
    published_as: Mapping[str, str | None],
    published: pd.DataFrame,
    arch: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The wide table and the long summary (one row per cell, with published numbers and the difference), for the
    students of architecture `arch` (cross-architecture runs live in the runs file, not in this table)."""
    metric = spec.get("metric", "top1")
    cells = []
    for dataset, ipc, method, runs_of_cell in table_cells(runs[runs["arch"] == arch], spec):
        stats = summarize(runs_of_cell, metric).iloc[0]
        key_ipc = 0 if method == FULL else ipc
        names = [FULL_LABEL] if method == FULL else published_names(method, methods, spec.get("published"))
        pub = published_number(published, published_as.get(dataset), names, key_ipc, metric, spec.get("published"))
        cells.append(dict(dataset=dataset, ipc=ipc, method=method, label=method_label(method, methods),
                          mean=float(stats["mean"]), std=float(stats["std"]), runs=int(stats["runs"]),
                          published_mean=pub[0] if pub else np.nan, published_std=pub[1] if pub else np.nan))
    long = pd.DataFrame(cells)
    long["difference"] = long["mean"] - long["published_mean"]
    long["outside_2std"] = (long["difference"].abs() > 2 * long["published_std"].fillna(0)) & long["published_mean"].notna()

    first = long[(long["dataset"] == long["dataset"].iloc[0]) & (long["ipc"] == long["ipc"].iloc[0])]
    wide = pd.DataFrame({"method": first["label"].tolist()})  # the rows, in table_cells' order
    for (dataset, ipc), cell in long.groupby(["dataset", "ipc"], sort=False):
        col = f"{dataset} IPC {ipc}"
        wide[col] = [f"{r.mean:.1f} ± {r.std:.1f}" for r in cell.itertuples()]
        if cell["published_mean"].notna().any():
            wide[f"{col} published"] = [_fmt(r.published_mean, r.published_std) for r in cell.itertuples()]
            wide[f"{col} difference"] = ["" if np.isnan(r.difference) else f"{r.difference:+.1f}" for r in cell.itertuples()]
    return wide, long


def storage_table(runs: pd.DataFrame, spec: Mapping[str, Any], methods: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """Bytes a method stores per dataset and IPC (the distilled set's tensors and labels, VDSD's hallucinator
    included; the Full Dataset row: every stored training frame), and the share of the full dataset they are.
    One row per cell, in the table's order."""
    full_bytes = runs[runs["method"] == FULL].groupby("dataset")["storage_bytes"].max()
    rows = []
    for dataset, ipc, method, runs_of_cell in table_cells(runs, spec):
        stored = int(runs_of_cell["storage_bytes"].max())
        rows.append(dict(dataset=dataset, ipc=ipc, method=method, label=method_label(method, methods), storage_bytes=stored,
                         storage_mb=stored / 2**20, share_of_full=stored / full_bytes.get(dataset, np.nan)))
    return pd.DataFrame(rows)


def render_storage_markdown(storage: pd.DataFrame) -> str:
    """The storage table as markdown: MB stored per method (rows) and dataset × IPC (columns)."""
    storage = storage.assign(cell=[f"{r.dataset} IPC {r.ipc}" for r in storage.itertuples()])
    wide = storage.pivot_table(index="label", columns="cell", values="storage_mb", sort=False)
    header = "| method | " + " | ".join(wide.columns) + " |"
    lines = ["## Storage (MB stored per method)", "", header, "|" + "---|" * (len(wide.columns) + 1)]
    lines += ["| " + " | ".join([label, *(f"{v:.2f}" for v in row)]) + " |" for label, row in wide.iterrows()]
    return "\n".join(lines) + "\n"


def _fmt(mean: float, std: float) -> str:
    if np.isnan(mean):
        return ""
    return f"{mean:.1f}" if np.isnan(std) else f"{mean:.1f} ± {std:.1f}"


def render_markdown(wide: pd.DataFrame, long: pd.DataFrame, title: str, protocol_note: str) -> str:
    """A markdown table; a cell outside the published mean ± 2 std is marked with †."""
    flagged = {(r.label, f"{r.dataset} IPC {r.ipc}") for r in long.itertuples() if r.outside_2std}
    header = "| " + " | ".join(wide.columns) + " |"
    lines = [f"# {title}", "", protocol_note, "", header, "|" + "---|" * len(wide.columns)]
    for _, row in wide.iterrows():
        cells = [f"{row[c]} †" if (row["method"], c) in flagged else str(row[c]) for c in wide.columns]
        lines.append("| " + " | ".join(cells) + " |")
    if flagged:
        lines += ["", "† outside the published mean ± 2 std."]
    return "\n".join(lines) + "\n"


def protocol_note(runs: pd.DataFrame, protocol: Mapping[str, Any], metric: str) -> str:
    selection = ", ".join(sorted(runs["selection"].unique()))
    soft = "soft labels used by: " + ", ".join(sorted(runs.loc[runs["soft_labels"], "method"].unique())) if runs["soft_labels"].any() else "hard labels throughout"
    label = "BEST-ON-TEST selection (inflated, as the reference code logs)" if "best_on_test" in selection else "final-epoch accuracy"
    return (f"{metric} accuracy (%), mean ± std over {runs.groupby(['dataset', 'method', 'ipc']).size().min()}+ runs "
            f"({len(runs['distill_seed'].unique())} distillation seed(s) × {protocol.get('runs')} evaluation runs); {label}; "
            f"students: {', '.join(sorted(runs['arch'].unique()))}, {protocol.get('epochs')} epochs on distilled sets, "
            f"{protocol.get('test_passes')} test passes; no augmentation of synthetic data unless a method's expansion "
            f"adds it; {soft}.")
