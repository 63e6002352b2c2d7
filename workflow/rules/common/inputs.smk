# Input functions: the files a job reads, by stage (data, ranking, experts, distill, crops, evaluate, tables,
# analyses, report). Paths only; the settings they depend on are looked up in settings.smk.


def index_input(wildcards):
    """The generated videos for the synthetic layout; for a real layout, the official split files, checked first so a
    missing root or split file stops the run at DAG-building time with the expected layout spelled out."""
    ds = DATASETS[wildcards.dataset]
    if ds["layout"] == "synthetic":
        return [f"results/{wildcards.dataset}/videos"]
    from vidstill.data.indexers import check_layout

    check_layout(ds["layout"], ds["root"], ds.get("split", 1))
    return []


def subset_classes_input(wildcards):
    ds = DATASETS[wildcards.dataset]
    if "classes_file" in ds:
        return ds["classes_file"]
    return f"results/{ds['subset_of']}/ranking/delta.parquet"


def ranking_inputs(wildcards):
    """Per-seed class accuracies; the full-clip run of the teacher's own seed is the teacher itself (same model,
    data and protocol), so it is not trained twice."""
    arch, teacher_seed = config["teacher"]["arch"], config["teacher"]["seed"]
    full = [
        (
            f"results/{wildcards.dataset}/teacher/{arch}_accuracy.parquet"
            if seed == teacher_seed
            else f"results/{wildcards.dataset}/ranking/full/seed{seed}.parquet"
        )
        for seed in config["ranking"]["seeds"]
    ]
    static = [f"results/{wildcards.dataset}/ranking/static/seed{seed}.parquet" for seed in config["ranking"]["seeds"]]
    return {"full": full, "static": static}


def table_group_inputs(wildcards):
    datasets = table_spec(wildcards.table)["datasets"]
    return {
        "runs": f"results/tables/{wildcards.table}_runs.parquet",
        "delta": [f"results/{base_of(d)}/ranking/delta.parquet" for d in datasets],
        "test": [f"results/{d}/clips/test.parquet" for d in datasets],
    }


def expert_files(dataset):
    return [f"results/{dataset}/experts/expert{i}.safetensors" for i in range(config["experts"]["count"])]


def distill_inputs(wildcards):
    inputs = {"train": f"results/{wildcards.dataset}/clips/train.parquet"}
    needs = method_needs(wildcards.method)
    if "teacher" in needs:
        inputs["teacher"] = teacher_weights(wildcards.dataset, method_settings(wildcards.method).teacher)
    if "experts" in needs:
        inputs["experts"] = expert_files(wildcards.dataset)
        inputs["expert_summary"] = f"results/{wildcards.dataset}/experts/summary.parquet"
    if "stills" in needs:
        inputs["stills"] = stills_file(wildcards)
    if "crops" in needs:
        base = base_of(wildcards.dataset)
        inputs["scores"] = f"results/{wildcards.dataset}/crops/scores.parquet"
        inputs["tracks"] = f"results/{base}/crops/tracks.parquet"
        inputs["index"] = f"results/{base}/index.parquet"
    return inputs


def stills_file(wildcards):
    """VDSD's stage 1: the Static-DC instance named by the method's `stills` setting, distilled at 2 × IPC by the
    same distill rule, so every VDSD variant of a dataset, IPC and seed shares one file."""
    name = method_settings(wildcards.method).stills
    if name not in config["methods"]:
        raise WorkflowError(f"config: methods.{wildcards.method}.stills names {name!r}, which methods does not define")
    if method_needs(name):
        raise WorkflowError(
            f"config: methods.{wildcards.method}.stills: {name!r} must be a stand-alone method (Static-DC)"
        )
    ipc = STILLS_PER_ITEM * int(wildcards.ipc)
    return f"results/{wildcards.dataset}/distilled/{name}/ipc{ipc}/seed{wildcards.seed}.safetensors"


def crop_summary_inputs(wildcards):
    shards = range(config["crops"]["shards"])
    inputs = {
        "tracks": [f"results/{wildcards.dataset}/crops/tracks/shard{i}.parquet" for i in shards],
        "videos": [f"results/{wildcards.dataset}/crops/tracks/shard{i}_videos.parquet" for i in shards],
        "index": f"results/{wildcards.dataset}/index.parquet",
        "detector": detector_weights(wildcards.dataset),
    }
    if DATASETS[wildcards.dataset].get("layout") == "synthetic":
        inputs["boxes"] = f"results/{wildcards.dataset}/videos"  # ground truth: tracking IoU
    return inputs


def evaluate_labels_inputs(wildcards):
    inputs = {
        "synthetic": f"results/{wildcards.dataset}/distilled/{wildcards.method}/ipc{wildcards.ipc}/seed{wildcards.seed}.safetensors",
        "test": f"results/{wildcards.dataset}/clips/test.parquet",
    }
    if wildcards.labels == "soft":
        inputs["teacher"] = teacher_weights(wildcards.dataset, soft_teacher())
    return inputs


