from vidstill.warm import hand_over

hand_over(snakemake)  # a local run forks this job from a process that has imported torch (vidstill/warm.py)

from vidstill.data.clips import ClipStore
from vidstill.evaluate import evaluate_set
from vidstill.io import write_parquet
from vidstill.logs import job_log
from vidstill.runtime import check_card, job_runtime
from vidstill.synthetic_set import SyntheticSet

with job_log(snakemake.log[0]):
    w, p = snakemake.wildcards, snakemake.params
    rt = job_runtime(p.runtime, snakemake.threads)
    device = rt.device
    check_card(
        f"evaluate {w.dataset} {w.method} ipc {w.ipc} seed {w.seed}", snakemake.resources.get("gpu_mem_mb"), device
    )
    synthetic = SyntheticSet.load(snakemake.input.synthetic)
    inputs = dict(snakemake.input.items())
    runs = evaluate_set(
        synthetic,
        ClipStore.open(inputs["test"]),
        p.protocol,
        p.student,
        int(w.seed),
        device,
        labels=getattr(p, "labels", "native"),
        teacher=inputs.get("teacher"),
    )
    runs = runs.assign(
        dataset=w.dataset,
        method=w.method,
        ipc=int(w.ipc),
        distill_seed=int(w.seed),
        storage_bytes=synthetic.storage_bytes(),
        soft_labels=synthetic.soft_labels,
        expansion=synthetic.expansion,
        distill_seconds=synthetic.meta.get("wall_time"),
        distill_peak_memory_bytes=synthetic.meta.get("peak_memory_bytes"),
        device=device.type,
        precision=rt.precision,
        distill_device=synthetic.meta.get("device"),
        distill_precision=synthetic.meta.get("precision"),
    )
    write_parquet(
        runs,
        snakemake.output[0],
        metadata={"protocol": p.protocol, "synthetic": synthetic.meta, **rt.write_record(snakemake.log[0])},
    )
