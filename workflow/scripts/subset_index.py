from vidstill.warm import hand_over

hand_over(snakemake)  # a local run forks this job from a process that has imported torch (vidstill/warm.py)

import pandas as pd

from vidstill.analysis.ranking import top_k_classes
from vidstill.data.subsets import read_class_list, restrict_to_classes
from vidstill.io import write_parquet
from vidstill.logs import job_log

with job_log(snakemake.log[0]) as log:
    source = snakemake.input.classes
    if snakemake.params.top_k is not None:
        classes = top_k_classes(pd.read_parquet(source), snakemake.params.top_k)
    else:
        classes = read_class_list(source)
    subset = restrict_to_classes(pd.read_parquet(snakemake.input.parent), classes, source=source)
    log.info("%d classes from %s: %s; %d videos", len(classes), source, classes, len(subset))
    write_parquet(
        subset,
        snakemake.output[0],
        metadata={"subset_of": snakemake.input.parent, "classes": classes, "source": source},
    )
