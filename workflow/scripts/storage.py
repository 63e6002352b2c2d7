from vidstill.warm import hand_over

hand_over(snakemake)  # a local run forks this job from a process that has imported torch (vidstill/warm.py)

import pandas as pd

from vidstill.io import atomic_path
from vidstill.logs import job_log
from vidstill.report.tables import storage_table

with job_log(snakemake.log[0]) as log:
    table = storage_table(pd.read_parquet(snakemake.input.runs), snakemake.params.spec, snakemake.params.methods)
    log.info("%d cells", len(table))
    with atomic_path(snakemake.output[0]) as tmp:
        table.to_csv(tmp, index=False)
