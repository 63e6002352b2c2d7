"""Result tables: rows are methods (Full Dataset first), columns are dataset × IPC, cells "mean ± std" in percent.

Where a dataset is one the papers used (`datasets.<name>.published_as`) and a method has a published number for it
(`resources/paper_results.csv`, matched on the method's `published_as` or `label`), the published number and our
difference stand in the next columns; the markdown rendering marks cells outside the published mean ± 2 std.

A cell is worth reading only beside Random under the same recipe: every method's cell carries its difference to the
Random cell of the same dataset and IPC (`vs_random`, in points) and Welch's two-sided p-value over the two cells' runs
(`p_vs_random`); the markdown marks p < α with *. On the synthetic benchmark, whose classes declare a kind (appearance /
motion / mixed, the generator's classes.csv), each cell also has its accuracy on each kind's classes, mean ± std over
the same runs: whether a method's gain comes from the classes that need time.

Label protocols (evaluation.label_protocols): beside each method's own labels (native), a cell may also have runs
under hard labels (each item's class, one-hot) and soft labels (the teacher's softmax on each batch); they stand in
`{cell} hard` / `{cell} soft`, and DD-Ranking's label-robust scores (Li et al. 2025, arXiv:2505.13300; definitions
and our mapping in docs/dd_ranking.md) in `{cell} HLR`, `{cell} IOR` and `{cell} LRS`, computed from the same
runs' cell means.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from vidstill.report.stats import welch

FULL = "full"
FULL_LABEL = "Full Dataset"
RANDOM = "random"
KIND_ORDER = ("appearance", "motion", "mixed")
NATIVE = "native"
LABEL_PROTOCOLS = ("hard", "soft")
SCORES = ("HLR", "IOR", "LRS")


def split_protocols(runs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(runs under each method's own labels, runs under the hard / soft protocols). Runs written before the protocol
    column existed are native."""
    runs = runs.assign(protocol=runs["protocol"].fillna(NATIVE) if "protocol" in runs else NATIVE)
    native = runs["protocol"] == NATIVE
    return runs[native].reset_index(drop=True), runs[~native].reset_index(drop=True)


def label_robust_score(hlr: float, ior: float, weight: float = 0.5) -> float:
    """DD-Ranking's LRS in % from HLR and IOR in points: alpha = w IOR - (1 - w) HLR on accuracies as fractions,
    mapped from [-1, 1] onto [0, 100] by 100 (e^alpha - e^-1) / (e - e^-1)."""
    alpha = (weight * ior - (1 - weight) * hlr) / 100
    return float(100 * (np.exp(alpha) - np.exp(-1)) / (np.e - np.exp(-1)))


def dd_ranking_scores(long: pd.DataFrame, weight: float = 0.5) -> pd.DataFrame:
    """HLR, IOR and LRS (points, points, %) per cell of a long summary with `hard_mean` / `soft_mean` columns.

    HLR = acc(real, hard) - acc(syn, hard): real is the Full Dataset row's cell; syn-hard is the hard protocol's
    mean, or the native mean where the method's own labels are hard (then the two protocols are the same training).
    IOR = acc(syn, any) - acc(random, any): the method under its own labels against Random under the same kind of
    labels: Random's native (hard) runs for a hard-label method, Random's soft-protocol runs for a method whose own
    labels are soft or learned. NaN where a needed cell was not run."""
    out = long.copy()
    for name in SCORES:
        out[name] = np.nan
    for i, r in out.iterrows():
        if r["method"] in (FULL,):
            continue
        same = out[(out["dataset"] == r["dataset"]) & (out["ipc"] == r["ipc"])]
        full = same.loc[same["method"] == FULL, "mean"]
        random = same[same["method"] == RANDOM]
        syn_hard = r["hard_mean"] if not np.isnan(r["hard_mean"]) else (np.nan if r["soft_labels"] else r["mean"])
        hlr = float(full.iloc[0]) - syn_hard if len(full) else np.nan
        rdm = (
            np.nan
            if random.empty
            else float(random["soft_mean"].iloc[0] if r["soft_labels"] else random["mean"].iloc[0])
        )
        ior = np.nan if r["method"] == RANDOM else r["mean"] - rdm
        out.loc[i, ["HLR", "IOR"]] = [hlr, ior]
        out.loc[i, "LRS"] = label_robust_score(hlr, ior, weight) if not (np.isnan(hlr) or np.isnan(ior)) else np.nan
    return out


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


