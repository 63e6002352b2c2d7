"""Temporal saliency from inter-frame differences: TSGF's filter (Gu et al., arXiv 2505.20694) and its two uses.

TSGF_O scales the gradient on the synthetic videos by the saliency, so regions and frames that move keep large
updates and static, redundant ones are damped; TSGF_A confines augmentation to the static regions of a clip while a
student trains on the distilled set, so augmentation never overwrites the motion the set was distilled to keep.

The map, for a clip x of T frames (normalised pixels):
  d_t = mean over channels |x_t − x_{t−1}|     (t ≥ 1; d_0 = d_1, so the first frame is not static by construction)
  s_t = Σ_j α_j d_{t+j}, j = −(k−1)/2 … (k−1)/2   (α normalised to sum 1; the clip's ends are replicated)
  S   = s / (max over the clip of s + ε)         ∈ [0, 1)
and TSGF_O's factor is floor + (1 − floor)·S: a static pixel's update is multiplied by exactly `floor`.
The paper does not report k, α or ε (REFERENCE.md); the defaults and why are in SaliencyParams.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F

from vidstill.augment import DSAParams, apply_draw, sample_draw
from vidstill.runtime import to_device
from vidstill.synthetic_set import SyntheticSet, expand_stored, register_expansion

if TYPE_CHECKING:
    from vidstill.methods.settings import TSGFSettings


@dataclass(frozen=True)
class SaliencyParams:
    """Defaults, for 8–16 frame clips sampled with a stride (each stored frame is several source frames apart):
    - window k = 3 with α = (¼, ½, ¼): a moving object's saliency at frame t covers where it was at t − 1 and will be
      at t + 1, the path the update should reach, weighting the frame's own difference most; wider windows smear
      the path over most of an 8-frame clip.
    - ε = 0.05 in normalised pixel units (about three 8-bit grey levels under ImageNet statistics): a clip whose
      largest change is sensor-noise sized is not normalised up to full saliency, while a clip with real motion
      (differences of order 1) reaches S ≈ 0.95.
    - floor = 0.1: static pixels still move at a tenth of the rate, so the teacher's objective can shape appearance
      (the appearance classes of the synthetic benchmark never move); floor 0 would freeze them at initialisation.
    """

    window: int = 3
    alpha: tuple[float, ...] = (0.25, 0.5, 0.25)
    eps: float = 0.05
    floor: float = 0.1

    def __post_init__(self) -> None:
        if self.window < 1 or self.window % 2 == 0:
            raise ValueError(f"saliency window k must be a positive odd number, got {self.window}")
        if len(self.alpha) != self.window:
            raise ValueError(
                f"saliency alpha needs k = {self.window} weights, got {len(self.alpha)}: {list(self.alpha)}"
            )
        if min(self.alpha) < 0 or sum(self.alpha) <= 0:
            raise ValueError(f"saliency alpha must be non-negative with a positive sum, got {list(self.alpha)}")
        if self.eps <= 0:
            raise ValueError(f"saliency eps must be positive, got {self.eps}")
        if not 0.0 <= self.floor <= 1.0:
            raise ValueError(f"saliency floor must be in [0, 1], got {self.floor}")

    @classmethod
    def from_params(cls, p: TSGFSettings) -> SaliencyParams:
        """From TSGF's settings (`window`, `alpha`, `eps`, `floor`); `alpha: null` is this class's weights at its
        window, uniform weights at any other."""
        window = p.window
        alpha = p.alpha if p.alpha is not None else cls.alpha if window == cls.window else (1.0,) * window
        return cls(window, tuple(float(a) for a in alpha), p.eps, p.floor)


def frame_differences(videos: torch.Tensor) -> torch.Tensor:
    """(B, T, C, H, W) → (B, T, 1, H, W): the channel-mean absolute difference to the previous frame."""
    if videos.shape[1] == 1:
        return videos.new_zeros(videos[:, :, :1].shape)
    d = (videos[:, 1:] - videos[:, :-1]).abs().mean(dim=2, keepdim=True)
    return torch.cat([d[:, :1], d], dim=1)


def temporal_saliency(videos: torch.Tensor, params: SaliencyParams = SaliencyParams()) -> torch.Tensor:
    """The saliency map S ∈ [0, 1) of each clip, (B, T, 1, H, W); zero wherever and whenever nothing changes."""
    d = frame_differences(videos.detach())
    b, t, _, h, w = d.shape
    half = params.window // 2
    alpha = to_device(torch.tensor(params.alpha, dtype=d.dtype), d.device)  # torch.tensor(device=cuda) would sync
    alpha = alpha / alpha.sum()
    series = d.permute(0, 2, 3, 4, 1).reshape(-1, 1, t)  # one time series per pixel
    if half:
        series = F.pad(series, (half, half), mode="replicate")
    s = F.conv1d(series, alpha.view(1, 1, -1)).reshape(b, 1, h, w, t).permute(0, 4, 1, 2, 3)
    return s / (s.amax(dim=(1, 2, 3, 4), keepdim=True) + params.eps)


def gradient_scale(saliency: torch.Tensor, floor: float) -> torch.Tensor:
    """TSGF_O's per-pixel factor on the synthetic videos' gradient: `floor` where static, up to 1 where most salient."""
    return floor + (1.0 - floor) * saliency


def saliency_guided_augment(
    videos: torch.Tensor,
    seed: int,
    strategy: str,
    params: SaliencyParams = SaliencyParams(),
    dsa: DSAParams = DSAParams(),
) -> torch.Tensor:
    """TSGF_A: one DSA draw per clip (augment.py). Its whole-clip geometric part (flip, crop, scale, rotate) moves every
    frame alike and keeps the motion, so it applies everywhere; its local part (colour, cutout) is blended in by
    1 − S of the transformed clip, so it changes static regions and leaves moving ones as they are."""
    draw = sample_draw(strategy, len(videos), seed, dsa)
    off = torch.zeros(len(videos), dtype=torch.bool)
    clips = torch.arange(len(videos))
    moved = apply_draw(videos, clips, replace(draw, color=off, cutout=off))
    local = replace(draw, flip=off, affine=off)
    if not bool((local.color | local.cutout).any()):
        return moved
    s = temporal_saliency(moved, params)
    return s * moved + (1.0 - s) * apply_draw(moved, clips, local)


@register_expansion("saliency_augment")
def expand_saliency_augment(s: SyntheticSet, idx: torch.Tensor, rng: np.random.Generator | None) -> torch.Tensor:
    """TSGF_A as a set's expansion: the stored videos, each with a fresh saliency-guided DSA draw on every call (every
    epoch of an evaluation); without a generator, as stored."""
    videos = expand_stored(s, idx, None)
    if rng is None:
        return videos
    a = s.expansion_args
    params = SaliencyParams(int(a["window"]), tuple(a["alpha"]), float(a["eps"]))
    return saliency_guided_augment(
        videos, int(rng.integers(2**31 - 1)), str(a["strategy"]), params, DSAParams(mode=str(a["dsa_mode"]))
    )


__all__ = [
    "expand_saliency_augment",
    "SaliencyParams",
    "frame_differences",
    "gradient_scale",
    "saliency_guided_augment",
    "temporal_saliency",
]
