"""The workflow on a real SLURM: a single-node cluster started for the test (tests/slurm_cluster.py), the smoke
configuration's table through snakemake-executor-plugin-slurm with profiles/slurm, every job an sbatch job."""

import subprocess
import sys
import time

import pandas as pd
import pytest
import slurm_cluster
import yaml
from conftest import REPO

from vidstill.synthetic_set import SyntheticSet

pytestmark = pytest.mark.slurm

# A small table of the smoke configuration (a coreset and DM beside the Full Dataset row, one dataset, IPC 1): every
# kind of job the tables need (data, distill, evaluate, table) without the smoke config's 150 jobs.
TABLE = {"datasets": ["synthetic"], "ipc": [1], "methods": ["random", "dm"]}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    try:
        c = slurm_cluster.start(tmp_path_factory.mktemp("slurm"))
    except slurm_cluster.Unavailable as e:
        pytest.skip(f"no test SLURM here: {e}")
    yield c
    c.stop()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    work = tmp_path_factory.mktemp("slurmwf")
    for name in ("Snakefile", "workflow", "resources", "profiles"):
        (work / name).symlink_to(REPO / name)
    (work / "config").mkdir()
    cfg = yaml.safe_load((REPO / "config/smoke.yaml").read_text())
    cfg["device"] = "cpu"  # a CPU-only node: GPU rules ask for no GPU
    cfg["tables"] = {"table1": TABLE}
    # a DM long enough to be preempted mid-way (test_requeued_distillation_resumes), checkpointing every second
    cfg["methods"]["dm_long"] = {**cfg["methods"]["dm"], "method": "dm", "iterations": 300}
    cfg["checkpoint_every_s"] = 1
    for key in ("idtd_redundancy", "david_resolution", "david_search_cost"):
        cfg.pop(key, None)
    (work / "config/slurm.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    return work


def snakemake_on_slurm(cluster, workdir, *targets, extra=()):
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        *targets,
        "--workflow-profile",
        "profiles/slurm",
        "--configfile",
        "config/slurm.yaml",
        "--jobs",
        "4",
        "--slurm-status-command",
        "squeue",
        "--slurm-no-account",
        "--slurm-init-seconds-before-status-checks",
        "2",
        "--latency-wait",
        "5",
        "--default-resources",
        "slurm_partition=debug",
        "mem_mb=1000",
        "runtime=30",
        *extra,
    ]
    return subprocess.run(cmd, cwd=workdir, env=cluster.env, capture_output=True, text=True, timeout=1200)


def test_smoke_table_through_slurm(cluster, workdir):
    proc = snakemake_on_slurm(cluster, workdir, "results/tables/table1.csv")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    table = pd.read_csv(workdir / "results/tables/table1.csv")
    assert table["method"].tolist() == ["Full Dataset", "Random", "DM"]
    # every job was a SLURM job: SLURM's own list (finished jobs stay listed, MinJobAge) has each rule's jobs, completed
    jobs = [line.split() for line in cluster.run("squeue", "-h", "-t", "all", "-o", "%k %T").splitlines()]
    rules = {comment.removeprefix("rule_").split("_wildcards_")[0] for comment, _ in jobs}  # rule_<rule>_wildcards_...
    assert {"generate_synthetic", "index", "extract_clips", "distill", "evaluate", "evaluate_full", "table"} <= rules, (
        rules
    )
    assert {state for _, state in jobs} == {"COMPLETED"}, jobs


def test_requeued_distillation_resumes_from_its_checkpoint(cluster, workdir):
    """SLURM preempts a running distill job (scontrol requeue: the job is killed and queued again under its id); the
    rerun resumes from the checkpoint its first run left, and the set is complete."""
    target = "results/synthetic/distilled/dm_long/ipc1/seed0.safetensors"
    checkpoint = workdir / "results/checkpoints/distill/synthetic/dm_long_ipc1_seed0.pt"
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        target,
        "--workflow-profile",
        "profiles/slurm",
        "--configfile",
        "config/slurm.yaml",
        "--jobs",
        "2",
        "--slurm-status-command",
        "squeue",
        "--slurm-no-account",
        "--slurm-init-seconds-before-status-checks",
        "2",
        "--latency-wait",
        "5",
        "--default-resources",
        "slurm_partition=debug",
        "mem_mb=1000",
        "runtime=30",
    ]
    run = subprocess.Popen(
        cmd, cwd=workdir, env=cluster.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    deadline = time.monotonic() + 300
    while not checkpoint.exists() and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.5)
    assert checkpoint.exists(), "the distill job never checkpointed"
    job = [
        line.split()[0]
        for line in cluster.run("squeue", "-h", "-t", "running", "-o", "%i %k").splitlines()
        if "dm_long" in line
    ]
    assert len(job) == 1, job
    cluster.run("scontrol", "requeue", job[0])
    # SLURM holds a requeued job back for about two minutes (its begin time); a test need not wait for that
    for _ in range(120):
        if cluster.run("squeue", "-h", "-j", job[0], "-o", "%T").strip() == "PENDING":
            cluster.run("scontrol", "update", f"JobId={job[0]}", "StartTime=now")
            break
        time.sleep(0.5)
    out, _ = run.communicate(timeout=900)
    assert run.returncode == 0, out[-5000:]
    s = SyntheticSet.load(workdir / target)
    assert 0 < s.meta["resumed_at"] < 300 and len(s.meta["loss_curve"]) == 300
    assert "resumed from" in (workdir / "results/logs/distill/synthetic/dm_long_ipc1_seed0.log").read_text()
    assert not checkpoint.exists()
