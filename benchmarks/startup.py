"""What a job that computes nothing costs: the Random coreset (a few clips copied) run as real workflow jobs, with the
warm start (config `warm_start: true`, vidstill/warm.py) and without it, alternated in one session.

    uv run python benchmarks/startup.py [--jobs 10] [--rounds 2] [--cores 2]

In a scratch directory (the workflow linked in) the default config's data stage is built once; then each round
force-runs `--jobs` Random distillations (seeds 0..jobs-1 of `synthetic` at IPC 1) cold and warm. Reported per mode:
the median of the jobs' own wall time (Snakemake's benchmark `s`), the whole command's wall time, and the median
peak RSS the job measured (warm: the forked child's own, from `<log>.usage.json`). Writes
results/benchmarks/startup.json. Multiply the per-job figure by a run's job count for the start-up share of that run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run(work: Path, *args: str) -> float:
    cmd = [sys.executable, "-m", "snakemake", *args]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{proc.stderr[-4000:]}")
    return time.perf_counter() - start


def job_figures(work: Path, targets: list[str]) -> dict[str, float]:
    seconds, rss = [], []
    for t in targets:
        seed = Path(t).stem
        bench = work / f"results/benchmarks/distill/synthetic/random_ipc1_{seed}.tsv"
        header, values = bench.read_text().splitlines()[:2]
        row = dict(zip(header.split("\t"), values.split("\t")))
        seconds.append(float(row["s"]))
        usage = work / f"results/logs/distill/synthetic/random_ipc1_{seed}.log.usage.json"
        rss.append(json.loads(usage.read_text())["max_rss_mb"] if usage.exists() else float(row["max_rss"]))
    return {"job_s_median": statistics.median(seconds), "job_s": seconds, "rss_mb_median": statistics.median(rss)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jobs", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--cores", default="2")
    ap.add_argument("--out", default=str(REPO / "results/benchmarks/startup.json"))
    args = ap.parse_args()
    targets = [f"results/synthetic/distilled/random/ipc1/seed{s}.safetensors" for s in range(args.jobs)]
    rounds: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="vidstill-startup-") as tmp:
        work = Path(tmp)
        for name in ("Snakefile", "workflow", "resources", "profiles", "config"):
            (work / name).symlink_to(REPO / name)
        run(work, "--cores", args.cores, "results/synthetic/clips/train.parquet")
        for r in range(args.rounds):
            for warm in (False, True):
                # Targets first: --config takes every word after it.
                wall = run(
                    work, *targets, "--cores", args.cores, "--forcerun", "distill", "--config", f"warm_start={warm}"
                )
                rounds.append({"round": r, "warm": warm, "wall_s": wall, **job_figures(work, targets)})
                print(json.dumps({k: v for k, v in rounds[-1].items() if k != "job_s"}))
    summary = {
        mode: {
            "job_s_median": statistics.median(x["job_s_median"] for x in rounds if x["warm"] == warm),
            "wall_s_median": statistics.median(x["wall_s"] for x in rounds if x["warm"] == warm),
            "rss_mb_median": statistics.median(x["rss_mb_median"] for x in rounds if x["warm"] == warm),
        }
        for mode, warm in (("cold", False), ("warm", True))
    }
    summary["ratio_cold_over_warm"] = summary["cold"]["job_s_median"] / summary["warm"]["job_s_median"]
    result = {"jobs": args.jobs, "rounds": rounds, "summary": summary}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
