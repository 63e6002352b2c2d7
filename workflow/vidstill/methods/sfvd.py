"""SFVD, "Distill Video Datasets into Images" (Zhao et al., arXiv 2512.14621), on MTT's trajectory matching.

SFVD: each synthetic video is one learnable frame, duplicated over the clip's T frames (the "differentiable
interpolation" of a single frame is its repetition), and MTT's loop (methods/mtt.match_trajectories, the shared loop
against the shared experts) trains the student on those videos; the update reaches only the frame, which receives
the sum of the gradients of all its T copies (`duplicated`). Only the frame is stored: one frame per video, expanded
by repetition like Static-DC's stills (synthetic_set.py's `stored` expansion).

SFVD-T: during matching, each synthetic still is fused with a real clip of its class, drawn afresh for every inner
minibatch, by a channel reshaping layer, a 1×1×1 convolution from the 2C channels of [still repeated, real clip] to
C (`ChannelReshape`); its weights are learnt with the stills and it starts as the identity on the still (so SFVD-T
starts where SFVD does). The public text says only that the frames "are combined with sampled real videos during the
matching process through a channel reshaping layer": we read it as acting during matching alone, so the stored set
is the stills, as for SFVD, and students train on them duplicated (docs/sfvd.md lists this choice).

Params: MTT's (iterations, syn_steps, batch_syn, expert_epochs, max_start_epoch, lr, momentum, lr_lr, lr_init, init),
plus frame (which frame of the initial clip a still starts from: middle | first) and, for SFVD-T, lr_reshape.
"""

from __future__ import annotations

import numpy as np
import torch

from vidstill.data.clips import sample_clips
from vidstill.methods import register
from vidstill.methods.context import DistillContext
from vidstill.methods.dm import initial_videos
from vidstill.methods.mtt import check_experts, match_trajectories
from vidstill.methods.settings import SFVDSettings, SFVDTSettings
from vidstill.optim import SGD
from vidstill.runtime import to_device
from vidstill.synthetic_set import SyntheticSet


def duplicated(stills: torch.Tensor, frames: int) -> torch.Tensor:
    """(N, C, H, W) stills as (N, T, C, H, W) videos: one frame repeated T times. A view, so the gradient a still
    receives is the sum over its T copies."""
    return stills[:, None].expand(-1, frames, -1, -1, -1)


def initial_stills(ctx: DistillContext) -> tuple[torch.Tensor, torch.Tensor]:
    """One frame per synthetic video from the method's initialisation (real clips or noise, dm.initial_videos)."""
    videos, labels = initial_videos(ctx, np.random.default_rng(ctx.seed))
    where = ctx.settings(SFVDSettings).frame
    t = videos.shape[1] // 2 if where == "middle" else 0
    return videos[:, t].contiguous(), labels


def stills_set(
    ctx: DistillContext, stills: torch.Tensor, labels: torch.Tensor, lr: float, method: str, meta: dict
) -> SyntheticSet:
    """What SFVD stores: one frame per video, repeated to the clip length when a student trains on it."""
    return SyntheticSet(
        {"videos": stills.detach().cpu()[:, None]},
        labels.cpu(),
        ctx.num_classes,
        ctx.train.spec.frames,
        lr=lr,
        meta={"method": method, **meta},
    )


@register("sfvd", needs=("experts",))
def sfvd(ctx: DistillContext) -> SyntheticSet:
    p = ctx.settings(SFVDSettings)
    check_experts(ctx)
    stills, labels = initial_stills(ctx)
    stills = stills.to(ctx.device).requires_grad_(True)
    frames = ctx.train.spec.frames
    opt = SGD([stills], lr=p.lr, momentum=p.momentum)
    lr, meta = match_trajectories(ctx, lambda idx, rng: duplicated(stills[idx], frames), labels, [opt])
    return stills_set(ctx, stills, labels, lr, "sfvd", meta)


class ChannelReshape:
    """SFVD-T's fusion of a still (repeated over time) with a real clip: a 1×1×1 convolution 2C → C over the
    channels of each frame, i.e. out[c] = Σ_j W[c, j]·still[j] + Σ_j W[c, C + j]·real[j] + b[c]. Starts as the
    identity on the still and zero on the real clip."""

    def __init__(self, channels: int, device: torch.device) -> None:
        weight = torch.zeros(channels, 2 * channels)
        weight[:, :channels] = torch.eye(channels)
        self.weight = weight.to(device).requires_grad_(True)
        self.bias = torch.zeros(channels, device=device).requires_grad_(True)

    def __call__(self, stills: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        x = torch.cat([duplicated(stills, real.shape[1]), real], dim=2)  # (N, T, 2C, H, W)
        return torch.einsum("cj,ntjhw->ntchw", self.weight, x) + self.bias[:, None, None]


def real_clips_of(ctx: DistillContext, labels: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """One random training clip of each item's class (fresh start and flip)."""
    idx = np.array([rng.choice(ctx.train.indices_of_class(int(c))) for c in labels.tolist()])
    return sample_clips(ctx.train, idx, rng)


@register("sfvd_t", needs=("experts",))
def sfvd_t(ctx: DistillContext) -> SyntheticSet:
    p = ctx.settings(SFVDTSettings)
    check_experts(ctx)
    stills, labels = initial_stills(ctx)
    stills = stills.to(ctx.device).requires_grad_(True)
    reshape = ChannelReshape(stills.shape[1], ctx.device)
    momentum = p.momentum
    optimizers = [
        SGD([stills], lr=p.lr, momentum=momentum),
        SGD([reshape.weight, reshape.bias], lr=p.lr_reshape, momentum=momentum),
    ]

    def videos(idx: list[int], rng: np.random.Generator) -> torch.Tensor:
        real = to_device(real_clips_of(ctx, labels[idx], rng), ctx.device)
        return reshape(stills[to_device(torch.tensor(idx), stills.device)], real)

    lr, meta = match_trajectories(ctx, videos, labels, optimizers)
    meta["reshape"] = {"weight": reshape.weight.detach().cpu().tolist(), "bias": reshape.bias.detach().cpu().tolist()}
    return stills_set(ctx, stills, labels, lr, "sfvd_t", meta)


__all__ = ["ChannelReshape", "duplicated", "initial_stills", "real_clips_of", "sfvd", "sfvd_t", "stills_set"]
