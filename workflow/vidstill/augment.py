"""Siamese video DSA: Zhao & Bilen's Differentiable Siamese Augmentation, one draw per clip for all its frames.

Matching methods (DC, DM) compare statistics of a real and a synthetic batch of the same class; augmenting both with
the *same* random draw keeps the comparison fair while the synthetic pixels learn to survive augmentation. Methods
batch all classes, so a draw holds parameters for each *group* (a class) and `apply_draw` gives clip i the draw of
group[i]. A clip's frames share its draw: augmentation never invents motion (a static clip stays static).

Everything is differentiable w.r.t. the clips. Ops are applied in one fixed order, colour → flip → affine → cutout,
where the affine composes crop (an integer-pixel translation with zero padding), scale and rotation into one matrix
and one `grid_sample` over all frames of the clips that need it. In mode "multiple" this order replaces the
strategy string's order (the original samples crop, cutout, flip, scale, rotate one after the other; here cutout
comes last so its square is not rotated). In mode "single" (the original's default) each group applies one op group
of the strategy, so order is moot. Clips whose draw leaves an op out are passed through untouched, bit for bit.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from vidstill.runtime import to_device

log = logging.getLogger("vidstill.augment")

OPS = ("color", "crop", "cutout", "flip", "scale", "rotate")
DEFAULT_STRATEGY = "color_crop_cutout_flip_scale_rotate"


@dataclass(frozen=True)
class DSAParams:
    """The original DSA's ranges (ParamDiffAug) and its op-selection mode."""

    mode: str = "single"  # single: one op group per draw (original 'S') | multiple: all ops ('M')
    prob_flip: float = 0.5
    ratio_scale: float = 1.2  # per-axis factor in [1/r, r]
    ratio_rotate: float = 15.0  # degrees, ±
    ratio_crop: float = 0.125  # translation up to this fraction of the size
    ratio_cutout: float = 0.5  # side of the zeroed square as a fraction of the size
    brightness: float = 1.0  # add (u − 0.5)·b
    saturation: float = 2.0  # factor u·s around the per-pixel channel mean
    contrast: float = 0.5  # factor u + c around the frame mean

    def __post_init__(self) -> None:
        if self.mode not in ("single", "multiple"):
            raise ValueError(f"DSA mode must be 'single' or 'multiple', got {self.mode!r}")


@dataclass
class DSADraw:
    """Per-group augmentation parameters (G groups); an op a group does not apply has its flag off."""

    color: torch.Tensor  # (G,) bool
    brightness: torch.Tensor  # (G,) additive shift
    saturation: torch.Tensor  # (G,) factor
    contrast: torch.Tensor  # (G,) factor
    flip: torch.Tensor  # (G,) bool
    affine: torch.Tensor  # (G,) bool: crop, scale or rotate applies
    theta: torch.Tensor  # (G, 2, 3) scale·rotation, output → input coordinates (affine_grid convention)
    shift: torch.Tensor  # (G, 2) crop translation (x, y) as a fraction of the size, rounded to pixels when applied
    cutout: torch.Tensor  # (G,) bool
    centre: torch.Tensor  # (G, 2) cutout centre (x, y) as a fraction of the size in [0, 1)
    ratio_cutout: float = 0.5

    def __len__(self) -> int:
        return len(self.color)


def parse_strategy(strategy: str) -> list[str]:
    """'color_crop_...' → op names; '' or 'none' → no ops."""
    ops = [] if strategy in ("", "none") else strategy.split("_")
    bad = [op for op in ops if op not in OPS]
    if bad:
        raise ValueError(f"unknown DSA op(s) {bad} in strategy {strategy!r}; known: {', '.join(OPS)}")
    return ops


def dsa_strategy(strategy: str, flip_allowed: bool) -> str:
    """A method's `dsa_strategy` setting (default: all ops), without flip where the dataset says a mirror changes the
    label (clips.flip false: SSv2, the synthetic benchmark's direction classes)."""
    ops = parse_strategy(strategy)
    if not flip_allowed and "flip" in ops:
        ops = [op for op in ops if op != "flip"]
        log.info("clips.flip is off for this dataset: DSA strategy without flip: %s", "_".join(ops) or "none")
    return "_".join(ops) or "none"