def published_names(
    method: str, methods: Mapping[str, Mapping[str, Any]], source: Mapping[str, Any] | None = None
) -> list[str]:
    """The names a method goes by in the papers, most specific first: the reproduced table's own name for it
    (`tables.<t>.published.names`), then its `published_as` (a name or a list: DAViD calls MTT+VDSD "VDSD"), else its
    label."""
    names = [str((source or {}).get("names", {}).get(method, ""))]
    given = methods.get(method, {}).get("published_as")
    names += [given] if isinstance(given, str) else list(given or [method_label(method, methods)])
    return [n for n in dict.fromkeys(names) if n]


def published_number(
    published: pd.DataFrame,
    dataset: str | None,
    names: str | Sequence[str],
    ipc: int,
    metric: str,
    source: Mapping[str, Any] | None = None,
) -> tuple[float, float] | None:
    """The published (mean, std) of a cell, or None. With `source` ({paper, table}) only that table's rows count;
    otherwise the first paper listing the cell (all papers quote the same baseline numbers within rounding)."""
    if not dataset:
        return None
    rows = published[
        (published["dataset"] == dataset)
        & (published["ipc"].astype(str) == ("full" if ipc == 0 else str(ipc)))
        & (published["metric"] == metric)
    ]
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


def class_kinds(test_clips: pd.DataFrame, classes: pd.DataFrame) -> list[str]:
    """The kind of each label of a dataset (its test clips' label -> class, the generator's class -> kind), so a subset
    with its own labels (TR-synthetic) is matched by class name to its parent's classes.csv."""
    kind_of = dict(zip(classes["class"], classes["kind"], strict=True))
    labels = test_clips.drop_duplicates("label").sort_values("label")
    missing = sorted(set(labels["class"]) - set(kind_of))
    if missing:
        raise ValueError(f"classes {missing} have no kind in the generator's classes.csv")
    return [str(kind_of[c]) for c in labels["class"]]


