"""config/paper.yaml against fake dataset roots in the real on-disk layouts (tests/fake_roots.py): the official split
and annotation files, the real file names and real decodable videos (a few tiny ones, hard-linked to every listed name).

Every target of the paper configuration is dry-run and its plan checked: which jobs, how many, on which datasets, and
what they ask of a machine (threads from `threads:`, `gpu=1` on every training rule). One test really runs the index and
the clip extraction of Kinetics-400 and SSv2 with the paper's preprocessing (8 frames, 64x64, middle / uniform).

Markers: the dry runs are `planning` (seconds each, in the fast loop); the test that runs jobs is `workflow`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import fake_roots
import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import REPO
from helpers import planned_jobs

PAPER = yaml.safe_load((REPO / "config/paper.yaml").read_text())
THREADS = PAPER["threads"]
SEEDS = PAPER.get("seeds", [0])
CORES = max(THREADS.values())  # so that no rule's threads are capped by --cores

# Rules that train or run a network: each reserves a GPU (DESIGN.md: GPU rules declare gpu=1) and threads.train.
GPU_RULES = {
    "teacher",
    "class_accuracy",
    "expert",
    "distill",
    "evaluate",
    "evaluate_labels",
    "evaluate_full",
    "crop_detector",
    "crop_scores",
    "idtd_redundancy",
    "crop_tracks",
}  # crop_tracks: YOLO runs on the job's device
# Rules that must not hold a GPU while they read files, decode videos or write tables.
CPU_RULES = {
    "index",
    "subset_index",
    "extract_clips",
    "subset_clips",
    "crop_summary",
    "expert_check",
    "delta",
    "table",
    "table_groups",
    "storage",
    "accuracy_figures",
    "distilled_strip",
    "cost",
    "david_resolution",
    "david_search_cost",
    "prism_keyframes",
    "claims",
    "export",
    "all",
}
RULE_THREADS = {
    **{rule: THREADS["train"] for rule in GPU_RULES},
    "index": THREADS["index"],
    "extract_clips": THREADS["extract"],
    "crop_tracks": THREADS["crops"],
}

TABLE_TARGETS = {name: f"results/tables/{name}.csv" for name in PAPER["tables"]}
TARGETS = {
    **TABLE_TARGETS,
    "storage": "results/tables/storage.csv",
    "idtd_redundancy": "results/tables/idtd_redundancy.csv",
    "david_resolution": "results/tables/david_resolution.csv",
    "david_search_cost": "results/tables/david_search_cost.csv",
    "claims": "results/tables/claims.csv",
    "default": None,
}
ROOTS = {"ucf101": "UCF101", "hmdb51": "HMDB51", "kinetics400": "Kinetics400", "ssv2": "SSv2"}


# ------------------------------------------------------------------------------------------------------------------
# fixtures: the fake roots (built once) and every target's dry run (run once, two at a time)


def new_work(path: Path, roots: Path | None = None, without: str | None = None) -> Path:
    """A working directory with the repository's workflow, config and shipped resources, and, when `roots` is given,
    links to its dataset roots (all but `without`) and detector weights."""
    path.mkdir(parents=True, exist_ok=True)
    for name in ("Snakefile", "workflow", "profiles", "config"):
        (path / name).symlink_to(REPO / name)
    (path / "resources").mkdir()
    for name in ("classes", "paper_results.csv"):
        (path / "resources" / name).symlink_to(REPO / "resources" / name)
    (path / "resources/datasets").mkdir()
    if roots is not None:
        for name in ROOTS.values():
            if name != without:  # linked as users link them; the index names the path under resources/datasets
                (path / "resources/datasets" / name).symlink_to(roots / "datasets" / name)
        (path / "resources/weights").symlink_to(roots / "weights")
    return path


@pytest.fixture(scope="module")
def roots(tmp_path_factory):
    """The four datasets in their real layouts, and the user's local YOLO weights (crops.detector.weights)."""
    roots = tmp_path_factory.mktemp("roots")
    videos = roots / "videos"
    avi = fake_roots.write_video(videos / "ucf.avi", 70, (80, 60), 25.0, "MJPG")  # UCF101 / HMDB51: AVIs
    mp4 = fake_roots.write_video(videos / "k400.mp4", 100, (80, 60), 25.0, "mp4v")
    webm = fake_roots.write_video(videos / "ssv2.webm", 45, (64, 48), 12.0, "VP80")  # SSv2: VP8 in WebM
    fake_roots.ucf101(roots / "datasets/UCF101", avi)
    fake_roots.hmdb51(roots / "datasets/HMDB51", avi)
    fake_roots.kinetics400(roots / "datasets/Kinetics400", [mp4])
    fake_roots.ssv2(roots / "datasets/SSv2", [webm])
    weights = roots / "weights" / Path(PAPER["crops"]["detector"]["weights"]).name
    weights.parent.mkdir()
    weights.touch()
    return roots


