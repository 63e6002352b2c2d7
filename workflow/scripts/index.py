from vidstill.warm import hand_over

hand_over(snakemake)  # a local run forks this job from a process that has imported torch (vidstill/warm.py)

from vidstill.data.indexers import build_index
from vidstill.io import write_parquet
from vidstill.logs import job_log

with job_log(snakemake.log[0]):
    p = snakemake.params
    index = build_index(p.layout, p.root, split=p.split, threads=snakemake.threads, min_frames=p.min_frames)
    write_parquet(index, snakemake.output[0], metadata={"layout": p.layout, "root": str(p.root), "split": p.split})
