"""The workflow on the smoke config: it runs end to end, a rerun does nothing, and editing one setting reruns exactly
the jobs that depend on it. One snakemake run is shared by the module's tests (it takes a minute or two)."""

import re
import shutil
import subprocess
import sys
from contextlib import contextmanager

import pandas as pd
import pytest
import torch
import yaml
from conftest import REPO
from helpers import planned_jobs

from vidstill.report.figures import nonempty_png
from vidstill.synthetic_set import SyntheticSet

pytestmark = pytest.mark.workflow


def snakemake(workdir, *args, check=True):
    cmd = [sys.executable, "-m", "snakemake", *args, "--cores", "2", "--configfile", "config/smoke.yaml"]
    proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}")
    return proc


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    work = tmp_path_factory.mktemp("wf")
    for name in ("Snakefile", "workflow", "resources", "profiles"):
        (work / name).symlink_to(REPO / name)
    shutil.copytree(REPO / "config", work / "config")
    snakemake(work)  # the default target: every table and the class strip
    return work


@contextmanager
def edited_config(workdir, change, sort_keys=False):
    """config/smoke.yaml with `change` applied to its parsed form for the block; its exact bytes (comments, key
    order) are back afterwards, whatever the block did, so no test sees another's edit."""
    path = workdir / "config/smoke.yaml"
    original = path.read_bytes()
    try:
        cfg = yaml.safe_load(original)
        change(cfg)
        path.write_text(yaml.safe_dump(cfg, sort_keys=sort_keys))
        yield path
    finally:
        path.write_bytes(original)


def finished_copy(workdir, dest, code=False):
    """A copy of the shared finished run (config, results, Snakemake's records; timestamps kept) for a test that
    changes files: the workflow's code is linked, or copied when `code` (to be edited)."""
    dest.mkdir()
    for name in ("Snakefile", "workflow", "resources", "profiles"):
        if code:
            (shutil.copytree if (REPO / name).is_dir() else shutil.copy2)(REPO / name, dest / name)
        else:
            (dest / name).symlink_to(REPO / name)
    for name in ("config", "results", ".snakemake"):
        shutil.copytree(
            workdir / name, dest / name, symlinks=True, ignore=shutil.ignore_patterns("locks", "incomplete")
        )
    assert planned_jobs(snakemake(dest, "-n")) == {}  # the copy is a finished run
    return dest


def test_end_to_end_table(workdir):
    table = pd.read_csv(workdir / "results/tables/table1.csv")
    assert table["method"].tolist() == [
        "Full Dataset",
        "Random",
        "Herding",
        "K-Center",
        "KeyFrame",
        "Static-DC",
        "DM",
        "MTT",
        "FRePo",
        "DM+VDSD",
        "MTT+VDSD",
        "FRePo+VDSD",
        "IDTD",
        "DAViD",
        "OptDistill",
        "TSGF",
        "PRISM",
        "SFVD",
        "SFVD-T",
    ]
    cells = [c for c in table.columns if re.fullmatch(r".+ IPC \d+", c)]
    assert cells == ["synthetic IPC 1", "synthetic IPC 2", "tr IPC 1", "tr IPC 2"]
    assert all(re.fullmatch(r"\d+\.\d ± \d+\.\d", c) for c in table[cells].stack())
    # beside each cell: the difference to Random and Welch's p (none for Random and the Full Dataset row), and the
    # accuracy on each kind of class the generator declares (tr keeps the classes that need time most)
    for cell in cells:
        assert (
            table[f"{cell} vs_random"].isna().tolist()[:2] == [True, True]
            and table[f"{cell} vs_random"][2:].notna().all()
        )
        assert table[f"{cell} p_vs_random"][2:].dropna().between(0, 1).all()
    assert {"synthetic IPC 1 appearance classes", "synthetic IPC 1 motion classes"} <= set(table.columns)
    assert "## Accuracy by class kind" in (workdir / "results/tables/table1.md").read_text()
    runs = pd.read_parquet(workdir / "results/tables/table1_runs.parquet")
    assert set(runs["selection"]) == {"final"}
    markdown = (workdir / "results/tables/table1.md").read_text()
    assert markdown.count("|") > 10 and "## Storage (MB stored per method)" in markdown
    assert re.search(r"^\| DM\+VDSD \| \d+\.\d\d \|", markdown, re.M)
    index = pd.read_parquet(workdir / "results/synthetic/index.parquet")
    assert (index["error"] == "").all() and set(index["split"]) == {"train", "test"}
    assert (workdir / "results/figures/synthetic_classes.png").stat().st_size > 1000
    for log in (workdir / "results/logs").rglob("*.log"):
        assert "Traceback" not in log.read_text(), log


