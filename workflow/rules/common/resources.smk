# What a job runs on and reserves: the device resolved at planning, the runtime params, and the resource callables
# (memory and runtime scaled by input size, IPC and retry attempt; GPU memory from the library's estimates).
from vidstill.gpus import planning_device
from vidstill.planning import scaled_resource

# The device every job runs on, resolved once at planning (`auto`: CUDA when this machine shows a GPU, without
# importing torch), so that the params carry what a result was computed on: moving a run between a CPU and a GPU
# machine, or switching precision, reruns every result it changes. A job that will not use CUDA reserves no GPU.
DEVICE = planning_device(config["device"])
GPUS = 1 if DEVICE == "cuda" else 0
RUNTIME = canonical({"device": DEVICE, "precision": config["precision"], "deterministic": config["deterministic"]})


job_mem_mb, job_runtime = scaled_resource(config["cluster"], "mem_mb"), scaled_resource(config["cluster"], "runtime")


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
    return estimate(
        method_impl(wildcards.method),
        method_settings(wildcards.method),
        dataset_shape(DATASETS[base_of(wildcards.dataset)]["clips"]),
        tuple(student["widths"]),
        classes,
        int(wildcards.ipc),
        chunk,
    )


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
