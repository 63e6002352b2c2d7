"""MTT, Matching Training Trajectories (Cazenavette et al., 2022), ported to video as VDSD's reference does it.

Each iteration picks an expert and a start epoch t < max_start_epoch, starts a student at the expert's θ*_t, trains
it for `syn_steps` SGD steps on the synthetic set with a learnable step size, unrolled so gradients reach the pixels
and the step size, and minimises ‖θ̂_N − θ*_{t+M}‖² / ‖θ*_t − θ*_{t+M}‖² (M = expert_epochs). The student runs
functionally on a flat parameter vector (torch.func.functional_call), which is what makes the unroll differentiable.
Memory grows linearly with syn_steps (every step's graph is kept); the peak is recorded in the set's metadata.

Inner batches are standardised like the experts' and the evaluation's batches (train.standardize), so the step the
synthetic set learns is the step the evaluation will take; evaluation uses the learned step size as its lr. After every
update the step size is clipped to at least `lr_floor` (the reference's distill_baseline.py and distill_s2d_ms.py clip
it to >= 1e-3 after each step): a step size driven to zero or below would leave the evaluation's students untrained, or
make them ascend.
Reproducible: each iteration's expert, start epoch, batches and dropout are seeded from (seed, iteration).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from vidstill.experts import expert_info, trajectory_rows
from vidstill.loss_curve import LossCurve
from vidstill.methods import register
from vidstill.methods.context import DistillContext
from vidstill.methods.dm import initial_videos
from vidstill.methods.settings import MTTSettings, TrajectoryMatch
from vidstill.optim import SGD, descend
from vidstill.resume import IterationCheckpoint
from vidstill.runtime import peak_memory_bytes, to_device
from vidstill.synthetic_set import SyntheticSet
from vidstill.train import epoch_seed, standardize

log = logging.getLogger("vidstill.methods.mtt")


def unflatten(net: nn.Module, theta: torch.Tensor) -> dict[str, torch.Tensor]:
    """Views of a flat parameter vector shaped like `net`'s parameters (the order of flat_parameters)."""
    params = list(net.named_parameters())
    total = sum(p.numel() for _, p in params)
    if total != theta.numel():
        raise ValueError(f"flat parameters have {theta.numel()} values, the network {total}: expert and student differ")
    out, k = {}, 0
    for name, p in params:
        out[name] = theta[k : k + p.numel()].view_as(p)
        k += p.numel()
    return out


BatchVideos = Callable[[list[int], np.random.Generator], torch.Tensor]


def unrolled_sgd(
    net: nn.Module,
    theta: torch.Tensor,
    videos: torch.Tensor | BatchVideos,
    labels: torch.Tensor,
    lr: torch.Tensor,
    steps: int,
    batch: int,
    rng: np.random.Generator,
    standardize_inputs: bool = True,
) -> torch.Tensor:
    """`steps` differentiable SGD steps θ ← θ − lr·∇CE from `theta` on minibatches of the synthetic set; the
    minibatches walk through shuffled passes of the set like an epoch of training would. `videos` is the stored
    tensor, or a function building the videos of the given items (VDSD draws a pairing for every minibatch)."""
    take = videos if callable(videos) else (lambda idx, _rng: videos[to_device(torch.tensor(idx), videos.device)])
    theta = theta.detach().requires_grad_(True)
    order: list[int] = []
    for _ in range(steps):
        if len(order) < batch:
            order += rng.permutation(len(labels)).tolist()
        idx, order = order[:batch], order[batch:]
        x = take(idx, rng)
        if standardize_inputs:
            x = standardize(x)
        # indices sent without the host waiting (a Python list index is copied to the GPU with a sync)
        y = labels[to_device(torch.tensor(idx), labels.device)]
        loss = F.cross_entropy(functional_call(net, unflatten(net, theta), (x,)), y)
        (grad,) = torch.autograd.grad(loss, theta, create_graph=True)
        theta = theta - lr * grad
    return theta


