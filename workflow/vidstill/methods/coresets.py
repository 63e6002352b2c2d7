"""Coreset baselines: real clips selected per class (Random, Herding, K-Center) and KeyFrame.

Herding and K-Center select on ConvNet3D embeddings of each video's centre clip (no flip). Which network embeds is a
setting: `embedding: teacher` (the trained teacher, as DC's coreset baselines use a network trained on the full data) or
`embedding: random` (a freshly initialised student, seeded). Selected clips are stored as uint8 real frames: a coreset
costs what its clips cost.

KeyFrame (DAViD's baseline, undefined in its paper; our definition): for each of `ipc` videos per class drawn as Random
draws them, the stored frames of the video are split into `keyframes` equal temporal segments and each segment keeps
its medoid frame (the frame with the least summed L2 pixel distance to the segment's other frames): the frame most
like the rest. The clip repeats each key frame T / keyframes times. Storage: `keyframes` frames per item.
"""

from __future__ import annotations

import numpy as np
import torch

from vidstill.data.clips import sample_clips
from vidstill.methods import register
from vidstill.methods.context import DistillContext
from vidstill.methods.settings import CoresetSettings, KeyFrameSettings
from vidstill.synthetic_set import SyntheticSet


def random_selection(ctx: DistillContext) -> dict[int, np.ndarray]:
    rng = np.random.default_rng(ctx.seed)
    return {
        c: rng.choice(ctx.train.indices_of_class(c), size=_k(ctx, c), replace=False) for c in range(ctx.num_classes)
    }


def _k(ctx: DistillContext, c: int) -> int:
    n = len(ctx.train.indices_of_class(c))
    if n < ctx.ipc:
        raise ValueError(f"class {c} has {n} training videos, fewer than ipc={ctx.ipc}")
    return ctx.ipc


@torch.no_grad()
def embed_videos(ctx: DistillContext, indices: np.ndarray, batch_size: int = 64) -> torch.Tensor:
    which = ctx.settings(CoresetSettings).embedding
    if which == "teacher":
        net = ctx.teacher_network()
    elif which == "random":
        net = ctx.network(ctx.seed)
    else:
        raise ValueError(f"embedding must be 'teacher' or 'random', got {which!r}")
    net.eval()
    out = [
        net.embed(sample_clips(ctx.train, indices[k : k + batch_size]).to(ctx.device)).cpu()
        for k in range(0, len(indices), batch_size)
    ]
    return torch.cat(out).double()


def herding(features: torch.Tensor, k: int) -> list[int]:
    """Greedy herding (Welling 2009): each step adds the sample keeping the running mean closest to the class mean."""
    mu = features.mean(0)
    chosen: list[int] = []
    total = torch.zeros_like(mu)
    for step in range(k):
        dist = ((step + 1) * mu - total - features).norm(dim=1)
        dist[chosen] = float("inf")
        i = int(dist.argmin())
        chosen.append(i)
        total += features[i]
    return chosen


def k_center(features: torch.Tensor, k: int) -> list[int]:
    """Greedy K-Center: start at the sample nearest the class mean, then repeatedly add the farthest from the chosen."""
    chosen = [int((features - features.mean(0)).norm(dim=1).argmin())]
    dist = (features - features[chosen[0]]).norm(dim=1)
    while len(chosen) < k:
        i = int(dist.argmax())
        chosen.append(i)
        dist = torch.minimum(dist, (features - features[i]).norm(dim=1))
    return chosen


def clip_set(ctx: DistillContext, selection: dict[int, np.ndarray], method: str) -> SyntheticSet:
    """The selected videos' centre clips as stored uint8 frames (T, H, W, 3)."""
    order = [(c, int(i)) for c in range(ctx.num_classes) for i in selection[c]]
    videos = torch.from_numpy(np.stack([np.ascontiguousarray(ctx.train.clip_uint8(i)) for _, i in order]))
    labels = torch.tensor([c for c, _ in order], dtype=torch.long)
    ids = [str(ctx.train.table["id"].iat[i]) for _, i in order]
    return SyntheticSet(
        {"videos": videos}, labels, ctx.num_classes, ctx.train.spec.frames, meta={"method": method, "ids": ids}
    )


def _select_by(ctx: DistillContext, choose) -> dict[int, np.ndarray]:
    selection = {}
    for c in range(ctx.num_classes):
        idx = ctx.train.indices_of_class(c)
        selection[c] = idx[choose(embed_videos(ctx, idx), _k(ctx, c))]
    return selection


@register("random")
def random_coreset(ctx: DistillContext) -> SyntheticSet:
    return clip_set(ctx, random_selection(ctx), "random")


@register("herding", needs=("teacher",))
def herding_coreset(ctx: DistillContext) -> SyntheticSet:
    return clip_set(ctx, _select_by(ctx, herding), "herding")


@register("kcenter", needs=("teacher",))
def kcenter_coreset(ctx: DistillContext) -> SyntheticSet:
    return clip_set(ctx, _select_by(ctx, k_center), "kcenter")


def medoid_keyframes(video: np.ndarray, keyframes: int) -> np.ndarray:
    """Indices of the medoid frame of each of `keyframes` equal temporal segments of (L, H, W, 3) frames."""
    flat = video.reshape(len(video), -1).astype(np.float32)
    bounds = np.linspace(0, len(video), keyframes + 1).round().astype(int)
    picks = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        seg = flat[a:b]
        d = np.sqrt(((seg[:, None] - seg[None]) ** 2).sum(-1)).sum(1)
        picks.append(a + int(d.argmin()))
    return np.array(picks)


@register("keyframe")
def keyframe(ctx: DistillContext) -> SyntheticSet:
    k = ctx.settings(KeyFrameSettings).keyframes
    if not 1 <= k <= ctx.train.spec.frames:
        raise ValueError(f"keyframe.keyframes must be in 1..{ctx.train.spec.frames}, got {k}")
    selection = random_selection(ctx)
    order = [(c, int(i)) for c in range(ctx.num_classes) for i in selection[c]]
    frames = []
    for _, i in order:
        video = ctx.train.video(i)
        frames.append(video[medoid_keyframes(video, k)])
    videos = torch.from_numpy(np.stack(frames))
    labels = torch.tensor([c for c, _ in order], dtype=torch.long)
    return SyntheticSet(
        {"videos": videos}, labels, ctx.num_classes, ctx.train.spec.frames, meta={"method": "keyframe", "keyframes": k}
    )