def table_inputs(wildcards):
    spec = table_spec(wildcards.table)
    runs = []
    for dataset in spec["datasets"]:
        if spec.get("full", True):
            runs += expand("results/{dataset}/eval/full/seed{seed}.parquet", dataset=dataset, seed=config["seeds"])
        runs += expand(
            "results/{dataset}/eval/{method}/ipc{ipc}/seed{seed}.parquet",
            dataset=dataset,
            method=spec["methods"],
            ipc=spec["ipc"],
            seed=config["seeds"],
        )
        only = config["evaluation"]["label_protocols"]["ipc"]
        for labels in LABEL_PROTOCOLS:
            runs += expand(
                "results/{dataset}/eval_{labels}/{method}/ipc{ipc}/seed{seed}.parquet",
                dataset=dataset,
                labels=labels,
                method=label_protocol_methods(labels, spec["methods"]),
                ipc=[i for i in spec["ipc"] if not only or i in only],
                seed=config["seeds"],
            )
    kind_datasets = table_kind_datasets(wildcards.table)
    return {
        "runs": runs,
        "published": "resources/paper_results.csv",
        "kind_test": [f"results/{d}/clips/test.parquet" for d in kind_datasets],
        "kind_videos": [f"results/{base_of(d)}/videos" for d in kind_datasets],
    }


def claims_plan():
    """Every claim instance of `claims.statements` with the table that holds its cells (library code decides; an
    undefined method or dataset stops planning with the key's path)."""
    from vidstill.report.claims import plan_claims

    try:
        return plan_claims(
            config["claims"]["statements"],
            config["tables"],
            config["claims"]["tables"],
            config.get("david_resolution"),
            config["methods"],
            DATASETS,
            config.get("prism_keyframes"),
        )
    except ValueError as e:
        raise WorkflowError(f"config: {e}")


CLAIMS_PLAN = claims_plan()
CLAIMS_TABLES = [t for t in config["claims"]["tables"] if any(r["table"] == t for r in CLAIMS_PLAN)]


def claims_inputs(wildcards):
    """The runs of the tables the claims read (only those: an ablation table is not built for a claim that table1
    answers) and DAViD's resolution report / PRISM's key-frame report when a claim of that kind can run."""
    inputs = {"runs": [f"results/tables/{t}_runs.parquet" for t in CLAIMS_TABLES]}
    if any(r["table"] == "david_resolution" for r in CLAIMS_PLAN):
        inputs["resolution"] = "results/tables/david_resolution.csv"
    if any(r["table"] == "prism_keyframes" for r in CLAIMS_PLAN):
        inputs["keyframes"] = "results/tables/prism_keyframes.csv"
    return inputs


def idtd_redundancy_inputs(wildcards):
    a = config["idtd_redundancy"]
    runs = lambda method: expand(
        "results/{dataset}/eval/{method}/ipc{ipc}/seed{seed}.parquet",
        dataset=a["dataset"],
        method=method,
        ipc=a["ipc"],
        seed=config["seeds"],
    )
    return {
        "teacher": teacher_weights(a["dataset"]),
        "train": f"results/{a['dataset']}/clips/train.parquet",
        "method": runs(a["method"]),
        "baseline": runs(a["baseline"]),
    }


def distilled_sets(dataset, method, ipc):
    return expand(
        "results/{dataset}/distilled/{method}/ipc{ipc}/seed{seed}.safetensors",
        dataset=dataset,
        method=method,
        ipc=ipc,
        seed=config["seeds"],
    )


def david_resolution_inputs(wildcards):
    a = config["david_resolution"]
    return {
        "sets": distilled_sets(a["datasets"], a["method"], a["ipc"]),
        "delta": [f"results/{base_of(d)}/ranking/delta.parquet" for d in a["datasets"]],
    }


def prism_keyframes_inputs(wildcards):
    a = config["prism_keyframes"]
    return {
        "sets": distilled_sets(a["datasets"], a["method"], a["ipc"]),
        "delta": [f"results/{base_of(d)}/ranking/delta.parquet" for d in a["datasets"]],
    }


def david_search_cost_inputs(wildcards):
    a = config["david_search_cost"]
    return {
        "sets": distilled_sets(a["dataset"], list(a["searches"].values()), a["ipc"]),
        "published": "resources/paper_results.csv",
    }


def table_sets(table):
    """Every distilled set of a table: (dataset, method, ipc, seed) in the table's order."""
    spec = table_spec(table)
    return [
        dict(dataset=d, method=m, ipc=i, seed=s)
        for d in spec["datasets"]
        for i in spec["ipc"]
        for m in spec["methods"]
        for s in config["seeds"]
    ]


def export_inputs(wildcards):
    """The table's distilled sets, and each dataset's test clips (the class names of the export)."""
    cells = table_sets(wildcards.table)
    return {
        "sets": [
            f"results/{c['dataset']}/distilled/{c['method']}/ipc{c['ipc']}/seed{c['seed']}.safetensors" for c in cells
        ],
        "tests": [f"results/{d}/clips/test.parquet" for d in table_spec(wildcards.table)["datasets"]],
    }


def strip_inputs(wildcards):
    """The table's distilled sets at its smallest IPC for the first seed, and the dataset's training clips."""
    spec = table_spec(wildcards.table)
    ipc, seed = min(spec["ipc"]), config["seeds"][0]
    return {
        "sets": [f"results/{wildcards.dataset}/distilled/{m}/ipc{ipc}/seed{seed}.safetensors" for m in spec["methods"]],
        "train": f"results/{wildcards.dataset}/clips/train.parquet",
    }
