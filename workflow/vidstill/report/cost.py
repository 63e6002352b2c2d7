"""What the tables cost: every job behind them with its wall time, CPU time and peak memory, from the `benchmark:`
file Snakemake writes for each job (`results/benchmarks/`), plus the device, precision and peak GPU memory every
job that runs a network records beside its log (a benchmark file sees only host memory). The papers report accuracy; a
user deciding whether to run a table also needs its price, per method and in total.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vidstill.io import read_parquet_metadata, read_tensors_metadata

# Snakemake benchmark columns we keep, renamed: seconds of wall time, MB of peak resident memory, seconds of CPU time.
BENCHMARK_COLUMNS = {"s": "wall_s", "max_rss": "max_rss_mb", "cpu_time": "cpu_s", "mean_load": "mean_load"}
JOB_KEYS = ("stage", "dataset", "method", "ipc", "seed", "job")
STAGES = (
    "data",
    "ranking",
    "teacher",
    "expert",
    "crops",
    "distill",
    "evaluate",
    "evaluate_hard",
    "evaluate_soft",
    "evaluate_full",
)  # pipeline order


def read_benchmark(path: str | Path) -> dict[str, float]:
    """The first (only) measurement of a Snakemake benchmark file; a file without one is an error naming it."""
    table = pd.read_csv(path, sep="\t")
    missing = [c for c in BENCHMARK_COLUMNS if c not in table.columns]
    if table.empty or missing:
        raise ValueError(f"{path}: not a Snakemake benchmark file (no measurement, or missing columns {missing})")
    row = table.iloc[0]
    return {
        name: float(row[col]) if pd.notna(row[col]) and row[col] != "NA" else np.nan
        for col, name in BENCHMARK_COLUMNS.items()
    }


def gpu_peak_mb(artifact: str | Path | None) -> float:
    """The peak GPU memory a distill (safetensors) or evaluate (parquet) job recorded, in MB; NaN on CPU runs and for
    artifacts written before jobs recorded it."""
    if not artifact or not Path(artifact).exists():
        return np.nan
    path = Path(artifact)
    meta = read_tensors_metadata(path).get("meta", {}) if path.suffix == ".safetensors" else read_parquet_metadata(path)
    value = meta.get("gpu_peak_memory_bytes")
    return float(value) / 2**20 if value is not None else np.nan


def read_device_record(log: str | Path | None) -> dict[str, Any] | None:
    """What a job ran on and its peak GPU memory, as the job wrote it beside its log (`<log>.device.json`,
    runtime.Runtime.write_record): every training job writes one, so the GPU column covers every stage."""
    path = Path(f"{log}.device.json") if log else None
    if path is None or not path.is_file():
        return None
    import json

    return json.loads(path.read_text())


def read_usage(path: str | Path | None) -> dict[str, float] | None:
    """CPU time and peak RSS a warm-started job measured in itself (vidstill/warm.py writes `<log>.usage.json`): its
    benchmark file then saw only the small process that handed the job over, so these replace that file's columns."""
    if not path or not Path(path).is_file():
        return None
    import json

    usage = json.loads(Path(path).read_text())
    return {"cpu_s": float(usage["cpu_s"]), "max_rss_mb": float(usage["max_rss_mb"])}