def snakemake_cmd(*args: str, configfile: str = "config/paper.yaml", cores: int = CORES) -> list[str]:
    return [sys.executable, "-m", "snakemake", *args, "--cores", str(cores), "--configfile", configfile]


def dry_run(work: Path, target: str | None) -> subprocess.CompletedProcess:
    args = ["-n", "--nolock"] + ([target] if target else [])
    return subprocess.run(snakemake_cmd(*args), cwd=work, capture_output=True, text=True)


@pytest.fixture(scope="module")
def plans(roots, tmp_path_factory):
    """Every target's dry run, two at a time (each is one CPU-bound process), each in its own working directory (no
    shared .snakemake/)."""
    base = tmp_path_factory.mktemp("plans")
    works = {name: new_work(base / name, roots) for name in TARGETS}
    with ThreadPoolExecutor(max_workers=2) as pool:
        procs = dict(zip(TARGETS, pool.map(lambda name: dry_run(works[name], TARGETS[name]), TARGETS)))
    return procs


JOB_BLOCK = re.compile(r"^(?:local)?rule (\w+):\n((?:    .*\n?)*)", re.M)


def parse_jobs(text: str) -> list[dict]:
    """The job blocks of a dry run: rule, wildcards, output, threads (1 when the block has no threads line) and
    resources (name -> value, as Snakemake prints them)."""
    jobs = []
    for m in JOB_BLOCK.finditer(text):
        fields = dict(line.strip().split(": ", 1) for line in m.group(2).splitlines() if ": " in line)
        resources = dict(kv.split("=", 1) for kv in fields.get("resources", "").split(", ") if "=" in kv)
        wildcards = dict(kv.split("=", 1) for kv in fields.get("wildcards", "").split(", ") if "=" in kv)
        jobs.append(
            {
                "rule": m.group(1),
                "wildcards": wildcards,
                "output": fields.get("output", ""),
                "threads": int(fields.get("threads", 1)),
                "resources": resources,
            }
        )
    return jobs


def plan(plans, name):
    proc = plans[name]
    assert proc.returncode == 0, f"{name}: " + proc.stdout[-3000:] + proc.stderr[-3000:]
    jobs = parse_jobs(proc.stdout)
    counts = planned_jobs(proc)
    assert Counter(j["rule"] for j in jobs) == counts, "every planned job is parsed once"
    return jobs, counts


def cells(jobs, rule):
    """How many jobs of a rule each (dataset, method, ipc) has (one per seed), checking their seeds are the config's."""
    jobs = [j for j in jobs if j["rule"] == rule]
    assert {int(j["wildcards"]["seed"]) for j in jobs} <= set(SEEDS)
    return Counter((j["wildcards"]["dataset"], j["wildcards"]["method"], int(j["wildcards"]["ipc"])) for j in jobs)


def per_seed(cells_):
    """Cells as `cells` counts them: one job per distillation seed."""
    return Counter({cell: len(SEEDS) for cell in cells_})


def base(dataset):
    return PAPER["datasets"][dataset].get("subset_of", dataset)


def needs(method):
    """What a method instance needs beyond the clips (the registry's answer: teacher, experts, stills, crops)."""
    from vidstill.methods import get_method

    return get_method(PAPER["methods"][method].get("method", method)).needs


# ------------------------------------------------------------------------------------------------------------------
# what every plan must ask of a machine