def test_distillation_baselines_reach_their_evaluation(workdir):
    """MTT's students train with its learned step size, FRePo's regress its learned labels, and the experts MTT
    matched were checked against the Full Dataset row."""
    runs = pd.read_parquet(workdir / "results/tables/table1_runs.parquet")
    mtt, frepo, dm = (runs[runs["method"] == m] for m in ("mtt", "frepo", "dm"))
    assert len(mtt) and (mtt["lr"] != 0.01).all() and mtt["lr"].nunique() > 1  # one learned lr per distilled set
    assert (frepo["label_loss"] == "mse").all() and (dm["label_loss"] == "ce").all()
    assert (dm["lr"] == 0.01).all()
    summary = pd.read_parquet(workdir / "results/synthetic/experts/summary.parquet")
    assert len(summary) == 2 and {"top1", "full_top1", "ratio", "weak"} <= set(summary.columns)
    from vidstill.experts import expert_info

    assert expert_info(workdir / "results/tr/experts/expert1.safetensors")["epochs"] == 2


def test_more_experts_train_only_the_new_ones(workdir):
    with edited_config(workdir, lambda c: c["experts"].update(count=3)):
        jobs = planned_jobs(snakemake(workdir, "-n", "results/tables/table1.csv"))
    # MTT, MTT+VDSD, SFVD and SFVD-T (which match the same experts), 2 datasets x 2 IPC each
    assert jobs == {"expert": 2, "expert_check": 2, "distill": 16, "evaluate": 16, "table": 1}, jobs


def test_ranking_separates_motion_from_appearance(workdir):
    """The generator's motion classes need time, its appearance classes do not: Δ must say so."""
    delta = pd.read_parquet(workdir / "results/synthetic/ranking/delta.parquet").set_index("class")
    motion, appearance = (
        delta.loc[["SlideUp", "SlideDownFast"], "delta"],
        delta.loc[["RedDisc", "GreenSquare"], "delta"],
    )
    assert motion.mean() > appearance.mean() + 0.15, delta
    assert delta.sort_values("rank").index[0] in motion.index, delta
    tr = pd.read_parquet(workdir / "results/tr/index.parquet")
    top2 = set(delta.sort_values("rank").index[:2])
    assert set(tr["class"]) == top2 and sorted(tr["label"].unique()) == [0, 1]  # TR = the top 2 by Δ, relabelled
    groups = pd.read_csv(workdir / "results/tables/table1_groups.csv")
    assert set(groups["group"]) == {0, 1} and set(groups["dataset"]) == {"synthetic", "tr"}
    for figure in ("synthetic_delta.png", "table1_groups.png", "synthetic_classes.png"):
        assert nonempty_png(workdir / "results/figures" / figure), figure


def test_vdsd_sets_share_their_stills_and_count_them_in_storage(workdir):
    """Stage 1 is one Static-DC file per dataset, 2 × IPC and seed, read by DM+VDSD and MTT+VDSD; the storage table
    counts VDSD's stills, maps and hallucinator, which take less than the videos of a DM set at the same IPC."""
    from vidstill.synthetic_set import SyntheticSet

    stills = SyntheticSet.load(workdir / "results/synthetic/distilled/vdsd_stills/ipc4/seed0.safetensors")
    assert stills.tensors["videos"].shape[1] == 1 and len(stills) == 4 * stills.num_classes
    sets = {
        name: SyntheticSet.load(workdir / f"results/synthetic/distilled/{name}/ipc2/seed0.safetensors")
        for name in ("dm_vdsd", "mtt_vdsd", "frepo_vdsd")
    }
    for s in sets.values():
        assert torch.equal(s.tensors["stills"], stills.tensors["videos"][:, 0]) and s.meta["stills"].endswith(
            "ipc4/seed0.safetensors"
        )
    storage = pd.read_csv(workdir / "results/tables/storage.csv")
    cell = storage[(storage["dataset"] == "synthetic") & (storage["ipc"] == 2)].set_index("method")
    assert cell.loc["dm_vdsd", "storage_bytes"] == sets["dm_vdsd"].storage_bytes() < cell.loc["dm", "storage_bytes"]
    full = storage["method"] == "full"
    assert (storage.loc[full, "share_of_full"] == 1).all() and (storage.loc[~full, "share_of_full"] < 1).all()
    assert set(storage["label"]) >= {"Full Dataset", "DM+VDSD", "MTT+VDSD"}


def test_stage_two_settings_leave_stage_one_alone(workdir):
    with edited_config(workdir, lambda c: c["methods"]["dm_vdsd"].update(iterations=3)):
        assert planned_jobs(snakemake(workdir, "-n", "results/tables/table1.csv")) == {
            "distill": 4,
            "evaluate": 4,
            "table": 1,
        }
    with edited_config(workdir, lambda c: c["methods"]["vdsd_stills"].update(iterations=2)):
        jobs = planned_jobs(snakemake(workdir, "-n", "results/tables/table1.csv"))
    # new stills: both datasets x 2 IPCs of stage 1, then every VDSD set on them
    assert jobs == {"distill": 4 + 12, "evaluate": 12, "table": 1}, jobs


