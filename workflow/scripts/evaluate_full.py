from vidstill.warm import hand_over

hand_over(snakemake)  # a local run forks this job from a process that has imported torch (vidstill/warm.py)

import numpy as np

from vidstill.data.clips import ClipStore, RealClips
from vidstill.evaluate import evaluate_student
from vidstill.io import write_parquet
from vidstill.logs import job_log
from vidstill.runtime import check_card, job_runtime

with job_log(snakemake.log[0]):
    w, p = snakemake.wildcards, snakemake.params
    rt = job_runtime(p.runtime, snakemake.threads)
    device = rt.device
    check_card(f"evaluate_full {w.dataset} seed {w.seed}", snakemake.resources.get("gpu_mem_mb"), device)
    train = ClipStore.open(snakemake.input.train)
    runs = evaluate_student(
        RealClips(train), ClipStore.open(snakemake.input.test), p.protocol, p.student, int(w.seed), device
    )
    frames_bytes = int(train.table["length"].sum()) * int(np.prod(train.frames.shape[1:]))
    runs = runs.assign(
        dataset=w.dataset,
        method="full",
        ipc=0,
        distill_seed=int(w.seed),
        storage_bytes=frames_bytes,
        soft_labels=False,
        expansion="real",
        distill_seconds=0.0,
        device=device.type,
        precision=rt.precision,
    )
    write_parquet(runs, snakemake.output[0], metadata={"protocol": p.protocol, **rt.write_record(snakemake.log[0])})
