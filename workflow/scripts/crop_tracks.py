from vidstill.warm import hand_over

hand_over(snakemake)  # a local run forks this job from a process that has imported torch (vidstill/warm.py)

import pandas as pd

from vidstill.crops.detector import load_detector
from vidstill.crops.tracking import preselect, track_videos
from vidstill.data.clips import ClipSpec
from vidstill.io import write_parquet
from vidstill.logs import job_log
from vidstill.runtime import job_runtime

with job_log(snakemake.log[0]) as log:
    p, w = snakemake.params, snakemake.wildcards
    rt = job_runtime(p.runtime, 1)  # torch gets one thread: the rule's threads are the trackers'
    device = rt.device
    crops, spec = p.crops, ClipSpec.from_config(p.clips)
    videos = preselect(pd.read_parquet(snakemake.input.index), crops["preselect"], crops["seed"], p.train_splits)
    shard, shards = int(w.shard), int(crops["shards"])
    mine = videos.iloc[shard::shards]
    log.info("shard %d of %d: %d of %d preselected training videos", shard, shards, len(mine), len(videos))
    det = crops["detector"]
    detector = load_detector(
        snakemake.input.detector, det["class"], det["conf"], "0" if device.type == "cuda" else "cpu"
    )
    tracks, per_video, speed = track_videos(mine, detector, spec, crops, crops["seed"], threads=snakemake.threads)
    log.info(
        "%d crop frames from %d tracks in %.1fs (%.1f crops/s)",
        len(tracks),
        int(per_video["tracks"].sum()) if len(per_video) else 0,
        speed["seconds"],
        speed["crops_per_s"],
    )
    meta = {**speed, **rt.write_record(snakemake.log[0])}
    write_parquet(per_video, snakemake.output.videos, metadata=meta)
    write_parquet(tracks, snakemake.output.tracks, metadata=meta)