@pytest.mark.planning
@pytest.mark.parametrize("name", list(TARGETS))
def test_plan_resources(plans, name):
    """Rules that run a network reserve one GPU (config/paper.yaml names device: cuda) and their threads per GPU; data
    rules their own threads and no GPU."""
    jobs, _ = plan(plans, name)
    assert jobs
    for job in jobs:
        rule, res = job["rule"], job["resources"]
        if rule in GPU_RULES:
            assert res.get("gpu") == "1", f"{rule} {job['wildcards']}: no gpu=1 in {res}"
            assert (
                res.get("cpus_per_gpu") == str(RULE_THREADS[rule])
                and int(res["mem_mb"]) >= 4000
                and int(res["runtime"]) >= 60
            ), res
        if rule in CPU_RULES:
            assert "gpu" not in res, f"{rule} holds a GPU: {res}"
        if rule in RULE_THREADS:
            assert job["threads"] == RULE_THREADS[rule], f"{rule}: threads {job['threads']} != {RULE_THREADS[rule]}"
        assert rule in GPU_RULES | CPU_RULES | {"generate_synthetic", "class_strip"}, (
            f"{rule}: neither a GPU nor a CPU rule here"
        )


# ------------------------------------------------------------------------------------------------------------------
# the tables


def expected_table_cells(spec):
    return {(d, m, ipc) for d in spec["datasets"] for m in spec["methods"] for ipc in spec["ipc"]}


def vdsd_stills_cells(table_cells):
    """VDSD's stage 1: the stills instance at 2 x IPC, once per dataset and IPC."""
    return {
        (d, PAPER["methods"][m].get("stills", "vdsd_stills"), 2 * ipc)
        for d, m, ipc in table_cells
        if "stills" in needs(m)
    }


@pytest.mark.planning
@pytest.mark.parametrize("name", list(TABLE_TARGETS))
def test_table_plans(plans, name):
    """Every (dataset, method, IPC) of the table is distilled and evaluated exactly once (plus VDSD's stills at 2 x
    IPC), every dataset gets its Full Dataset row, and the data stages run once per base dataset."""
    spec = PAPER["tables"][name]
    jobs, n = plan(plans, name)
    want = expected_table_cells(spec)
    assert cells(jobs, "evaluate") == per_seed(want)
    stills = vdsd_stills_cells(want)
    assert cells(jobs, "distill") == per_seed(want | stills)
    assert n["table"] == 1
    assert n["evaluate"] == len(spec["datasets"]) * len(spec["ipc"]) * len(spec["methods"]) * len(SEEDS)
    assert n["distill"] == n["evaluate"] + len(stills) * len(SEEDS)
    full = {j["wildcards"]["dataset"] for j in jobs if j["rule"] == "evaluate_full"}
    assert full == set(spec["datasets"])
    bases = {base(d) for d in spec["datasets"]}
    assert {j["wildcards"]["dataset"] for j in jobs if j["rule"] == "index"} == bases
    assert n["extract_clips"] == 2 * len(bases)  # train and test, decoded once per base dataset
    subsets = [d for d in spec["datasets"] if d != base(d)]
    assert n.get("subset_index", 0) == len(subsets) and n.get("subset_clips", 0) == 2 * len(subsets)
    # MTT and MTT+VDSD: 30 expert trajectories on each dataset they are distilled on, checked once
    mtt = {d for d, m, _ in want if "experts" in needs(m)}
    assert n.get("expert", 0) == PAPER["experts"]["count"] * len(mtt) and n.get("expert_check", 0) == len(mtt)
    # a teacher per dataset (and teacher variant) that a method of the table needs
    teachers = {
        (d, PAPER["methods"][m].get("teacher", PAPER["teacher"]["arch"])) for d, m, _ in want if "teacher" in needs(m)
    }
    planned = {tuple(j["output"].split(",")[0].split("/")[1::2]) for j in jobs if j["rule"] == "teacher"}
    assert {(d, f"{t}.safetensors") for d, t in teachers} <= planned


