"""IDTD, "Video Set Distillation: Information Diversification and Temporal Densification" (Zhao et al.), on DM.

Each synthetic instance (class n, item m) owns a Feature Pool p (L frames) and K Feature Selectors: light linear
layers along the pool's frame axis, d_k[t] = Σ_l W_k[t, l]·p[l] + b_k[t], each giving a T-frame Diverse Segment.
The Temporal Fusor densifies the K segments into one T-frame video: §4.2's "concatenated Diverse Segments are input
into a light-weighted convolution layer for convolution along the time dimension". The segments are concatenated
along channels (K·C) and a per-instance Conv3d(K·C → C, kernel (k_t, 1, 1), padding k_t // 2; `fusor_kernel`,
3, not given) convolves them along time, so every output frame mixes every segment. (An earlier reading, a
kernel and stride of (K, 1, 1) over the K·T frames concatenated in time, compressed each segment on its own and
stitched them: no output frame saw two segments.) The objective (§3.4) is

    L = L_M(D, T) + α1·L_div + α2·L_M(τ(V), T)

with L_M DM's embedding match on a fresh random network (methods/dm.py), τ the Stochastic Temporal Augmentation
(temporal_augment.temporal_interval) and L_div the diversity term below. What is stored is Alg. 1's "Synthesization":
the videos; students train on them under τ (the set's `temporal_interval` expansion), as §4.3 does.

L_div. The paper prints Σ_{k<q} ‖φ(d_k) − φ(d_q)‖² and adds it to a minimised loss, which would pull the segments
together; subtracting it instead is unbounded below (inflating the pixels inflates the distance). Here it is a hinge
that pushes a pair apart only while it is closer than the class's real clips are to each other:
L_div = Σ_instances mean_{k<q} max(0, m_n − ‖φ(d_k) − φ(d_q)‖²), where m_n is the mean pairwise squared distance
of the iteration's real clips of class n under the same network (no gradient). It lies in [0, m_n] per instance, is
0 once the segments are as diverse as real data, and is in the same units as L_M, so α1 keeps its meaning. All
pairs count (the printed sum stops at K − 2, which drops the pair (K − 1, K)).

Ablations (`modules`, Table 3): `idtd` (pool + selectors + fusor); `stitch_real` (A: K real clips, each sampled
down to T/K frames and stitched in order, nothing learnt); `segments_fusor` (B: the segments are free tensors
started from K real clips, fused by the fusor); `pool_selectors` (C: pool + selectors, segments stitched like A).
Module ablations keep the objective. Loss ablations (Table 4) are the three weights `segment_weight`, `alpha_div`,
`alpha_video`.

Initialisation (`init`): `random` is the paper's (a Gaussian pool, PyTorch's Linear initialisation of the
selectors); `real` fills an instance's pool with K real clips of its class (L = K·T) and starts selector k as the
one-hot selection of clip k, so the segments start as K real clips — ablation A's. `fusor_init`: `default`
(PyTorch's, the paper's), `sample` (the centre tap passes segment K // 2 through: with `init: real` the video
starts as one real clip, DM's start) or `mean` (each output frame the mean of the K segments' frames).

Updates go class by class (Alg. 1) with one Adam per class: the network is frozen and every parameter belongs to
one class, so a batched step over all classes (`class_chunk: 0`, the default) computes the same update in fewer
forwards; `class_chunk: c` runs c classes per backward, for memory (tests check both agree).
"""

from __future__ import annotations

import logging
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from vidstill.data.clips import sample_clips
from vidstill.loss_curve import LossCurve, curve_values
from vidstill.methods import register
from vidstill.methods.context import DistillContext
from vidstill.methods.dm import embedding_match_loss, iteration_draw
from vidstill.methods.idtd_temporal_augment import temporal_interval
from vidstill.methods.settings import IDTDSettings
from vidstill.models import embed_chunked
from vidstill.optim import Adam
from vidstill.resume import IterationCheckpoint
from vidstill.runtime import peak_memory_bytes, to_device
from vidstill.synthetic_set import SyntheticSet
from vidstill.train import epoch_seed

log = logging.getLogger("vidstill.methods.idtd")

