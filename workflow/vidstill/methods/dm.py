"""DM, Distribution Matching (Zhao & Bilen, 2023) ported to video as VDSD's reference does it.

Every iteration draws a freshly initialised student network and matches, per class, the mean embedding of a batch
of real clips with the mean embedding of the class's synthetic videos: L = Σ_c ‖mean emb(real_c) − mean emb(syn_c)‖².
Synthetic videos start from real clips and are updated by SGD on pixels. All classes go through the network in one
batched forward (the reference loops over classes; `embedding_match_loss` computes the same loss either way).
Each iteration's network and real batch are seeded from (seed, iteration): a run is reproducible, unlike the
reference, which reseeds from the wall clock.

Optional Siamese video DSA (`dsa: true`, augment.py), as the image DM has it: each iteration draws one augmentation
per class, applied to the class's real clips and its synthetic videos alike (all frames of a clip share it). The
reference video DM runs without it.

The embedding match and its loop (`match_embeddings`) are exported for the methods built on DM (VDSD, IDTD, DAViD).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Protocol

import numpy as np
import torch

from vidstill.augment import DSAParams, apply_draw, dsa_strategy, sample_draw
from vidstill.data.clips import sample_clips, sample_clips_on
from vidstill.loss_curve import LossCurve
from vidstill.methods import register
from vidstill.methods.context import DistillContext
from vidstill.methods.settings import DMSettings, EmbeddingMatch, RealInit
from vidstill.models import embed_chunked
from vidstill.optim import SGD, descend
from vidstill.resume import IterationCheckpoint
from vidstill.runtime import peak_memory_bytes, to_device
from vidstill.synthetic_set import SyntheticSet
from vidstill.train import epoch_seed

log = logging.getLogger("vidstill.methods.dm")


def class_means(emb: torch.Tensor, labels: torch.Tensor, num_classes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per class, the mean of its rows of batched embeddings (zero for an absent class), and which classes occur."""
    # labels may live on the host (they index augmentation draws there); the copy does not make the host wait
    one_hot = torch.nn.functional.one_hot(to_device(labels, emb.device), num_classes).to(emb.dtype)  # (N, K)
    counts = one_hot.sum(0)
    return (one_hot.T @ emb) / counts.clamp(min=1)[:, None], counts > 0


def embedding_match_loss(
    real: torch.Tensor, real_labels: torch.Tensor, syn: torch.Tensor, syn_labels: torch.Tensor, num_classes: int
) -> torch.Tensor:
    """Σ over classes present in both of ‖mean real embedding − mean synthetic embedding‖², from batched embeddings."""
    real_mean, real_has = class_means(real, real_labels, num_classes)
    syn_mean, syn_has = class_means(syn, syn_labels, num_classes)
    # torch.where, not a boolean index: indexing by a mask on the GPU waits for the mask's count on the host. With
    # every class present (every DM batch) the sum is the same one, term for term.
    both = real_has & syn_has
    return torch.where(both, ((real_mean - syn_mean) ** 2).sum(1), 0.0).sum()


def dm_loss(
    net: torch.nn.Module,
    real: torch.Tensor,
    real_labels: torch.Tensor,
    syn: torch.Tensor,
    syn_labels: torch.Tensor,
    num_classes: int,
    per_class: bool = False,
) -> torch.Tensor:
    """One DM objective on one network: real embeddings without a graph, synthetic ones with. `per_class=True` is
    the reference's loop (one forward pair per class), kept to measure what batching buys (benchmarks/distill.py)."""
    if not per_class:
        emb_real = embed_chunked(net, real)  # no graph; in chunks where memory needs it
        return embedding_match_loss(emb_real, real_labels, net.embed(syn), syn_labels, num_classes)
    loss = syn.new_zeros(())
    for c in range(num_classes):
        r, s = real[real_labels == c], syn[syn_labels == c]
        if len(r) and len(s):
            with torch.no_grad():
                mean_real = net.embed(r).mean(0)
            loss = loss + ((mean_real - net.embed(s).mean(0)) ** 2).sum()
    return loss


def real_batch(
    ctx: DistillContext, per_class: int, rng: np.random.Generator, device: torch.device = torch.device("cpu")
) -> tuple[torch.Tensor, torch.Tensor]:
    """`per_class` random training clips of every class (fewer if a class has fewer), with fresh starts and flips;
    the clips on `device` (sample_clips_on), the labels on the host."""
    idx = np.concatenate(
        [
            rng.choice(
                ctx.train.indices_of_class(c), size=min(per_class, len(ctx.train.indices_of_class(c))), replace=False
            )
            for c in range(ctx.num_classes)
        ]
    )
    return sample_clips_on(device, ctx.train, idx, rng), ctx.train.labels[idx]


