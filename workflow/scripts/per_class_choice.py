"""A method's per-class choice beside Δ: DAViD's temporal resolution (rule david_resolution) or PRISM's key frames
per video (rule prism_keyframes). One script, because both read the same metadata field layout; the rule names the
field (`params.field`) and the column it becomes (`params.column`)."""

from vidstill.warm import hand_over

hand_over(snakemake)  # a local run forks this job from a process that has imported torch (vidstill/warm.py)

import pandas as pd

from vidstill.data.synthetic import CLASS_SPECS
from vidstill.io import atomic_path, load_tensors
from vidstill.logs import job_log
from vidstill.report.david import resolution_summary, resolution_table

with job_log(snakemake.log[0]) as log:
    p = snakemake.params
    sets = [load_tensors(path)[1]["meta"] for path in snakemake.input.sets]
    deltas = dict(zip(p.bases, map(pd.read_parquet, snakemake.input.delta), strict=True))
    kinds = {name: spec.kind for name, spec in CLASS_SPECS.items()}  # the synthetic benchmark's classes declare one
    table = pd.concat(
        [
            resolution_table(
                [m for m in sets if m["dataset"] == d],
                deltas[b],
                kinds if synthetic else {},
                field=p.field,
                column=p.column,
            )
            for d, b, synthetic in zip(p.datasets, p.bases, p.synthetic, strict=True)
        ],
        ignore_index=True,
    )
    summary = resolution_summary(table, column=p.column)
    log.info("%s by kind and its Spearman correlation with Δ:\n%s", p.column, summary.to_string(index=False))
    with atomic_path(snakemake.output.csv) as tmp:
        table.to_csv(tmp, index=False)
    with atomic_path(snakemake.output.summary) as tmp:
        summary.to_csv(tmp, index=False)
