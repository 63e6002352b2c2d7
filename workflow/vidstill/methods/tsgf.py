"""TSGF, Temporal Saliency-Guided Distillation (Gu et al., arXiv 2505.20694): uni-level video distillation.

Only the abstract is public here; REFERENCE.md gathers what is known, and this follows it:
1. a teacher with BatchNorm is trained on the real data (the `teacher` setting names it: config `teachers:`);
2. the synthetic videos are optimised directly against the frozen teacher, with no inner student training:
   L = CE(teacher(x), y) + bn_weight · Σ_l ‖μ_l(x) − running_mean_l‖² + ‖σ²_l(x) − running_var_l‖²
   over the teacher's BN layers (SRe2L's recipe), μ_l and σ²_l the statistics of the synthetic batch at the layer's
   input. As in SRe2L, each batch holds one video per class (IPC slot j of every class), and the IPC slots are
   optimised one after the other, so distillation time grows linearly with IPC while memory does not;
3. TSGF_O (`saliency_optimization`): every step's update of the synthetic videos is multiplied per pixel by
   floor + (1 − floor)·S, S the temporal saliency of the current videos (tsgf_saliency.py): moving regions and frames
   keep their updates, static ones are damped by exactly `floor`. The paper scales the gradient; under plain SGD
   that is the same thing, but the default optimiser is Adam (SRe2L's), whose per-pixel normalisation would undo a
   gradient factor, so the factor is applied to the update;
4. TSGF_A (`saliency_augmentation`): the set's evaluation-time expansion applies saliency-guided DSA while a student
   trains on it (saliency.saliency_guided_augment).
Labels are hard by default, as in every other row; `labels: soft` stores the teacher's softmax on the final videos,
which the protocol's hard-label rows cannot be compared with (the table's notes list soft-label methods).
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from vidstill.augment import dsa_strategy
from vidstill.loss_curve import LossCurve
from vidstill.methods import register
from vidstill.methods.context import DistillContext
from vidstill.methods.dm import initial_videos
from vidstill.methods.settings import TSGFSettings
from vidstill.methods.tsgf_saliency import SaliencyParams, gradient_scale, temporal_saliency
from vidstill.optim import SGD, Adam, Optimizer
from vidstill.runtime import peak_memory_bytes
from vidstill.synthetic_set import SyntheticSet
from vidstill.teacher import teacher_softmax, teacher_standardizes
from vidstill.train import standardize

log = logging.getLogger("vidstill.methods.tsgf")

BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


class BNStatistics:
    """While active, records at the input of each of the network's BatchNorm layers the batch's per-channel mean and
    (biased) variance, as BN computes them in training mode; `loss()` sums their squared distances to the layers'
    running statistics. The network itself stays in eval mode, so its outputs use the running statistics."""

    def __init__(self, net: nn.Module) -> None:
        self.layers = [m for m in net.modules() if isinstance(m, BATCH_NORMS)]
        self.terms: list[torch.Tensor] = []
        self._hooks: list = []

    def __enter__(self) -> BNStatistics:
        self.terms = []
        self._hooks = [layer.register_forward_pre_hook(self._record) for layer in self.layers]
        return self

    def __exit__(self, *exc: object) -> None:
        for hook in self._hooks:
            hook.remove()

    def _record(self, layer: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
        x = inputs[0].float()
        dims = [d for d in range(x.dim()) if d != 1]
        var, mean = torch.var_mean(x, dim=dims, unbiased=False)
        self.terms.append(((mean - layer.running_mean) ** 2).sum() + ((var - layer.running_var) ** 2).sum())

    def loss(self) -> torch.Tensor:
        return torch.stack(self.terms).sum()


def uni_level_loss(
    teacher: nn.Module, videos: torch.Tensor, labels: torch.Tensor, bn_weight: float, standardize_inputs: bool
) -> torch.Tensor:
    """CE + bn_weight · BN-statistics distance of one synthetic batch through the frozen teacher."""
    with BNStatistics(teacher) as stats:
        logits = teacher(standardize(videos) if standardize_inputs else videos)
    return F.cross_entropy(logits.float(), labels) + bn_weight * stats.loss()


def pixel_optimizer(x: torch.Tensor, p: TSGFSettings) -> Optimizer:
    """SRe2L's Adam with betas (0.5, 0.9) by default: the CE term's gradient on pixels is hundreds of times smaller
    than the BN term's (measured on the synthetic benchmark's BN teacher), and Adam's per-pixel normalisation lets
    both move the videos at one learning rate; `optimizer: sgd` (with `momentum`) is the alternative."""
    kind, lr = p.optimizer, p.lr
    if kind == "adam":
        return Adam([x], lr=lr, betas=(0.5, 0.9))
    if kind == "sgd":
        return SGD([x], lr=lr, momentum=p.momentum)
    raise ValueError(f"tsgf.optimizer must be 'adam' or 'sgd', got {kind!r}")


def saliency_scaled_step(x: torch.Tensor, opt: Optimizer, params: SaliencyParams | None) -> None:
    """One optimiser step whose per-pixel update is multiplied by TSGF_O's factor (saliency of the videos before the
    step). Scaling the update rather than the gradient: the two are the same under plain SGD, while Adam would
    normalise a per-pixel gradient factor away."""
    if params is None:
        opt.step()
        return
    with torch.no_grad():
        before, scale = x.detach().clone(), gradient_scale(temporal_saliency(x, params), params.floor)
        opt.step()
        x.copy_(before + scale * (x - before))


def optimise_slot(
    teacher: nn.Module,
    videos: torch.Tensor,
    labels: torch.Tensor,
    p: TSGFSettings,
    saliency: SaliencyParams | None,
    standardize_inputs: bool,
) -> tuple[torch.Tensor, list[float]]:
    """One batch of synthetic videos (one per class) optimised for `iterations` steps on its pixels."""
    x = videos.clone().requires_grad_(True)
    opt = pixel_optimizer(x, p)
    curve = LossCurve()  # read once, at the end of the slot
    for _ in range(p.iterations):
        loss = uni_level_loss(teacher, x, labels, p.bn_weight, standardize_inputs)
        opt.zero_grad()
        loss.backward()
        saliency_scaled_step(x, opt, saliency)
        curve.append(loss)
    return x.detach(), curve.tolist()


@register("tsgf", needs=("teacher",))
def tsgf(ctx: DistillContext) -> SyntheticSet:
    p = ctx.settings(TSGFSettings)
    teacher = ctx.teacher_network()
    for param in teacher.parameters():
        param.requires_grad_(False)
    if not any(isinstance(m, BATCH_NORMS) for m in teacher.modules()):
        raise ValueError(
            f"tsgf matches BatchNorm statistics, but teacher {ctx.teacher} has no BatchNorm layer: set the method's "
            "`teacher` to a BN teacher (a `teachers:` entry with norm: batch, or a video ResNet)"
        )
    labels_kind = p.labels
    if labels_kind not in ("hard", "soft"):
        raise ValueError(f"tsgf.labels must be 'hard' or 'soft', got {labels_kind!r}")
    saliency = SaliencyParams.from_params(p)
    standardize_inputs = teacher_standardizes(ctx.teacher)
    rng = np.random.default_rng(ctx.seed)
    videos, labels = initial_videos(ctx, rng)  # class-major: class c's IPC videos are rows c·IPC … c·IPC + IPC − 1
    videos = videos.to(ctx.device)
    labels = labels.to(ctx.device)
    curves, start = [], time.perf_counter()
    for slot in range(ctx.ipc):
        rows = torch.arange(ctx.num_classes, device=ctx.device) * ctx.ipc + slot
        videos[rows], curve = optimise_slot(
            teacher, videos[rows], labels[rows], p, saliency if p.saliency_optimization else None, standardize_inputs
        )
        curves.append(curve)
        log.info(
            "IPC slot %d/%d: loss %.4f -> %.4f (%.1fs)",
            slot + 1,
            ctx.ipc,
            curve[0] if curve else float("nan"),
            curve[-1] if curve else float("nan"),
            time.perf_counter() - start,
        )
    wall = time.perf_counter() - start
    stored_labels = (
        teacher_softmax(teacher, videos.split(64), ctx.device, standardize_inputs, p.temperature)
        if labels_kind == "soft"
        else labels.cpu()
    )
    expansion, args = "stored", {}
    if p.saliency_augmentation:
        expansion = "saliency_augment"
        args = {
            "window": saliency.window,
            "alpha": list(saliency.alpha),
            "eps": saliency.eps,
            "strategy": dsa_strategy(p.dsa_strategy, ctx.train.spec.flip),
            "dsa_mode": p.dsa_mode,
        }
    iterations = sum(len(c) for c in curves)
    return SyntheticSet(
        {"videos": videos.cpu()},
        stored_labels,
        ctx.num_classes,
        ctx.train.spec.frames,
        expansion,
        args,
        meta={
            "method": "tsgf",
            "loss_curve": [x for c in curves for x in c],
            "peak_memory_bytes": peak_memory_bytes(ctx.device),
            "seconds_per_iteration": wall / max(iterations, 1),
            "saliency": asdict(saliency),
        },
    )


__all__ = ["BNStatistics", "optimise_slot", "pixel_optimizer", "saliency_scaled_step", "tsgf", "uni_level_loss"]
