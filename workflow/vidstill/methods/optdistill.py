"""The crop-and-concatenate method of "Enhancing Diversity and Realism" (OptDistill in its text, §4.3–4.4, §5.1).

Nothing is optimised: the distilled videos are real crops. The crop stage (vidstill/crops, rules/crops.smk) detected
actors, tracked them and scored every cropped video with the teacher. Per class this method:
1. keeps each video's best-scoring segment (§4.3: "for each video, we select the most realistic segment"; a video's
   tracks are its candidate segments; `per_video: all` keeps every track, as the reference scripts do), drops those
   scoring below τ (§4.3's threshold, `tau`; not given, so off by default), sorts the rest by score and keeps the
   `top_k` best (§5.1 step 4);
2. draws IPC × N² of them at random (§4.3–4.4's random uniform selection among the kept segments) and sorts the drawn
   ones by length, so each mosaic gets N² crops of similar length;
3. per mosaic, speeds the longer crops up to the shortest one's length (uniform frame skipping) and takes the centre T
   frames (T = the clip length: a mosaic stores what one clip of every other method stores);
4. tiles the N² crops row-major into one N × N mosaic video at the clip size;
5. labels every region with the teacher's softmax on it (region-level soft labels, §4.4; `labels: hard` ablates).
The student trains on the regions, each scaled up to the clip size, with their soft labels (Eq. 5): the
`mosaic_regions` expansion. IPC = mosaics per class.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from vidstill.crops.scoring import SCORES, cropped_videos, fit_length, region_size, teacher_probabilities
from vidstill.io import read_parquet_metadata
from vidstill.methods import register
from vidstill.methods.context import DistillContext
from vidstill.methods.settings import OptDistillSettings
from vidstill.synthetic_set import SyntheticSet, time_indices
from vidstill.teacher import teacher_standardizes

PER_VIDEO = ("best", "all")


def select_crops(
    scores: pd.DataFrame,
    label: int,
    ipc: int,
    grid: int,
    top_k: int,
    score: str,
    rng: np.random.Generator,
    per_video: str = "best",
    tau: float | None = None,
) -> tuple[pd.DataFrame, int]:
    """Steps 1–2 for one class: the crops of its `ipc` mosaics, in mosaic order (N² consecutive rows per mosaic), and
    how many had to be repeated because the class has fewer than IPC × N² crops. §4.3's two rules come first:
    `per_video: best` keeps each video's best-scoring segment only (its tracks are the candidate segments {o_ij});
    `tau` drops the segments scoring below it (the paper's threshold τ, value not given; None keeps all)."""
    if score not in SCORES:
        raise ValueError(f"methods: score must be one of {SCORES}, got {score!r}")
    if per_video not in PER_VIDEO:
        raise ValueError(f"methods: per_video must be one of {PER_VIDEO}, got {per_video!r}")
    mine = scores[scores["label"] == label].sort_values([score, "id", "track"], ascending=[False, True, True])
    if mine.empty:
        raise ValueError(
            f"class {label}: no cropped video survived detection and tracking (see the dataset's crops/summary.json)"
        )
    if per_video == "best":
        mine = mine.drop_duplicates("id", keep="first")  # sorted best first: each video's best segment
    if tau is not None:
        mine = mine[mine[score] >= tau]
        if mine.empty:
            raise ValueError(f"class {label}: no cropped video scores {score} >= tau = {tau}")
    top = mine.head(top_k)
    need = ipc * grid * grid
    if len(top) >= need:
        pick = rng.choice(len(top), size=need, replace=False)
    else:
        pick = np.concatenate([np.arange(len(top)), rng.choice(len(top), size=need - len(top), replace=True)])
    chosen = top.iloc[pick].sort_values(["frames", "id", "track"], kind="stable")
    return chosen.reset_index(drop=True), max(need - len(top), 0)


def equal_speed(videos: list[np.ndarray], frames: int) -> list[np.ndarray]:
    """Step 3: every video sped up to the shortest one's length L, then its centre `frames` frames (repeated in order
    when L is shorter than that)."""
    length = min(len(v) for v in videos)
    out = []
    for v in videos:
        v = fit_length(v[time_indices(len(v), length)], frames)
        start = (len(v) - frames) // 2
        out.append(v[start : start + frames])
    return out


def tile(regions: list[np.ndarray], grid: int, size: int) -> np.ndarray:
    """Step 4: N² (T, h, w, 3) regions row-major into one (T, size, size, 3) mosaic (a remainder border stays black)."""
    t, h, w, _ = regions[0].shape
    mosaic = np.zeros((t, size, size, 3), dtype=np.uint8)
    for k, region in enumerate(regions):
        r, c = divmod(k, grid)
        mosaic[:, r * h : (r + 1) * h, c * w : (c + 1) * w] = region
    return mosaic


@register("optdistill", needs=("teacher", "crops"))
def optdistill(ctx: DistillContext) -> SyntheticSet:
    p, spec = ctx.settings(OptDistillSettings), ctx.train.spec
    scores_path = ctx.artifacts["scores"]
    grid = int(read_parquet_metadata(scores_path)["grid"])
    top_k = p.top_k
    if top_k < grid * grid:
        raise ValueError(f"methods.{p.method}: top_k ({top_k}) must be at least N² = {grid * grid}")
    labels_kind = p.labels
    if labels_kind not in ("soft", "hard"):
        raise ValueError(f"methods: labels must be 'soft' or 'hard', got {labels_kind!r}")
    scores = pd.read_parquet(scores_path)
    rng = np.random.default_rng(ctx.seed)
    picks, repeated = [], {}
    for c in range(ctx.num_classes):
        chosen, short = select_crops(scores, c, ctx.ipc, grid, top_k, p.score, rng, p.per_video, p.tau)
        picks.append(chosen.assign(mosaic=np.arange(len(chosen)) // (grid * grid) + c * ctx.ipc))
        if short:
            repeated[c] = short
    picked = pd.concat(picks, ignore_index=True)
    index = pd.read_parquet(ctx.artifacts["index"], columns=["id", "path"])
    tracks = pd.read_parquet(ctx.artifacts["tracks"]).merge(
        picked[["id", "track"]].drop_duplicates(), on=["id", "track"]
    )
    region = region_size(spec, grid)
    crops = cropped_videos(dict(zip(index["id"], index["path"])), tracks, spec, region)
    mosaics, regions = [], []
    for _, g in picked.groupby("mosaic", sort=True):
        parts = equal_speed([crops[(v, int(t))] for v, t in zip(g["id"], g["track"])], spec.frames)
        regions += parts
        mosaics.append(tile(parts, grid, spec.crop))
    teacher = ctx.teacher_network()
    soft = teacher_probabilities(
        teacher, regions, spec, ctx.device, teacher_standardizes(ctx.teacher), temperature=p.temperature
    )
    hard = torch.tensor(np.repeat(np.arange(ctx.num_classes), ctx.ipc * grid * grid), dtype=torch.long)
    agreement = float((soft.argmax(1) == hard).float().mean())
    return SyntheticSet(
        tensors={"mosaics": torch.from_numpy(np.stack(mosaics))},
        labels=soft.float() if labels_kind == "soft" else hard,
        num_classes=ctx.num_classes,
        frames=spec.frames,
        expansion="mosaic_regions",
        expansion_args={"grid": grid, "region": [region[1], region[0]]},  # (height, width)
        meta={
            "grid": grid,
            "top_k": top_k,
            "score": p.score,
            "labels": labels_kind,
            "per_video": p.per_video,
            "tau": p.tau,
            "repeated_crops": repeated,
            "teacher_agreement": agreement,
            "crops": picked[["mosaic", "id", "track", "frames", "top_probability", "realism"]].to_dict("list"),
        },
    )
