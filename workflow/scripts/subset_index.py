import pandas as pd

from vidstill.data.subsets import read_class_list, restrict_to_classes
from vidstill.io import write_parquet
from vidstill.logs import job_log

with job_log(snakemake.log[0]) as log:
    classes = read_class_list(snakemake.input.classes)
    subset = restrict_to_classes(pd.read_parquet(snakemake.input.parent), classes, source=snakemake.input.classes)
    log.info("%d classes, %d videos", len(classes), len(subset))
    write_parquet(subset, snakemake.output[0], metadata={"subset_of": snakemake.input.parent, "classes": classes})