@pytest.mark.planning
def test_table2_kinetics_ssv2(plans):
    """IDTD / DAViD Table 2: K400 and SSv2 at IPC 1 and 5, seven methods, top-5, both papers' published numbers."""
    spec = PAPER["tables"]["table2"]
    assert spec["datasets"] == ["kinetics400", "ssv2"] and spec["ipc"] == [1, 5] and spec["metric"] == "top5"
    jobs, n = plan(plans, "table2")
    assert n["evaluate"] == 2 * 2 * 7 == 28
    assert n["distill"] == 28 + 2 * 2  # + the VDSD stills at IPC 2 and 10 on each dataset
    assert n["expert"] == 2 * 30 and n["expert_check"] == 2  # MTT's experts on each dataset
    assert n["evaluate_full"] == 2 and n["index"] == 2 and n["extract_clips"] == 4
    # DAViD needs its dataset's teacher (the reward); nothing else here does, and the table needs no Δ-ranking
    assert {j["output"].split(",")[0] for j in jobs if j["rule"] == "teacher"} == {
        "results/kinetics400/teacher/convnet3d.safetensors",
        "results/ssv2/teacher/convnet3d.safetensors",
    }
    assert "delta" not in n and "crop_tracks" not in n
    # the published rows: every cell has one under a name the method answers to, in both papers' Table 2 except
    # IDTD's and DAViD's own rows and DM+VDSD (DAViD's table lists only MTT+VDSD, as "VDSD")
    published = pd.read_csv(REPO / "resources/paper_results.csv", dtype=str)
    published = published[(published["table"] == "2") & (published["metric"] == "top5")]
    for dataset in spec["datasets"]:
        rows = published[published["dataset"] == PAPER["datasets"][dataset]["published_as"]]
        assert set(rows.loc[rows["ipc"] == "full", "paper"]) == {"IDTD", "DAViD"}
        for method in spec["methods"]:
            cfg = PAPER["methods"][method]
            names = cfg.get("published_as", cfg["label"])
            names = [names] if isinstance(names, str) else names
            papers = {"idtd": {"IDTD"}, "dm_vdsd": {"IDTD"}, "david": {"DAViD"}}.get(method, {"IDTD", "DAViD"})
            for ipc in spec["ipc"]:
                hits = rows[(rows["ipc"] == str(ipc)) & rows["method"].isin(names)]
                assert set(hits["paper"]) == papers and len(hits) == len(papers), (dataset, method, ipc)
    # DAViD calls MTT+VDSD "VDSD": both names find the same published number
    assert PAPER["methods"]["mtt_vdsd"]["published_as"] == ["MTT+VDSD", "VDSD"]
    # and the table code finds a published top-5 number for every cell, the Full Dataset row included
    from vidstill.report.tables import published_names, published_number

    everything = pd.read_csv(REPO / "resources/paper_results.csv")
    for dataset in spec["datasets"]:
        name = PAPER["datasets"][dataset]["published_as"]
        assert published_number(everything, name, ["Full Dataset"], 0, spec["metric"], spec.get("published"))
        for method in spec["methods"]:
            names = published_names(method, PAPER["methods"], spec.get("published"))
            for ipc in spec["ipc"]:
                assert published_number(everything, name, names, ipc, spec["metric"], spec.get("published")), (
                    dataset,
                    method,
                    ipc,
                )


@pytest.mark.parametrize("table", ["idtd_ablation_modules", "idtd_ablation_losses", "david_ablation"])
def test_ablation_tables_compare_with_their_own_published_table(table):
    """Each ablation table names the published table it reproduces, so every row finds that table's number (DAViD
    Table 4's row A is DM at 15.4, not Table 1's DM)."""
    from vidstill.report.tables import published_names, published_number

    spec, everything = PAPER["tables"][table], pd.read_csv(REPO / "resources/paper_results.csv")
    source = spec["published"]
    for dataset in spec["datasets"]:
        name = PAPER["datasets"][dataset]["published_as"]
        for method in spec["methods"]:
            found = published_number(
                everything, name, published_names(method, PAPER["methods"], source), spec["ipc"][0], "top1", source
            )
            row = everything.query("paper == @source['paper'] and table == @source['table'] and dataset == @name")
            assert found is not None and found[0] in row["mean"].tolist(), (table, method)
    if table == "david_ablation":
        assert (
            published_number(
                everything, "TR-UCF", published_names("david_none", PAPER["methods"], source), 1, "top1", source
            )[0]
            == 15.4
        )


