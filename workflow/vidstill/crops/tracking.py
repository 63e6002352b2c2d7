"""Detection on the first frame and CSRT tracking of up to `max_tracks` actors per video (§5.1 steps 1–2).

Which frames are tracked: the frames the clip store keeps of the video (`frames: stored`, at the dataset's temporal
stride: the only frames a student ever sees), or every frame between the first and the last of them (`frames: every`,
the paper's frame-by-frame tracking; only the stored frames' boxes are kept). Frames are at the dataset's `resize`
and uncropped, so a crop can come from anywhere in the view.

Every way a video can fail is a counted outcome, never a crash: an unreadable video, no detection of the required
class, a track the tracker loses mid-video (the track ends there; a track shorter than `min_frames` is dropped), a box
that leaves the frame (its window is moved back inside). `summarise` turns the per-video rows into the crops summary.
"""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
import pandas as pd

from vidstill.crops.detector import Detector, first_frame_boxes
from vidstill.crops.geometry import box_iou, cover_window, leaves_frame
from vidstill.data.clips import ClipSpec, read_frames, resize_frame, stored_frame_indices

log = logging.getLogger("vidstill.crops")
SQUARE = 1.0  # the clip store's crops are crop x crop, so windows (and mosaic regions) are square
TRACK_COLUMNS = ["id", "track", "step", "frame", "x1", "y1", "x2", "y2", "wx1", "wy1", "wx2", "wy2"]


def csrt(params: dict[str, Any]) -> cv2.Tracker:
    """A CSRT tracker with `params` set on OpenCV's defaults (an unknown name is an error, not ignored)."""
    p = cv2.TrackerCSRT_Params()
    for key, value in params.items():
        if not hasattr(p, key):
            raise ValueError(f"crops.tracker: {key!r} is not a CSRT parameter")
        setattr(p, key, type(getattr(p, key))(value))
    return cv2.TrackerCSRT_create(p)


def preselect(
    index: pd.DataFrame, per_class: int | None, seed: int, splits: tuple[str, ...] | list[str] = ("train",)
) -> pd.DataFrame:
    """§4.3's random uniform pre-selection of each class's training videos (all of them when `per_class` is None),
    in a fixed order so every shard sees the same list. `splits`: the index splits the students train on (the
    dataset's `train_splits`: HMDB51's reference setup trains on train + unused, so its crops come from both)."""
    rows = index[index["split"].isin(list(splits)) & (index["error"] == "")].sort_values("id")
    if per_class is None:
        return rows.reset_index(drop=True)
    rng = np.random.default_rng(seed)
    picked = [
        g.iloc[np.sort(rng.choice(len(g), size=min(per_class, len(g)), replace=False))]
        for _, g in rows.groupby("class", sort=True)
    ]
    return pd.concat(picked).sort_values("id").reset_index(drop=True)


