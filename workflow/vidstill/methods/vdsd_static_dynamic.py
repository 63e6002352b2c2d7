"""VDSD's static–dynamic memory: still images, one-channel dynamic maps, and the hallucinator that makes videos of them.

A synthetic video of class c is never stored. Item j of class c owns two stills (c·2ipc + 2j, + 1) and two dynamic
maps (c·2ipc + 2j, + 1); each time the video is needed, one of each is drawn and the hallucinator, a single
Conv3d(4 → 3, kernel 3, padding 1), runs over the still repeated in time concatenated with the map. So spc = dpc =
2 × ipc, and an evaluation that draws afresh every epoch trains on up to four videos per item, as VDSD's does.

Shared by the distillation (methods/vdsd.py, with gradients) and the evaluation's expansion (synthetic_set.py,
without): one implementation of the pairing and of the hallucination.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from vidstill.methods import (
    STILLS_PER_ITEM as PER_ITEM,  # stills and dynamic maps owned by each item (spc = dpc = 2 × ipc)
)
from vidstill.runtime import to_device


def pair_indices(items: torch.Tensor, ipc: int, rng: np.random.Generator | None) -> tuple[torch.Tensor, torch.Tensor]:
    """(still index, dynamic-map index) for each item of a class-major set of `ipc` items per class. With a
    generator, each item draws one of its two stills and one of its two maps independently; without, the first of
    each (a fixed, inspectable pairing)."""
    items = torch.as_tensor(items, dtype=torch.long)
    first = (items // ipc) * (PER_ITEM * ipc) + PER_ITEM * (items % ipc)
    if rng is None:
        return first, first.clone()
    draws = to_device(torch.from_numpy(rng.integers(PER_ITEM, size=(2, len(items)))), items.device)
    return first + draws[0], first + draws[1]


def hallucinate(stills: torch.Tensor, dynamics: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """Videos (B, T, C, H, W) from stills (B, C, H, W) and dynamic maps (B, T, 1, H, W): the still repeated over
    the T frames, the map as a fourth channel, one 3-D convolution back to C channels."""
    t = dynamics.shape[1]
    x = torch.cat([stills.unsqueeze(2).expand(-1, -1, t, -1, -1), dynamics.permute(0, 2, 1, 3, 4)], dim=1)
    return F.conv3d(x, weight, bias, padding=weight.shape[-1] // 2).permute(0, 2, 1, 3, 4)


HALLUCINATOR_INITS = ("default", "identity")


def initial_hallucinator(channels: int, seed: int, init: str = "default") -> tuple[torch.Tensor, torch.Tensor]:
    """The weight and bias of a Conv3d(channels + 1 → channels, 3). `default`: PyTorch's seeded initialisation, as
    the reference's hallucinator starts (a random colour mix of the still and the map). `identity`: the centre tap
    copies the still's channels and the map is ignored, so stage 2 starts from the stage-1 stills as static videos;
    the map's weights get gradients from the first step, and the maps from the second."""
    if init not in HALLUCINATOR_INITS:
        raise ValueError(f"hallucinator_init must be one of {HALLUCINATOR_INITS}, got {init!r}")
    torch.manual_seed(seed)
    conv = nn.Conv3d(channels + 1, channels, kernel_size=3, padding=1)
    weight, bias = conv.weight.detach().clone(), conv.bias.detach().clone()
    if init == "identity":
        weight.zero_()
        bias.zero_()
        weight[torch.arange(channels), torch.arange(channels), 1, 1, 1] = 1.0
    return weight, bias


def memory_videos(
    stills: torch.Tensor,
    dynamics: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor,
    items: torch.Tensor,
    ipc: int,
    rng: np.random.Generator | None,
) -> torch.Tensor:
    """The videos of `items`, each with this draw's still and map."""
    still_idx, dyn_idx = pair_indices(items, ipc, rng)
    still_idx, dyn_idx = to_device(still_idx, stills.device), to_device(dyn_idx, dynamics.device)
    return hallucinate(stills[still_idx], dynamics[dyn_idx], weight, bias)


__all__ = ["HALLUCINATOR_INITS", "PER_ITEM", "hallucinate", "initial_hallucinator", "memory_videos", "pair_indices"]
