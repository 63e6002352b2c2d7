from vidstill.warm import hand_over

hand_over(snakemake)  # a local run forks this job from a process that has imported torch (vidstill/warm.py)

from vidstill.data.clips import ClipStore
from vidstill.io import write_parquet
from vidstill.logs import job_log
from vidstill.runtime import check_card, job_runtime
from vidstill.teacher import per_class_table, train_teacher

with job_log(snakemake.log[0]) as log:
    w, p = snakemake.wildcards, snakemake.params
    rt = job_runtime(p.runtime, snakemake.threads)
    device = rt.device
    check_card(f"class_accuracy {w.dataset} {w.mode} seed {w.seed}", snakemake.resources.get("gpu_mem_mb"), device)
    train, test = ClipStore.open(snakemake.input.train), ClipStore.open(snakemake.input.test)
    _, arch, result, acc = train_teacher(
        train, test, p.training, device, checkpoint=p.checkpoint, static=w.mode == "static", test_passes=p.test_passes
    )
    log.info("%s seed %s: top1 %.4f (%.1fs)", w.mode, w.seed, acc.top1, result.wall_time)
    write_parquet(
        per_class_table(acc, test),
        snakemake.output[0],
        metadata={**arch, "top1": acc.top1, "seed": int(w.seed), **rt.write_record(snakemake.log[0])},
    )