def kind_accuracy(runs_of_cell: pd.DataFrame, kinds: Sequence[str]) -> dict[str, tuple[float, float]]:
    """Per kind: mean and population std over runs (in %) of each run's mean accuracy over that kind's classes
    (a class without test clips, NaN, is left out of its kind's mean)."""
    per_class = np.stack(runs_of_cell["per_class"].map(lambda a: np.asarray(a, dtype=float)).to_list())
    labels = np.asarray(kinds)
    if per_class.shape[1] != len(labels):
        raise ValueError(f"{per_class.shape[1]} per-class accuracies but {len(labels)} classes with a kind")
    order = [k for k in KIND_ORDER if k in labels] + sorted(set(labels) - set(KIND_ORDER))
    out = {}
    for kind in order:
        per_run = 100 * np.nanmean(per_class[:, labels == kind], axis=1)
        out[kind] = (float(per_run.mean()), float(per_run.std(ddof=0)))
    return out


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
    kinds: Mapping[str, Sequence[str]] | None = None,
    dd_weight: float = 0.5,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The wide table and the long summary (one row per cell, with published numbers and the difference, the difference
    to Random and its p-value, and per-kind accuracies for the datasets in `kinds`: dataset -> kind of each label), for
    the students of architecture `arch` (cross-architecture runs live in the runs file, not in this table)."""
    metric = spec.get("metric", "top1")
    kinds = kinds or {}
    runs, labelled = split_protocols(runs)
    labelled = labelled[labelled["arch"] == arch]
    cells, samples = [], {}
    for dataset, ipc, method, runs_of_cell in table_cells(runs[runs["arch"] == arch], spec):
        samples[dataset, ipc, method] = 100 * runs_of_cell[metric].to_numpy(dtype=float)
        stats = summarize(runs_of_cell, metric).iloc[0]
        key_ipc = 0 if method == FULL else ipc
        names = [FULL_LABEL] if method == FULL else published_names(method, methods, spec.get("published"))
        pub = published_number(published, published_as.get(dataset), names, key_ipc, metric, spec.get("published"))
        by_kind = kind_accuracy(runs_of_cell, kinds[dataset]) if dataset in kinds else {}
        by_labels = {}
        for labels in LABEL_PROTOCOLS:
            other = (
                labelled[
                    (labelled["protocol"] == labels)
                    & (labelled["dataset"] == dataset)
                    & (labelled["method"] == method)
                    & (labelled["ipc"] == ipc)
                ]
                if not labelled.empty
                else labelled
            )
            summary = summarize(other, metric).iloc[0] if len(other) else None
            by_labels[f"{labels}_mean"] = float(summary["mean"]) if summary is not None else np.nan
            by_labels[f"{labels}_std"] = float(summary["std"]) if summary is not None else np.nan
        soft_labels = bool(runs_of_cell["soft_labels"].any()) if "soft_labels" in runs_of_cell else False
        if not labelled.empty and np.isnan(by_labels["hard_mean"]) and not soft_labels and method != FULL:
            # a hard-label set's hard protocol is its native evaluation (the same training, evaluate.evaluate_set)
            by_labels.update(hard_mean=float(stats["mean"]), hard_std=float(stats["std"]))
        cells.append(
            dict(
                dataset=dataset,
                ipc=ipc,
                method=method,
                label=method_label(method, methods),
                mean=float(stats["mean"]),
                std=float(stats["std"]),
                runs=int(stats["runs"]),
                soft_labels=soft_labels,
                **by_labels,
                published_mean=pub[0] if pub else np.nan,
                published_std=pub[1] if pub else np.nan,
                **{f"{k}_classes_{part}": v for k, ms in by_kind.items() for part, v in zip(("mean", "std"), ms)},
            )
        )
    long = pd.DataFrame(cells)
    long["vs_random"], long["p_vs_random"] = zip(
        *(_vs_random(samples, r.dataset, r.ipc, r.method) for r in long.itertuples())
    )
    long["difference"] = long["mean"] - long["published_mean"]
    long["outside_2std"] = (long["difference"].abs() > 2 * long["published_std"].fillna(0)) & long[
        "published_mean"
    ].notna()
    # the scores stand beside tables whose config asks for label protocols (evaluation.label_protocols), only
    long = (
        dd_ranking_scores(long, dd_weight) if not labelled.empty else long.assign(**{name: np.nan for name in SCORES})
    )

    first = long[(long["dataset"] == long["dataset"].iloc[0]) & (long["ipc"] == long["ipc"].iloc[0])]
    wide = pd.DataFrame({"method": first["label"].tolist()})  # the rows, in table_cells' order
    for (dataset, ipc), cell in long.groupby(["dataset", "ipc"], sort=False):
        col = f"{dataset} IPC {ipc}"
        wide[col] = [f"{r.mean:.1f} ± {r.std:.1f}" for r in cell.itertuples()]
        if cell["published_mean"].notna().any():
            wide[f"{col} published"] = [_fmt(r.published_mean, r.published_std) for r in cell.itertuples()]
            wide[f"{col} difference"] = [
                "" if np.isnan(r.difference) else f"{r.difference:+.1f}" for r in cell.itertuples()
            ]
        if cell["vs_random"].notna().any():
            wide[f"{col} vs_random"] = [
                "" if np.isnan(r.vs_random) else f"{r.vs_random:+.1f}" for r in cell.itertuples()
            ]
            wide[f"{col} p_vs_random"] = [
                "" if np.isnan(r.p_vs_random) else f"{r.p_vs_random:.3g}" for r in cell.itertuples()
            ]
        for labels in LABEL_PROTOCOLS:
            if cell[f"{labels}_mean"].notna().any():
                wide[f"{col} {labels}"] = [
                    _fmt(m, sd) for m, sd in zip(cell[f"{labels}_mean"], cell[f"{labels}_std"], strict=True)
                ]
        for name in SCORES:
            if cell[name].notna().any():
                wide[f"{col} {name}"] = [
                    "" if np.isnan(v) else f"{v:+.1f}" if name != "LRS" else f"{v:.1f}" for v in cell[name]
                ]
        for kind in kinds_of(cell):
            wide[f"{col} {kind} classes"] = [
                _fmt(m, sd) for m, sd in zip(cell[f"{kind}_classes_mean"], cell[f"{kind}_classes_std"], strict=True)
            ]
    return wide, long


def _vs_random(
    samples: Mapping[tuple[str, int, str], np.ndarray], dataset: str, ipc: int, method: str
) -> tuple[float, float]:
    """A method's difference to Random (points) and Welch's two-sided p over runs; NaN for Random itself, the Full
    Dataset row (another recipe) and tables without Random. p is NaN where the test is undefined (fewer than two runs
    in a cell, or no spread in either)."""
    random = samples.get((dataset, ipc, RANDOM))
    if random is None or method in (RANDOM, FULL):
        return np.nan, np.nan
    test = welch(samples[dataset, ipc, method], random)
    return test.estimate, test.p


def kinds_of(long: pd.DataFrame) -> list[str]:
    """The class kinds with accuracy columns (`{kind}_classes_mean`) in a long summary, in their order."""
    suffix = "_classes_mean"
    return [c[: -len(suffix)] for c in long.columns if c.endswith(suffix) and long[c].notna().any()]


def storage_table(
    runs: pd.DataFrame, spec: Mapping[str, Any], methods: Mapping[str, Mapping[str, Any]]
) -> pd.DataFrame:
    """Bytes a method stores per dataset and IPC (the distilled set's tensors and labels, VDSD's hallucinator
    included; the Full Dataset row: every stored training frame), and the share of the full dataset they are.
    One row per cell, in the table's order."""
    full_bytes = runs[runs["method"] == FULL].groupby("dataset")["storage_bytes"].max()
    rows = []
    for dataset, ipc, method, runs_of_cell in table_cells(runs, spec):
        stored = int(runs_of_cell["storage_bytes"].max())
        rows.append(
            dict(
                dataset=dataset,
                ipc=ipc,
                method=method,
                label=method_label(method, methods),
                storage_bytes=stored,
                storage_mb=stored / 2**20,
                share_of_full=stored / full_bytes.get(dataset, np.nan),
            )
        )
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


