from vidstill.warm import hand_over

hand_over(snakemake)  # a local run forks this job from a process that has imported torch (vidstill/warm.py)

import pandas as pd

from vidstill.data.clips import write_subset_store
from vidstill.logs import job_log

with job_log(snakemake.log[0]):
    write_subset_store(snakemake.input.parent, pd.read_parquet(snakemake.input.index), snakemake.output[0])
