from vidstill.warm import hand_over

hand_over(snakemake)  # a local run forks this job from a process that has imported torch (vidstill/warm.py)

from vidstill.data.clips import ClipStore
from vidstill.logs import job_log
from vidstill.report.strips import distilled_frames, plot_strip, real_frames, strip_classes
from vidstill.synthetic_set import SyntheticSet

with job_log(snakemake.log[0]) as log:
    p, w = snakemake.params, snakemake.wildcards
    train = ClipStore.open(snakemake.input.train)
    labels = strip_classes(train.num_classes, p.strip["classes"])
    names = train.table.drop_duplicates("label").set_index("label")["class"]
    frames = p.strip["frames"]
    rows = [("real (train)", [real_frames(train, c, frames) for c in labels])]
    for label, path in zip(p.labels, snakemake.input.sets, strict=True):
        rows.append((label, [distilled_frames(SyntheticSet.load(path), c, frames) for c in labels]))
    plot_strip(
        rows,
        [str(names.get(c, c)) for c in labels],
        snakemake.output[0],
        title=f"{w.table}: {w.dataset}, IPC {p.ipc}, seed {p.seed} (as students see them)",
    )
    log.info("classes %s, %d methods", labels, len(rows) - 1)
