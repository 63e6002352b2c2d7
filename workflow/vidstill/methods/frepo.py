"""FRePo, Dataset Distillation using Neural Feature Regression (Zhou, Nezhadarya & Ba, 2022), on video.

The synthetic set is judged by how well kernel ridge regression on its features predicts the labels of real clips:
with φ = net.embed (flattened ConvNet3D conv features), K_ss = φ_s φ_sᵀ, K_rs = φ_r φ_sᵀ and
λ = reg·tr(K_ss)/n_s, the prediction is ŷ_r = K_rs (K_ss + λI)⁻¹ Y_s and the loss is the squared error to the
centred one-hot labels of the real batch (one-hot − 1/K), summed over classes and averaged over clips (the MSE
the evaluation trains students with). Gradients reach the pixels through φ_s and the learned labels Y_s through the
solve; the network only supplies features (it is never updated by this loss).

The networks come from a pool of `num_models` online models, used round robin. Each is trained by Adam (`online_lr`)
one step on the current synthetic set and its labels every time it is used, and replaced by a freshly seeded network
after `max_online_steps` steps. Staggering: model i starts its step counter at i·max_online_steps/num_models, so
its first life is shorter and the resets are spread evenly; after the first round of resets the pool holds models of
every age in [0, max_online_steps) at once (the paper keeps models of different ages so the features are those of
networks at every stage of training, not only fresh ones).

Pixels and labels have separate Adams with cosine schedules over `iterations`. The evaluation trains students with
MSE on the stored learned labels (SyntheticSet.label_loss = "mse"), as FRePo evaluates. Every draw is seeded from
(seed, iteration), and every pool network from (seed, how many the pool has built): a run is reproducible.

Params (defaults): iterations (1000); lr (1e-2, pixel Adam; FRePo's image lr is 1e-3, but over our budgets of a
few hundred iterations 1e-3 barely moved the loss: on the default benchmark, ipc 1, 200 iterations, the training loss
went 1.36 -> 1.12 at 1e-3 and 1.21 -> 0.91 at 1e-2); label_lr (1e-2, as the pixels); num_models (10);
max_online_steps (100); online_lr (1e-4); batch_real (real clips per class and iteration, 32: the real forward is
most of an iteration's cost, and 384 targets on 12 classes are plenty for a 12-60 point regression); reg (1e-6);
learn_labels (true); init (real | noise, as DM).
The kernel and the solve run in float64: with reg 1e-6, K_ss + λI reaches condition numbers ~1e6 once n_s nears
the feature dimension (ipc 5 on the default benchmark: 60 videos, 64 features), where float32 gradients were off by
0.5-1% (measured against float64); the cost is nil next to the convolutions.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from vidstill.loss_curve import LossCurve
from vidstill.methods import register
from vidstill.methods.context import DistillContext
from vidstill.methods.dm import initial_videos, real_batch
from vidstill.methods.settings import FeatureRegression, FRePoSettings
from vidstill.models import embed_chunked
from vidstill.optim import Adam
from vidstill.resume import IterationCheckpoint, load_buffers, saved_buffers
from vidstill.runtime import peak_memory_bytes, to_device
from vidstill.synthetic_set import SyntheticSet
from vidstill.train import TrainConfig, classification_loss, epoch_seed, lr_at

log = logging.getLogger("vidstill.methods.frepo")


def centred_one_hot(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """One-hot − 1/K: FRePo's regression targets (each row sums to zero)."""
    return torch.nn.functional.one_hot(labels, num_classes).float() - 1.0 / num_classes


def krr_predict(
    phi_s: torch.Tensor, y_s: torch.Tensor, phi_r: torch.Tensor, reg: float, dtype: torch.dtype = torch.float64
) -> torch.Tensor:
    """Kernel ridge prediction K_rs (K_ss + λI)⁻¹ Y_s with λ = reg·tr(K_ss)/n_s (scale-free regularisation)."""
    phi_s, phi_r, y_s = phi_s.to(dtype), phi_r.to(dtype), y_s.to(dtype)
    k_ss = phi_s @ phi_s.T
    n = k_ss.shape[0]
    lam = reg * torch.trace(k_ss) / n
    alpha = torch.linalg.solve(k_ss + lam * torch.eye(n, dtype=dtype, device=k_ss.device), y_s)
    return (phi_r @ phi_s.T) @ alpha


def krr_loss(
    phi_s: torch.Tensor, y_s: torch.Tensor, phi_r: torch.Tensor, y_r: torch.Tensor, reg: float
) -> torch.Tensor:
    """Squared error of the KRR prediction of the real labels, summed over classes, averaged over real clips."""
    return ((krr_predict(phi_s, y_s, phi_r, reg) - y_r.to(torch.float64)) ** 2).sum(1).mean().float()