def test_idtd_ablation_tables_and_redundancy_analysis(workdir):
    """Tables 3 and 4 as tables of method instances (IDTD's own cell shared with table1), and §4.5's per-class
    redundancy beside the gain of IDTD over ablation A, with its figure."""
    modules = pd.read_csv(workdir / "results/tables/idtd_ablation_modules.csv")
    assert modules["method"].tolist() == [
        "Full Dataset",
        "A: compress and stitch",
        "B: temporal densification only",
        "C: information diversification only",
        "IDTD",
    ]
    losses = pd.read_csv(workdir / "results/tables/idtd_ablation_losses.csv")
    assert losses["method"].tolist()[1:] == [
        "A: fusor matching loss only",
        "B: fusor matching + selector diversity",
        "C: selector matching + fusor matching",
        "IDTD",
    ]
    assert (
        modules.iloc[-1]["synthetic IPC 1"]
        == losses.iloc[-1]["synthetic IPC 1"]
        == pd.read_csv(workdir / "results/tables/table1.csv").set_index("method").loc["IDTD", "synthetic IPC 1"]
    )
    redundancy = pd.read_csv(workdir / "results/tables/idtd_redundancy.csv")
    assert redundancy["class"].tolist() == sorted(redundancy["class"]) and len(redundancy) == 4
    assert redundancy[["R_t", "R_IC"]].apply(lambda c: c.between(0, 1)).all().all()
    assert (redundancy["gain"] == redundancy["method_accuracy"] - redundancy["baseline_accuracy"]).all()
    assert nonempty_png(workdir / "results/figures/idtd_redundancy.png")
    with edited_config(workdir, lambda c: c["methods"]["idtd"].update(alpha_div=0.1)):
        jobs = planned_jobs(snakemake(workdir, "-n"))
    # IDTD's own setting: its cells in table1 (4) and the shared ablation cell, not the other variants
    assert jobs == {
        "distill": 4,
        "evaluate": 4,
        "table": 3,
        "table_groups": 3,
        "storage": 1,
        "idtd_redundancy": 1,
        "accuracy_figures": 3,
        "distilled_strip": 2 + 1 + 1,
        "cost": 1,
        "claims": 1,
        "export": 1,
        "all": 1,
    }, jobs


def test_david_ablation_search_cost_and_resolution_reports(workdir):
    """Table 4 (A is DM's own cell), Table 3 from the three searches' distill jobs, and the chosen resolution per
    class beside its Δ; a DAViD setting reruns DAViD's cells and the reports that read them, nothing else."""
    ablation = pd.read_csv(workdir / "results/tables/david_ablation.csv").set_index("method")
    assert ablation.index.tolist() == ["Full Dataset", "DM", "B: one temporal resolution for all classes", "DAViD"]
    table1 = pd.read_csv(workdir / "results/tables/table1.csv").set_index("method")
    assert ablation.loc["DM", "tr IPC 1"] == table1.loc["DM", "tr IPC 1"]
    cost = pd.read_csv(workdir / "results/tables/david_search_cost.csv")
    assert cost["search"].tolist() == ["grid", "rl", "rl_early"] and (cost["search_seconds"] > 0).all()
    assert cost["dm_iterations_search"].tolist() == [
        2 * 2,
        2 * 2,
        2 * 1,
    ]  # 2 resolutions x N; 2 steps x N; 2 x round(β·N)
    assert cost["published_to_grid"].iloc[0] == 1.0
    resolution = pd.read_csv(workdir / "results/tables/david_resolution.csv")
    assert len(resolution) == 2 * (4 + 2) and set(resolution["resolution"]) <= {1, 2, 4, 8}
    delta = pd.read_parquet(workdir / "results/synthetic/ranking/delta.parquet").set_index("class")
    assert (resolution.set_index("class")["delta"] == delta.loc[resolution["class"], "delta"].to_numpy()).all()
    assert set(resolution.loc[resolution["dataset"] == "synthetic", "kind"]) == {"appearance", "motion"}
    storage = pd.read_csv(workdir / "results/tables/storage.csv").set_index(["dataset", "ipc", "method"])
    frames = resolution.query("dataset == 'synthetic' and ipc == 1")["resolution"].sum()  # IPC 1: one item per class
    dm_pixels = storage.loc[("synthetic", 1, "dm"), "storage_bytes"] - 4 * 8  # less its 4 int64 labels
    assert storage.loc[("synthetic", 1, "david"), "storage_bytes"] == dm_pixels * frames / (4 * 8) + 4 * 4 + 4 * 8
    with edited_config(workdir, lambda c: c["methods"]["david"].update(rl_steps=3)):
        jobs = planned_jobs(snakemake(workdir, "-n"))
    assert jobs == {
        "distill": 4,
        "evaluate": 4,
        "table": 2,
        "table_groups": 2,
        "storage": 1,
        "david_resolution": 1,
        "david_search_cost": 1,
        "accuracy_figures": 2,
        "distilled_strip": 2 + 1,
        "cost": 1,
        "claims": 1,
        "export": 1,
        "all": 1,
    }, jobs


