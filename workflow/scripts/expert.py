from vidstill.warm import hand_over

hand_over(snakemake)  # a local run forks this job from a process that has imported torch (vidstill/warm.py)

from vidstill.data.clips import ClipStore
from vidstill.experts import save_expert, train_expert
from vidstill.logs import job_log
from vidstill.runtime import job_device

with job_log(snakemake.log[0]):
    p = snakemake.params
    device = job_device(snakemake.config["device"], snakemake.threads)
    trajectory, info = train_expert(ClipStore.open(snakemake.input.train), ClipStore.open(snakemake.input.test),
                                    p.experts, p.student, int(snakemake.wildcards.expert), device,
                                    test_passes=int(p.experts.get("test_passes", 1)))
    save_expert(trajectory, info, snakemake.output[0])