def tracking_frames(path: str, spec: ClipSpec, every_frame: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frames to track (RGB at `spec.resize`, uncropped), their video frame indices, and which of them are stored."""
    kept: dict[str, np.ndarray] = {}

    def which(n: int) -> np.ndarray:
        kept["stored"] = stored_frame_indices(n, spec)
        return np.arange(kept["stored"][0], kept["stored"][-1] + 1) if every_frame else kept["stored"]

    frames, idx = read_frames(path, which)
    return np.stack([resize_frame(f, spec.resize) for f in frames]), idx, np.isin(idx, kept["stored"])


@dataclass
class VideoTracks:
    id: str
    status: str  # tracked | no_detection | unreadable
    reason: str = ""
    detections: int = 0
    rows: list[dict] = field(default_factory=list)
    tracks: int = 0
    lost: int = 0  # tracks the tracker lost before the video ended
    short: int = 0  # tracks dropped for having fewer than min_frames frames
    frames_outside: int = 0  # tracked boxes that reached past the frame border
    tracked_frames: int = 0


def track_video(
    video_id: str,
    frames: np.ndarray,
    idx: np.ndarray,
    stored: np.ndarray,
    detections: np.ndarray,
    rng: np.random.Generator,
    max_tracks: int,
    min_frames: int,
    aspect: float,
    params: dict[str, Any],
) -> VideoTracks:
    """Follow up to `max_tracks` detections (drawn at random) from the first frame to the end or until lost."""
    h, w = frames.shape[1:3]
    boxes = first_frame_boxes(detections, w, h)
    out = VideoTracks(video_id, "tracked", detections=len(boxes))
    if len(boxes) == 0:
        out.status, out.reason = "no_detection", "no box of the required class on the first frame"
        return out
    chosen = np.sort(rng.choice(len(boxes), size=min(max_tracks, len(boxes)), replace=False))
    bgr = [cv2.cvtColor(f, cv2.COLOR_RGB2BGR) for f in frames]
    for k, j in enumerate(chosen.tolist()):
        x1, y1, x2, y2 = boxes[j, :4]
        tracker = csrt(params)
        tracker.init(bgr[0], (int(round(x1)), int(round(y1)), max(int(round(x2 - x1)), 1), max(int(round(y2 - y1)), 1)))
        path = [np.array([x1, y1, x2, y2], float)]
        lost = False
        for f in range(1, len(frames)):
            ok, (bx, by, bw, bh) = tracker.update(bgr[f])
            out.tracked_frames += 1
            if not ok or bw <= 0 or bh <= 0:
                lost = True
                break
            path.append(np.array([bx, by, bx + bw, by + bh], float))
        out.lost += int(lost)
        keep = [(f, b) for f, b in enumerate(path) if stored[f]]
        if len(keep) < min_frames:
            out.short += 1
            continue
        step = 0
        for f, b in keep:
            out.frames_outside += int(leaves_frame(b, w, h))
            window, _ = cover_window(b, aspect, w, h)
            out.rows.append(
                dict(
                    id=video_id,
                    track=k,
                    step=step,
                    frame=int(idx[f]),
                    x1=b[0],
                    y1=b[1],
                    x2=b[2],
                    y2=b[3],
                    wx1=window[0],
                    wy1=window[1],
                    wx2=window[2],
                    wy2=window[3],
                )
            )
            step += 1
        out.tracks += 1
    return out


def track_videos(
    videos: pd.DataFrame,
    detector: Detector,
    spec: ClipSpec,
    settings: dict[str, Any],
    seed: int,
    threads: int = 1,
    progress: Callable[[str], None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Detect and track every video of `videos` (index rows). Decoding and tracking run on `threads` threads (OpenCV
    and decord release the GIL); detection runs batched in the calling thread. Returns the track rows, one summary row
    per video, and the throughput."""
    every = settings.get("frames", "stored") == "every"
    min_frames = int(settings.get("min_frames") or spec.frames)
    max_tracks = int(settings.get("max_tracks", 3))
    params = dict(settings.get("tracker", {}))
    cv2.setNumThreads(1)
    report = progress or log.info
    rows: list[dict] = []
    summary: list[dict] = []
    start = time.perf_counter()
    chunk = max(8, 4 * threads)

    def load(row) -> tuple[Any, ...]:
        try:
            return tracking_frames(row.path, spec, every)
        except Exception as exc:  # decord raises on unreadable files; the video is counted, not fatal
            return (exc,)

    with ThreadPoolExecutor(max_workers=max(threads, 1)) as pool:
        done = 0
        for k in range(0, len(videos), chunk):
            part = list(videos.iloc[k : k + chunk].itertuples())
            loaded = list(pool.map(load, part))
            readable = [i for i, x in enumerate(loaded) if len(x) == 3]
            found = dict(zip(readable, detector.detect([loaded[i][0][0] for i in readable])))

            def work(i: int) -> VideoTracks:
                row = part[i]
                if i not in found:
                    return VideoTracks(row.id, "unreadable", reason=f"{row.path}: {loaded[i][0]}")
                frames, idx, stored = loaded[i]
                rng = np.random.default_rng([seed, zlib.crc32(row.id.encode())])  # per video: independent of sharding
                return track_video(row.id, frames, idx, stored, found[i], rng, max_tracks, min_frames, SQUARE, params)

            for i, result in enumerate(pool.map(work, range(len(part)))):
                rows += result.rows
                summary.append(
                    dict(
                        id=result.id,
                        label=int(part[i].label),
                        status=result.status,
                        reason=result.reason,
                        detections=result.detections,
                        tracks=result.tracks,
                        lost=result.lost,
                        short=result.short,
                        frames_outside=result.frames_outside,
                        tracked_frames=result.tracked_frames,
                    )
                )
            done += len(part)
            elapsed = time.perf_counter() - start
            report(
                f"tracked {done}/{len(videos)} videos, {sum(s['tracked_frames'] for s in summary)} frames "
                f"({done / max(elapsed, 1e-9):.1f} videos/s)"
            )
    wall = time.perf_counter() - start
    tracks = pd.DataFrame(rows, columns=TRACK_COLUMNS)
    per_video = pd.DataFrame(summary)
    speed = {
        "seconds": wall,
        "videos_per_s": len(videos) / max(wall, 1e-9),
        "crops_per_s": len(tracks) / max(wall, 1e-9),
        "tracked_frames_per_s": per_video["tracked_frames"].sum() / max(wall, 1e-9) if len(per_video) else 0.0,
    }
    return tracks, per_video, speed


def ground_truth_iou(tracks: pd.DataFrame, boxes: pd.DataFrame, index: pd.DataFrame, spec: ClipSpec) -> pd.Series:
    """Per track row, IoU of the tracked box with the generator's ground-truth actor box (synthetic data), in the
    tracked frames' coordinates (boxes scaled when the dataset resizes frames)."""
    if tracks.empty:
        return pd.Series([], dtype=float)
    gt = tracks[["id", "frame"]].merge(boxes, on=["id", "frame"], how="left")
    sx = sy = np.ones(len(tracks))
    if spec.resize is not None:
        size = tracks[["id"]].merge(index[["id", "width", "height"]], on="id", how="left")
        sx, sy = spec.resize[0] / size["width"].to_numpy(float), spec.resize[1] / size["height"].to_numpy(float)
    g = gt[["x1", "y1", "x2", "y2"]].to_numpy(float) * np.stack([sx, sy, sx, sy], axis=1)
    iou = box_iou(tracks[["x1", "y1", "x2", "y2"]].to_numpy(float), np.nan_to_num(g))
    visible = gt["visible"].fillna(False).to_numpy(bool)
    return pd.Series(np.where(visible, iou, 0.0), index=tracks.index)


def summarise(
    per_video: pd.DataFrame, tracks: pd.DataFrame, speeds: Sequence[dict], detector: dict[str, Any]
) -> dict[str, Any]:
    """The crops summary: what happened to every video, tracking quality where ground truth exists, throughput."""
    status = per_video["status"].value_counts()
    out: dict[str, Any] = {
        "videos": int(len(per_video)),
        "tracked_videos": int(status.get("tracked", 0)),
        "no_detection": int(status.get("no_detection", 0)),
        "unreadable": int(status.get("unreadable", 0)),
        "tracks": int(per_video["tracks"].sum()),
        "lost_tracks": int(per_video["lost"].sum()),
        "short_tracks_dropped": int(per_video["short"].sum()),
        "boxes_outside_frame": int(per_video["frames_outside"].sum()),
        "crop_frames": int(len(tracks)),
        "seconds": float(sum(s["seconds"] for s in speeds)),
    }
    out["crops_per_s"] = out["crop_frames"] / out["seconds"] if out["seconds"] else 0.0
    out["videos_per_s"] = out["videos"] / out["seconds"] if out["seconds"] else 0.0
    if "iou" in tracks:
        out["mean_iou"] = float(tracks["iou"].mean()) if len(tracks) else float("nan")
        out["iou_at_0.5"] = float((tracks["iou"] >= 0.5).mean()) if len(tracks) else float("nan")
    out.update(
        {
            f"detector_{k}": v
            for k, v in detector.items()
            if k in ("map50", "map50_95", "precision", "recall", "held_out_frames")
        }
    )
    return out