@pytest.mark.planning
def test_table1_and_david_table1_plans(plans):
    jobs, n = plan(plans, "table1")
    # what a scheduler is asked for grows with IPC (config cluster: per_ipc) for the same dataset and method
    asked = {
        (j["wildcards"]["dataset"], j["wildcards"]["method"], j["wildcards"]["ipc"]): j["resources"]
        for j in jobs
        if j["rule"] == "distill"
    }
    for key in ("mem_mb", "runtime"):
        assert int(asked[("miniucf", "dm", "5")][key]) > int(asked[("miniucf", "dm", "1")][key]), key
    assert {j["wildcards"]["dataset"] for j in jobs if j["rule"] == "subset_index"} == {"miniucf"}
    # OptDistill: the configured detector (none trained), 32 tracking shards per base dataset, scores per dataset
    assert "crop_detector" not in n and n["crop_tracks"] == 2 * PAPER["crops"]["shards"] == 64
    assert n["crop_summary"] == 2 and n["crop_scores"] == 2
    # the default teacher and TSGF's BatchNorm teacher, on each dataset
    teachers = {j["output"].split(",")[0] for j in jobs if j["rule"] == "teacher"}
    assert teachers == {
        f"results/{d}/teacher/{t}.safetensors" for d in ("miniucf", "hmdb51") for t in ("convnet3d", "convnet3d_bn")
    }
    jobs, n = plan(plans, "david_table1")
    # TR-UCF from UCF101's Δ-ranking: 3 seeds of full and static training (seed 0's full run is the teacher)
    assert n["delta"] == 1 and n["class_accuracy"] == 5
    assert {j["wildcards"]["dataset"] for j in jobs if j["rule"] == "subset_index"} == {"tr_ucf"}
    assert n["teacher"] == 3  # DAViD's reward on TR-UCF, HMDB51 and UCF101 (UCF101's is also the ranking's)


@pytest.mark.planning
def test_our_ablation_plans(plans):
    """OptDistill's and TSGF's ablations on MiniUCF at IPC 5, beside DM."""
    jobs, n = plan(plans, "optdistill_ablation")
    assert cells(jobs, "evaluate") == per_seed(
        ("miniucf", m, 5) for m in ("dm", "optdistill", "optdistill_realism", "optdistill_hard")
    )
    assert n["crop_tracks"] == 32 and n["crop_scores"] == 1 and n["teacher"] == 1  # UCF101's tracks, scored on MiniUCF
    jobs, n = plan(plans, "tsgf_ablation")
    # TSGF's BN teacher, and the default teacher that labels the soft protocol's batches (evaluation.label_protocols)
    assert n["distill"] == n["evaluate"] == 6 and n["teacher"] == 2
    assert sorted(j["output"].split(",")[0] for j in jobs if j["rule"] == "teacher") == [
        "results/miniucf/teacher/convnet3d.safetensors",
        "results/miniucf/teacher/convnet3d_bn.safetensors",
    ]
    for name in ("optdistill_realism", "optdistill_hard", "tsgf_no_o", "tsgf_no_a", "tsgf_uni_level", "tsgf_soft"):
        cfg = PAPER["methods"][name]
        parent = PAPER["methods"][cfg["method"]]
        changed = {k for k in cfg if cfg[k] != parent.get(k)} - {"method", "label"}
        assert changed and changed <= {"score", "labels", "saliency_optimization", "saliency_augmentation"}, name


@pytest.mark.planning
def test_analysis_plans(plans):
    """IDTD's redundancy analysis, DAViD's resolution report and Table 3 (search cost) resolve to their jobs."""
    jobs, n = plan(plans, "idtd_redundancy")
    assert n["idtd_redundancy"] == 1 and n["teacher"] == 1
    assert cells(jobs, "distill") == per_seed([("miniucf", "idtd", 1), ("miniucf", "idtd_stitch", 1)])
    jobs, n = plan(plans, "david_resolution")
    spec = PAPER["david_resolution"]
    assert n["david_resolution"] == 1
    assert set(cells(jobs, "distill")) == {(d, "david", ipc) for d in spec["datasets"] for ipc in spec["ipc"]}
    assert {j["wildcards"]["dataset"] for j in jobs if j["rule"] == "delta"} == {base(d) for d in spec["datasets"]}
    jobs, n = plan(plans, "david_search_cost")
    spec = PAPER["david_search_cost"]
    assert n["david_search_cost"] == 1 and n["teacher"] == 1 and "evaluate" not in n
    assert set(cells(jobs, "distill")) == {
        (spec["dataset"], m, ipc) for m in spec["searches"].values() for ipc in spec["ipc"]
    }
    jobs, n = plan(plans, "storage")
    assert n["storage"] == 1 and n["table"] == 1  # table1's runs