def gather_costs(jobs: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per job: its keys (stage, dataset, method, ipc, seed, job), the measured columns and where they came
    from. A job whose benchmark file is missing (results made by a workflow without `benchmark:`, or copied without
    results/benchmarks/) keeps its row with NaN and `measured` False: a gap is shown, never silently dropped."""
    rows = []
    for job in jobs:
        bench = Path(job["benchmark"])
        measured = bench.exists()
        values = read_benchmark(bench) if measured else dict.fromkeys(BENCHMARK_COLUMNS.values(), np.nan)
        if measured and (usage := read_usage(job.get("usage"))):
            values.update(usage)
        record = read_device_record(job.get("log"))
        if record is not None:
            peak = record.get("gpu_peak_memory_bytes")
            gpu = float(peak) / 2**20 if peak is not None else np.nan
        else:  # artifacts written before jobs recorded themselves beside their logs
            gpu = gpu_peak_mb(job.get("artifact"))
        rows.append(
            {
                **{k: job.get(k, "") for k in JOB_KEYS},
                **values,
                "gpu_peak_mb": gpu,
                "device": (record or {}).get("device", ""),
                "precision": (record or {}).get("precision", ""),
                "measured": measured,
                "benchmark": str(bench),
            }
        )
    columns = [*JOB_KEYS, *BENCHMARK_COLUMNS.values(), "gpu_peak_mb", "device", "precision", "measured", "benchmark"]
    out = pd.DataFrame(rows, columns=columns)
    unknown = set(out["stage"]) - set(STAGES)
    if unknown:
        raise ValueError(f"unknown stage(s) {sorted(unknown)}; known: {STAGES}")
    out["ipc"] = pd.to_numeric(out["ipc"], errors="coerce").astype("Int64")
    out["seed"] = pd.to_numeric(out["seed"], errors="coerce").astype("Int64")
    order = out["stage"].map(STAGES.index)
    return (
        out.assign(_order=order)
        .sort_values(["_order", "dataset", "method", "ipc", "seed", "job"], kind="stable")
        .drop(columns="_order")
        .reset_index(drop=True)
    )


def cost_summary(costs: pd.DataFrame) -> pd.DataFrame:
    """Per stage and method: jobs, total and largest wall time, total CPU time, largest peak memory (host and GPU).
    Shared stages (data, teachers, experts, crops, ranking) have no method and are summed per stage."""
    g = costs.groupby(["stage", "method"], sort=False, dropna=False)
    return g.agg(
        jobs=("wall_s", "size"),
        measured=("measured", "sum"),
        wall_s=("wall_s", "sum"),
        max_job_s=("wall_s", "max"),
        cpu_s=("cpu_s", "sum"),
        max_rss_mb=("max_rss_mb", "max"),
        gpu_peak_mb=("gpu_peak_mb", "max"),
        device=("device", _kinds),
        precision=("precision", _kinds),
    ).reset_index()


def _kinds(values: pd.Series) -> str:
    """The distinct non-empty values of a column, joined (one value when the stage ran on one device / precision)."""
    return "/".join(sorted({str(v) for v in values if isinstance(v, str) and v}))


def render_cost_markdown(costs: pd.DataFrame, labels: Mapping[str, str], note: str = "") -> str:
    """The summary as markdown, with the total of job seconds (what a one-core-at-a-time run would take; a parallel run
    takes less wall time) and the count of jobs without a benchmark file."""
    summary = cost_summary(costs)
    lines = [
        "# Cost of the tables",
        "",
        note,
        "",
        "| stage | method | jobs | job time (s) | longest job (s) | CPU time (s) | peak RSS (MB) | peak GPU (MB) "
        "| device | precision |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in summary.itertuples():
        gpu = "" if np.isnan(r.gpu_peak_mb) else f"{r.gpu_peak_mb:.0f}"
        name = "Full Dataset" if r.method == "full" else labels.get(r.method, r.method)
        lines.append(
            f"| {r.stage} | {name} | {r.jobs} | {r.wall_s:.1f} | {r.max_job_s:.1f} | "
            f"{r.cpu_s:.1f} | {r.max_rss_mb:.0f} | {gpu} | {r.device} | {r.precision} |"
        )
    unmeasured = int((~costs["measured"]).sum())
    lines += [
        "",
        f"Total: {len(costs)} jobs, {costs['wall_s'].sum():.0f} s of job time, {costs['cpu_s'].sum():.0f} s of CPU time"
        + (f"; {unmeasured} job(s) without a benchmark file (not counted)." if unmeasured else "."),
    ]
    return "\n".join(lines) + "\n"