def sample_draw(strategy: str, groups: int, seed: int, params: DSAParams = DSAParams()) -> DSADraw:
    """Draw parameters for `groups` groups from a generator seeded with `seed` (reproducible, device independent).

    Every parameter is drawn whatever the strategy, so a seed gives the same values for the ops it enables.
    """
    ops = parse_strategy(strategy)
    g = torch.Generator().manual_seed(int(seed))

    def u() -> torch.Tensor:
        return torch.rand(groups, generator=g)

    brightness, saturation, contrast = (u() - 0.5) * params.brightness, u() * params.saturation, u() + params.contrast
    flip = u() < params.prob_flip
    sx, sy = (u() * (params.ratio_scale - 1 / params.ratio_scale) + 1 / params.ratio_scale for _ in range(2))
    angle = (u() - 0.5) * 2 * math.radians(params.ratio_rotate)
    shift = (torch.rand(groups, 2, generator=g) - 0.5) * 2 * params.ratio_crop
    centre = torch.rand(groups, 2, generator=g)
    if params.mode == "single" and ops:
        pick = torch.randint(len(ops), (groups,), generator=g)
        on = {op: torch.tensor([ops[int(k)] == op for k in pick], dtype=torch.bool) for op in OPS}
    else:
        on = {op: torch.full((groups,), op in ops) for op in OPS}
    one, zero = torch.ones(groups), torch.zeros(groups)
    sx, sy = torch.where(on["scale"], sx, one), torch.where(on["scale"], sy, one)
    angle = torch.where(on["rotate"], angle, zero)
    cos, sin = torch.cos(angle), torch.sin(angle)
    scale = torch.stack([torch.stack([sx, zero]), torch.stack([zero, sy])]).permute(2, 0, 1)  # (G, 2, 2)
    rotation = torch.stack([torch.stack([cos, sin]), torch.stack([-sin, cos])]).permute(2, 0, 1)
    theta = torch.cat([scale @ rotation, torch.zeros(groups, 2, 1)], dim=2)
    return DSADraw(
        color=on["color"],
        brightness=brightness,
        saturation=saturation,
        contrast=contrast,
        flip=on["flip"] & flip,
        affine=on["scale"] | on["rotate"] | on["crop"],
        theta=theta,
        shift=torch.where(on["crop"][:, None], shift, 0.0),
        cutout=on["cutout"],
        centre=centre,
        ratio_cutout=params.ratio_cutout,
    )


def _on(x: torch.Tensor, mask: torch.Tensor, fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> torch.Tensor:
    """fn(x[idx], idx) for the clips where `mask` (on the host) is set, the others untouched (no arithmetic, so
    bit-exact). The mask is read on the host, where the draw was made: its `nonzero` on the GPU would wait for the
    device, four times a draw."""
    idx = mask.nonzero().squeeze(1)
    if len(idx) == 0:
        return x
    if len(idx) == len(x):
        return fn(x, to_device(idx, x.device))
    idx = to_device(idx, x.device)
    return x.index_copy(0, idx, fn(x.index_select(0, idx), idx))


def apply_draw(x: torch.Tensor, group: torch.Tensor, draw: DSADraw) -> torch.Tensor:
    """Augment clips x (B, T, C, H, W): clip i with the draw of group[i], identically on all its frames."""
    t, h, w = x.shape[1], x.shape[3], x.shape[4]
    group = group.to("cpu", torch.long)
    d = {
        k: getattr(draw, k)[group]
        for k in (
            "color",
            "brightness",
            "saturation",
            "contrast",
            "flip",
            "affine",
            "theta",
            "shift",
            "cutout",
            "centre",
        )
    }
    masks = {k: d.pop(k) for k in ("color", "flip", "affine", "cutout")}  # stay on the host: `_on` reads them
    d = {k: to_device(v.to(x.dtype), x.device) for k, v in d.items()}

    def color(v: torch.Tensor, i: torch.Tensor) -> torch.Tensor:
        # brightness (+b), saturation ((v − m)·s + m, m the per-pixel channel mean) and contrast ((v − M)·k + M,
        # M the frame mean) in one expression: b shifts m and M alike, and saturation keeps both means.
        b, s, k = (d[n][i].view(-1, 1, 1, 1, 1) for n in ("brightness", "saturation", "contrast"))
        m = v.mean(dim=2, keepdim=True)
        mean = m.mean(dim=(3, 4), keepdim=True)
        return (v - m) * (s * k) + ((m - mean) * k + mean + b)

    def affine(v: torch.Tensor, i: torch.Tensor) -> torch.Tensor:
        theta = d["theta"][i].clone()  # (b, 2, 3); its translation column is filled in here
        size = to_device(torch.tensor([w, h], dtype=x.dtype), x.device)
        pixels = torch.round(d["shift"][i] * size)  # the original crops by whole pixels
        theta[:, :, 2] = -2 * pixels / (size - 1).clamp(min=1)  # align_corners=True: 2/(n−1) per pixel
        frames = v.flatten(0, 1)
        grid = F.affine_grid(theta.repeat_interleave(t, 0), list(frames.shape), align_corners=True)
        return F.grid_sample(frames, grid, mode="bilinear", padding_mode="zeros", align_corners=True).view_as(v)

    def cutout(v: torch.Tensor, i: torch.Tensor) -> torch.Tensor:
        side_y, side_x = int(h * draw.ratio_cutout + 0.5), int(w * draw.ratio_cutout + 0.5)
        cx = (d["centre"][i, 0] * w).floor()[:, None] - side_x // 2
        cy = (d["centre"][i, 1] * h).floor()[:, None] - side_y // 2
        xs, ys = torch.arange(w, device=x.device), torch.arange(h, device=x.device)
        inside = ((ys >= cy) & (ys < cy + side_y))[:, :, None] & ((xs >= cx) & (xs < cx + side_x))[:, None, :]
        return v * (~inside).to(v.dtype)[:, None, None]

    x = _on(x, masks["color"], color)
    x = _on(x, masks["flip"], lambda v, i: v.flip(-1))
    x = _on(x, masks["affine"], affine)
    return _on(x, masks["cutout"], cutout)


def augment(x: torch.Tensor, strategy: str, seed: int, params: DSAParams = DSAParams()) -> torch.Tensor:
    """Each clip its own draw (non-Siamese): for training on synthetic data."""
    return apply_draw(x, torch.arange(len(x)), sample_draw(strategy, len(x), seed, params))


__all__ = ["DEFAULT_STRATEGY", "OPS", "DSADraw", "DSAParams", "apply_draw", "augment", "parse_strategy", "sample_draw"]
