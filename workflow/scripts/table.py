from vidstill.warm import hand_over

hand_over(snakemake)  # a local run forks this job from a process that has imported torch (vidstill/warm.py)

from pathlib import Path

import pandas as pd

from vidstill.io import atomic_path, write_parquet
from vidstill.logs import job_log
from vidstill.report.tables import (
    build_table,
    class_kinds,
    collect_runs,
    protocol_note,
    render_markdown,
    render_storage_markdown,
    split_protocols,
    storage_table,
)

with job_log(snakemake.log[0]):
    p, table = snakemake.params, snakemake.wildcards.table
    every_run = collect_runs(snakemake.input.runs)
    runs, labelled = split_protocols(every_run)  # {table}_runs.parquet stays the native runs its readers expect
    kinds = {
        d: class_kinds(pd.read_parquet(test), pd.read_csv(Path(videos) / "classes.csv"))
        for d, test, videos in zip(p.kind_datasets, snakemake.input.kind_test, snakemake.input.kind_videos, strict=True)
    }
    wide, long = build_table(
        every_run,
        p.spec,
        p.methods,
        p.published_as,
        pd.read_csv(snakemake.input.published),
        p.arch,
        kinds,
        dd_weight=p.dd_weight,
    )
    note = protocol_note(runs, p.protocol, p.spec.get("metric", "top1"), labelled, p.soft)
    with atomic_path(snakemake.output.csv) as tmp:
        wide.to_csv(tmp, index=False)
    with atomic_path(snakemake.output.markdown) as tmp:
        storage = render_storage_markdown(storage_table(runs, p.spec, p.methods))
        tmp.write_text(render_markdown(wide, long, table, note, p.alpha) + "\n" + storage)
    write_parquet(
        runs, snakemake.output.runs, metadata={"protocol": p.protocol, "note": note, "cells": long.to_dict("records")}
    )
    write_parquet(labelled, snakemake.output.label_runs, metadata={"protocol": p.protocol, "soft": p.soft})