def init_from_real(ctx: DistillContext, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """`ipc` distinct real training clips per class (centre clips), as float videos to optimise."""
    idx = np.concatenate(
        [rng.choice(ctx.train.indices_of_class(c), size=ctx.ipc, replace=False) for c in range(ctx.num_classes)]
    )
    return sample_clips(ctx.train, idx), ctx.train.labels[idx]


def initial_videos(ctx: DistillContext, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Where an optimised set starts: `init: real` (the papers' choice) takes `ipc` real clips per class; `init: noise`
    Gaussian noise of the same shape in the normalised pixel space. The real draw happens either way, so both
    initialisations leave the generator in the same state."""
    init = ctx.settings(RealInit).init
    videos, labels = init_from_real(ctx, rng)
    if init == "noise":
        videos = torch.from_numpy(rng.standard_normal(videos.shape, dtype=np.float32))
    return videos, labels


SyntheticVideos = Callable[[np.random.Generator], torch.Tensor]


class LoopHook(Protocol):
    """What a method that changes its parameterisation during DM's loop (PRISM inserts key frames) adds to it:
    `after_step(it)` runs after each iteration's update; `extra()` is its state for the checkpoint and
    `restore(extra)` puts it back when a killed run resumes."""

    def after_step(self, it: int) -> None: ...

    def extra(self) -> dict: ...

    def restore(self, extra: dict) -> None: ...


def iteration_draw(
    ctx: DistillContext, it: int, per_class: int
) -> tuple[int, torch.nn.Module, np.random.Generator, torch.Tensor, torch.Tensor]:
    """What every DM-family iteration starts from, all seeded from (seed, iteration): the iteration's seed, a
    freshly initialised frozen network, the generator for its other draws, and a real batch of `per_class` clips per
    class on the device, its labels on the host (they index augmentation draws and class members there)."""
    it_seed = epoch_seed(ctx.seed, it)
    net = ctx.network(it_seed)
    for param in net.parameters():
        param.requires_grad_(False)
    it_rng = np.random.default_rng(it_seed)
    real, real_labels = real_batch(ctx, per_class, it_rng, ctx.device)
    return it_seed, net, it_rng, real, real_labels


def match_embeddings(
    ctx: DistillContext,
    synthetic: SyntheticVideos,
    labels: torch.Tensor,
    optimizers: list[SGD],
    iterations: int,
    resumable: bool = False,
    hook: LoopHook | None = None,
) -> dict:
    """DM's loop over whatever parameterises the synthetic videos: `synthetic(rng)` builds them with a graph (DM:
    the pixels themselves; VDSD: stills, dynamic maps and the hallucinator, with this iteration's pairing) and the
    `optimizers` step on its parameters. Returns the metadata every DM-family set carries. `resumable`: the job's
    one long loop checkpoints to ctx.checkpoint and resumes from it (every draw is seeded from the iteration); a
    `hook` runs after every update and its state travels in the checkpoint."""
    p = ctx.settings(EmbeddingMatch)
    per_class, forward = p.batch_real, p.forward
    strategy = dsa_strategy(p.dsa_strategy, ctx.train.spec.flip) if p.dsa else None
    dsa_params = DSAParams(mode=p.dsa_mode)
    labels = labels.cpu()  # host labels: they index the augmentation draws; class_means sends them along
    checkpoint = IterationCheckpoint(ctx.checkpoint if resumable else None, ctx.checkpoint_every_s)
    done, saved = checkpoint.restore(optimizers)
    curve = LossCurve(saved)
    if hook is not None and done:
        hook.restore(checkpoint.extra)
    start = time.perf_counter()
    for it in range(done, iterations):
        it_seed, net, it_rng, real, real_labels = iteration_draw(ctx, it, per_class)
        syn = synthetic(it_rng)
        if strategy is not None:  # Siamese: a class's real and synthetic clips share the iteration's draw
            draw = sample_draw(strategy, ctx.num_classes, epoch_seed(it_seed, 1), dsa_params)
            real, syn = apply_draw(real, real_labels, draw), apply_draw(syn, labels, draw)
        loss = dm_loss(net, real, real_labels, syn, labels, ctx.num_classes, per_class=forward == "per_class")
        curve.append(descend(loss, optimizers))
        if hook is not None:
            hook.after_step(it)
        if (it + 1) % max(iterations // 10, 1) == 0:
            log.info("iteration %d/%d loss %.4f %.1fs", it + 1, iterations, curve.last(), time.perf_counter() - start)
        checkpoint.maybe_save(it + 1, optimizers, curve, hook.extra if hook is not None else None)
    checkpoint.finish()
    return {
        "loss_curve": curve.tolist(),
        "peak_memory_bytes": peak_memory_bytes(ctx.device),
        "resumed_at": done,
        "seconds_per_iteration": (time.perf_counter() - start) / max(iterations - done, 1),
        "dsa_strategy": strategy,
    }


@register("dm")
def dm(ctx: DistillContext) -> SyntheticSet:
    p = ctx.settings(DMSettings)
    rng = np.random.default_rng(ctx.seed)
    videos, labels = initial_videos(ctx, rng)
    videos = videos.to(ctx.device).requires_grad_(True)
    opt = SGD([videos], lr=p.lr, momentum=p.momentum)
    meta = match_embeddings(ctx, lambda rng: videos, labels, [opt], p.iterations, resumable=True)
    return SyntheticSet(
        {"videos": videos.detach().cpu()},
        labels.cpu(),
        ctx.num_classes,
        ctx.train.spec.frames,
        meta={"method": "dm", **meta},
    )


__all__ = [
    "LoopHook",
    "class_means",
    "dm",
    "dm_loss",
    "embedding_match_loss",
    "init_from_real",
    "initial_videos",
    "iteration_draw",
    "match_embeddings",
    "real_batch",
]
