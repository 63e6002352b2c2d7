from vidstill.warm import hand_over

hand_over(snakemake)  # a local run forks this job from a process that has imported torch (vidstill/warm.py)

from pathlib import Path

import pandas as pd

from vidstill.crops.tracking import ground_truth_iou, summarise
from vidstill.data.clips import ClipSpec
from vidstill.io import read_parquet_metadata, read_tensors_metadata, write_json, write_parquet
from vidstill.logs import job_log

with job_log(snakemake.log[0]) as log:
    p = snakemake.params
    tracks = pd.concat([pd.read_parquet(f) for f in snakemake.input.tracks], ignore_index=True)
    per_video = pd.concat([pd.read_parquet(f) for f in snakemake.input.videos], ignore_index=True)
    speeds = [read_parquet_metadata(f) for f in snakemake.input.tracks]
    if snakemake.input.get("boxes"):
        boxes = pd.read_parquet(Path(snakemake.input.boxes) / "boxes.parquet")
        tracks["iou"] = ground_truth_iou(
            tracks, boxes, pd.read_parquet(snakemake.input.index), ClipSpec.from_config(p.clips)
        )
    detector = (
        read_tensors_metadata(snakemake.input.detector)
        if str(snakemake.input.detector).endswith(".safetensors")
        else {}
    )
    summary = summarise(per_video, tracks, speeds, detector)
    for key, value in summary.items():
        log.info("%s: %s", key, value)
    write_parquet(per_video, snakemake.output.videos, metadata=summary)
    write_parquet(tracks, snakemake.output.tracks, metadata=summary)
    write_json(summary, snakemake.output.summary)