@pytest.mark.planning
def test_default_target_plan(plans):
    """`snakemake -n` with no target: every table, its Δ-groups, the reports, every dataset's clips; each distilled set
    and each evaluation planned once however many tables share it."""
    jobs, n = plan(plans, "default")
    tables = PAPER["tables"]
    assert n["all"] == 1 and n["table"] == len(tables) and n["table_groups"] == len(tables)
    for rule in ("storage", "idtd_redundancy", "david_resolution", "david_search_cost", "claims"):
        assert n[rule] == 1, rule
    assert n["index"] == 4 and n["extract_clips"] == 8 and n["subset_index"] == 2 and n["subset_clips"] == 4
    assert n["delta"] == 4 and n["class_accuracy"] == 4 * 5  # the table groups rank every base dataset
    want = set().union(*(expected_table_cells(spec) for spec in tables.values()))
    r = PAPER["idtd_redundancy"]
    want |= {(r["dataset"], r["method"], r["ipc"]), (r["dataset"], r["baseline"], r["ipc"])}
    assert cells(jobs, "evaluate") == per_seed(want)
    distilled = want | vdsd_stills_cells(want)
    res = PAPER["david_resolution"]
    distilled |= {(d, res["method"], ipc) for d in res["datasets"] for ipc in res["ipc"]}
    cost = PAPER["david_search_cost"]
    distilled |= {(cost["dataset"], m, ipc) for m in cost["searches"].values() for ipc in cost["ipc"]}
    assert cells(jobs, "distill") == per_seed(distilled)
    assert n["evaluate_full"] == len({d for spec in tables.values() for d in spec["datasets"]})


@pytest.mark.planning
def test_claims_plan(plans):
    """The papers' claims read table1 (MiniUCF, HMDB51), table2 (K400, SSv2) and david_table1 (TR-UCF, UCF101) and
    DAViD's resolution and PRISM's key-frame reports, and no ablation table; every claim has rows that can run."""
    from vidstill.report.claims import plan_claims

    rows = plan_claims(
        PAPER["claims"]["statements"],
        PAPER["tables"],
        PAPER["claims"]["tables"],
        PAPER["david_resolution"],
        PAPER["methods"],
        PAPER["datasets"],
        PAPER["prism_keyframes"],
    )
    assert {r["table"] for r in rows} == {"table1", "table2", "david_table1", "david_resolution", "prism_keyframes"}
    assert {r["claim"] for r in rows if r["table"]} == set(PAPER["claims"]["statements"])
    assert {r["metric"] for r in rows if r["table"] == "table2"} == {"top5"}
    gain = [r for r in rows if r["kind"] == "gain"]
    assert {r["table"] for r in gain} == {"david_table1"} and len(gain) == 2
    beats = [r for r in rows if r["claim"] == "beats_random"]
    assert len(beats) == len(PAPER["claims"]["statements"]["beats_random"]["methods"]) * 2 * 2 and all(
        r["table"] == "table1" for r in beats
    )
    jobs, n = plan(plans, "claims")
    assert n["claims"] == 1 and n["table"] == 3 and n["david_resolution"] == 1 and n["prism_keyframes"] == 1
    assert {j["wildcards"]["table"] for j in jobs if j["rule"] == "table"} == {"table1", "table2", "david_table1"}