def render_markdown(wide: pd.DataFrame, long: pd.DataFrame, title: str, protocol_note: str, alpha: float = 0.05) -> str:
    """A markdown table; a cell outside the published mean ± 2 std is marked with †, a difference to Random with
    p < alpha with *. The p-values themselves stay in the CSV; the per-kind accuracies follow as their own table."""
    flagged = {(r.label, f"{r.dataset} IPC {r.ipc}") for r in long.itertuples() if r.outside_2std}
    significant = {(r.label, f"{r.dataset} IPC {r.ipc} vs_random") for r in long.itertuples() if r.p_vs_random < alpha}
    extra = tuple(f" {x}" for x in (*LABEL_PROTOCOLS, *SCORES))
    columns = [c for c in wide.columns if not c.endswith((" p_vs_random", " classes", *extra))]
    header = "| " + " | ".join(columns) + " |"
    lines = [f"# {title}", "", protocol_note, "", header, "|" + "---|" * len(columns)]
    for _, row in wide.iterrows():
        cells = [
            f"{row[c]} †"
            if (row["method"], c) in flagged
            else f"{row[c]} *"
            if (row["method"], c) in significant
            else str(row[c])
            for c in columns
        ]
        lines.append("| " + " | ".join(cells) + " |")
    notes = (["† outside the published mean ± 2 std."] if flagged else []) + (
        [f"* differs from Random at p < {alpha:g} (Welch's t-test over runs, two-sided; p-values in the CSV)."]
        if long["vs_random"].notna().any()
        else []
    )
    lines += ["", *notes] if notes else []
    label_columns = [c for c in wide.columns if c.endswith(extra)]
    if label_columns:
        shown = [c for c in wide.columns if re.fullmatch(r".+ IPC \d+", c)]
        cols = [c for cell in shown for c in (cell, *(f"{cell}{x}" for x in extra)) if c in wide.columns]
        lines += [
            "",
            "## Label protocols and DD-Ranking scores",
            "",
            "Each method under its own labels, under hard labels (one-hot classes) and under the teacher's soft "
            "labels; HLR = Full Dataset − the method under hard labels, IOR = the method under its own labels − "
            "Random under the same kind of labels (points), LRS = DD-Ranking's label-robust score (%; "
            "docs/dd_ranking.md).",
            "",
            "| method | " + " | ".join(c if c in shown else c.rsplit(" ", 1)[1] for c in cols) + " |",
            "|" + "---|" * (len(cols) + 1),
        ]
        lines += ["| " + " | ".join([row["method"], *(str(row[c]) for c in cols)]) + " |" for _, row in wide.iterrows()]
    kind_columns = [c for c in wide.columns if c.endswith(" classes")]
    if kind_columns:
        lines += [
            "",
            "## Accuracy by class kind (mean ± std over the same runs)",
            "",
            "| method | " + " | ".join(kind_columns) + " |",
            "|" + "---|" * (len(kind_columns) + 1),
        ]
        lines += [
            "| " + " | ".join([row["method"], *(str(row[c]) for c in kind_columns)]) + " |"
            for _, row in wide.iterrows()
        ]
    return "\n".join(lines) + "\n"


