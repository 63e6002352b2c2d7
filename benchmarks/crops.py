"""CSRT tracking throughput and quality on the synthetic benchmark, settings side by side in one run.

    uv run python benchmarks/crops.py [--results results] [--videos 24] [--threads 1]

Tracks the same training videos, each from its ground-truth box on the first frame (so the detector is out of the
measurement), with OpenCV's default CSRT parameters and with the configured ones, on every frame and on the clip
store's frames. Reports tracker updates per second, kept crop frames per second and the mean IoU of the tracked boxes
with the generator's boxes. Needs a finished synthetic dataset under --results (any run of the default target).
Writes results/benchmarks/crops.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow"))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import yaml  # noqa: E402

from vidstill.crops.tracking import ground_truth_iou, preselect, track_videos  # noqa: E402
from vidstill.data.clips import ClipSpec, stored_frame_indices  # noqa: E402


class TruthDetector:
    """The generator's box on each video's first tracked frame, as the one detection."""

    def __init__(self, boxes: pd.DataFrame, first: dict[str, int]) -> None:
        self.boxes, self.first, self.queue = boxes.set_index(["id", "frame"]), first, []

    def detect(self, frames):
        out = []
        for vid in self.queue[: len(frames)]:
            b = self.boxes.loc[(vid, self.first[vid]), ["x1", "y1", "x2", "y2"]].to_numpy(float)
            out.append(np.array([[*b, 1.0]]))
        self.queue = self.queue[len(frames) :]
        return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results", default=str(REPO / "results"))
    ap.add_argument("--dataset", default="synthetic")
    ap.add_argument("--videos", type=int, default=24, help="training videos tracked per setting")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=str(REPO / "results/benchmarks/crops.json"))
    args = ap.parse_args()
    cfg = yaml.safe_load((REPO / "config/config.yaml").read_text())
    spec = ClipSpec.from_config(cfg["datasets"][args.dataset]["clips"])
    root = Path(args.results) / args.dataset
    index = pd.read_parquet(root / "index.parquet")
    boxes = pd.read_parquet(root / "videos/boxes.parquet")
    videos = preselect(index, None, 0).sample(args.videos, random_state=0).reset_index(drop=True)
    # a results folder copied from elsewhere (benchmarks/pipeline.py --keep) still names the videos where they were made
    videos["path"] = [
        p if Path(p).exists() else str(root / "videos" / p.split("/videos/", 1)[1]) for p in videos["path"]
    ]
    tuned = cfg["crops"]["tracker"]
    results = []
    for name, params, frames in (
        ("opencv_default", {}, "every"),
        ("opencv_default", {}, "stored"),
        ("configured", tuned, "every"),
        ("configured", tuned, "stored"),
    ):
        first = {r.id: int(stored_frame_indices(int(r.frames), spec)[0]) for r in videos.itertuples()}
        detector = TruthDetector(boxes, first)
        detector.queue = videos["id"].tolist()
        start = time.perf_counter()
        tracks, per_video, _ = track_videos(
            videos, detector, spec, {"frames": frames, "tracker": params, "max_tracks": 1}, seed=0, threads=args.threads
        )
        wall = time.perf_counter() - start
        iou = ground_truth_iou(tracks, boxes, index, spec)
        row = dict(
            tracker=name,
            params=params,
            frames=frames,
            videos=len(videos),
            seconds=wall,
            updates_per_s=float(per_video["tracked_frames"].sum() / wall),
            crops_per_s=len(tracks) / wall,
            mean_iou=float(iou.mean()),
            lost=int(per_video["lost"].sum()),
        )
        print(json.dumps(row), flush=True)
        results.append(row)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
