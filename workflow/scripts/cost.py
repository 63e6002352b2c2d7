from vidstill.warm import hand_over

hand_over(snakemake)  # a local run forks this job from a process that has imported torch (vidstill/warm.py)

from vidstill.io import atomic_path
from vidstill.logs import job_log
from vidstill.report.cost import gather_costs, render_cost_markdown

with job_log(snakemake.log[0]) as log:
    costs = gather_costs(snakemake.params.jobs)
    for row in costs[~costs["measured"]].itertuples():
        log.warning("no benchmark file for %s %s %s: %s", row.stage, row.dataset, row.method or row.job, row.benchmark)
    with atomic_path(snakemake.output.csv) as tmp:
        costs.to_csv(tmp, index=False)
    note = (
        "Measured on this run's machine: wall and CPU time and peak RSS from each job's Snakemake benchmark file; "
        "device, precision and peak GPU memory as every job that runs a network recorded them beside its log."
    )
    with atomic_path(snakemake.output.markdown) as tmp:
        tmp.write_text(render_cost_markdown(costs, snakemake.params.labels, note))
    log.info("%d jobs, %.0f s of job time", len(costs), costs["wall_s"].sum())