def device_note(runs: pd.DataFrame) -> str:
    """Where the table's numbers were computed (evaluation and distillation device / precision), saying MIXED when its
    runs differ: after a switch the workflow reruns every result the switch changes, so a mix means rows copied in
    from elsewhere, and the reader is told."""
    combos: dict[str, int] = {}
    for prefix, what in (("", "evaluated"), ("distill_", "distilled")):
        dev, prec = f"{prefix}device", f"{prefix}precision"
        if dev not in runs:
            continue
        rows = runs[runs[dev].notna()] if prefix else runs[runs[dev].notna() & (runs["method"] != "full")]
        for (d, p), n in rows.groupby([dev, prec], dropna=False).size().items():
            key = f"{what} on {d} ({p})"
            combos[key] = combos.get(key, 0) + int(n)
    if not combos:
        return "device not recorded"
    devices = {k.split(" on ", 1)[1] for k in combos}
    text = ", ".join(f"{k}: {n} runs" for k, n in combos.items()) if len(devices) > 1 else ", ".join(combos)
    return ("MIXED devices / precisions: " if len(devices) > 1 else "") + text


def protocol_note(
    runs: pd.DataFrame,
    protocol: Mapping[str, Any],
    metric: str,
    labelled: pd.DataFrame | None = None,
    soft: Mapping[str, Any] | None = None,
) -> str:
    selection = ", ".join(sorted(runs["selection"].unique()))
    soft_note = (
        "soft labels used by: " + ", ".join(sorted(runs.loc[runs["soft_labels"], "method"].unique()))
        if runs["soft_labels"].any()
        else "hard labels throughout"
    )
    label = (
        "BEST-ON-TEST selection (inflated, as the reference code logs)"
        if "best_on_test" in selection
        else "final-epoch accuracy"
    )
    return (
        f"{metric} accuracy (%), mean ± std over {runs.groupby(['dataset', 'method', 'ipc']).size().min()}+ runs "
        f"({len(runs['distill_seed'].unique())} distillation seed(s) × {protocol.get('runs')} evaluation runs); "
        f"{label}; "
        f"students: {', '.join(sorted(runs['arch'].unique()))}, {protocol.get('epochs')} epochs on distilled sets, "
        f"{protocol.get('test_passes')} test passes; no augmentation of synthetic data unless a method's expansion "
        f"adds it; {soft_note}{own_recipes(runs, protocol)}; {device_note(runs)}.{_labels_note(labelled, soft)}"
    )


def own_recipes(runs: pd.DataFrame, protocol: Mapping[str, Any]) -> str:
    """The methods whose students trained by a recipe of their own (`methods.<name>.evaluation`: FRePo's AdamW at
    lr 1e-4 for 1,000 epochs), named with it, so a table never hides that its rows were trained differently."""
    keys = [k for k in ("epochs", "optimizer", "schedule") if k in runs.columns]
    default = {
        "epochs": protocol.get("epochs"),
        "optimizer": protocol.get("optimizer", "sgd"),
        "schedule": protocol.get("schedule", "step"),
    }
    own = []
    for method, rows in runs[runs["method"] != "full"].groupby("method", sort=True):
        first = rows.iloc[0]
        if any(first[k] != default[k] for k in keys):
            own.append(
                f"{method} ({first.get('optimizer', 'sgd')}, lr {first['lr']:g}, {first['epochs']} epochs, "
                f"{first.get('schedule', 'step')})"
            )
    return "; students trained by their method's own recipe: " + ", ".join(own) if own else ""


def _labels_note(labelled: pd.DataFrame | None, soft: Mapping[str, Any] | None) -> str:
    """Which methods the hard / soft protocols cover, and the soft protocol's teacher and temperature."""
    if labelled is None or labelled.empty:
        return ""
    parts = [
        f"{labels} labels: " + ", ".join(sorted(labelled.loc[labelled["protocol"] == labels, "method"].unique()))
        for labels in LABEL_PROTOCOLS
        if (labelled["protocol"] == labels).any()
    ]
    teacher = (
        f" (teacher {soft.get('teacher') or 'default'}, temperature {soft.get('temperature', 1.0):g})" if soft else ""
    )
    return " Also evaluated under " + "; ".join(parts) + teacher + "."
