from vidstill.warm import hand_over

hand_over(snakemake)  # a local run forks this job from a process that has imported torch (vidstill/warm.py)

import logging

import pandas as pd

from vidstill.analysis.redundancy import class_redundancy, correlations, redundancy_gain_table
from vidstill.data.clips import ClipStore
from vidstill.io import atomic_path
from vidstill.logs import job_log
from vidstill.report.figures import plot_redundancy_gain
from vidstill.runtime import job_runtime
from vidstill.teacher import load_teacher

with job_log(snakemake.log[0]):
    rt = job_runtime(snakemake.params.runtime, snakemake.threads)
    device = rt.device
    redundancy = class_redundancy(
        load_teacher(snakemake.input.teacher, device), ClipStore.open(snakemake.input.train), device
    )
    rt.write_record(snakemake.log[0])  # the csv has no metadata: the record beside the log is the result's
    runs = {k: pd.concat([pd.read_parquet(p) for p in snakemake.input[k]]) for k in ("method", "baseline")}
    table = redundancy_gain_table(redundancy, runs["method"], runs["baseline"], snakemake.params.labels)
    logging.getLogger("vidstill").info("Spearman correlation of the gain with R_t, R_IC: %s", correlations(table))
    with atomic_path(snakemake.output.csv) as tmp:
        table.to_csv(tmp, index=False)
    s = snakemake.params.settings
    labels = snakemake.params.labels
    plot_redundancy_gain(
        table,
        snakemake.output.figure,
        f"{labels['method']} − {labels['baseline']} per class ({s['dataset']}, IPC {s['ipc']})",
    )
