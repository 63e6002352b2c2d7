# Lookups of the settings that shape a result, each as its rules' params see it: teachers, method instances, experts,
# crops, the evaluation protocols and tables. An undefined name stops planning with the key's path.
from vidstill.methods import STILLS_PER_ITEM, method_info  # torch-free: planning imports no method

DEFAULT_TEACHER = config["teacher"]["arch"]
if DEFAULT_TEACHER in config["teachers"]:
    raise WorkflowError(
        f"config: teachers.{DEFAULT_TEACHER} is the default teacher's name (teacher.arch); name the variant otherwise"
    )


def teacher_config(name):
    """The default teacher's settings (`teacher:`), or a named variant's: those settings with its overrides
    (`teachers.<name>`, e.g. TSGF's BatchNorm teacher)."""
    if name == DEFAULT_TEACHER:
        return config["teacher"]
    if name not in config["teachers"]:
        raise WorkflowError(
            f"config: teacher {name!r} is not defined; define it under teachers: (defined: "
            f"{', '.join([DEFAULT_TEACHER, *config['teachers']])})"
        )
    return {**config["teacher"], **config["teachers"][name]}


def teacher_weights(dataset, name=None):
    """The weights of teacher `name` (default: the default teacher) trained on `dataset`."""
    name = name or DEFAULT_TEACHER
    teacher_config(name)
    return f"results/{dataset}/teacher/{name}.safetensors"


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


def detector_weights(dataset):
    """The configured YOLO weights file, or on a synthetic dataset with none configured the detector trained on the
    generator's boxes; a real dataset without weights stops the run here, naming the key."""
    weights = config["crops"]["detector"]["weights"]
    if weights:
        return weights
    if DATASETS[dataset].get("layout") == "synthetic":
        return f"results/{dataset}/crops/detector.safetensors"
    raise WorkflowError(
        f"config: crops.detector.weights must name a local YOLO weights file (.pt) for dataset {dataset!r} "
        f"(layout {DATASETS[dataset]['layout']}): only synthetic datasets train their own detector"
    )


def tracking_settings():
    """What changes a track (not the grid, the scores or the method's top_k: changing those never re-tracks)."""
    return canonical({k: v for k, v in config["crops"].items() if k != "grid"})


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


def table_spec(name):
    if name not in config["tables"]:
        raise WorkflowError(f"config: tables.{name} is not defined; defined: {', '.join(config['tables'])}")
    return config["tables"][name]


def table_kind_datasets(table):
    """The datasets of a table whose classes declare a kind (the synthetic benchmark and its subsets): the table
    reports their appearance / motion accuracy from the generator's classes.csv."""
    return [d for d in table_spec(table)["datasets"] if base_of(d) in SYNTHETIC_DATASETS]