@pytest.mark.planning
@pytest.mark.parametrize(
    "missing, target", [("HMDB51", "results/tables/table1.csv"), ("SSv2", "results/tables/table2.csv")]
)
def test_missing_root_stops_planning(roots, tmp_path, missing, target):
    """A missing dataset root stops planning, naming the path (the other roots are there)."""
    work = new_work(tmp_path / "work", roots, without=missing)
    proc = subprocess.run(snakemake_cmd("-n", target), cwd=work, capture_output=True, text=True)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and f"resources/datasets/{missing}" in out and "Expected layout" in out


# ------------------------------------------------------------------------------------------------------------------
# the paper's Kinetics-400 and SSv2 preprocessing, run for real


def test_kinetics_and_ssv2_config_is_the_references():
    """REFERENCE.md: 8 frames at 64 x 64, K400 around the temporal middle, SSv2 spread uniformly; the reference squashes
    frames to 64 x 64 (no crop) and flips neither."""
    for dataset, layout, root, published, sampling in (
        ("kinetics400", "kinetics400", "Kinetics400", "K400", "middle"),
        ("ssv2", "ssv2", "SSv2", "SSv2", "uniform"),
    ):
        ds = PAPER["datasets"][dataset]
        assert (ds["layout"], ds["root"], ds["published_as"]) == (layout, f"resources/datasets/{root}", published)
        clips = ds["clips"]
        assert (clips["frames"], clips["sampling"], clips["resize"], clips["crop"], clips["flip"]) == (
            8,
            sampling,
            [64, 64],
            64,
            False,
        )


K400_CLASSES = ["abseiling", "massaging person's head", "passing American football (in game)"]
SSV2_CLASSES = [
    "Pushing something from left to right",
    "Putting number of something onto something",
    "Touching (without moving) part of something",
]
# Frames of the videos linked to the annotation rows in turn: a long and a short usable one (K400: full stride, and
# stride n // 8), and every fifth row a video too short for 8 frames (one train row per dataset).
LENGTHS = {"kinetics400": [100, 40, 100, 40, 5], "ssv2": [45, 30, 45, 30, 5]}


