"""config/paper.yaml plans cleanly against fake dataset roots in the official layouts (official split files,
placeholder videos): MiniUCF from the shipped list and TR-UCF from UCF101's Δ-ranking resolve to real jobs."""

import shutil
import subprocess
import sys

import pytest

from conftest import REPO
from test_workflow import planned_jobs

SPLITS = REPO / "tests/data/real-splits"


def fake_roots(work):
    ucf = work / "resources/datasets/UCF101"
    shutil.copytree(SPLITS / "ucf101", ucf / "ucfTrainTestlist")
    hmdb = work / "resources/datasets/HMDB51"
    shutil.copytree(SPLITS / "hmdb51", hmdb / "testTrainMulti_7030_splits")
    for line in (ucf / "ucfTrainTestlist/trainlist01.txt").read_text().splitlines()[:50]:
        path = ucf / "UCF-101" / line.split()[0]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    (work / "resources/weights").mkdir(parents=True)
    (work / "resources/weights/yolov5su.pt").touch()  # the user's local YOLO weights (crops.detector.weights)


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    work = tmp_path_factory.mktemp("paper")
    for name in ("Snakefile", "workflow", "profiles", "config"):
        (work / name).symlink_to(REPO / name)
    (work / "resources").mkdir()
    for name in ("classes", "paper_results.csv"):
        (work / "resources" / name).symlink_to(REPO / "resources" / name)
    fake_roots(work)
    return work


def dry_run(work, target):
    proc = subprocess.run([sys.executable, "-m", "snakemake", "-n", target, "--cores", "8", "--configfile",
                           "config/paper.yaml"], cwd=work, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return planned_jobs(proc), proc.stdout


@pytest.mark.parametrize("target", ["results/tables/table1.csv", "results/tables/david_table1.csv"])
def test_paper_tables_plan(work, target):
    jobs, out = dry_run(work, target)
    assert jobs["table"] == 1 and jobs["evaluate_full"] >= 2 and jobs["distill"] >= 8
    if "david" in target:
        assert jobs["delta"] == 1 and jobs["subset_index"] == 1  # TR-UCF from UCF101's ranking
        assert "results/ucf101/ranking/delta.parquet" in out and "results/tr_ucf/index.parquet" in out
    else:
        assert jobs["subset_index"] == 1 and "resources/classes/miniucf.txt" in out
        # OptDistill: the configured detector (none trained), 32 tracking shards per base dataset, scores per dataset
        assert "crop_detector" not in jobs and jobs["crop_tracks"] == 2 * 32 and jobs["crop_summary"] == 2
        assert jobs["crop_scores"] == 2 and "results/miniucf/crops/scores.parquet" in out
        # TSGF: the BN variant of the teacher per dataset, beside the default teacher
        assert "results/miniucf/teacher/convnet3d_bn.safetensors" in out and "results/hmdb51/teacher/convnet3d_bn.safetensors" in out
    assert "results/hmdb51/index.parquet" in out


def test_idtd_ablations_and_redundancy_plan_on_miniucf(work):
    """Tables 3 and 4 (MiniUCF, IPC 1, published numbers beside) and Fig. 4's analysis resolve to jobs."""
    jobs, out = dry_run(work, "results/tables/idtd_redundancy.csv")
    assert jobs["idtd_redundancy"] == 1 and jobs["teacher"] == 1 and jobs["distill"] == 2
    assert "results/miniucf/distilled/idtd_stitch/ipc1/seed0.safetensors" in out
    for table in ("idtd_ablation_modules", "idtd_ablation_losses"):
        jobs, out = dry_run(work, f"results/tables/{table}.csv")
        assert jobs["table"] == 1 and jobs["distill"] == 4 and jobs["evaluate"] == 4


def test_david_ablation_search_cost_and_resolution_plan(work):
    """Table 4 on TR-UCF, Table 3 on HMDB51 at IPC 1 and 5, and the resolution-vs-Δ report resolve to jobs."""
    jobs, out = dry_run(work, "results/tables/david_ablation.csv")
    assert jobs["distill"] == 3 and "results/tr_ucf/distilled/david_shared/ipc1/seed0.safetensors" in out
    jobs, out = dry_run(work, "results/tables/david_search_cost.csv")
    assert jobs["david_search_cost"] == 1 and jobs["distill"] == 6 and jobs["teacher"] == 1
    assert "results/hmdb51/distilled/david_grid/ipc5/seed0.safetensors" in out
    jobs, out = dry_run(work, "results/tables/david_resolution.csv")
    assert jobs["david_resolution"] == 1 and jobs["distill"] == 6 and jobs["delta"] == 2
    assert "results/hmdb51/ranking/delta.parquet" in out


def test_missing_root_stops_planning(work, tmp_path):
    shutil.rmtree(work / "resources/datasets/HMDB51")
    try:
        proc = subprocess.run([sys.executable, "-m", "snakemake", "-n", "results/tables/table1.csv", "--configfile",
                               "config/paper.yaml"], cwd=work, capture_output=True, text=True)
        assert proc.returncode != 0 and "resources/datasets/HMDB51" in proc.stdout + proc.stderr
    finally:
        shutil.copytree(SPLITS / "hmdb51", work / "resources/datasets/HMDB51/testTrainMulti_7030_splits")
