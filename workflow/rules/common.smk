# Shared helpers of the workflow (config validation, dataset lookups, input functions, code hashes).
import sys
from pathlib import Path

from snakemake.utils import validate


validate(config, workflow.source_path("../schemas/config.schema.yaml"))

DATASETS = config["datasets"]
LIBRARY = Path(workflow.basedir) / "workflow" / "vidstill"
# The library is importable by the Snakefile and by every job (scripts, --sdm conda envs, cluster jobs) from the
# source tree, whether or not the package is installed in the environment that runs it.
sys.path.insert(0, str(LIBRARY.parent))
from vidstill.methods import STILLS_PER_ITEM, method_info  # noqa: E402  (torch-free: planning imports no method)
from vidstill.settings import SettingsError, check_config  # noqa: E402  (torch-free dataclasses)
from vidstill.workflow import export_library_path, source_hash  # noqa: E402

export_library_path(LIBRARY.parent)

# The typed settings (vidstill/settings.py, vidstill/methods/settings.py): each section and every method instance
# built once from the config, so an unknown key, a wrong type or an out-of-range value stops planning with the key's
# full path and the keys accepted there (the schema above leaves a method instance's keys to its settings class).
try:
    METHOD_SETTINGS = check_config(config)
except SettingsError as e:
    raise WorkflowError(f"config: {e}")


def _check_datasets():
    """Config errors the schema cannot express, reported with the key's path before any job starts."""
    for name, ds in DATASETS.items():
        parent = ds.get("subset_of")
        if parent is not None and parent not in DATASETS:
            raise WorkflowError(f"config: datasets.{name}.subset_of names unknown dataset {parent!r}")
        if parent is not None and DATASETS[parent].get("subset_of"):
            raise WorkflowError(f"config: datasets.{name}.subset_of: {parent!r} is itself a subset; name its parent")


_check_datasets()
BASE_DATASETS = [n for n, d in DATASETS.items() if "subset_of" not in d]
SUBSET_DATASETS = [n for n, d in DATASETS.items() if "subset_of" in d]
SYNTHETIC_DATASETS = [n for n, d in DATASETS.items() if d.get("layout") == "synthetic"]