def test_prism_keyframes_report_and_storage(workdir):
    """PRISM's key frames per class beside Δ (one row per class and set), and its storage: only the key frames it
    kept, so never more than DM's videos and at least their first and last frames; SFVD stores one frame per video."""
    keyframes = pd.read_csv(workdir / "results/tables/prism_keyframes.csv")
    assert (
        len(keyframes) == 2 * (4 + 2)
        and keyframes["keyframes"].between(2, 8).all()
        and (keyframes["frames"] == 8).all()
    )
    delta = pd.read_parquet(workdir / "results/synthetic/ranking/delta.parquet").set_index("class")
    assert (keyframes.set_index("class")["delta"] == delta.loc[keyframes["class"], "delta"].to_numpy()).all()
    summary = pd.read_csv(workdir / "results/tables/prism_keyframes_summary.csv")
    assert len(summary) == 4 and "spearman_keyframes_delta" in summary.columns
    storage = pd.read_csv(workdir / "results/tables/storage.csv").set_index(["dataset", "ipc", "method"])
    dm_pixels = storage.loc[("synthetic", 1, "dm"), "storage_bytes"] - 4 * 8  # less its 4 int64 labels
    kept = keyframes.query("dataset == 'synthetic' and ipc == 1")["keyframes"].sum()  # IPC 1: one video per class
    assert storage.loc[("synthetic", 1, "prism"), "storage_bytes"] == pytest.approx(
        dm_pixels * kept / (4 * 8) + kept * 2 + 4 * 2 + 4 * 8
    )  # + int16 positions and counts, int64 labels
    assert storage.loc[("synthetic", 1, "sfvd"), "storage_bytes"] == dm_pixels / 8 + 4 * 8


def test_crop_stage_summary_scores_and_mosaics(workdir):
    """The detector is trained and measured, every preselected video is accounted for, both datasets are scored (the
    subset from its base's tracks), and a mosaic stores what one clip stores, with a soft label per region."""
    import json

    summary = json.loads((workdir / "results/synthetic/crops/summary.json").read_text())
    assert (
        summary["videos"] == 4 * 8
        and summary["videos"] == summary["tracked_videos"] + summary["no_detection"] + summary["unreadable"]
    )
    assert {"detector_map50", "mean_iou", "lost_tracks", "boxes_outside_frame", "crops_per_s"} <= set(summary)
    tracks = pd.read_parquet(workdir / "results/synthetic/crops/tracks.parquet")
    scores = {d: pd.read_parquet(workdir / f"results/{d}/crops/scores.parquet") for d in ("synthetic", "tr")}
    assert len(scores["synthetic"]) == len(tracks.groupby(["id", "track"]))
    assert set(scores["tr"]["id"]) < set(scores["synthetic"]["id"]) and set(scores["tr"]["label"]) == {0, 1}
    s = SyntheticSet.load(workdir / "results/synthetic/distilled/optdistill/ipc2/seed0.safetensors")
    assert s.tensors["mosaics"].shape == (4 * 2, 8, 48, 48, 3) and s.labels.shape == (4 * 2 * 4, 4) and s.soft_labels
    storage = pd.read_csv(workdir / "results/tables/storage.csv").set_index(["dataset", "ipc", "method"])
    clips = (
        storage.loc[("synthetic", 2, "random"), "storage_bytes"] - 4 * 2 * 8
    )  # IPC uint8 real clips, less int64 labels
    assert (
        storage.loc[("synthetic", 2, "optdistill"), "storage_bytes"] == clips + 4 * 2 * 4 * 4 * 4
    )  # + float32 soft labels


def test_method_and_crop_settings_rerun_only_what_they_change(workdir):
    """top_k is the method's: no crop job reruns. N re-crops and re-scores but never re-tracks. The preselection
    re-tracks, but the detector stays. OptDistill is evaluated under the hard and soft label protocols too (smoke's
    `evaluation.label_protocols`), so each change also reruns its 2 x 4 evaluate_labels jobs."""
    for change, expected in (
        (
            lambda c: c["methods"]["optdistill"].update(top_k=6),
            {"distill": 4, "evaluate": 4, "evaluate_labels": 8, "table": 1},
        ),
        (
            lambda c: c["crops"].update(grid=3),
            {"crop_scores": 2, "distill": 4, "evaluate": 4, "evaluate_labels": 8, "table": 1},
        ),
        (
            lambda c: c["crops"].update(preselect=6),
            {
                "crop_tracks": 2,
                "crop_summary": 1,
                "crop_scores": 2,
                "distill": 4,
                "evaluate": 4,
                "evaluate_labels": 8,
                "table": 1,
            },
        ),
    ):
        with edited_config(workdir, change):
            jobs = planned_jobs(snakemake(workdir, "-n", "results/tables/table1.csv"))
        assert jobs == expected, jobs