MODULES = {  # variant: (pool and selectors, fusor)
    "idtd": (True, True),
    "stitch_real": (False, False),
    "segments_fusor": (False, True),
    "pool_selectors": (True, False),
}
INITS = ("real", "random")
FUSOR_INITS = ("default", "sample", "mean")


def stitch_indices(segments: int, seg_frames: int, frames: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(segment, frame) for each of `frames` output slots: segment k fills slots [⌈kT/K⌉, ⌈(k+1)T/K⌉) in order, with
    its own frames sampled uniformly at the slot centres ("temporal compression by temporal sampling", Table 3-A)."""
    if segments > frames:
        raise ValueError(f"stitching needs at most one segment per frame: K={segments} > T={frames}")
    seg = torch.div(torch.arange(frames) * segments, frames, rounding_mode="floor")
    first = torch.zeros(segments, dtype=torch.long)
    count = torch.bincount(seg, minlength=segments)
    first[1:] = torch.cumsum(count, 0)[:-1]
    j = torch.arange(frames) - first[seg]
    frame = ((j.double() + 0.5) * seg_frames / count[seg].double()).floor().long()
    return seg, frame


def stitch(segments: torch.Tensor, frames: int) -> torch.Tensor:
    """(n, K, T_s, C, H, W) segments → (n, frames, C, H, W) by `stitch_indices`."""
    seg, frame = stitch_indices(segments.shape[1], segments.shape[2], frames)
    return segments[:, to_device(seg, segments.device), to_device(frame, segments.device)]


def select(pool: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """Feature Selectors: pool (n, L, C, H, W), weight (n, K, T, L), bias (n, K, T) → segments (n, K, T, C, H, W)."""
    return torch.einsum("nktl,nlchw->nktchw", weight, pool) + bias[..., None, None, None]


def fuse(segments: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """Temporal Fusor: the K segments (n, K, T, C, H, W) concatenated (along channels, K·C of them) and convolved
    along time by one Conv3d per instance (weight (n, C, K·C, k_t), bias (n, C); kernel (k_t, 1, 1), stride 1,
    padding k_t // 2) → videos (n, T, C, H, W): every output frame is a learnt mix of every segment's frames around
    it. One grouped convolution runs all instances."""
    n, k, t, c, h, w = segments.shape
    kt = weight.shape[-1]
    if weight.shape[1:3] != (c, k * c) or kt % 2 == 0:
        raise ValueError(f"fusor weight {tuple(weight.shape)} does not fit {k} segments of {c} channels (odd kernel)")
    x = segments.permute(0, 1, 3, 2, 4, 5).reshape(1, n * k * c, t, h, w)
    out = F.conv3d(x, weight.reshape(n * c, k * c, kt, 1, 1), bias.reshape(n * c), padding=(kt // 2, 0, 0), groups=n)
    return out.reshape(n, c, t, h, w).permute(0, 2, 1, 3, 4)


def initial_fusor(
    n: int, channels: int, k: int, seed: int, init: str, kernel: int = 3
) -> tuple[torch.Tensor, torch.Tensor]:
    """`default`: PyTorch's Conv3d initialisation (the paper's random fusor); `sample`: the centre tap passes segment
    K // 2 through unchanged (with `init: real` the video starts as one real clip, DM's start, and the other
    segments enter as the fusor learns); `mean`: the centre tap averages the K segments frame by frame."""
    if init not in FUSOR_INITS:
        raise ValueError(f"idtd fusor_init must be one of {FUSOR_INITS}, got {init!r}")
    if kernel < 1 or kernel % 2 == 0:
        raise ValueError(f"idtd fusor_kernel must be odd and positive, got {kernel}")
    torch.manual_seed(seed)
    convs = [nn.Conv3d(k * channels, channels, (kernel, 1, 1)) for _ in range(n)]
    weight = torch.stack([c.weight.detach()[..., 0, 0] for c in convs])  # (n, C, K·C, k_t)
    bias = torch.stack([c.bias.detach() for c in convs])
    if init != "default":
        weight.zero_()
        bias.zero_()
        eye = torch.arange(channels)
        if init == "sample":
            weight[:, eye, (k // 2) * channels + eye, kernel // 2] = 1.0
        else:
            for j in range(k):
                weight[:, eye, j * channels + eye, kernel // 2] = 1.0 / k
    return weight, bias


def initial_selectors(
    n: int, k: int, frames: int, pool_frames: int, seed: int, init: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """`real`: selector k picks frames [kT, (k+1)T) of a pool of K clips; `random`: nn.Linear's initialisation."""
    if init == "real":
        weight = torch.zeros(n, k, frames, pool_frames)
        kk, tt = torch.meshgrid(torch.arange(k), torch.arange(frames), indexing="ij")
        weight[:, kk, tt, kk * frames + tt] = 1.0
        return weight, torch.zeros(n, k, frames)
    torch.manual_seed(seed)
    layers = [nn.Linear(pool_frames, frames) for _ in range(n * k)]
    weight = torch.stack([lin.weight.detach() for lin in layers]).reshape(n, k, frames, pool_frames)
    return weight, torch.stack([lin.bias.detach() for lin in layers]).reshape(n, k, frames)


