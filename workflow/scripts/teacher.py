from vidstill.warm import hand_over

hand_over(snakemake)  # a local run forks this job from a process that has imported torch (vidstill/warm.py)

from vidstill.data.clips import ClipStore
from vidstill.io import write_parquet
from vidstill.logs import job_log
from vidstill.runtime import check_card, job_runtime
from vidstill.teacher import per_class_table, save_teacher, train_teacher

with job_log(snakemake.log[0]) as log:
    rt = job_runtime(snakemake.params.runtime, snakemake.threads)
    device = rt.device
    check_card(
        f"teacher {snakemake.wildcards.dataset} {snakemake.wildcards.teacher}",
        snakemake.resources.get("gpu_mem_mb"),
        device,
    )
    train, test = ClipStore.open(snakemake.input.train), ClipStore.open(snakemake.input.test)
    model, arch, result, acc = train_teacher(
        train,
        test,
        snakemake.params.teacher,
        device,
        checkpoint=snakemake.params.checkpoint,
        test_passes=snakemake.params.test_passes,
    )
    log.info("teacher %s: test top1 %.4f top5 %.4f (%.1fs)", arch["arch"], acc.top1, acc.top5, result.wall_time)
    meta = {
        **arch,
        "top1": acc.top1,
        "top5": acc.top5,
        "wall_time": result.wall_time,
        **rt.write_record(snakemake.log[0]),
    }
    import pandas as pd

    write_parquet(pd.DataFrame(result.curve), snakemake.output.curve, metadata=meta)
    write_parquet(per_class_table(acc, test), snakemake.output.accuracy, metadata=meta)
    save_teacher(model.cpu(), arch, snakemake.output.weights)
