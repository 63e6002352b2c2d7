"""The claims table: the seed papers' central claims, each turned into a test on our own runs and a computed verdict.

A claim is defined in the config (`claims.statements`), never written into a table by hand. Three kinds:

- `compare`: each of `methods` beats `baseline` on each of `datasets` at each IPC (one row per method × dataset ×
  IPC): Welch's t-test over the two cells' evaluation runs.
- `gain`: `method`'s gain over `baseline` is larger on dataset `larger_on` than on `than_on` (one row per IPC): the
  four-cell contrast (m − b on the first) − (m − b on the second), Welch–Satterthwaite degrees of freedom.
- `resolution`: DAViD's chosen temporal resolution per class rises with the class's Δ (one row per dataset × IPC):
  Spearman's ρ over the classes of results/tables/david_resolution.csv, permutation p-value.
- `keyframes`: PRISM's number of key frames per class rises with the class's Δ (it gives motion classes more key
  frames): the same test over results/tables/prism_keyframes.csv.

Both cells of a comparison come from one table, the first of `claims.tables` (a list: the tables the claims rest on,
in order of preference) that has all of them, so they share its recipe and metric. Rows are sorted by claim id, so
reordering the config's keys changes neither the table nor its inputs.

Verdicts, at level α: *holds* when the claim's test is significant in the claimed direction; *fails* when the same
test is significant in the opposite direction; *inconclusive* otherwise (including an undefined test: fewer than two
runs, or no spread); *not run* when no table of `claims.tables` (or the per-class report) has the claim's cells, so a
claim is never silently dropped.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from vidstill.report.stats import TestResult, spearman_permutation, welch_contrast

KINDS = ("compare", "gain", "resolution", "keyframes")
HOLDS, FAILS, INCONCLUSIVE, NOT_RUN = "holds", "fails", "inconclusive", "not run"
RESOLUTION_SOURCE = "david_resolution"
KEYFRAMES_SOURCE = "prism_keyframes"
# The per-class kinds: the report each reads (its config block and results/tables/<name>.csv), the report's value
# column, and the method the report covers by default.
PER_CLASS = {
    "resolution": (RESOLUTION_SOURCE, "resolution", "david"),
    "keyframes": (KEYFRAMES_SOURCE, "keyframes", "prism"),
}

Cell = tuple[str, int, str]  # dataset, IPC, method


def source_table(tables: Mapping[str, Mapping[str, Any]], cells: Iterable[Cell]) -> str | None:
    """The first of `tables` (in its order: the claims' preference) that has every one of `cells`, or None."""
    cells = list(cells)
    for name, spec in tables.items():
        if all(d in spec["datasets"] and i in spec["ipc"] and m in spec["methods"] for d, i, m in cells):
            return name
    return None


def plan_claims(
    statements: Mapping[str, Mapping[str, Any]],
    tables: Mapping[str, Mapping[str, Any]],
    sources: Sequence[str],
    resolution: Mapping[str, Any] | None,
    methods: Iterable[str],
    datasets: Iterable[str],
    keyframes: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """One row per tested instance of every claim (claims sorted by id), with the table of `sources` (or the per-class
    report: `resolution` is the david_resolution config block, `keyframes` the prism_keyframes one) that holds its
    inputs and that table's metric; rows whose inputs none has carry table None and the reason.
    A source that is not a configured table is skipped (a configuration without table1 plans its claims as not run);
    a claim naming a method or dataset the config does not define is a config error (ValueError naming the key), not
    a claim that was not run."""
    methods, datasets = set(methods), set(datasets)
    tables = {t: tables[t] for t in sources if t in tables}
    rows = []
    for claim, spec in sorted(statements.items()):
        kind = spec["kind"]
        if kind not in KINDS:
            raise ValueError(f"claims.statements.{claim}.kind must be one of {KINDS}, got {kind!r}")
        named = [
            *spec.get("methods", []),
            *([spec["method"]] if "method" in spec else []),
            *([spec["baseline"]] if "baseline" in spec else []),
        ]
        for m in named:
            if m not in methods:
                raise ValueError(f"claims.statements.{claim} names method {m!r}, which methods does not define")
        for d in [*spec.get("datasets", []), *(spec[k] for k in ("larger_on", "than_on") if k in spec)]:
            if d not in datasets:
                raise ValueError(f"claims.statements.{claim} names dataset {d!r}, which datasets does not define")
        base = dict(
            claim=claim,
            kind=kind,
            text=spec.get("text", ""),
            paper=spec.get("paper", ""),
            sided=spec.get("sided", "one"),
        )
        if kind == "compare":
            for dataset in spec["datasets"]:
                for ipc in spec["ipc"]:
                    for method in spec["methods"]:
                        cells = [(dataset, ipc, method), (dataset, ipc, spec["baseline"])]
                        rows.append(
                            _table_row(base, tables, cells, [1.0, -1.0], method, spec["baseline"], [dataset], ipc)
                        )
        elif kind == "gain":
            m, b, hi, lo = spec["method"], spec["baseline"], spec["larger_on"], spec["than_on"]
            for ipc in spec["ipc"]:
                cells = [(hi, ipc, m), (hi, ipc, b), (lo, ipc, m), (lo, ipc, b)]
                rows.append(_table_row(base, tables, cells, [1.0, -1.0, -1.0, 1.0], m, b, [hi, lo], ipc))
        else:
            source, _, default = PER_CLASS[kind]
            report = resolution if kind == "resolution" else keyframes
            method = spec.get("method", (report or {}).get("method", default))
            for dataset in spec["datasets"]:
                for ipc in spec["ipc"]:
                    covered = (
                        report is not None
                        and dataset in report["datasets"]
                        and ipc in report.get("ipc", [1])
                        and report.get("method", default) == method
                    )
                    rows.append(
                        dict(
                            base,
                            method=method,
                            baseline="",
                            datasets=[dataset],
                            ipc=ipc,
                            cells=[],
                            weights=[],
                            table=source if covered else None,
                            metric="",
                            reason="" if covered else f"{source} does not cover {method} on {dataset} at IPC {ipc}",
                        )
                    )
    return rows


def _table_row(
    base: Mapping[str, Any],
    tables: Mapping[str, Mapping[str, Any]],
    cells: Sequence[Cell],
    weights: Sequence[float],
    method: str,
    baseline: str,
    datasets: Sequence[str],
    ipc: int,
) -> dict[str, Any]:
    table = source_table(tables, cells)
    missing = (
        ""
        if table
        else f"no table of claims.tables ({', '.join(tables) or 'none configured'}) has "
        + ", ".join(f"{m} on {d} at IPC {i}" for d, i, m in cells)
    )
    return dict(
        base,
        method=method,
        baseline=baseline,
        datasets=list(datasets),
        ipc=ipc,
        cells=[list(c) for c in cells],
        weights=list(weights),
        table=table,
        metric=tables[table].get("metric", "top1") if table else "",
        reason=missing,
    )


def verdict(claimed: TestResult, opposite: TestResult, alpha: float) -> str:
    """holds / fails / inconclusive from the claim's test and the same test in the opposite direction."""
    if not math.isnan(claimed.p) and claimed.p < alpha:
        return HOLDS
    if not math.isnan(opposite.p) and opposite.p < alpha:
        return FAILS
    return INCONCLUSIVE


def _tests(sided: str, run) -> tuple[TestResult, TestResult]:
    """The claim's test ("greater") and its opposite ("less"); a two-sided claim uses the two-sided p for both, the
    direction taken from the estimate's sign."""
    if sided == "one":
        return run("greater"), run("less")
    if sided != "two":
        raise ValueError(f"sided must be one or two, got {sided!r}")
    both = run("two-sided")
    nan = TestResult(both.estimate, both.statistic, both.df, math.nan, both.test)
    return (both, nan) if both.estimate > 0 else (nan, both) if both.estimate < 0 else (both, nan)


def evaluate_claims(
    plan: Sequence[Mapping[str, Any]],
    runs: Mapping[str, pd.DataFrame],
    resolution: pd.DataFrame | None,
    arch: str,
    labels: Mapping[str, str],
    alpha: float,
    permutations: int = 10000,
    seed: int = 0,
    keyframes: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The claims table: one row per planned instance with the numbers it rests on, its test and verdict.

    `runs[table]` is a table's runs (the `{table}_runs.parquet` artifact); `resolution` is david_resolution.csv,
    `keyframes` prism_keyframes.csv."""
    out = []

    def label(method: str) -> str:
        return labels.get(method, method)

    for row in plan:
        record = dict(
            claim=row["claim"],
            paper=row["paper"],
            kind=row["kind"],
            statement=_statement(row, label),
            dataset=" vs ".join(row["datasets"]),
            ipc=row["ipc"],
            method=row["method"],
            baseline=row["baseline"],
            source=row["table"] or "",
            metric=row["metric"],
            numbers="",
            n=0,
            estimate=math.nan,
            test="",
            alternative=f"{'one' if row['sided'] == 'one' else 'two'}-sided",
            statistic=math.nan,
            df=math.nan,
            p_value=math.nan,
            alpha=alpha,
            verdict=NOT_RUN,
            reason=row["reason"],
        )
        if row["table"] is None:
            out.append(record)
            continue
        if row["kind"] in PER_CLASS:
            source, column, _ = PER_CLASS[row["kind"]]
            report = resolution if row["kind"] == "resolution" else keyframes
            sub = (
                report[(report["dataset"] == row["datasets"][0]) & (report["ipc"] == row["ipc"])]
                if report is not None
                else pd.DataFrame()
            )
            if sub.empty:
                out.append({**record, "reason": f"no classes of {row['datasets'][0]} at IPC {row['ipc']} in {source}"})
                continue
            x, y = sub["delta"].to_numpy(float), sub[column].to_numpy(float)
            claimed, opposite = _tests(row["sided"], lambda alt: spearman_permutation(x, y, alt, permutations, seed))
            numbers = _per_class_numbers(sub, column)
            n = len(sub)
        else:
            samples = [_cell_runs(runs[row["table"]], cell, arch, row["metric"]) for cell in row["cells"]]
            empty = [c for c, s in zip(row["cells"], samples, strict=True) if len(s) == 0]
            if empty:
                out.append(
                    {
                        **record,
                        "verdict": NOT_RUN,
                        "reason": "no runs for " + ", ".join(f"{m} on {d} at IPC {i}" for d, i, m in empty),
                    }
                )
                continue
            claimed, opposite = _tests(row["sided"], lambda alt: welch_contrast(samples, row["weights"], alt))
            numbers = "; ".join(
                f"{label(m)} on {d}: {s.mean():.1f} ± {s.std(ddof=0):.1f} (n={len(s)})"
                for (d, _, m), s in zip(row["cells"], samples, strict=True)
            )
            n = sum(len(s) for s in samples)
            if row["kind"] == "compare":
                record |= _cell_columns("method", samples[0]) | _cell_columns("baseline", samples[1])
        shown = claimed if not math.isnan(claimed.p) else opposite
        out.append(
            {
                **record,
                "numbers": numbers,
                "n": n,
                "estimate": shown.estimate,
                "test": shown.test,
                "statistic": shown.statistic,
                "df": shown.df,
                "p_value": claimed.p if row["sided"] == "one" else shown.p,
                "verdict": verdict(claimed, opposite, alpha),
                "reason": "",
            }
        )
    columns = list(dict.fromkeys([k for r in out for k in r]))
    return pd.DataFrame(out, columns=columns)


def _cell_runs(runs: pd.DataFrame, cell: Sequence[Any], arch: str, metric: str) -> np.ndarray:
    dataset, ipc, method = cell
    sel = runs[
        (runs["dataset"] == dataset) & (runs["ipc"] == int(ipc)) & (runs["method"] == method) & (runs["arch"] == arch)
    ]
    return 100 * sel[metric].to_numpy(dtype=float)


def _cell_columns(prefix: str, s: np.ndarray) -> dict[str, float]:
    """Mean and std as the tables print them (the population std over runs, the papers' convention); the tests use the
    sample variances."""
    return {f"mean_{prefix}": float(s.mean()), f"std_{prefix}": float(s.std(ddof=0)), f"n_{prefix}": len(s)}


def _per_class_numbers(sub: pd.DataFrame, column: str) -> str:
    """Mean of the per-class value (resolution, key frames) per class kind where the dataset declares kinds, and the
    number of (class, seed) rows."""
    parts = [f"{k}: mean {column} {g[column].mean():.2f} over {len(g)}" for k, g in sub.groupby("kind") if k]
    return "; ".join(
        parts + [f"{len(sub)} class × seed rows, Δ from {sub['delta'].min():.3f} to {sub['delta'].max():.3f}"]
    )


def _statement(row: Mapping[str, Any], label) -> str:
    m, b, ipc = label(row["method"]), label(row["baseline"]), row["ipc"]
    if row["kind"] == "compare":
        return f"{m} > {b} on {row['datasets'][0]} at IPC {ipc}"
    if row["kind"] == "gain":
        hi, lo = row["datasets"]
        return f"{m} − {b} on {hi} > {m} − {b} on {lo} at IPC {ipc}"
    if row["kind"] == "keyframes":
        return f"{m}'s key frames per class rise with Δ on {row['datasets'][0]} at IPC {ipc}"
    return f"{m}'s temporal resolution per class rises with Δ on {row['datasets'][0]} at IPC {ipc}"


VERDICT_ORDER = (HOLDS, FAILS, INCONCLUSIVE, NOT_RUN)


def render_claims_markdown(table: pd.DataFrame, alpha: float) -> str:
    """The claims table as markdown, with a count of each verdict first."""
    counts = table["verdict"].value_counts() if len(table) else pd.Series(dtype=int)
    summary = ", ".join(f"{counts.get(v, 0)} {v}" for v in VERDICT_ORDER)
    lines = [
        "# Claims of the seed papers, tested on our runs",
        "",
        f"Level α = {alpha:g}. holds: significant in the claimed direction; fails: significant in the opposite "
        "direction; inconclusive: neither; not run: no table of claims.tables (or per-class report) has the claim's "
        f"cells. {summary}.",
        "",
        "| claim | paper | statement | numbers (mean ± std, n) | test | estimate | p | verdict |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in table.itertuples():
        p = "" if math.isnan(r.p_value) else f"{r.p_value:.3g}"
        est = "" if math.isnan(r.estimate) else f"{r.estimate:+.3g}"
        what = r.numbers or r.reason
        lines.append(
            f"| {r.claim} | {r.paper} | {r.statement} | {what} | {r.test} {r.alternative if r.test else ''} | "
            f"{est} | {p} | **{r.verdict}** |"
        )
    return "\n".join(lines) + "\n"