def test_tsgf_uses_its_batchnorm_teacher_and_saliency_expansion(workdir):
    """TSGF distils against the BN variant of the teacher (its own file beside the default one) and its set expands
    with TSGF_A; editing the variant retrains only that teacher and reruns only TSGF."""
    from vidstill.io import read_tensors_metadata

    for dataset in ("synthetic", "tr"):
        assert (
            read_tensors_metadata(workdir / f"results/{dataset}/teacher/convnet3d_bn.safetensors")["architecture"][
                "norm"
            ]
            == "batch"
        )
    assert (
        read_tensors_metadata(workdir / "results/synthetic/teacher/convnet3d.safetensors")["architecture"]["norm"]
        == "none"
    )
    s = SyntheticSet.load(workdir / "results/synthetic/distilled/tsgf/ipc2/seed0.safetensors")
    assert s.expansion == "saliency_augment" and not s.soft_labels and len(s.meta["loss_curve"]) == 2 * 2
    with edited_config(workdir, lambda c: c["teachers"]["convnet3d_bn"].update(epochs=3)):
        jobs = planned_jobs(snakemake(workdir, "-n", "results/tables/table1.csv"))
    assert jobs == {"teacher": 2, "distill": 4, "evaluate": 4, "table": 1}, jobs


def test_report_figures_and_cost_table(workdir, tmp_path):
    """The default target draws every table's figures and strips and gathers the cost of every job the tables stand
    on; `snakemake --report` builds the HTML report with all of them."""
    tables = yaml.safe_load((workdir / "config/smoke.yaml").read_text())["tables"]
    for table, spec in tables.items():
        for kind in ("ipc", "storage"):
            assert nonempty_png(workdir / f"results/figures/{table}_accuracy_{kind}.png"), (table, kind)
        for dataset in spec["datasets"]:
            assert nonempty_png(workdir / f"results/figures/strips/{table}/{dataset}.png"), (table, dataset)
    cost = pd.read_csv(workdir / "results/tables/cost.csv")
    assert cost["measured"].all() and (cost["wall_s"] > 0).all() and (cost["max_rss_mb"] > 0).all()
    assert cost["gpu_peak_mb"].isna().all()  # CPU run: the benchmark files' RSS is the peak
    cells = {
        (d, m, i) for spec in tables.values() for d in spec["datasets"] for m in spec["methods"] for i in spec["ipc"]
    }
    evaluated = cost[cost["stage"] == "evaluate"]
    assert set(zip(evaluated["dataset"], evaluated["method"], evaluated["ipc"])) == cells and len(evaluated) == len(
        cells
    )
    distilled = set(
        zip(
            cost.query("stage == 'distill'")["dataset"],
            cost.query("stage == 'distill'")["method"],
            cost.query("stage == 'distill'")["ipc"],
        )
    )
    assert distilled == cells | {
        (d, "vdsd_stills", 2 * i) for d in ("synthetic", "tr") for i in (1, 2)
    }  # VDSD's stills
    assert {"data", "ranking", "teacher", "expert", "crops", "evaluate_full"} <= set(cost["stage"])
    assert "| distill | DM |" in (workdir / "results/tables/cost.md").read_text()
    proc = snakemake(workdir, "--report", str(tmp_path / "report.html"))
    html = (tmp_path / "report.html").read_text()
    for name in (
        "table1_accuracy_ipc.png",
        "table1_accuracy_storage.png",
        "strips/table1/tr.png",
        "table1_groups.png",
        "synthetic_delta.png",
        "cost.csv",
        "claims.csv",
        "Frames of the first distilled video",
    ):
        assert name in html, (name, proc.stdout[-2000:])


def test_claims_table_gives_a_computed_verdict_for_every_claim(workdir):
    """Every configured claim has its rows (the one no table has: not run, with the reason), each with its numbers,
    test and p-value; the resolution claim reads DAViD's report; a claims setting reruns only the claims table."""
    claims = pd.read_csv(workdir / "results/tables/claims.csv", keep_default_na=False)
    assert claims["claim"].tolist() == sorted(claims["claim"])
    assert claims["claim"].value_counts().to_dict() == {
        "beats_random": 2 * 2 * 2,
        "david_resolution": 2,
        "david_gain_tr": 1,
        "vdsd_on_dm": 1,
        "rl_search_over_dm": 1,
        "prism_keyframes": 2,
        "prism_over_dm_vdsd": 1,
        "sfvd_over_mtt_vdsd": 1,
        "sfvd_t_over_mtt_vdsd": 1,
    }
    assert set(claims["verdict"]) <= {"holds", "fails", "inconclusive", "not run"}
    not_run = claims[claims["claim"] == "rl_search_over_dm"].iloc[0]
    assert not_run["verdict"] == "not run" and "no table of claims.tables (table1) has" in not_run["reason"]
    ran = claims[claims["claim"] != "rl_search_over_dm"]
    assert (ran["verdict"] != "not run").all() and (ran["numbers"] != "").all() and (ran["source"] != "").all()
    assert set(ran.loc[ran["kind"] == "resolution", "source"]) == {"david_resolution"}
    assert "**not run**" in (workdir / "results/tables/claims.md").read_text()
    with edited_config(workdir, lambda c: c["claims"].update(alpha=0.01)):
        assert planned_jobs(snakemake(workdir, "-n", "results/tables/claims.csv")) == {"table": 1, "claims": 1}