def real_segments(ctx: DistillContext, k: int, rng: np.random.Generator) -> torch.Tensor:
    """K real training clips (centre clips) for each of the ipc instances of every class: (C·ipc, K, T, C, H, W).
    Distinct within a class while the class has enough clips."""
    idx = []
    for c in range(ctx.num_classes):
        pool = ctx.train.indices_of_class(c)
        need = ctx.ipc * k
        idx.append(rng.choice(pool, size=need, replace=need > len(pool)))
    clips = sample_clips(ctx.train, np.concatenate(idx))
    return clips.reshape(ctx.num_classes * ctx.ipc, k, *clips.shape[1:])


class IDTDParts:
    """The learnable parts, one tensor per class and part (so each class has its own Adam: Alg. 1's class-by-class
    update), and the two builders: segments and videos of a set of classes."""

    def __init__(self, ctx: DistillContext, rng: np.random.Generator) -> None:
        p = ctx.settings(IDTDSettings)
        self.modules = p.modules
        if self.modules not in MODULES:
            raise ValueError(f"idtd modules must be one of {sorted(MODULES)}, got {self.modules!r}")
        init = p.init
        if init not in INITS:
            raise ValueError(f"idtd init must be one of {INITS}, got {init!r}")
        self.k, self.frames, self.ipc = p.segments, ctx.train.spec.frames, ctx.ipc
        if self.k < 2:
            raise ValueError(f"idtd segments (K) must be at least 2, got {self.k}")
        self.has_selectors, self.has_fusor = MODULES[self.modules]
        n, classes, device = ctx.num_classes * ctx.ipc, ctx.num_classes, ctx.device
        real = real_segments(ctx, self.k, rng)  # drawn whatever the init: every variant leaves rng in the same state
        _, k, t, c, h, w = real.shape
        parts: dict[str, torch.Tensor] = {}
        if self.has_selectors:
            if init == "real":
                parts["pool"] = real.reshape(n, k * t, c, h, w)
            else:
                pool_frames = p.pool_frames or k * t
                parts["pool"] = torch.from_numpy(rng.standard_normal((n, pool_frames, c, h, w), dtype=np.float32))
            parts["selector_weight"], parts["selector_bias"] = initial_selectors(
                n, k, t, parts["pool"].shape[1], epoch_seed(ctx.seed, -1), init
            )
        elif self.modules == "segments_fusor":
            parts["segments"] = (
                real if init == "real" else torch.from_numpy(rng.standard_normal(real.shape, dtype=np.float32))
            )
        else:
            parts["segments"] = real  # stitch_real: nothing is learnt
        if self.has_fusor:
            parts["fusor_weight"], parts["fusor_bias"] = initial_fusor(
                n, c, k, epoch_seed(ctx.seed, -2), p.fusor_init, p.fusor_kernel
            )
        learn = self.modules != "stitch_real"
        # per class: instance rows [c·ipc, (c+1)·ipc) of every part
        self.parts = [
            {
                name: v[ci * ctx.ipc : (ci + 1) * ctx.ipc].clone().to(device).requires_grad_(learn)
                for name, v in parts.items()
            }
            for ci in range(classes)
        ]

    def params(self, cls: int) -> list[torch.Tensor]:
        return list(self.parts[cls].values())

    def _cat(self, classes: list[int], name: str) -> torch.Tensor:
        return torch.cat([self.parts[c][name] for c in classes])

    def segments(self, classes: list[int]) -> torch.Tensor:
        """Diverse Segments (n, K, T, C, H, W) of the classes' instances, class-major."""
        if self.has_selectors:
            return select(
                self._cat(classes, "pool"), self._cat(classes, "selector_weight"), self._cat(classes, "selector_bias")
            )
        return self._cat(classes, "segments")

    def videos(self, segments: torch.Tensor, classes: list[int]) -> torch.Tensor:
        if self.has_fusor:
            return fuse(segments, self._cat(classes, "fusor_weight"), self._cat(classes, "fusor_bias"))
        return stitch(segments, self.frames)


