from vidstill.warm import hand_over

hand_over(snakemake)  # a local run forks this job from a process that has imported torch (vidstill/warm.py)

import pandas as pd

from vidstill.analysis.ranking import delta_table
from vidstill.io import write_parquet
from vidstill.logs import job_log
from vidstill.report.figures import plot_delta

with job_log(snakemake.log[0]) as log:
    full = [pd.read_parquet(f) for f in snakemake.input.full]
    static = [pd.read_parquet(f) for f in snakemake.input.static]
    delta = delta_table(full, static, groups=snakemake.params.groups)
    log.info("Δ ranking:\n%s", delta.to_string())
    write_parquet(delta, snakemake.output.table, metadata={"seeds": len(full), "groups": snakemake.params.groups})
    plot_delta(delta, snakemake.output.figure, title=f"{snakemake.wildcards.dataset}: Δ over {len(full)} seeds")
