"""Videos stored as a few key frames with linear interpolation between them (PRISM, methods/prism.py).

A video of T frames is described by a key-frame mask over its T positions (the first and last always keys) and the
values of its key frames. Frame t between adjacent keys k0 < t < k1 is (k1 − t)/(k1 − k0)·x_k0 + (t − k0)/(k1 −
k0)·x_k1. The interpolation is one weight matrix per video, so it is differentiable and every gradient of a rendered
frame reaches exactly its two neighbouring keys, and the same function renders the videos while PRISM optimises them and
when a student trains on the stored set (synthetic_set.py's `keyframes` expansion): what is stored is what was
optimised.
"""

from __future__ import annotations

import torch

from vidstill.runtime import to_device


def check_mask(mask: torch.Tensor) -> None:
    if mask.dim() != 2 or mask.dtype != torch.bool:
        raise ValueError(f"a key-frame mask is a (videos, frames) bool tensor, got {tuple(mask.shape)} {mask.dtype}")
    if not bool(mask[:, 0].all() and mask[:, -1].all()):
        raise ValueError("every video's first and last frames must be key frames")


def neighbours(mask: torch.Tensor, check: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, T) positions of the key at or before each frame and of the key at or after it (a key frame is its own
    neighbour both ways). `check=False` skips the mask check (it reads the mask on the host) for a mask whose owner
    keeps its first and last frames keys (PRISM's, on the GPU)."""
    if check:
        check_mask(mask)
    n, t = mask.shape
    pos = torch.arange(t, device=mask.device).expand(n, t)
    prev = torch.where(mask, pos, torch.full_like(pos, -1)).cummax(1).values
    nxt = torch.where(mask, pos, torch.full_like(pos, t)).flip(1).cummin(1).values.flip(1)
    return prev, nxt


def interpolation_weights(mask: torch.Tensor, check: bool = True) -> torch.Tensor:
    """(N, T, T) weights W with rendered[n, t] = Σ_k W[n, t, k]·keys[n, k]: rows of key frames are one-hot, rows of
    other frames mix their two neighbouring keys linearly; columns of non-key positions are zero. Each weight is
    written once into zeros (a key frame's two are 1 and 0), so the scatter is exact in any order."""
    n, t = mask.shape
    prev, nxt = neighbours(mask, check)
    pos = torch.arange(t, device=mask.device)
    span = (nxt - prev).clamp(min=1).float()
    w_prev = torch.where(nxt == prev, torch.ones_like(span), (nxt - pos).float() / span)
    w_next = torch.where(nxt == prev, torch.zeros_like(span), (pos - prev).float() / span)
    weights = torch.zeros(n, t, t, device=mask.device)
    weights.scatter_add_(2, prev[..., None], w_prev[..., None])
    weights.scatter_add_(2, nxt[..., None], w_next[..., None])
    return weights


def render(keys: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Videos (N, T, ...) from per-position key values (N, T, ...; non-key positions are ignored) and the mask (on
    the host: the weights are built there and queued to the keys' device)."""
    return render_with(to_device(interpolation_weights(mask.cpu()).to(keys.dtype), keys.device), keys)


def render_with(weights: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
    """Videos (N, T, ...) from key values and `interpolation_weights` already on their device."""
    return torch.einsum("ntk,nk...->nt...", weights, keys)


def pack(keys: torch.Tensor, mask: torch.Tensor) -> dict[str, torch.Tensor]:
    """What is stored: only the key frames (Σ keys, ...), each one's position, and each video's number of keys."""
    check_mask(mask)
    return {
        "frames": keys[mask].detach().cpu(),
        "positions": mask.nonzero()[:, 1].to(torch.int16).cpu(),
        "item_frames": mask.sum(1).to(torch.int16).cpu(),
    }


def unpack(
    frames: torch.Tensor, positions: torch.Tensor, item_frames: torch.Tensor, length: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """The inverse of `pack`: per-position key values (zeros off the keys) and the mask of `len(item_frames)` videos."""
    counts = item_frames.long()
    if int(counts.sum()) != len(frames) or len(positions) != len(frames):
        raise ValueError(
            f"stored key frames disagree: {len(frames)} frames, {len(positions)} positions, "
            f"{int(counts.sum())} counted over the videos"
        )
    rows = torch.repeat_interleave(torch.arange(len(counts)), counts)
    mask = torch.zeros(len(counts), length, dtype=torch.bool)
    mask[rows, positions.long()] = True
    keys = frames.new_zeros((len(counts), length, *frames.shape[1:]))
    # the host's indices sent without waiting: index_put with host indices on the GPU copies them with a sync
    keys[to_device(rows, frames.device), to_device(positions.long(), frames.device)] = frames
    return keys, mask


__all__ = ["check_mask", "interpolation_weights", "neighbours", "pack", "render", "render_with", "unpack"]
