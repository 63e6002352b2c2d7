from vidstill.warm import hand_over

hand_over(snakemake)  # a local run forks this job from a process that has imported torch (vidstill/warm.py)

import pandas as pd

from vidstill.io import atomic_path, load_tensors
from vidstill.logs import job_log
from vidstill.report.david import search_cost_table

with job_log(snakemake.log[0]) as log:
    table = search_cost_table(
        [load_tensors(path)[1]["meta"] for path in snakemake.input.sets],
        snakemake.params.searches,
        pd.read_csv(snakemake.input.published),
    )
    log.info("search cost:\n%s", table.drop(columns="resolution_per_class").to_string(index=False))
    with atomic_path(snakemake.output[0]) as tmp:
        table.to_csv(tmp, index=False)
