from vidstill.warm import hand_over

hand_over(snakemake)  # a local run forks this job from a process that has imported torch (vidstill/warm.py)

from pathlib import Path

from vidstill.data.clips import ClipStore
from vidstill.export import write_export
from vidstill.logs import job_log
from vidstill.report.exports import class_names, write_index
from vidstill.synthetic_set import SyntheticSet

with job_log(snakemake.log[0]) as log:
    p = snakemake.params
    names = {Path(t).parent.parent.name: class_names(ClipStore.open(t)) for t in snakemake.input.tests}
    root = Path(snakemake.output.sets)
    entries = []
    for cell, path in zip(p.cells, snakemake.input.sets, strict=True):
        out = root / cell["dataset"] / cell["method"] / f"ipc{cell['ipc']}" / f"seed{cell['seed']}"
        info = write_export(
            SyntheticSet.load(path), out, names[cell["dataset"]], p.student, preview=True, evaluation=p.protocol
        )
        entries.append({**cell, "path": out, "info": info})
        log.info("%s: %d items, %d distinct frames", out, info["items"], info["portable"]["distinct_frames"])
    write_index(entries, snakemake.output.index, snakemake.wildcards.table)