def trajectory_loss(theta_n: torch.Tensor, start: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """MTT's normalised parameter distance: how far the student ended from the expert's target, relative to how far
    the expert itself travelled."""
    return ((theta_n - target) ** 2).sum() / ((start - target) ** 2).sum()


def check_experts(ctx: DistillContext) -> list:
    experts = ctx.artifacts.get("experts")
    if not isinstance(experts, list) or not experts:
        raise ValueError(
            f"{ctx.settings(TrajectoryMatch).method} needs expert trajectories (artifacts['experts']), got none"
        )
    p = ctx.settings(TrajectoryMatch)
    expert_epochs, max_start = p.expert_epochs, p.max_start_epoch
    trained = min(int(expert_info(e)["epochs"]) for e in experts)
    if max_start + expert_epochs > trained:
        raise ValueError(
            f"{p.method}: max_start_epoch {max_start} + expert_epochs {expert_epochs} exceeds "
            f"the {trained} epochs the experts were trained for"
        )
    return experts


def match_trajectories(
    ctx: DistillContext, videos: torch.Tensor | BatchVideos, labels: torch.Tensor, optimizers: list[SGD]
) -> tuple[float, dict]:
    """MTT's loop over whatever parameterises the synthetic set (`videos`, see unrolled_sgd; `optimizers` step on
    its parameters); the student's step size is learnt alongside. Returns the learnt step size and the metadata
    every MTT-family set carries."""
    p = ctx.settings(TrajectoryMatch)
    experts = check_experts(ctx)
    iterations, syn_steps = p.iterations, p.syn_steps
    expert_epochs, max_start = p.expert_epochs, p.max_start_epoch
    labels = labels.to(ctx.device)
    syn_lr = torch.tensor(p.lr_init, device=ctx.device).requires_grad_(True)
    floor = p.lr_floor
    optimizers = [*optimizers, SGD([syn_lr], lr=p.lr_lr, momentum=p.momentum)]
    batch = p.batch_syn or len(labels)
    net = ctx.network(ctx.seed).train()  # the architecture; its own weights are never used
    for param in net.parameters():
        param.requires_grad_(False)
    checkpoint = IterationCheckpoint(ctx.checkpoint, ctx.checkpoint_every_s)  # every draw is seeded from the iteration
    done, saved = checkpoint.restore(optimizers)
    curve = LossCurve(saved)
    start_time = time.perf_counter()
    for it in range(done, iterations):
        it_seed = epoch_seed(ctx.seed, it)
        it_rng = np.random.default_rng(it_seed)
        torch.manual_seed(it_seed)
        expert = experts[int(it_rng.integers(len(experts)))]
        t = int(it_rng.integers(max_start))
        start, target = trajectory_rows(expert, [t, t + expert_epochs], ctx.device)
        theta_n = unrolled_sgd(net, start, videos, labels, syn_lr, syn_steps, batch, it_rng)
        loss = trajectory_loss(theta_n, start, target)
        curve.append(descend(loss, optimizers))
        with torch.no_grad():
            syn_lr.clamp_(min=floor)  # after the step, as the reference clips it
        if (it + 1) % max(iterations // 10, 1) == 0:
            log.info(
                "iteration %d/%d loss %.4f lr %.4g %.1fs",
                it + 1,
                iterations,
                curve.last(),
                syn_lr.item(),
                time.perf_counter() - start_time,
            )
        checkpoint.maybe_save(it + 1, optimizers, curve)
    checkpoint.finish()
    meta = {
        "loss_curve": curve.tolist(),
        "peak_memory_bytes": peak_memory_bytes(ctx.device),
        "resumed_at": done,
        "seconds_per_iteration": (time.perf_counter() - start_time) / max(iterations - done, 1),
        "experts": [{k: v for k, v in expert_info(e).items() if k != "curve"} for e in experts],
    }
    if "expert_summary" in ctx.artifacts:  # the check against the full-data accuracy travels with the set
        import pandas as pd

        meta["expert_summary"] = pd.read_parquet(ctx.artifacts["expert_summary"]).to_dict("records")
    return float(syn_lr.item()), meta


@register("mtt", needs=("experts",))
def mtt(ctx: DistillContext) -> SyntheticSet:
    p = ctx.settings(MTTSettings)
    check_experts(ctx)
    rng = np.random.default_rng(ctx.seed)
    videos, labels = initial_videos(ctx, rng)
    videos = videos.to(ctx.device).requires_grad_(True)
    opt = SGD([videos], lr=p.lr, momentum=p.momentum)
    lr, meta = match_trajectories(ctx, videos, labels, [opt])
    return SyntheticSet(
        {"videos": videos.detach().cpu()},
        labels.cpu(),
        ctx.num_classes,
        ctx.train.spec.frames,
        lr=lr,
        meta={"method": "mtt", **meta},
    )


__all__ = ["check_experts", "match_trajectories", "mtt", "trajectory_loss", "unflatten", "unrolled_sgd"]
