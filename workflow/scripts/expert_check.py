from vidstill.warm import hand_over

hand_over(snakemake)  # a local run forks this job from a process that has imported torch (vidstill/warm.py)

import pandas as pd

from vidstill.experts import check_experts, expert_info, expert_summary
from vidstill.io import write_parquet
from vidstill.logs import job_log

with job_log(snakemake.log[0]) as log:
    p = snakemake.params
    full_top1 = float(pd.concat([pd.read_parquet(f) for f in snakemake.input.full])["top1"].mean())
    summary = expert_summary([expert_info(e) for e in snakemake.input.experts], full_top1, p.min_ratio)
    for row in summary.itertuples():
        log.info(
            "expert %d: top1 %.4f = %.2f of the full-data %.4f%s",
            row.expert,
            row.top1,
            row.ratio,
            full_top1,
            " (weak)" if row.weak else "",
        )
    warning = check_experts(summary, p.min_ratio, p.strict, f"experts of {snakemake.wildcards.dataset}")
    if warning:
        log.warning(warning)
    write_parquet(summary, snakemake.output[0], metadata={"full_top1": full_top1, "warning": warning})
