from vidstill.warm import hand_over

hand_over(snakemake)  # a local run forks this job from a process that has imported torch (vidstill/warm.py)

import pandas as pd

from vidstill.crops.scoring import cropped_videos, region_size, score_crops
from vidstill.data.clips import ClipStore
from vidstill.io import write_parquet
from vidstill.logs import job_log
from vidstill.runtime import job_runtime
from vidstill.teacher import load_teacher, teacher_standardizes

with job_log(snakemake.log[0]) as log:
    p = snakemake.params
    rt = job_runtime(p.runtime, snakemake.threads)
    device = rt.device
    train = ClipStore.open(snakemake.input.train)
    labels = dict(zip(train.table["id"], train.table["label"].astype(int)))
    tracks = pd.read_parquet(snakemake.input.tracks)
    tracks = tracks[tracks["id"].isin(labels)]
    index = pd.read_parquet(snakemake.input.index, columns=["id", "path"])
    size = region_size(train.spec, p.grid)
    crops = cropped_videos(dict(zip(index["id"], index["path"])), tracks, train.spec, size, threads=snakemake.threads)
    scores = score_crops(
        crops,
        labels,
        load_teacher(snakemake.input.teacher, device),
        train.spec,
        device,
        teacher_standardizes(snakemake.input.teacher),
    )
    classes = train.table.drop_duplicates("label").set_index("label")["class"]
    scores.insert(3, "class", scores["label"].map(classes))
    per_class = scores.groupby("label").size().reindex(range(train.num_classes), fill_value=0)
    log.info(
        "%d cropped videos scored at region %dx%d (grid %d); per class: %s; top label = true label for %.1f%%",
        len(scores),
        size[0],
        size[1],
        p.grid,
        per_class.tolist(),
        100 * (scores["top_label"] == scores["label"]).mean(),
    )
    write_parquet(
        scores,
        snakemake.output[0],
        metadata={
            "grid": p.grid,
            "region": list(size),
            "crops_per_class": per_class.tolist(),
            **rt.write_record(snakemake.log[0]),
        },
    )
