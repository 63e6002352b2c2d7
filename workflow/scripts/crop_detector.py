from vidstill.warm import hand_over

hand_over(snakemake)  # a local run forks this job from a process that has imported torch (vidstill/warm.py)

import tempfile
from pathlib import Path

import pandas as pd

from vidstill.crops.detector import save_detector, train_detector, write_yolo_dataset
from vidstill.logs import job_log
from vidstill.runtime import job_runtime

with job_log(snakemake.log[0]) as log:
    p = snakemake.params
    rt = job_runtime(p.runtime, snakemake.threads)
    device = rt.device
    index = pd.read_parquet(snakemake.input.index)
    boxes = pd.read_parquet(Path(snakemake.input.videos) / "boxes.parquet")
    cfg = p.train
    with tempfile.TemporaryDirectory(prefix="vidstill-yolo-") as tmp:
        data = write_yolo_dataset(
            index, boxes, Path(tmp) / "data", {"train": cfg["train_frames"], "val": cfg["val_frames"]}, p.seed, p.resize
        )
        state, meta = train_detector(
            data, cfg, Path(tmp) / "runs", p.seed, "0" if device.type == "cuda" else "cpu", snakemake.threads
        )
    log.info(
        "detector %s: held-out mAP50 %.3f mAP50-95 %.3f (precision %.3f recall %.3f, %d frames)",
        meta["model"],
        meta["map50"],
        meta["map50_95"],
        meta["precision"],
        meta["recall"],
        meta["held_out_frames"],
    )
    save_detector(state, {**meta, **rt.write_record(snakemake.log[0])}, snakemake.output.weights)
