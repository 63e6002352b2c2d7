from vidstill.warm import hand_over

hand_over(snakemake)  # a local run forks this job from a process that has imported torch (vidstill/warm.py)

import time
from pathlib import Path

from vidstill.data.clips import ClipStore
from vidstill.logs import job_log
from vidstill.methods import get_method
from vidstill.methods.context import DistillContext
from vidstill.runtime import check_card, job_runtime

with job_log(snakemake.log[0]) as log:
    w, p = snakemake.wildcards, snakemake.params
    rt = job_runtime(p.runtime, snakemake.threads)
    device = rt.device
    check_card(
        f"distill {w.dataset} {w.method} ipc {w.ipc} seed {w.seed}", snakemake.resources.get("gpu_mem_mb"), device
    )
    inputs = dict(snakemake.input.items())
    ctx = DistillContext(
        train=ClipStore.open(inputs.pop("train")),
        ipc=int(w.ipc),
        seed=int(w.seed),
        device=device,
        params={**p.settings, "method": p.method},
        student=p.student,
        teacher=Path(inputs.pop("teacher")) if "teacher" in inputs else None,
        artifacts={k: Path(v) if isinstance(v, str) else [Path(x) for x in v] for k, v in inputs.items()},
        # outside the outputs (Snakemake deletes those when a job fails): a requeued job resumes from it
        checkpoint=Path("results/checkpoints/distill") / w.dataset / f"{w.method}_ipc{w.ipc}_seed{w.seed}.pt",
        checkpoint_every_s=float(snakemake.config["checkpoint_every_s"]),
    )
    start = time.perf_counter()
    synthetic = get_method(p.method).fn(ctx)
    synthetic.meta.update(
        method=p.method,
        instance=w.method,
        dataset=w.dataset,
        ipc=int(w.ipc),
        seed=int(w.seed),
        settings=dict(p.settings),
        wall_time=time.perf_counter() - start,
        **rt.write_record(snakemake.log[0]),
    )
    log.info(
        "%s ipc %s seed %s: %d items, %d bytes, %.1fs",
        w.method,
        w.ipc,
        w.seed,
        len(synthetic),
        synthetic.storage_bytes(),
        synthetic.meta["wall_time"],
    )
    synthetic.check_finite(f"distill {w.dataset} {w.method} ipc {w.ipc} seed {w.seed} ({snakemake.output[0]})")
    synthetic.save(snakemake.output[0])