def expected_indices(n: int, clips: dict) -> list[int]:
    """The frames REFERENCE.md asks for: 8 around the temporal middle at the stride (n // 8 when the video is shorter
    than 8 strides), or 8 spread uniformly from the first to the last frame."""
    t = clips["frames"]
    if clips["sampling"] == "uniform":
        return [int(round(x)) for x in np.linspace(0, n - 1, t)]
    s = min(clips["stride"], max(n // t, 1))
    start = (n - 1 - s * (t - 1)) // 2
    return [start + s * k for k in range(t)]


@pytest.mark.workflow  # it runs the index and extract_clips jobs
def test_kinetics_and_ssv2_index_and_clips_run(tmp_path):
    """The paper's index and clip extraction of Kinetics-400 and SSv2, run through Snakemake on tiny fake roots: the
    index lists every annotation row (missing clips and too-short videos as errors, labels by the sorted class list /
    the labels JSON), and the stores hold 8 frames of 64 x 64 per usable video, the frames the sampling asks for."""
    # the frames the paper's clips settings ask for (100 frames: the middle 85 at stride 12; not uniform's 0, 14,
    # ..., 99)
    assert expected_indices(100, PAPER["datasets"]["kinetics400"]["clips"]) == [7, 19, 31, 43, 55, 67, 79, 91]
    assert expected_indices(45, PAPER["datasets"]["ssv2"]["clips"]) == [0, 6, 13, 19, 25, 31, 38, 44]
    work = new_work(tmp_path / "work")
    (work / "config").unlink()
    (work / "config").mkdir()
    videos = {  # K400: mp4 at 30 fps, 16:9; SSv2: VP8 WebM at 12 fps
        "kinetics400": [
            fake_roots.write_video(tmp_path / f"k{n}.mp4", n, (96, 54), 30.0, "mp4v") for n in LENGTHS["kinetics400"]
        ],
        "ssv2": [fake_roots.write_video(tmp_path / f"s{n}.webm", n, (80, 60), 12.0, "VP80") for n in LENGTHS["ssv2"]],
    }
    dirs = {d: work / "resources/datasets" / ROOTS[d] for d in videos}
    k400 = fake_roots.kinetics400(dirs["kinetics400"], videos["kinetics400"], K400_CLASSES, 2, 1)
    ssv2 = fake_roots.ssv2(dirs["ssv2"], videos["ssv2"], SSV2_CLASSES, 2, 1)
    cfg = {
        k: v
        for k, v in PAPER.items()
        if k not in ("tables", "idtd_redundancy", "david_resolution", "david_search_cost", "claims")
    }
    cfg["datasets"] = {d: PAPER["datasets"][d] for d in videos}
    (work / "config/paper_k400_ssv2.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    targets = [f"results/{d}/clips/{s}.parquet" for d in videos for s in ("train", "test")]
    proc = subprocess.run(
        snakemake_cmd(*targets, configfile="config/paper_k400_ssv2.yaml", cores=2),
        cwd=work,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    from vidstill.data.clips import ClipStore, read_frames

    expected_rows = {
        "kinetics400": {s: [(fake_roots.k400_stem(r), r["label"]) for r in rows] for s, rows in k400.items()},
        "ssv2": {
            s: [(e["id"], e["template"].replace("[", "").replace("]", "")) for e in rows] for s, rows in ssv2.items()
        },
    }
    classes = {
        "kinetics400": sorted(K400_CLASSES),
        "ssv2": [
            c
            for c, _ in sorted(
                json.loads((dirs["ssv2"] / "something-something-v2-labels.json").read_text()).items(),
                key=lambda kv: int(kv[1]),
            )
        ],
    }
    for dataset, clips in ((d, PAPER["datasets"][d]["clips"]) for d in videos):
        index = pd.read_parquet(work / f"results/{dataset}/index.parquet")
        for split in ("train", "test"):
            rows = index[index["split"] == split]
            assert sorted(zip(rows["id"], rows["class"])) == sorted(expected_rows[dataset][split]), (dataset, split)
        assert (index["label"] == index["class"].map(classes[dataset].index)).all()
        assert index["path"].str.startswith(f"{dirs[dataset]}/").all()  # the configured root, as the user linked it
        missing = index[index["error"].str.startswith("missing file")]
        assert len(missing) == 2  # the one annotation row per split whose clip is not on disk
        short = index[index["error"].str.startswith("too short")]
        assert len(short) == 1 and (short["frames"] == 5).all() and (short["split"] == "train").all()
        usable = index[index["error"] == ""]
        assert set(usable["frames"]) == set(LENGTHS[dataset][:2]) and len(usable) == len(index) - 3
        for split in ("train", "test"):
            store = ClipStore.open(work / f"results/{dataset}/clips/{split}.parquet")
            want = usable[usable["split"] == split]
            assert sorted(store.table["id"]) == sorted(want["id"]) and (store.table["length"] == 8).all()
            assert store.frames.shape == (8 * len(want), 64, 64, 3) and store.frames.dtype == np.uint8
            assert store.num_classes == len(classes[dataset])
            labels = want.set_index("id")["label"]
            assert (store.table["label"].to_numpy() == store.table["id"].map(labels).to_numpy()).all()
            # which frames were kept: each stored frame matches the source frame the sampling asks for
            for _, row in store.table.iterrows():
                path = want.set_index("id").at[row["id"], "path"]
                n = int(want.set_index("id").at[row["id"], "frames"])
                levels = source_levels(read_frames, path)
                stored = store.frames[row["offset"] : row["offset"] + 8, 20:44, 20:44].reshape(8, -1).mean(1)
                kept = [int(np.argmin(np.abs(levels - s))) for s in stored]
                assert kept == expected_indices(n, clips), (dataset, row["id"], n)


_LEVELS: dict[tuple[int, int], np.ndarray] = {}


def source_levels(read_frames, path: str) -> np.ndarray:
    """The mean grey level of the centre of every decoded frame of a video (the fake videos are flat per frame)."""
    st = os.stat(path)
    key = (st.st_dev, st.st_ino)  # the hard links of one video share it
    if key not in _LEVELS:
        frames, _ = read_frames(path, lambda n: np.arange(n))
        h, w = frames.shape[1:3]
        _LEVELS[key] = frames[:, h // 3 : 2 * h // 3, w // 3 : 2 * w // 3].reshape(len(frames), -1).mean(1)
    return _LEVELS[key]
