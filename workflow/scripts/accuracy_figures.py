from vidstill.warm import hand_over

hand_over(snakemake)  # a local run forks this job from a process that has imported torch (vidstill/warm.py)

import pandas as pd

from vidstill.io import read_parquet_metadata
from vidstill.logs import job_log
from vidstill.report.figures import plot_accuracy_vs_ipc, plot_accuracy_vs_storage
from vidstill.report.tables import storage_table

with job_log(snakemake.log[0]) as log:
    p = snakemake.params
    cells = pd.DataFrame(read_parquet_metadata(snakemake.input.runs)["cells"])  # the table's cells, published beside
    storage = storage_table(pd.read_parquet(snakemake.input.runs), p.spec, p.methods)
    cells = cells.merge(
        storage[["dataset", "ipc", "method", "storage_mb"]], on=["dataset", "ipc", "method"], validate="one_to_one"
    )
    metric = p.spec.get("metric", "top1")
    plot_accuracy_vs_ipc(cells, snakemake.output.ipc, metric)
    plot_accuracy_vs_storage(cells, snakemake.output.storage, metric)
    log.info("%d cells, %d with a published number", len(cells), int(cells["published_mean"].notna().sum()))