class ModelPool:
    """Online networks of staggered ages; `make(seed)` builds a fresh one (seeds: (seed, number built so far))."""

    def __init__(self, make: Callable[[int], nn.Module], num_models: int, max_steps: int, lr: float, seed: int) -> None:
        if num_models < 1 or max_steps < 1:
            raise ValueError(f"frepo needs num_models >= 1 and max_online_steps >= 1, got {num_models}, {max_steps}")
        self.make, self.max_steps, self.lr, self.seed = make, max_steps, lr, seed
        self.built = 0
        self.nets: list[nn.Module] = []
        self.opts: list[Adam] = []
        for _ in range(num_models):
            self.nets.append(self._fresh())
            self.opts.append(Adam(self.nets[-1].parameters(), lr=lr))
        self.steps = [i * max_steps // num_models for i in range(num_models)]  # the stagger (module docstring)
        self.resets = [0] * num_models

    def _fresh(self) -> nn.Module:
        net = self.make(epoch_seed(self.seed, -1 - self.built))  # negative: never an iteration's seed
        self.built += 1
        return net

    def __len__(self) -> int:
        return len(self.nets)

    def counters(self) -> dict:
        """What a checkpoint needs besides the networks' weights and Adam states (resume.py)."""
        return {
            "built": self.built,
            "steps": list(self.steps),
            "resets": list(self.resets),
            "buffers": saved_buffers(self.nets),
        }

    def load_counters(self, state: dict) -> None:
        self.built, self.steps, self.resets = int(state["built"]), list(state["steps"]), list(state["resets"])
        load_buffers(self.nets, state["buffers"])

    def train_step(self, i: int, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """One Adam step of model i on (x, y) with the MSE the evaluation uses; re-initialise it when it is old.
        Returns the detached loss (reading it would make the host wait for the GPU)."""
        net = self.nets[i]
        net.train()
        loss = classification_loss(net(x), y, "mse")
        self.opts[i].zero_grad()
        loss.backward()
        self.opts[i].step()
        self.steps[i] += 1
        if self.steps[i] >= self.max_steps:
            self.nets[i] = self._fresh()
            self.opts[i] = Adam(self.nets[i].parameters(), lr=self.lr)
            self.steps[i] = 0
            self.resets[i] += 1
        return loss.detach()


def regress_features(
    ctx: DistillContext,
    synthetic: Callable[[np.random.Generator], torch.Tensor],
    labels: torch.Tensor,
    groups: list[tuple[list[torch.Tensor], float]],
) -> dict:
    """FRePo's loop over whatever parameterises the synthetic videos: `synthetic(rng)` builds them with a graph
    (FRePo: the pixels; VDSD: stills, maps and hallucinator with this iteration's pairing), `labels` are the learned
    (or fixed) regression targets, and each group of parameters gets its own Adam with a cosine schedule from its
    base lr. Returns the metadata every FRePo-family set carries."""
    p = ctx.settings(FeatureRegression)
    iterations, per_class, reg = p.iterations, p.batch_real, p.reg
    opts = [(Adam(params, lr=lr), lr) for params, lr in groups]
    params = [q for group, _ in groups for q in group]
    pool = ModelPool(ctx.network, p.num_models, p.max_online_steps, p.online_lr, ctx.seed)
    # the synthetic set's optimizers and the pool's (its networks' weights and Adam states), its counters and buffers
    checkpoint = IterationCheckpoint(ctx.checkpoint, ctx.checkpoint_every_s)
    states = [opt for opt, _ in opts] + pool.opts
    done, saved = checkpoint.restore(states)
    curve = LossCurve(saved)
    if done:
        pool.load_counters(checkpoint.extra)
    start = time.perf_counter()
    for it in range(done, iterations):
        it_seed = epoch_seed(ctx.seed, it)
        torch.manual_seed(it_seed)  # the online step's dropout
        i = it % len(pool)
        net = pool.nets[i]
        net.eval()  # features without dropout; a BN student's running statistics stay the online training's
        it_rng = np.random.default_rng(it_seed)
        real, real_classes = real_batch(ctx, per_class, it_rng, ctx.device)
        phi_r = embed_chunked(net, real)  # no graph; in chunks where memory needs it
        videos = synthetic(it_rng)
        loss = krr_loss(
            net.embed(videos), labels, phi_r, to_device(centred_one_hot(real_classes, ctx.num_classes), ctx.device), reg
        )
        grads = torch.autograd.grad(loss, params)  # the synthetic set's only: the network's parameters get none
        for param, grad in zip(params, grads):
            param.grad = grad
        for opt, base in opts:
            opt.param_groups[0]["lr"] = lr_at(TrainConfig(epochs=iterations, lr=base, schedule="cosine"), it)
            opt.step()
        pool.train_step(i, videos.detach(), labels.detach())
        curve.append(loss)
        if (it + 1) % max(iterations // 10, 1) == 0:
            log.info("iteration %d/%d loss %.4f %.1fs", it + 1, iterations, curve.last(), time.perf_counter() - start)
        checkpoint.maybe_save(it + 1, [opt for opt, _ in opts] + pool.opts, curve, pool.counters)
    checkpoint.finish()
    return {
        "loss_curve": curve.tolist(),
        "peak_memory_bytes": peak_memory_bytes(ctx.device),
        "resumed_at": done,
        "seconds_per_iteration": (time.perf_counter() - start) / max(iterations - done, 1),
    }


def learnable_labels(
    ctx: DistillContext, classes: torch.Tensor
) -> tuple[torch.Tensor, list[tuple[list[torch.Tensor], float]]]:
    """FRePo's labels: centred one-hot, learnt (with their own Adam group) unless `learn_labels: false`."""
    p = ctx.settings(FeatureRegression)
    learn = p.learn_labels
    labels = centred_one_hot(classes, ctx.num_classes).to(ctx.device).requires_grad_(learn)
    return labels, [([labels], p.label_lr)] if learn else []


@register("frepo")
def frepo(ctx: DistillContext) -> SyntheticSet:
    rng = np.random.default_rng(ctx.seed)
    videos, classes = initial_videos(ctx, rng)
    videos = videos.to(ctx.device).requires_grad_(True)
    labels, label_group = learnable_labels(ctx, classes)
    meta = regress_features(ctx, lambda rng: videos, labels, [([videos], ctx.settings(FRePoSettings).lr), *label_group])
    return SyntheticSet(
        {"videos": videos.detach().cpu()},
        labels.detach().cpu(),
        ctx.num_classes,
        ctx.train.spec.frames,
        label_loss="mse",
        meta={"method": "frepo", **meta},
    )


__all__ = ["ModelPool", "centred_one_hot", "frepo", "krr_loss", "krr_predict", "learnable_labels", "regress_features"]
