from vidstill.warm import hand_over

hand_over(snakemake)  # a local run forks this job from a process that has imported torch (vidstill/warm.py)

import pandas as pd

from vidstill.analysis.ranking import group_accuracy
from vidstill.io import atomic_path
from vidstill.logs import job_log
from vidstill.report.figures import plot_group_accuracy

with job_log(snakemake.log[0]):
    runs = pd.read_parquet(snakemake.input.runs)
    datasets = snakemake.params.datasets
    delta, names = {}, {}
    for dataset, delta_path, test_path in zip(datasets, snakemake.input.delta, snakemake.input.test):
        delta[dataset] = pd.read_parquet(delta_path)
        test = pd.read_parquet(test_path).drop_duplicates("label").sort_values("label")
        names[dataset] = test["class"].tolist()
    groups = group_accuracy(runs, names, delta)
    with atomic_path(snakemake.output.csv) as tmp:
        groups.to_csv(tmp, index=False)
    plot_group_accuracy(groups, {"full": "Full Dataset", **snakemake.params.labels}, snakemake.output.figure)
