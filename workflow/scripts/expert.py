from vidstill.warm import hand_over

hand_over(snakemake)  # a local run forks this job from a process that has imported torch (vidstill/warm.py)

from vidstill.data.clips import ClipStore
from vidstill.experts import save_expert, train_expert
from vidstill.logs import job_log
from vidstill.runtime import check_card, job_runtime
from vidstill.settings import ExpertsSettings

with job_log(snakemake.log[0]):
    p = snakemake.params
    experts = ExpertsSettings.from_mapping(p.experts, "experts")
    rt = job_runtime(p.runtime, snakemake.threads)
    device = rt.device
    check_card(
        f"expert {snakemake.wildcards.dataset} {snakemake.wildcards.expert}",
        snakemake.resources.get("gpu_mem_mb"),
        device,
    )
    trajectory, info = train_expert(
        ClipStore.open(snakemake.input.train),
        ClipStore.open(snakemake.input.test),
        experts,
        p.student,
        int(snakemake.wildcards.expert),
        device,
        test_passes=experts.test_passes,
    )
    save_expert(trajectory, {**info, **rt.write_record(snakemake.log[0])}, snakemake.output[0])
