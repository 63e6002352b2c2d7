"""Temporal augmentation of synthetic videos, applied when a student trains on them (a set's expansion) and inside
the distillation of the methods that use it. Its own module, apart from augment.py's DSA, because every method
imports the SyntheticSet that registers the expansions: editing DSA must not rerun the methods that never use it.
"""

from __future__ import annotations

import numpy as np
import torch

from vidstill.runtime import to_device


def temporal_interval(videos: torch.Tensor, rng: np.random.Generator, min_span: float = 0.5) -> torch.Tensor:
    """IDTD's Stochastic Temporal Augmentation τ: each clip of (B, T, C, H, W) draws an interval [s, e] ⊂ [0, 1] of
    its time axis (e − s ≥ `min_span`; the paper only says s < e, and a sliver of one frame would turn a clip into
    a still) and is resampled over it back to T frames by linear interpolation between neighbouring frames, so the
    output keeps the clip length and gradients reach every frame used. min_span 1 is the identity."""
    if not 0.0 < min_span <= 1.0:
        raise ValueError(f"temporal interval min_span must be in (0, 1], got {min_span}")
    b, t = videos.shape[:2]
    if t == 1:
        return videos
    span = min_span + (1.0 - min_span) * rng.random(b)
    start = (1.0 - span) * rng.random(b)
    steps = np.linspace(0.0, 1.0, t)
    pos = torch.from_numpy((start[:, None] + span[:, None] * steps[None, :]) * (t - 1)).float()
    pos = to_device(pos, videos.device)  # drawn on the host, queued to the device without waiting for it
    lo = pos.floor().long().clamp(0, t - 1)
    hi = (lo + 1).clamp(max=t - 1)
    w = (pos - lo.to(pos.dtype)).to(videos.dtype).view(b, t, 1, 1, 1)
    take = lambda idx: torch.gather(videos, 1, idx.view(b, t, 1, 1, 1).expand(-1, -1, *videos.shape[2:]))  # noqa: E731
    return take(lo) * (1 - w) + take(hi) * w


__all__ = ["temporal_interval"]