def test_real_dataset_without_detector_weights_names_the_key(workdir):
    proc = dry_run_with_real_dataset(workdir, "resources/datasets", "results/ucf/crops/tracks/shard0.parquet")
    assert proc.returncode != 0 and "crops.detector.weights" in proc.stdout + proc.stderr


def test_second_run_does_nothing(workdir):
    assert planned_jobs(snakemake(workdir, "-n", "results/tables/table1.csv")) == {}


def test_data_parameter_reruns_only_what_depends_on_it(workdir):
    stored = yaml.safe_load((workdir / "config/smoke.yaml").read_text())["datasets"]["synthetic"]["clips"]["max_stored"]
    with edited_config(workdir, lambda c: c["datasets"]["synthetic"]["clips"].update(max_stored=stored - 2)):
        jobs = planned_jobs(snakemake(workdir, "-n", "results/tables/table1.csv"))
    assert "generate_synthetic" not in jobs and "index" not in jobs
    assert (
        jobs["extract_clips"] == 2 and jobs["teacher"] == 4 and jobs["table"] == 1
    )  # both datasets: default and BN teachers


def test_device_and_precision_are_in_every_result_and_the_cost_table(workdir):
    """Every job that runs a network records its device, precision and GPU peak beside its log; the distilled sets,
    evaluation rows and teacher metadata carry them; the cost table has them for every stage; the table note says
    where its runs were computed."""
    import json

    from vidstill.io import read_parquet_metadata

    records = {
        p.relative_to(workdir / "results/logs").parts[0]: json.loads(p.read_text())
        for p in (workdir / "results/logs").rglob("*.device.json")
    }
    assert {
        "teacher",
        "class_accuracy",
        "expert",
        "distill",
        "evaluate",
        "evaluate_full",
        "crop_detector",
        "crop_tracks",
        "crop_scores",
        "analysis",
    } <= set(records), sorted(records)
    assert all(
        r["device"] == "cpu" and r["precision"] == "fp32" and r["gpu_peak_memory_bytes"] is None
        for r in records.values()
    )
    s = SyntheticSet.load(workdir / "results/synthetic/distilled/dm/ipc1/seed0.safetensors")
    assert s.meta["device"] == "cpu" and s.meta["precision"] == "fp32" and s.meta["deterministic"] is False
    runs = pd.read_parquet(workdir / "results/synthetic/eval/dm/ipc1/seed0.parquet")
    assert (
        set(runs["device"]) == {"cpu"} and set(runs["precision"]) == {"fp32"} and set(runs["distill_device"]) == {"cpu"}
    )
    assert (
        read_parquet_metadata(workdir / "results/synthetic/teacher/convnet3d_accuracy.parquet")["precision"] == "fp32"
    )
    cost = pd.read_csv(workdir / "results/tables/cost.csv")
    job = cost["job"].fillna("").astype(str)
    trains = cost[
        cost["stage"].isin(["teacher", "distill", "evaluate", "evaluate_full"])
        | job.str.startswith(("expert", "tracks"))
        | job.str.contains("seed")
        | job.isin(["detector", "scores"])
    ]
    assert len(trains) > 0 and (trains["device"] == "cpu").all() and (trains["precision"] == "fp32").all(), trains
    assert "evaluated on cpu (fp32)" in (workdir / "results/tables/table1.md").read_text()


def test_a_precision_switch_reruns_every_network_job_and_nothing_else(workdir):
    with edited_config(workdir, lambda c: c.update(precision="bf16")):
        jobs = planned_jobs(snakemake(workdir, "-n", "results/tables/table1.csv"))
    network = {
        "teacher",
        "class_accuracy",
        "expert",
        "distill",
        "evaluate",
        "evaluate_full",
        "crop_detector",
        "crop_tracks",
        "crop_scores",
    }
    assert network <= set(jobs), jobs
    # and what stands on their outputs (the TR subset stands on the Δ-ranking), but not the base data
    assert not {"generate_synthetic", "index", "extract_clips"} & set(jobs), jobs


def test_evaluation_epochs_rerun_evaluation_and_tables_only(workdir):
    with edited_config(workdir, lambda c: c["evaluation"].update(epochs=c["evaluation"]["epochs"] + 1)):
        jobs = planned_jobs(snakemake(workdir, "-n", "results/tables/table1.csv"))
    assert set(jobs) == {"evaluate", "evaluate_labels", "table"}, jobs


