"""VDSD, "Dancing with Still Images" (Wang et al., CVPR 2024): static–dynamic disentanglement on DM, MTT and FRePo.

Stage 1 (static memory) is image DC on single frames: a Static-DC set distilled at 2 × IPC, which the workflow
produces with the generic distill rule (the `stills` instance named in the method's settings, default
`vdsd_stills`) and hands over as the `stills` artifact, so DM+VDSD, MTT+VDSD and FRePo+VDSD share it and changing
stage 2 never recomputes it. Stage 2 keeps those stills frozen and learns, with the base method's loss on hallucinated
videos, a one-channel T-frame dynamic map per still (dpc = 2 × IPC, Gaussian initialisation as the reference) and
the hallucinator (vdsd_static_dynamic.py). Every iteration draws a fresh still/map pairing (MTT: every inner minibatch),
as the evaluation does every epoch through the set's `vdsd` expansion.

What is stored — and counted as storage — is the stills, the maps and the hallucinator's 327 weights: 2·ipc·(C + T)
frame-planes per class against ipc·T·C for a set of videos.

Params (beyond the base method's): stills (the stage-1 instance), lr_dynamic, lr_hallucinator (DM, MTT: SGD with
momentum `memory_momentum`, 0.95 as the reference; FRePo: its cosine Adam), hallucinator_init. The reference tunes both
learning rates per IPC (DM: 1e-4 / 1e-5 at IPC 1, 1e3 / 1e-6 at IPC 5; MTT: 1e4 / 1e-3); a rate may be a number or a
mapping {ipc: rate}.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from vidstill.methods import register
from vidstill.methods.context import DistillContext
from vidstill.methods.dm import match_embeddings
from vidstill.methods.frepo import learnable_labels, regress_features
from vidstill.methods.mtt import match_trajectories
from vidstill.methods.settings import DMVDSDSettings, StaticDynamic
from vidstill.methods.vdsd_static_dynamic import PER_ITEM, initial_hallucinator, memory_videos
from vidstill.optim import SGD
from vidstill.synthetic_set import SyntheticSet, as_float_videos
from vidstill.train import epoch_seed


def by_ipc(value: Any, ipc: int, name: str) -> float:
    """A setting given as one number or per IPC ({1: .., 5: ..}; keys may be strings after a YAML/JSON round trip)."""
    if not isinstance(value, Mapping):
        return float(value)
    table = {int(k): float(v) for k, v in value.items()}
    if ipc not in table:
        raise ValueError(f"{name} is given per IPC for {sorted(table)}, not for ipc {ipc}")
    return table[ipc]


def load_stills(ctx: DistillContext) -> torch.Tensor:
    """Stage 1's frozen stills (K·2ipc, C, H, W), checked to be what stage 2 pairs: class-major, 2 × IPC per class,
    one frame each."""
    path = ctx.artifacts.get("stills")
    if path is None or isinstance(path, list):
        raise ValueError(
            f"{ctx.settings(StaticDynamic).method} needs the stage-1 stills (artifacts['stills']), got {path!r}"
        )
    stage1 = SyntheticSet.load(path)
    videos = stage1.tensors.get("videos")
    spc = PER_ITEM * ctx.ipc
    expected = torch.arange(ctx.num_classes).repeat_interleave(spc)
    if videos is None or videos.dim() != 5 or videos.shape[1] != 1:
        raise ValueError(
            f"{path}: stage-1 stills must be a single-frame set (Static-DC), got tensors "
            f"{ {k: tuple(v.shape) for k, v in stage1.tensors.items()} }"
        )
    if stage1.soft_labels or not torch.equal(stage1.labels, expected):
        raise ValueError(
            f"{path}: VDSD at ipc {ctx.ipc} needs {spc} stills per class, class by class "
            f"({ctx.num_classes} classes); the file has {len(stage1)} items"
        )
    return as_float_videos(videos)[:, 0]  # a uint8 single-frame coreset (KeyFrame) is normalised like real clips


class StaticDynamicMemory:
    """Stage 2's parameters around the frozen stills: the dynamic maps and the hallucinator's weight and bias."""

    def __init__(self, ctx: DistillContext) -> None:
        self.ipc = ctx.ipc
        self.stills = load_stills(ctx).to(ctx.device)
        n, c, h, w = self.stills.shape
        rng = np.random.default_rng(epoch_seed(ctx.seed, -1))
        maps = rng.standard_normal((n, ctx.train.spec.frames, 1, h, w), dtype=np.float32)
        self.dynamics = torch.from_numpy(maps).to(ctx.device).requires_grad_(True)
        weight, bias = initial_hallucinator(c, epoch_seed(ctx.seed, -2), ctx.settings(StaticDynamic).hallucinator_init)
        self.weight = weight.to(ctx.device).requires_grad_(True)
        self.bias = bias.to(ctx.device).requires_grad_(True)
        self.labels = torch.arange(ctx.num_classes).repeat_interleave(ctx.ipc)

    def videos(self, items: torch.Tensor | list[int], rng: np.random.Generator) -> torch.Tensor:
        return memory_videos(self.stills, self.dynamics, self.weight, self.bias, torch.as_tensor(items), self.ipc, rng)

    def rates(self, p: StaticDynamic, ipc: int) -> tuple[float, float]:
        return by_ipc(p.lr_dynamic, ipc, "lr_dynamic"), by_ipc(p.lr_hallucinator, ipc, "lr_hallucinator")

    def optimizers(self, p: StaticDynamic, ipc: int) -> list[SGD]:
        momentum = p.memory_momentum
        lr_dynamic, lr_hallucinator = self.rates(p, ipc)
        return [
            SGD([self.dynamics], lr=lr_dynamic, momentum=momentum),
            SGD([self.weight, self.bias], lr=lr_hallucinator, momentum=momentum),
        ]

    def synthetic_set(
        self,
        ctx: DistillContext,
        method: str,
        meta: dict,
        lr: float | None = None,
        labels: torch.Tensor | None = None,
        label_loss: str = "ce",
    ) -> SyntheticSet:
        tensors = {
            "stills": self.stills.cpu(),
            "dynamics": self.dynamics.detach().cpu(),
            "hallucinator.weight": self.weight.detach().cpu(),
            "hallucinator.bias": self.bias.detach().cpu(),
        }
        return SyntheticSet(
            tensors,
            self.labels if labels is None else labels,
            ctx.num_classes,
            ctx.train.spec.frames,
            expansion="vdsd",
            expansion_args={"ipc": ctx.ipc},
            lr=lr,
            label_loss=label_loss,
            meta={"method": method, "stills": str(ctx.artifacts["stills"]), **meta},
        )


@register("dm_vdsd", needs=("stills",))
def dm_vdsd(ctx: DistillContext) -> SyntheticSet:
    memory = StaticDynamicMemory(ctx)
    items = torch.arange(len(memory.labels))
    meta = match_embeddings(
        ctx,
        lambda rng: memory.videos(items, rng),
        memory.labels,
        memory.optimizers(ctx.settings(StaticDynamic), ctx.ipc),
        ctx.settings(DMVDSDSettings).iterations,
        resumable=True,
    )
    return memory.synthetic_set(ctx, "dm_vdsd", meta)


@register("mtt_vdsd", needs=("stills", "experts"))
def mtt_vdsd(ctx: DistillContext) -> SyntheticSet:
    memory = StaticDynamicMemory(ctx)
    lr, meta = match_trajectories(
        ctx, memory.videos, memory.labels, memory.optimizers(ctx.settings(StaticDynamic), ctx.ipc)
    )
    return memory.synthetic_set(ctx, "mtt_vdsd", meta, lr=lr)


@register("frepo_vdsd", needs=("stills",))
def frepo_vdsd(ctx: DistillContext) -> SyntheticSet:
    """FRePo's kernel-ridge regression on hallucinated videos: maps and hallucinator each get FRePo's cosine Adam at
    their own rate, the labels are learnt as FRePo learns them and regressed (MSE) by the evaluation's students."""
    memory = StaticDynamicMemory(ctx)
    items = torch.arange(len(memory.labels))
    labels, label_group = learnable_labels(ctx, memory.labels)
    lr_dynamic, lr_hallucinator = memory.rates(ctx.settings(StaticDynamic), ctx.ipc)
    meta = regress_features(
        ctx,
        lambda rng: memory.videos(items, rng),
        labels,
        [([memory.dynamics], lr_dynamic), ([memory.weight, memory.bias], lr_hallucinator), *label_group],
    )
    return memory.synthetic_set(ctx, "frepo_vdsd", meta, labels=labels.detach().cpu(), label_loss="mse")


__all__ = ["StaticDynamicMemory", "by_ipc", "dm_vdsd", "frepo_vdsd", "load_stills", "mtt_vdsd"]
