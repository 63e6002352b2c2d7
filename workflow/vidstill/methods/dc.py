"""DC, Dataset Condensation with gradient matching (Zhao et al., 2021), and Static-DC, its single-frame baseline.

DC makes a network's gradient on the synthetic videos of a class point where its gradient on real clips of that
class points, along the training trajectory of freshly initialised networks: for each of `iterations` networks,
`outer_loop` times, per class c, d(∇θ CE(real_c), ∇θ CE(syn_c)) is summed over classes and the synthetic pixels take
an SGD step; between outer steps the network trains `inner_loop` epochs on the (detached) synthetic set. The
distance is DC's layer-wise one: per weight tensor, Σ over output channels of 1 − cos(real row, synthetic row).
Optional Siamese DSA (`dsa: true`, augment.py) gives the real and synthetic clips of a class the same draw, a fresh
one every outer step, and augments the synthetic set with per-clip draws during the inner training, as the original.
Gradients are matched with the network in eval mode: ConvNet3D has no normalisation, so that only turns off the
head's dropout, whose independent masks would otherwise make the two gradients differ for no reason of the data.

Static-DC (the "boring video" baseline of OptDistill, and VDSD's stage 1) distils single frames: each synthetic item
stores one frame, repeated over time by the "stored" expansion when a student trains on it; real batches are one
random frame of a clip repeated (sample_clips static=True). `network: image` matches the gradients of DC's image
ConvNet (models.ConvNet2D, `image_widths`) on the stills, as the reference's stage 1 does (image DC); `network:
video` matches the student's ConvNet3D on the repeated frames (the network that later trains on them). VDSD's stage 1
calls `distill_dc(ctx, static=True)` for its stills.

Every network, real batch and DSA draw is seeded from (seed, iteration, outer step): a run is reproducible.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import torch
import torch.nn.functional as F

from vidstill.augment import DSAParams, apply_draw, augment, dsa_strategy, sample_draw
from vidstill.data.clips import sample_clips_on
from vidstill.loss_curve import LossCurve
from vidstill.methods import register
from vidstill.methods.context import DistillContext
from vidstill.methods.dm import init_from_real
from vidstill.methods.settings import DCSettings
from vidstill.models import ConvNet2D
from vidstill.optim import SGD
from vidstill.resume import IterationCheckpoint
from vidstill.runtime import peak_memory_bytes, to_device
from vidstill.synthetic_set import SyntheticSet, resize_time
from vidstill.train import epoch_seed

log = logging.getLogger("vidstill.methods.dc")

# The original's (outer_loop, inner_loop) by ipc. Another ipc takes the entry of the smallest tabulated ipc at or
# above it (2..10 → the ipc-10 entry, 11..20 → ipc 20, ...), ipc > 50 the ipc-50 entry. ipc 1 stays the special case
# it is in the original (match at initialisation only, no inner training); every larger set is matched along the
# network's training trajectory, as the original does from ipc 10 on, instead of only at initialisation.
LOOPS = {1: (1, 1), 10: (10, 50), 20: (20, 25), 30: (30, 20), 40: (40, 15), 50: (50, 10)}
METRICS = ("ours", "mse", "cos")
NETWORKS = ("video", "image")  # what the gradients are matched on: the student ConvNet3D, or DC's image ConvNet


def default_loops(ipc: int) -> tuple[int, int]:
    if ipc < 1:
        raise ValueError(f"ipc must be >= 1, got {ipc}")
    return LOOPS[min((k for k in LOOPS if k >= ipc), default=max(LOOPS))]


def gradient_distance(g_real: list[torch.Tensor], g_syn: list[torch.Tensor], metric: str = "ours") -> torch.Tensor:
    """DC's distance between two lists of parameter gradients.

    ours: Σ over weight tensors (≥ 2 dims, reshaped to (out_channels, −1)) of Σ_rows 1 − cos(real, syn); 1-D ones
    (biases) are skipped as in the original. mse: ‖real − syn‖² over everything. cos: 1 − cos of the concatenations.
    """
    if metric == "ours":
        total = g_syn[0].new_zeros(())
        for r, s in zip(g_real, g_syn):
            if r.dim() < 2:
                continue
            r, s = r.reshape(len(r), -1), s.reshape(len(s), -1)
            total = total + (1 - (r * s).sum(1) / (r.norm(dim=1) * s.norm(dim=1) + 1e-6)).sum()
        return total
    r, s = torch.cat([g.reshape(-1) for g in g_real]), torch.cat([g.reshape(-1) for g in g_syn])
    if metric == "mse":
        return ((r - s) ** 2).sum()
    if metric == "cos":
        return 1 - (r * s).sum() / (r.norm() * s.norm() + 1e-6)
    raise ValueError(f"dc.metric must be one of {METRICS}, got {metric!r}")


def class_gradients(
    net: torch.nn.Module, x: torch.Tensor, label: int, create_graph: bool = False
) -> list[torch.Tensor]:
    """∇θ of the cross-entropy of clips x (all of class `label`)."""
    logits = net(x)
    loss = F.cross_entropy(logits, torch.full((len(x),), label, dtype=torch.long, device=x.device))
    grads = torch.autograd.grad(loss, list(net.parameters()), create_graph=create_graph)
    return list(grads) if create_graph else [g.detach() for g in grads]


def class_batch(
    ctx: DistillContext,
    c: int,
    n: int,
    rng: np.random.Generator,
    static: bool = False,
    device: torch.device = torch.device("cpu"),
) -> torch.Tensor:
    """`n` random training clips of class c (fewer if it has fewer), fresh starts and flips; static: one random frame
    of each repeated over time. Drawn per class, not for all classes at once as DM does: DC's reference batch is 256
    clips per class, which for UCF101 at 16×112² would be 62 GB in one batch."""
    pool = ctx.train.indices_of_class(c)
    idx = rng.choice(pool, size=min(n, len(pool)), replace=False)
    return sample_clips_on(device, ctx.train, idx, rng, static=static)


def init_synthetic(
    ctx: DistillContext, rng: np.random.Generator, init: str, static: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    """`ipc` items per class from distinct real clips (static: a random frame of each, one stored frame) or noise."""
    if init not in ("real", "noise"):
        raise ValueError(f"dc.init must be 'real' or 'noise', got {init!r}")
    for c in range(ctx.num_classes):
        if len(ctx.train.indices_of_class(c)) < ctx.ipc:
            raise ValueError(
                f"class {c} has {len(ctx.train.indices_of_class(c))} training videos, fewer than ipc={ctx.ipc}"
            )
    if static:
        videos = torch.cat([class_batch(ctx, c, ctx.ipc, rng, static=True)[:, :1] for c in range(ctx.num_classes)])
        labels = torch.arange(ctx.num_classes).repeat_interleave(ctx.ipc)
    else:
        videos, labels = init_from_real(ctx, rng)
    if init == "noise":  # Gaussian noise in the normalised pixel space
        videos = torch.from_numpy(rng.standard_normal(videos.shape, dtype=np.float32))
    return videos, labels


def distill_dc(ctx: DistillContext, static: bool = False, name: str = "dc") -> SyntheticSet:
    """The DC loop; `static` distils single frames (Static-DC). The loss curve has one value per iteration: the
    mean over outer steps of Σ_c distance."""
    p = ctx.settings(DCSettings)
    iterations, lr, metric = p.iterations, p.lr, p.metric
    outer, inner = default_loops(ctx.ipc)
    # null (config/paper.yaml) = the original's loops for this ipc, overriding a CPU default's explicit numbers
    outer, inner = p.outer_loop or outer, p.inner_loop or inner
    per_class, batch_train, lr_net = p.batch_real, p.batch_train, p.lr_net
    dsa = p.dsa
    strategy = dsa_strategy(p.dsa_strategy, ctx.train.spec.flip)
    dsa_params = DSAParams(mode=p.dsa_mode)
    frames = ctx.train.spec.frames

    network = p.network
    if network not in NETWORKS or (network == "image" and not static):
        raise ValueError(f"{name}.network must be one of {NETWORKS} ('image' only for single frames), got {network!r}")
    image_widths = tuple(p.image_widths)

    def fresh_network(seed: int) -> torch.nn.Module:
        if network == "video":
            return ctx.network(seed)
        torch.manual_seed(seed)
        return ConvNet2D(ctx.num_classes, ctx.train.spec.crop, widths=image_widths).to(ctx.device)

    rng = np.random.default_rng(ctx.seed)
    videos, labels = init_synthetic(ctx, rng, p.init, static)
    videos = videos.to(ctx.device).requires_grad_(True)
    labels = labels.to(ctx.device)
    members = [torch.nonzero(labels == c).squeeze(1) for c in range(ctx.num_classes)]
    opt = SGD([videos], lr=lr, momentum=p.momentum)
    checkpoint = IterationCheckpoint(ctx.checkpoint, ctx.checkpoint_every_s)  # every draw is seeded from the iteration
    done, saved = checkpoint.restore([opt])
    curve = LossCurve(saved)
    start = time.perf_counter()
    for it in range(done, iterations):
        it_seed = epoch_seed(ctx.seed, it)
        net = fresh_network(it_seed)
        net_opt = SGD(net.parameters(), lr=lr_net)
        it_rng = np.random.default_rng(it_seed)
        total = torch.zeros((), dtype=torch.float64, device=ctx.device)  # Python's float sums, kept on the device
        for ol in range(outer):
            step_seed = epoch_seed(it_seed, ol)
            draw = sample_draw(strategy, ctx.num_classes, step_seed, dsa_params) if dsa else None
            net.eval()
            opt.zero_grad()
            for c in range(ctx.num_classes):  # one class at a time: its graph is freed before the next is built
                real = class_batch(ctx, c, per_class, it_rng, static, ctx.device)
                syn = resize_time(videos[members[c]], frames)
                if draw is not None:  # Siamese: the class's real and synthetic clips share one draw
                    real = apply_draw(real, torch.full((len(real),), c), draw)
                    syn = apply_draw(syn, torch.full((len(syn),), c), draw)
                loss = gradient_distance(
                    class_gradients(net, real, c), class_gradients(net, syn, c, create_graph=True), metric
                )
                loss.backward(inputs=[videos])
                total += loss.detach().double()
            opt.step()
            if ol == outer - 1:
                break
            net.train()
            data, step = resize_time(videos.detach(), frames), 0
            for _ in range(inner):
                order = to_device(torch.from_numpy(it_rng.permutation(len(data))), ctx.device)
                for k in range(0, len(order), batch_train):
                    chunk, step = order[k : k + batch_train], step + 1
                    x = data[chunk]
                    if dsa:  # per-clip draws (not Siamese) on the synthetic set, as the original's training
                        x = augment(x, strategy, epoch_seed(step_seed, step), dsa_params)
                    net_loss = F.cross_entropy(net(x), labels[chunk])
                    net_opt.zero_grad()
                    net_loss.backward()
                    net_opt.step()
        curve.append(total / outer)
        if (it + 1) % max(iterations // 10, 1) == 0:
            log.info("iteration %d/%d loss %.4f %.1fs", it + 1, iterations, curve.last(), time.perf_counter() - start)
        checkpoint.maybe_save(it + 1, [opt], curve)
    checkpoint.finish()
    return SyntheticSet(
        {"videos": videos.detach().cpu()},
        labels.cpu(),
        ctx.num_classes,
        frames,
        meta={
            "method": name,
            "loss_curve": curve.tolist(),
            "outer_loop": outer,
            "inner_loop": inner,
            "dsa_strategy": strategy if dsa else None,
            "network": network,
            "peak_memory_bytes": peak_memory_bytes(ctx.device),
            "resumed_at": done,
            "seconds_per_iteration": (time.perf_counter() - start) / max(iterations - done, 1),
        },
    )


@register("dc")
def dc(ctx: DistillContext) -> SyntheticSet:
    return distill_dc(ctx, static=False, name="dc")


@register("static_dc")
def static_dc(ctx: DistillContext) -> SyntheticSet:
    return distill_dc(ctx, static=True, name="static_dc")


__all__ = [
    "LOOPS",
    "class_batch",
    "class_gradients",
    "dc",
    "default_loops",
    "distill_dc",
    "gradient_distance",
    "init_synthetic",
    "static_dc",
]