def test_one_method_setting_reruns_only_that_method(workdir):
    with edited_config(workdir, lambda c: c["methods"]["keyframe"].update(keyframes=2)):
        jobs = planned_jobs(snakemake(workdir, "-n", "results/tables/table1.csv"))
    assert jobs == {"distill": 4, "evaluate": 4, "table": 1}, jobs  # 2 datasets x 2 IPCs


def test_bad_config_stops_before_any_job(workdir):
    with edited_config(workdir, lambda c: c["evaluation"].update(selection="best")):
        proc = snakemake(workdir, "-n", check=False)
    assert proc.returncode != 0 and "selection" in proc.stdout + proc.stderr


def dry_run_with_real_dataset(workdir, root, target):
    """A dry run of `target` with a UCF101-layout dataset `ucf` at `root` added to the config (removed after)."""

    def add_real(c):
        c["datasets"]["ucf"] = {"layout": "ucf101", "root": root, "clips": {"frames": 8, "crop": 48}}

    with edited_config(workdir, add_real):
        return snakemake(workdir, "-n", target, check=False)


def test_missing_dataset_root_names_the_path(workdir):
    proc = dry_run_with_real_dataset(workdir, "no/such/UCF", "results/ucf/index.parquet")
    assert proc.returncode != 0 and "no/such/UCF" in proc.stdout + proc.stderr


def test_reordering_config_keys_reruns_nothing(workdir):
    """Params are compared by their printed form; canonical params make key order irrelevant."""
    with edited_config(workdir, lambda c: None, sort_keys=True):
        assert planned_jobs(snakemake(workdir, "-n")) == {}


