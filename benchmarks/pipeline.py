"""End-to-end wall time of a workflow target from scratch, with the per-rule breakdown of job time.

    uv run python benchmarks/pipeline.py [--target results/tables/table1.csv]
        [--configfile config/config.yaml [OVERLAY ...]] [--cores 2] [--keep DIR]

Runs snakemake in a fresh directory (the workflow linked in, nothing computed), so nothing cached is reused, and
reads every job's Snakemake `benchmark:` file to total the seconds per rule. Writes results/benchmarks/pipeline.json.
The default target on the default config is the "20 minutes on the 2-core machine" budget of the project.

The start-up share is the job count times the cost of a job that computes nothing (the Random coreset, measured by
benchmarks/startup.py in the same mode: `--startup results/benchmarks/startup.json`), over the summed job time.
`--config warm_start=false` (passed through with --set) runs every job cold.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target", default="results/tables/table1.csv")
    ap.add_argument(
        "--configfile",
        nargs="+",
        default=["config/config.yaml"],
        help="config files, merged in order (each later one over the earlier: config/config.yaml first)",
    )
    ap.add_argument("--cores", default="2")
    ap.add_argument("--out", default=str(REPO / "results/benchmarks/pipeline.json"))
    ap.add_argument("--keep", help="copy the run's results/ here (tables, logs, artifacts) before the scratch dir goes")
    ap.add_argument("--set", nargs="*", default=[], help="config overrides passed to snakemake --config (KEY=VALUE)")
    ap.add_argument("--startup", help="benchmarks/startup.py's JSON: the per-job cost of a job that computes nothing")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="vidstill-pipeline-") as tmp:
        work = Path(tmp)
        for name in ("Snakefile", "workflow", "resources", "profiles", "config"):
            (work / name).symlink_to(REPO / name)
        cmd = [sys.executable, "-m", "snakemake", args.target, "--cores", args.cores, "--configfile", *args.configfile]
        cmd += ["--config", *args.set] if args.set else []
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            sys.exit(f"snakemake failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
        per_rule: dict[str, dict[str, float]] = defaultdict(lambda: {"jobs": 0, "seconds": 0.0, "max_rss_mb": 0.0})
        for tsv in (work / "results/benchmarks").rglob("*.tsv"):
            header, values = tsv.read_text().splitlines()[:2]
            row = dict(zip(header.split("\t"), values.split("\t")))
            rule = tsv.relative_to(work / "results/benchmarks").parts[0]
            per_rule[rule]["jobs"] += 1
            per_rule[rule]["seconds"] += float(row["s"])
            per_rule[rule]["max_rss_mb"] = max(per_rule[rule]["max_rss_mb"], float(row.get("max_rss", 0) or 0))
        if args.keep:
            shutil.copytree(work / "results", args.keep, dirs_exist_ok=True)
    jobs = sum(int(r["jobs"]) for r in per_rule.values())
    job_seconds = sum(r["seconds"] for r in per_rule.values())
    result = {
        "target": args.target,
        "configfile": args.configfile,
        "config": args.set,
        "cores": args.cores,
        "wall_seconds": wall,
        "jobs": jobs,
        "job_seconds": job_seconds,
        "per_rule": dict(sorted(per_rule.items(), key=lambda kv: -kv[1]["seconds"])),
    }
    if args.startup:
        warm = not any(s.replace(" ", "").lower() == "warm_start=false" for s in args.set)
        null_job = json.loads(Path(args.startup).read_text())["summary"]["warm" if warm else "cold"]["job_s_median"]
        result["startup"] = {
            "mode": "warm" if warm else "cold",
            "null_job_seconds": null_job,
            "startup_seconds": jobs * null_job,
            "startup_share": jobs * null_job / job_seconds,
        }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
