"""Cropped videos and their teacher scores (§5.1 steps 2–3, §4.3).

A track's cropped video is its crop windows cut from the video's frames and scaled linearly to the region size
(W/N × H/N for an N × N mosaic). The teacher sees what the student will see: the region scaled back up to the clip size.
A crop is scored on evenly spaced T-frame windows covering it (the teacher's clip length), their softmax averaged:
- `top_probability`: the probability of the most likely label, what §5.1 says the paper used in practice;
- `realism`: the log-probability of the true label, i.e. §4.3's negative loss −ℓ(φ(o), y) of the annotated label.
Both are written; the method's `score` setting picks one.
"""

from __future__ import annotations

import logging
import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import torch
from torch import nn

from vidstill.crops.geometry import crop_resize
from vidstill.data.clips import ClipSpec, normalize, read_frames, resize_frame
from vidstill.synthetic_set import resize_space, time_indices
from vidstill.teacher import teacher_softmax

log = logging.getLogger("vidstill.crops")
SCORES = ("top_probability", "realism")


def region_size(spec: ClipSpec, grid: int) -> tuple[int, int]:
    """(width, height) of one mosaic region: the clip size divided by the grid."""
    side = spec.crop // grid
    if side < 1:
        raise ValueError(f"crops.grid {grid} is larger than the clip size {spec.crop}")
    return side, side


def cropped_videos(
    paths: dict[str, str], tracks: pd.DataFrame, spec: ClipSpec, size: tuple[int, int], threads: int = 1
) -> dict[tuple[str, int], np.ndarray]:
    """Every track's cropped video, (L, h, w, 3) uint8, keyed by (video id, track): each video decoded once."""
    groups = {vid: g for vid, g in tracks.groupby("id", sort=True)}

    def work(vid: str) -> dict[tuple[str, int], np.ndarray]:
        rows = groups[vid].sort_values(["track", "step"])
        wanted = np.unique(rows["frame"].to_numpy())
        frames, idx = read_frames(paths[vid], lambda n: wanted)
        by_index = {int(i): resize_frame(f, spec.resize) for i, f in zip(idx, frames)}
        out = {}
        for track, r in rows.groupby("track"):
            windows = r[["wx1", "wy1", "wx2", "wy2"]].to_numpy()
            out[(vid, int(track))] = np.stack(
                [crop_resize(by_index[int(f)], w, size) for f, w in zip(r["frame"], windows)]
            )
        return out

    result: dict[tuple[str, int], np.ndarray] = {}
    with ThreadPoolExecutor(max_workers=max(threads, 1)) as pool:
        for part in pool.map(work, list(groups)):
            result.update(part)
    return result


def region_clips(regions: np.ndarray | torch.Tensor, spec: ClipSpec) -> torch.Tensor:
    """uint8 region videos (B, T, h, w, 3) as the normalised float clips (B, T, C, H, W) a network at the clip size
    takes: scaled up bilinearly to crop × crop."""
    return resize_space(normalize(torch.as_tensor(np.asarray(regions))), (spec.crop, spec.crop))


def window_starts(length: int, frames: int) -> list[int]:
    """Starts of ceil(L / T) evenly spaced T-frame windows over an L-frame video (one window at 0 if L <= T)."""
    if length <= frames:
        return [0]
    n = math.ceil(length / frames)
    return np.linspace(0, length - frames, n).round().astype(int).tolist()


def fit_length(video: np.ndarray, frames: int) -> np.ndarray:
    """At least `frames` frames: a shorter video's frames repeated in order."""
    return video if len(video) >= frames else video[time_indices(len(video), frames)]


@torch.no_grad()
def teacher_probabilities(
    teacher: nn.Module,
    clips: list[np.ndarray],
    spec: ClipSpec,
    device: torch.device,
    standardize_inputs: bool,
    batch_size: int = 64,
    temperature: float = 1.0,
) -> torch.Tensor:
    """Softmax of the teacher on T-frame uint8 region clips (each (T, h, w, 3)), converted a batch at a time."""
    batches = (region_clips(np.stack(clips[k : k + batch_size]), spec) for k in range(0, len(clips), batch_size))
    return teacher_softmax(teacher, batches, device, standardize_inputs, temperature)


def score_crops(
    crops: dict[tuple[str, int], np.ndarray],
    labels: dict[str, int],
    teacher: nn.Module,
    spec: ClipSpec,
    device: torch.device,
    standardize_inputs: bool,
) -> pd.DataFrame:
    """One row per cropped video: its length and both scores (see the module docstring)."""
    columns = ["id", "track", "label", "frames", "top_label", "top_probability", "true_probability", "realism"]
    keys = sorted(crops)
    if not keys:
        return pd.DataFrame(columns=columns)
    windows, owner = [], []
    for i, key in enumerate(keys):
        video = fit_length(crops[key], spec.frames)
        for s in window_starts(len(video), spec.frames):
            windows.append(video[s : s + spec.frames])
            owner.append(i)
    probs = teacher_probabilities(teacher, windows, spec, device, standardize_inputs)
    owner_t = torch.tensor(owner, dtype=torch.long)
    mean = (
        torch.zeros(len(keys), probs.shape[1]).index_add_(0, owner_t, probs) / torch.bincount(owner_t)[:, None].float()
    )
    rows = []
    for i, (vid, track) in enumerate(keys):
        y = labels[vid]
        p = mean[i]
        rows.append(
            dict(
                id=vid,
                track=track,
                label=y,
                frames=len(crops[(vid, track)]),
                top_label=int(p.argmax()),
                top_probability=float(p.max()),
                true_probability=float(p[y]),
                realism=float(torch.log(p[y].clamp(min=1e-12))),
            )
        )
    return pd.DataFrame(rows, columns=columns)