def test_lint_is_clean():
    proc = subprocess.run([sys.executable, "-m", "snakemake", "--lint"], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def dry_run_jobs(proc) -> list[dict]:
    """rule, inputs, outputs, wildcards and reason of every job a dry run printed."""
    jobs = []
    for block in re.split(r"\n(?=(?:local)?rule \w+:)", proc.stdout + proc.stderr):
        m = re.match(r"(?:local)?rule (\w+):", block)
        field = lambda name: (re.search(rf"^\s+{name}: (.+)$", block, re.M) or [None, ""])[1]
        if m and field("output"):
            jobs.append(
                {
                    "rule": m.group(1),
                    "inputs": field("input").split(", ") if field("input") else [],
                    "outputs": field("output").split(", "),
                    "reason": field("reason"),
                    "wildcards": dict(kv.split("=", 1) for kv in field("wildcards").split(", "))
                    if field("wildcards")
                    else {},
                }
            )
    return jobs


def test_editing_a_deep_helper_reruns_exactly_the_jobs_that_import_it(workdir, tmp_path):
    """optim.py is imported by the training loop. After an edit to it, the jobs that import it (teachers, Δ-ranking
    trainings, experts, Full Dataset rows, evaluations, the crop stages that train, and the distillations whose method
    uses it) and what stands on them are planned, each importer because its code param changed (or its input was
    rebuilt), and no other job. Who imports it comes from Python's own import scanner, not from the hash's parser."""
    from code_closure import LIBRARY, python_imports, rule_scripts

    from vidstill.methods import catalogue

    copy = finished_copy(workdir, tmp_path / "edited", code=True)
    with open(copy / "workflow/vidstill/optim.py", "a") as f:
        f.write("\n# an edit that changes no behaviour still reruns every job that imports this module\n")

    every_job = dry_run_jobs(snakemake(copy, "-n", "--forceall"))
    importers = {
        rule
        for rule, script in rule_scripts().items()
        if "optim.py" in python_imports(REPO / "workflow/scripts" / script)
    }
    smoke = yaml.safe_load((workdir / "config/smoke.yaml").read_text())["methods"]
    method_uses = {
        m: "optim.py" in python_imports(LIBRARY / catalogue()[smoke[m].get("method", m)].module) for m in smoke
    }
    imports = lambda job: (
        job["rule"] in importers - {"distill"} or (job["rule"] == "distill" and method_uses[job["wildcards"]["method"]])
    )
    stale = {job["outputs"][0] for job in every_job if imports(job)}
    changed = True
    while changed:  # and every job that stands on a stale output
        grown = stale | {
            job["outputs"][0]
            for job in every_job
            if {o for j in every_job if j["outputs"][0] in stale for o in j["outputs"]} & set(job["inputs"])
        }
        changed, stale = grown != stale, grown

    planned = dry_run_jobs(snakemake(copy, "-n"))
    assert sorted(j["outputs"][0] for j in planned) == sorted(stale)
    for job in planned:
        says_code = "Params have changed" in job["reason"]
        assert says_code == imports(job) or (imports(job) and "updated by another job" in job["reason"]), job
    assert {"teacher", "class_accuracy", "expert", "evaluate_full", "distill"} <= {
        j["rule"] for j in planned if "Params have changed" in j["reason"]
    }
    assert method_uses["dm"]


def test_warm_and_cold_jobs_compute_the_same_bits(workdir, tmp_path):
    """The default run forks its jobs from a warm process (vidstill/warm.py); a cold process must give the same
    tensors. The cold run rewrites two finished artifacts (identical content, newer time), so it runs in a copy of
    the finished run: the shared one stays finished for the other tests, whatever their order."""
    from vidstill.io import load_tensors

    targets = [
        "results/synthetic/distilled/dm/ipc1/seed0.safetensors",
        "results/synthetic/teacher/convnet3d.safetensors",
    ]
    warm = [load_tensors(workdir / t)[0] for t in targets]
    assert (workdir / "results/logs/distill/synthetic/dm_ipc1_seed0.log.usage.json").is_file()  # it ran warm
    cold = finished_copy(workdir, tmp_path / "cold")
    snakemake(cold, "--force", *targets, "--config", "warm_start=False")
    assert not (cold / "results/logs/distill/synthetic/dm_ipc1_seed0.log.usage.json").exists()  # it ran cold
    for before, target in zip(warm, targets):
        after = load_tensors(cold / target)[0]
        assert before.keys() == after.keys()
        for key in before:
            assert torch.equal(before[key], after[key]), (target, key)


def test_exported_sets_evaluate_as_the_workflow_did(workdir, capsys, tmp_path):
    """Round trip for every method the smoke table distils: the default target exports table1's sets (portable files,
    a GIF per class, a contact sheet, one index page); `vidstill evaluate` on each export, with the set's own seed,
    trains exactly the students the workflow's evaluate rule trained (same accuracy, per class, and final loss)."""
    from vidstill.cli import main

    spec = yaml.safe_load((workdir / "config/smoke.yaml").read_text())["tables"]["table1"]
    index = (workdir / "results/export/table1/index.html").read_text()
    for dataset in spec["datasets"]:
        for method in spec["methods"]:
            exported = workdir / f"results/export/table1/sets/{dataset}/{method}/ipc1/seed0"
            assert (exported / "set.json").is_file() and (exported / "preview/contact_sheet.png").is_file(), exported
            assert (
                list((exported / "preview").glob("*.gif")) and f"sets/{dataset}/{method}/ipc1/seed0/set.json" in index
            )
            out = tmp_path / f"cli_eval/{dataset}_{method}.parquet"
            assert (
                main(
                    [
                        "evaluate",
                        str(exported),
                        "--dataset",
                        dataset,
                        "--configfile",
                        str(workdir / "config/smoke.yaml"),
                        "--results",
                        str(workdir / "results"),
                        "--out",
                        str(out),
                    ]
                )
                == 0
            ), capsys.readouterr().err
            ours, theirs = (
                pd.read_parquet(out),
                pd.read_parquet(workdir / f"results/{dataset}/eval/{method}/ipc1/seed0.parquet"),
            )
            for column in ("seed", "top1", "top5", "final_loss", "lr", "label_loss"):
                assert ours[column].tolist() == theirs[column].tolist(), (dataset, method, column)
            assert all((a == b).all() for a, b in zip(ours["per_class"], theirs["per_class"])), (dataset, method)


def test_tables_show_label_protocols_and_dd_ranking_scores(workdir):
    """table1 has hard / soft columns for the methods evaluation.label_protocols names (Random added to the soft list)
    and DD-Ranking's HLR / IOR / LRS beside them; the runs file the claims and figures read stays the native runs."""
    table = pd.read_csv(workdir / "results/tables/table1.csv", keep_default_na=False).set_index("method")
    for cell in ("synthetic IPC 1", "tr IPC 2"):
        assert re.fullmatch(r"\d+\.\d ± \d+\.\d", table.loc["FRePo", f"{cell} hard"]), cell
        for method in ("Random", "DM", "FRePo", "OptDistill"):
            assert re.fullmatch(r"\d+\.\d ± \d+\.\d", table.loc[method, f"{cell} soft"]), (cell, method)
        assert table.loc["MTT", f"{cell} soft"] == "" and table.loc["MTT", f"{cell} hard"] == table.loc["MTT", cell]
        assert all(re.fullmatch(r"[+-]\d+\.\d", table.loc["FRePo", f"{cell} {s}"]) for s in ("HLR", "IOR"))
        assert 0 <= float(table.loc["FRePo", f"{cell} LRS"]) <= 100
    assert "## Label protocols and DD-Ranking scores" in (workdir / "results/tables/table1.md").read_text()
    native = pd.read_parquet(workdir / "results/tables/table1_runs.parquet")
    labelled = pd.read_parquet(workdir / "results/tables/table1_label_runs.parquet")
    assert set(native["protocol"]) == {"native"} and set(labelled["protocol"]) == {"hard", "soft"}
    assert set(labelled.loc[labelled["protocol"] == "soft", "method"]) == {"random", "dm", "frepo", "optdistill"}