def canonical(value):
    """A config value with every mapping's keys sorted, for `params:`. Snakemake compares params by their printed
    form, so without this, reordering keys in a config file (or a tool rewriting it) would rerun every job."""
    if isinstance(value, dict):
        return {k: canonical(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [canonical(v) for v in value]
    return value


def alternation(names):
    """A wildcard constraint matching exactly these names (or nothing when there are none)."""
    return "|".join(names) if names else "(?!x)x"


def base_of(dataset):
    return DATASETS[dataset].get("subset_of", dataset)


SCRIPTS = Path(workflow.basedir) / "workflow" / "scripts"


def script_code(script, *modules):
    """The `code` param of every rule: one hash of its script (under workflow/scripts) and of every library module the
    script can execute, found by following its imports (vidstill.workflow.source_hash). Never a hand-written list:
    editing any helper a job imports, however deep, reruns the job (Snakemake's own code trigger sees only the
    script). `modules` adds library files a script loads by name at run time (the distill rule's method)."""
    return source_hash([SCRIPTS / script, *modules], LIBRARY)


DEFAULT_TEACHER = config["teacher"]["arch"]
if DEFAULT_TEACHER in config["teachers"]:
    raise WorkflowError(f"config: teachers.{DEFAULT_TEACHER} is the default teacher's name (teacher.arch); name the variant otherwise")


from vidstill.gpus import planning_device  # noqa: E402

# The device every job runs on, resolved once at planning (`auto`: CUDA when this machine shows a GPU, without
# importing torch), so that the params carry what a result was computed on: moving a run between a CPU and a GPU
# machine, or switching precision, reruns every result it changes. A job that will not use CUDA reserves no GPU.
DEVICE = planning_device(config["device"])
GPUS = 1 if DEVICE == "cuda" else 0
RUNTIME = canonical({"device": DEVICE, "precision": config["precision"], "deterministic": config["deterministic"]})


def _input_gb(input):
    """The job's input in GB, a clip store's memory-mapped frames file (named in its table's metadata) included."""
    from vidstill.io import read_parquet_metadata

    total = 0
    for f in input:
        p = Path(f)
        if not p.exists():
            continue
        total += p.stat().st_size
        if p.suffix == ".parquet" and p.parent.name == "clips":
            frames = p.parent / read_parquet_metadata(p).get("frames_file", "")
            total += frames.stat().st_size if frames.is_file() else 0
    return total / 1e9


def _scaled(key):
    """A resource callable (MB or minutes): base + per input GB + per IPC, times `escalation` per retry attempt."""
    c = config["cluster"]

    def resource(wildcards, input, attempt):
        ipc = int(getattr(wildcards, "ipc", 0) or 0)
        value = c[key]["base"] + c[key]["per_input_gb"] * _input_gb(input) + c[key]["per_ipc"] * ipc
        return int(value * c["escalation"] ** (attempt - 1))

    return resource


job_mem_mb, job_runtime = _scaled("mem_mb"), _scaled("runtime")


def distill_runtime(wildcards=None):
    """The distill rule's runtime: the run's, plus the real-clip embedding's chunk size (methods that embed real
    clips without a graph; 0 embeds all at once on CPU, from free memory on CUDA)."""
    return canonical({**RUNTIME, "embed_chunk": config["embed_chunk"]})


def distill_estimate(wildcards):
    """The distill job's estimated peak GPU memory (vidstill.memory), or None where the method or network has no model
    there or the dataset's classes are not known before its data exist."""
    from vidstill.memory import dataset_classes, dataset_shape, distill_estimate as estimate

    student = config["student"]
    classes = dataset_classes(DATASETS, wildcards.dataset)
    if student.get("arch", "convnet3d") != "convnet3d" or classes is None:
        return None
    # embed_chunk 0 on CUDA sizes the chunks from free memory: the least the job needs is one clip per forward
    chunk = config["embed_chunk"] or 1
    return estimate(method_impl(wildcards.method), method_settings(wildcards.method), dataset_shape(DATASETS[base_of(wildcards.dataset)]["clips"]),
                    tuple(student["widths"]), classes, int(wildcards.ipc), chunk)


def _training_estimate(dataset, net, batch_size):
    """A training job's estimated peak GPU memory: one batch of a ConvNet3D `net` (None for other networks)."""
    from vidstill.memory import dataset_shape, training_estimate

    if net.get("arch", "convnet3d") != "convnet3d":
        return None
    return training_estimate(int(batch_size), dataset_shape(DATASETS[base_of(dataset)]["clips"]), tuple(net["widths"]))


def evaluate_estimate(wildcards, full=False):
    """An evaluation job's: the student on the protocol's (or the Full Dataset row's) batch."""
    return _training_estimate(wildcards.dataset, config["student"], protocol(full)["batch_size"])


def teacher_estimate(wildcards):
    """A teacher's (or a Δ-ranking training's: the default teacher's settings)."""
    cfg = teacher_config(getattr(wildcards, "teacher", DEFAULT_TEACHER))
    return _training_estimate(wildcards.dataset, cfg, cfg["batch_size"])


def expert_estimate(wildcards):
    return _training_estimate(wildcards.dataset, config["student"], config["experts"]["batch_size"])


def gpu_mem_mb(estimator):
    """A `gpu_mem_mb` resource from a job's estimate (0 on CPU or where there is no estimate): the job checks it
    against its card before it starts (vidstill.runtime.check_card), and a local run may cap it with --resources."""

    def resource(wildcards):
        if not GPUS:
            return 0
        est = estimator(wildcards)
        return 0 if est is None else int(est.total / 2**20) + 1

    return resource


def teacher_config(name):
    """The default teacher's settings (`teacher:`), or a named variant's: those settings with its overrides
    (`teachers.<name>`, e.g. TSGF's BatchNorm teacher)."""
    if name == DEFAULT_TEACHER:
        return config["teacher"]
    if name not in config["teachers"]:
        raise WorkflowError(f"config: teacher {name!r} is not defined; define it under teachers: (defined: "
                            f"{', '.join([DEFAULT_TEACHER, *config['teachers']])})")
    return {**config["teacher"], **config["teachers"][name]}


def teacher_weights(dataset, name=None):
    """The weights of teacher `name` (default: the default teacher) trained on `dataset`."""
    name = name or DEFAULT_TEACHER
    teacher_config(name)
    return f"results/{dataset}/teacher/{name}.safetensors"


def ranking_inputs(wildcards):
    """Per-seed class accuracies; the full-clip run of the teacher's own seed is the teacher itself (same model,
    data and protocol), so it is not trained twice."""
    arch, teacher_seed = config["teacher"]["arch"], config["teacher"]["seed"]
    full = [
        f"results/{wildcards.dataset}/teacher/{arch}_accuracy.parquet"
        if seed == teacher_seed
        else f"results/{wildcards.dataset}/ranking/full/seed{seed}.parquet"
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


def subset_classes_input(wildcards):
    ds = DATASETS[wildcards.dataset]
    if "classes_file" in ds:
        return ds["classes_file"]
    return f"results/{ds['subset_of']}/ranking/delta.parquet"


def data_targets():
    targets = []
    for name in DATASETS:
        targets += expand("results/{dataset}/clips/{split}.parquet", dataset=name, split=["train", "test"])
    targets += expand("results/figures/{dataset}_classes.png", dataset=SYNTHETIC_DATASETS)
    targets += expand("results/{dataset}/ranking/delta.parquet", dataset=SYNTHETIC_DATASETS)
    return targets


def report_targets():
    """The report's figures, the cost table and table1's exported sets with their previews (none without tables)."""
    tables = config["tables"]
    targets = expand("results/figures/{table}_accuracy_{kind}.png", table=tables, kind=["ipc", "storage"])
    targets += [f"results/figures/strips/{t}/{d}.png" for t, spec in tables.items() for d in spec["datasets"]]
    targets += ["results/export/table1/index.html"] if "table1" in tables else []
    return targets + (["results/tables/cost.csv"] if tables else [])


def table_sets(table):
    """Every distilled set of a table: (dataset, method, ipc, seed) in the table's order."""
    spec = table_spec(table)
    return [dict(dataset=d, method=m, ipc=i, seed=s) for d in spec["datasets"] for i in spec["ipc"] for m in spec["methods"]
            for s in config["seeds"]]


def export_inputs(wildcards):
    """The table's distilled sets, and each dataset's test clips (the class names of the export)."""
    cells = table_sets(wildcards.table)
    return {"sets": [f"results/{c['dataset']}/distilled/{c['method']}/ipc{c['ipc']}/seed{c['seed']}.safetensors" for c in cells],
            "tests": [f"results/{d}/clips/test.parquet" for d in table_spec(wildcards.table)["datasets"]]}


def index_input(wildcards):
    """The generated videos for the synthetic layout; for a real layout, the official split files, checked first so a
    missing root or split file stops the run at DAG-building time with the expected layout spelled out."""
    ds = DATASETS[wildcards.dataset]
    if ds["layout"] == "synthetic":
        return [f"results/{wildcards.dataset}/videos"]
    from vidstill.data.indexers import check_layout

    check_layout(ds["layout"], ds["root"], ds.get("split", 1))
    return []


def method_config(name):
    if name not in config["methods"]:
        raise WorkflowError(f"config: methods.{name} is not defined (tables name it)")
    return config["methods"][name]


def method_settings(name):
    """A method instance's typed settings (built and checked once at start-up)."""
    method_config(name)
    return METHOD_SETTINGS[name]


def method_impl(name):
    return method_settings(name).method or name


def method_needs(name):
    return method_info(method_impl(name)).needs


def method_module(impl):
    return method_info(impl).module


def expert_training():
    """The experts' training settings: what changes a trajectory (count and the check do not)."""
    return canonical({k: v for k, v in config["experts"].items() if k not in ("count", "min_ratio", "strict")})


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


def detector_weights(dataset):
    """The configured YOLO weights file, or on a synthetic dataset with none configured the detector trained on the
    generator's boxes; a real dataset without weights stops the run here, naming the key."""
    weights = config["crops"]["detector"]["weights"]
    if weights:
        return weights
    if DATASETS[dataset].get("layout") == "synthetic":
        return f"results/{dataset}/crops/detector.safetensors"
    raise WorkflowError(f"config: crops.detector.weights must name a local YOLO weights file (.pt) for dataset {dataset!r} "
                        f"(layout {DATASETS[dataset]['layout']}): only synthetic datasets train their own detector")


def tracking_settings():
    """What changes a track (not the grid, the scores or the method's top_k: changing those never re-tracks)."""
    return canonical({k: v for k, v in config["crops"].items() if k != "grid"})


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


def stills_file(wildcards):
    """VDSD's stage 1: the Static-DC instance named by the method's `stills` setting, distilled at 2 × IPC by the
    same distill rule, so every VDSD variant of a dataset, IPC and seed shares one file."""
    name = method_settings(wildcards.method).stills
    if name not in config["methods"]:
        raise WorkflowError(f"config: methods.{wildcards.method}.stills names {name!r}, which methods does not define")
    if method_needs(name):
        raise WorkflowError(f"config: methods.{wildcards.method}.stills: {name!r} must be a stand-alone method (Static-DC)")
    ipc = STILLS_PER_ITEM * int(wildcards.ipc)
    return f"results/{wildcards.dataset}/distilled/{name}/ipc{ipc}/seed{wildcards.seed}.safetensors"


def method_code(wildcards):
    """The distill rule's code: its script and the method's module (found without importing it, like every closure)."""
    return script_code("distill.py", method_module(method_impl(wildcards.method)))


EVALUATION_KEY = "evaluation"  # a method instance's own evaluation recipe (methods.<name>.evaluation)
TABLE_ONLY_EVALUATION_KEYS = ("full", "label_protocols", "soft", "dd_ranking_weight")


def protocol(full=False, method=None, labels="native"):
    """The evaluation settings that shape a result: the Full Dataset row's own epochs / batch size replace the
    protocol's there, and are not params of distilled-set evaluations (editing them reruns only the full row). A
    method instance's `evaluation` mapping replaces the protocol's training settings for its sets (FRePo's students
    train as its reference evaluates them: AdamW at lr 1e-4 for 1,000 epochs); editing it reruns only its evaluations.
    Which methods get the extra label protocols, and DD-Ranking's weight, shape tables only; the soft block shapes only
    the soft protocol's evaluations."""
    p = {k: v for k, v in config["evaluation"].items() if k not in TABLE_ONLY_EVALUATION_KEYS}
    if labels == "soft":
        p["soft"] = {**config["evaluation"]["soft"], "teacher": soft_teacher()}
    if full:
        p = {**p, **config["evaluation"]["full"]}
    elif method is not None:
        p = {**p, **method_config(method).get(EVALUATION_KEY, {})}
    return canonical(p)


def distill_settings(name):
    """A method instance's settings as its distillation sees them: all but its evaluation recipe (editing that reruns
    the evaluations, not the distillation)."""
    return canonical({k: v for k, v in method_config(name).items() if k != EVALUATION_KEY})


def soft_teacher():
    """The soft protocol's teacher: evaluation.soft.teacher, or the default teacher."""
    return config["evaluation"]["soft"].get("teacher") or DEFAULT_TEACHER


LABEL_PROTOCOLS = ("hard", "soft")


def label_protocol_methods(labels, methods):
    """The methods of `methods` evaluated under protocol `labels` beside their own labels: the configured list (or
    all), with Random whenever the soft list is not empty (IOR compares a soft-label method with Random under the
    teacher's labels). Random's hard protocol is its native evaluation, so it is never added there."""
    chosen = config["evaluation"]["label_protocols"].get(labels, [])
    picked = list(methods) if "all" in chosen else [m for m in methods if m in chosen]
    if labels == "soft" and picked and "random" in methods and "random" not in picked:
        picked.insert(0, "random")
    return picked


def evaluate_labels_inputs(wildcards):
    inputs = {"synthetic": f"results/{wildcards.dataset}/distilled/{wildcards.method}/ipc{wildcards.ipc}/seed{wildcards.seed}.safetensors",
              "test": f"results/{wildcards.dataset}/clips/test.parquet"}
    if wildcards.labels == "soft":
        inputs["teacher"] = teacher_weights(wildcards.dataset, soft_teacher())
    return inputs


def table_spec(name):
    if name not in config["tables"]:
        raise WorkflowError(f"config: tables.{name} is not defined; defined: {', '.join(config['tables'])}")
    return config["tables"][name]


def table_inputs(wildcards):
    spec = table_spec(wildcards.table)
    runs = []
    for dataset in spec["datasets"]:
        if spec.get("full", True):
            runs += expand("results/{dataset}/eval/full/seed{seed}.parquet", dataset=dataset, seed=config["seeds"])
        runs += expand(
            "results/{dataset}/eval/{method}/ipc{ipc}/seed{seed}.parquet",
            dataset=dataset, method=spec["methods"], ipc=spec["ipc"], seed=config["seeds"],
        )
        only = config["evaluation"]["label_protocols"]["ipc"]
        for labels in LABEL_PROTOCOLS:
            runs += expand(
                "results/{dataset}/eval_{labels}/{method}/ipc{ipc}/seed{seed}.parquet", dataset=dataset, labels=labels,
                method=label_protocol_methods(labels, spec["methods"]), ipc=[i for i in spec["ipc"] if not only or i in only],
                seed=config["seeds"],
            )
    kind_datasets = table_kind_datasets(wildcards.table)
    return {"runs": runs, "published": "resources/paper_results.csv",
            "kind_test": [f"results/{d}/clips/test.parquet" for d in kind_datasets],
            "kind_videos": [f"results/{base_of(d)}/videos" for d in kind_datasets]}


def table_kind_datasets(table):
    """The datasets of a table whose classes declare a kind (the synthetic benchmark and its subsets): the table
    reports their appearance / motion accuracy from the generator's classes.csv."""
    return [d for d in table_spec(table)["datasets"] if base_of(d) in SYNTHETIC_DATASETS]


def claims_plan():
    """Every claim instance of `claims.statements` with the table that holds its cells (library code decides; an
    undefined method or dataset stops planning with the key's path)."""
    from vidstill.report.claims import plan_claims

    try:
        return plan_claims(config["claims"]["statements"], config["tables"], config["claims"]["tables"],
                           config.get("david_resolution"), config["methods"], DATASETS, config.get("prism_keyframes"))
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
    runs = lambda method: expand("results/{dataset}/eval/{method}/ipc{ipc}/seed{seed}.parquet", dataset=a["dataset"],
                                 method=method, ipc=a["ipc"], seed=config["seeds"])
    return {"teacher": teacher_weights(a["dataset"]), "train": f"results/{a['dataset']}/clips/train.parquet",
            "method": runs(a["method"]), "baseline": runs(a["baseline"])}


def distilled_sets(dataset, method, ipc):
    return expand("results/{dataset}/distilled/{method}/ipc{ipc}/seed{seed}.safetensors", dataset=dataset, method=method,
                  ipc=ipc, seed=config["seeds"])


def david_resolution_inputs(wildcards):
    a = config["david_resolution"]
    return {"sets": distilled_sets(a["datasets"], a["method"], a["ipc"]),
            "delta": [f"results/{base_of(d)}/ranking/delta.parquet" for d in a["datasets"]]}


def prism_keyframes_inputs(wildcards):
    a = config["prism_keyframes"]
    return {"sets": distilled_sets(a["datasets"], a["method"], a["ipc"]),
            "delta": [f"results/{base_of(d)}/ranking/delta.parquet" for d in a["datasets"]]}


def david_search_cost_inputs(wildcards):
    a = config["david_search_cost"]
    return {"sets": distilled_sets(a["dataset"], list(a["searches"].values()), a["ipc"]), "published": "resources/paper_results.csv"}


def _job(stage, rule, artifact=None, method="", ipc=None, seed=None, job="", **wildcards):
    """One job behind the tables, for the cost table: its keys, its benchmark file and (distill / evaluate) the artifact
    where it records its peak GPU memory. Paths come from the rules' own declarations, never retyped here."""
    wc = {"method": method, "ipc": ipc, "seed": seed, **wildcards}
    return {"stage": stage, "dataset": wildcards.get("dataset", ""), "method": method, "ipc": ipc, "seed": seed, "job": job,
            "benchmark": str(rule.benchmark).format(**wc), "artifact": str(artifact).format(**wc) if artifact else None,
            "usage": str(rule.log[0]).format(**wc) + ".usage.json", "log": str(rule.log[0]).format(**wc)}


def cost_jobs():
    """Every job the configured tables stand on, once: data, ranking, teachers, experts, crops, each cell's distill and
    evaluate jobs (VDSD's shared stills and the hard / soft label protocols' evaluations included) and the Full
    Dataset rows."""
    jobs, needs = {}, {}

    def add(job):
        jobs.setdefault((job["stage"], job["dataset"], job["method"], job["ipc"], job["seed"], job["job"]), job)

    for spec in config["tables"].values():
        for dataset in spec["datasets"]:
            base = base_of(dataset)
            needs.setdefault(dataset, set())
            for seed in config["seeds"]:
                if spec.get("full", True):
                    add(_job("evaluate_full", rules.evaluate_full, rules.evaluate_full.output[0], method="full", ipc=0, seed=seed, dataset=dataset))
                for method in spec["methods"]:
                    needs[dataset] |= set(method_needs(method))
                    for ipc in spec["ipc"]:
                        cell = dict(method=method, ipc=ipc, seed=seed, dataset=dataset)
                        add(_job("distill", rules.distill, rules.distill.output[0], **cell))
                        add(_job("evaluate", rules.evaluate, rules.evaluate.output[0], **cell))
                        only = config["evaluation"]["label_protocols"]["ipc"]
                        for labels in LABEL_PROTOCOLS:  # the hard / soft protocols' runs, as their own stages
                            if method in label_protocol_methods(labels, spec["methods"]) and (not only or ipc in only):
                                add(_job(f"evaluate_{labels}", rules.evaluate_labels, rules.evaluate_labels.output[0], labels=labels, **cell))
                        if "stills" in method_needs(method):
                            stills = method_settings(method).stills
                            add(_job("distill", rules.distill, rules.distill.output[0], method=stills, ipc=STILLS_PER_ITEM * ipc, seed=seed, dataset=dataset))
            teachers = {DEFAULT_TEACHER} | {method_settings(m).teacher or DEFAULT_TEACHER for m in spec["methods"]
                                            if "teacher" in method_needs(m)}
            for name in sorted(teachers):
                add(_job("teacher", rules.teacher, job=name, dataset=dataset, teacher=name))
            add(_job("teacher", rules.teacher, job=DEFAULT_TEACHER, dataset=base, teacher=DEFAULT_TEACHER))  # the ranking's
            if "experts" in needs[dataset]:
                for i in range(config["experts"]["count"]):
                    add(_job("expert", rules.expert, job=f"expert{i}", dataset=dataset, expert=i))
                add(_job("expert", rules.expert_check, job="check", dataset=dataset))
            if "crops" in needs[dataset]:
                for shard in range(config["crops"]["shards"]):
                    add(_job("crops", rules.crop_tracks, job=f"tracks{shard}", dataset=base, shard=shard))
                add(_job("crops", rules.crop_summary, job="summary", dataset=base))
                add(_job("crops", rules.crop_scores, job="scores", dataset=dataset))
                if not config["crops"]["detector"]["weights"]:
                    add(_job("crops", rules.crop_detector, job="detector", dataset=base))
            if DATASETS[base].get("layout") == "synthetic":
                add(_job("data", rules.generate_synthetic, job="generate", dataset=base))
            add(_job("data", rules.index, job="index", dataset=base))
            for split in ("train", "test"):
                add(_job("data", rules.extract_clips, job=f"clips_{split}", dataset=base, split=split))
                if dataset != base:
                    add(_job("data", rules.subset_clips, job=f"clips_{split}", dataset=dataset, split=split))
            if dataset != base:
                add(_job("data", rules.subset_index, job="index", dataset=dataset))
            for seed in config["ranking"]["seeds"]:
                for mode in ("full", "static") if seed != config["teacher"]["seed"] else ("static",):
                    add(_job("ranking", rules.class_accuracy, job=f"{mode}_seed{seed}", dataset=base, mode=mode, seed=seed))
            add(_job("ranking", rules.delta, job="delta", dataset=base))
    # sorted, so that reordering keys of the config file does not change this param (and rerun the cost table)
    return sorted(jobs.values(), key=lambda j: (j["stage"], j["dataset"], j["method"], j["ipc"] or 0, j["seed"] or 0, j["job"]))


def strip_inputs(wildcards):
    """The table's distilled sets at its smallest IPC for the first seed, and the dataset's training clips."""
    spec = table_spec(wildcards.table)
    ipc, seed = min(spec["ipc"]), config["seeds"][0]
    return {"sets": [f"results/{wildcards.dataset}/distilled/{m}/ipc{ipc}/seed{seed}.safetensors" for m in spec["methods"]],
            "train": f"results/{wildcards.dataset}/clips/train.parquet"}
