from vidstill.warm import hand_over

hand_over(snakemake)  # a local run forks this job from a process that has imported torch (vidstill/warm.py)

import pandas as pd

from vidstill.data.clips import ClipSpec, extract_clips
from vidstill.logs import job_log

with job_log(snakemake.log[0]):
    extract_clips(
        pd.read_parquet(snakemake.input[0]),
        snakemake.params.splits,
        ClipSpec.from_config(snakemake.params.clips),
        snakemake.output.frames,
        snakemake.output.table,
        threads=snakemake.threads,
    )