def real_margins(emb: torch.Tensor, labels: torch.Tensor, classes: list[int]) -> torch.Tensor:
    """Per class: the mean pairwise squared distance of its real embeddings (L_div's margin m_n). The class members
    are found on the host (`labels` there): a mask's count on the GPU would make the host wait."""
    labels, margins = labels.cpu(), []
    for c in classes:
        members = (labels == c).nonzero().squeeze(1)
        rows = emb.index_select(0, to_device(members, emb.device))
        margins.append(torch.pdist(rows).pow(2).mean() if len(members) > 1 else emb.new_zeros(()))
    return torch.stack(margins)


def diversity_loss(seg_emb: torch.Tensor, margins: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """L_div (module docstring) for segment embeddings (n, K, d) with each instance's margin (n,); also returns the
    mean pairwise squared distance over margin (the segments' diversity relative to real data), for the log."""
    k = seg_emb.shape[1]
    iu = torch.triu_indices(k, k, offset=1, device=seg_emb.device)
    d2 = (seg_emb[:, iu[0]] - seg_emb[:, iu[1]]).pow(2).sum(-1)  # (n, pairs)
    hinge = torch.relu(margins[:, None] - d2).mean(1).sum()
    ratio = (d2.mean(1) / margins.clamp(min=1e-12)).mean().detach()
    return hinge, ratio


def idtd_loss(
    net: nn.Module,
    parts: IDTDParts,
    classes: list[int],
    real: torch.Tensor,
    real_labels: torch.Tensor,
    weights: tuple[float, float, float],
    num_classes: int,
    tau_seed: int,
    min_span: float,
) -> dict[str, torch.Tensor]:
    """Equation 1 for `classes` (real clips of other classes are ignored): total and its three terms. Class c's τ
    draws come from (tau_seed, c), so any grouping of the classes sees the same intervals."""
    w_seg, w_div, w_vid = weights
    real_labels = real_labels.cpu()  # labels on the host: selecting by them never waits for the GPU
    keep = torch.isin(real_labels, torch.tensor(classes)).nonzero().squeeze(1)
    if len(keep) < len(real_labels):
        real, real_labels = real.index_select(0, to_device(keep, real.device)), real_labels[keep]
    emb_real = embed_chunked(net, real)  # no graph; in chunks where memory needs it
    labels = torch.tensor(classes).repeat_interleave(parts.ipc)
    segments = parts.segments(classes)
    terms = {name: real.new_zeros(()) for name in ("segments", "diversity", "video")}
    ratio = real.new_zeros(())
    if w_seg or w_div:
        n, k = segments.shape[:2]
        seg_emb = net.embed(segments.flatten(0, 1))
        terms["segments"] = embedding_match_loss(
            emb_real, real_labels, seg_emb, labels.repeat_interleave(k), num_classes
        )
        margins = real_margins(emb_real, real_labels, classes).repeat_interleave(parts.ipc)
        terms["diversity"], ratio = diversity_loss(seg_emb.reshape(n, k, -1), margins)
    if w_vid:
        videos = parts.videos(segments, classes).split(parts.ipc)
        videos = torch.cat(
            [
                temporal_interval(v, np.random.default_rng(epoch_seed(tau_seed, c)), min_span)
                for v, c in zip(videos, classes)
            ]
        )
        terms["video"] = embedding_match_loss(emb_real, real_labels, net.embed(videos), labels, num_classes)
    total = w_seg * terms["segments"] + w_div * terms["diversity"] + w_vid * terms["video"]
    return {"total": total, **terms, "diversity_ratio": ratio}


@register("idtd")
def idtd(ctx: DistillContext) -> SyntheticSet:
    p = ctx.settings(IDTDSettings)
    rng = np.random.default_rng(ctx.seed)
    parts = IDTDParts(ctx, rng)
    weights = (p.segment_weight, p.alpha_div, p.alpha_video)
    min_span = p.min_span
    classes = list(range(ctx.num_classes))
    chunk = p.class_chunk or len(classes)
    chunks = [classes[i : i + chunk] for i in range(0, len(classes), chunk)]
    iterations = p.iterations if parts.modules != "stitch_real" else 0
    optimizers = [Adam(parts.params(c), lr=p.lr) for c in classes] if iterations else []
    per_class = p.batch_real
    names = ("total", "segments", "diversity", "video", "diversity_ratio")
    checkpoint = IterationCheckpoint(
        ctx.checkpoint if iterations else None, ctx.checkpoint_every_s
    )  # draws seeded per iteration
    done, saved_curve = checkpoint.restore(optimizers)
    curve = {name: LossCurve((saved_curve or {}).get(name, [])) for name in names}
    start = time.perf_counter()
    for it in range(done, iterations):
        it_seed, net, _, real, real_labels = iteration_draw(ctx, it, per_class)
        # Python's float sums, kept on the device (float64) and read at logging intervals
        sums = {name: torch.zeros((), dtype=torch.float64, device=ctx.device) for name in names}
        for group in chunks:
            for c in group:
                optimizers[c].zero_grad()
            terms = idtd_loss(
                net, parts, group, real, real_labels, weights, ctx.num_classes, epoch_seed(it_seed, 1), min_span
            )
            terms["total"].backward()
            for c in group:
                optimizers[c].step()
            for name in curve:
                sums[name] += terms[name].detach().double() * (
                    len(group) / len(classes) if name == "diversity_ratio" else 1.0
                )
        for name in curve:
            curve[name].append(sums[name])
        if (it + 1) % max(iterations // 10, 1) == 0:
            log.info(
                "iteration %d/%d loss %.4f (segments %.4f, diversity %.4f, video %.4f; "
                "segment distance / real %.3f) %.1fs",
                it + 1,
                iterations,
                curve["total"].last(),
                curve["segments"].last(),
                curve["diversity"].last(),
                curve["video"].last(),
                curve["diversity_ratio"].last(),
                time.perf_counter() - start,
            )
        checkpoint.maybe_save(it + 1, optimizers, curve)
    checkpoint.finish()
    with torch.no_grad():
        videos = torch.cat([parts.videos(parts.segments([c]), [c]) for c in classes]).cpu()
    labels = torch.arange(ctx.num_classes).repeat_interleave(ctx.ipc)
    meta = {
        "method": "idtd",
        "modules": parts.modules,
        "loss_curve": curve["total"].tolist(),
        "loss_terms": curve_values(curve),
        "peak_memory_bytes": peak_memory_bytes(ctx.device),
        "resumed_at": done,
        "seconds_per_iteration": (time.perf_counter() - start) / max(iterations - done, 1),
    }
    return SyntheticSet(
        {"videos": videos},
        labels,
        ctx.num_classes,
        ctx.train.spec.frames,
        expansion="temporal_interval",
        expansion_args={"min_span": min_span},
        meta=meta,
    )


__all__ = [
    "FUSOR_INITS",
    "INITS",
    "MODULES",
    "IDTDParts",
    "diversity_loss",
    "fuse",
    "idtd",
    "idtd_loss",
    "initial_fusor",
    "initial_selectors",
    "real_margins",
    "select",
    "stitch",
    "stitch_indices",
]
