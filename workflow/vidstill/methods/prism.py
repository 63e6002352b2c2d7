"""PRISM, "Progressive Refinement and Insertion for Sparse Motion" (Choi et al., arXiv 2505.22564), on DM's loss.

A synthetic video is a few key frames with linear interpolation between them (prism_keyframes.py). Every video starts
with two keys, its first and last frame. Training runs DM's embedding match (methods/dm.match_embeddings, the shared
loop) on the rendered videos; only the key frames are parameters, so an in-between frame's gradient reaches its two
neighbouring keys through the interpolation weights. The schedule splits the iterations into a warm-up (`warmup`,
20 %: keys only refined), an insertion phase (`insertion`, 60 %) and a cool-down (the rest, 20 %: refined again).
During insertion, after every `insert_every`-th update, a non-key frame whose gradient has cosine similarity below
`eps` (0) with the gradients of *both* its neighbouring key frames becomes a key frame (`insertion_rule`): its motion
disagrees with what the interpolation pushes its neighbours towards, so it cannot be a mix of them. An inserted key
starts at its interpolated value, so insertion never changes a video, only what can be optimised next.

Only key frames are stored (and counted as storage), with their positions: storage differs per video, and the
number of keys each class ended with is the method's own statement of where motion matters (meta
`keyframes_per_class`; results/tables/prism_keyframes.csv sets it beside the class's Δ).

Params: iterations, lr, momentum (the paper's SGD momentum 0.95), batch_real, init (real | noise), eps, warmup,
insertion, insert_every; DM's forward / dsa settings apply as for DM.
"""

from __future__ import annotations

import logging

import numpy as np
import torch

from vidstill.methods import register
from vidstill.methods.context import DistillContext
from vidstill.methods.dm import initial_videos, match_embeddings
from vidstill.methods.prism_keyframes import interpolation_weights, neighbours, pack, render_with
from vidstill.methods.settings import PRISMSettings
from vidstill.optim import SGD
from vidstill.synthetic_set import SyntheticSet

log = logging.getLogger("vidstill.methods.prism")


def insertion_rule(grad: torch.Tensor, mask: torch.Tensor, eps: float) -> torch.Tensor:
    """The frames to insert as keys: non-key frames whose gradient (grad: (N, T, ...), one per rendered frame) has
    cosine similarity < eps with the gradient of the key before it AND with that of the key after it. A frame with a
    zero gradient has cosine 0 with everything."""
    g = grad.flatten(2)
    g = g / g.norm(dim=2, keepdim=True).clamp(min=1e-30)
    prev, nxt = neighbours(mask, check=False)  # the owner keeps the first and last frames keys
    cos_prev = (g * g.gather(1, prev[..., None].expand_as(g))).sum(2)
    cos_next = (g * g.gather(1, nxt[..., None].expand_as(g))).sum(2)
    return ~mask & (cos_prev < eps) & (cos_next < eps)


def schedule(iterations: int, warmup: float, insertion: float) -> tuple[int, int]:
    """The insertion phase as [first, stop) iterations: after round(warmup·N), before round((warmup + insertion)·N)."""
    if warmup < 0 or insertion < 0 or warmup + insertion > 1:
        raise ValueError(
            f"prism.warmup ({warmup}) and prism.insertion ({insertion}) must be fractions summing to at most 1"
        )
    return int(np.floor(warmup * iterations + 0.5)), int(np.floor((warmup + insertion) * iterations + 0.5))


class KeyFrameVideos:
    """The synthetic set while PRISM trains it: per-position key values (non-key positions unused until inserted),
    the key-frame mask, and the insertion schedule (a `dm.LoopHook`). Everything stays on the device and nothing is
    read on the host in the loop: the interpolation weights are rebuilt there after an insertion check, and the
    number of keys each check inserted is read when a checkpoint is written or the loop ends."""

    def __init__(
        self, videos: torch.Tensor, iterations: int, eps: float, warmup: float, insertion: float, every: int
    ) -> None:
        n, t = videos.shape[:2]
        if t < 2:
            raise ValueError(f"prism needs clips of at least 2 frames, got {t}")
        self.keys = videos.clone().requires_grad_(True)
        self.mask = torch.zeros(n, t, dtype=torch.bool, device=videos.device)
        self.mask[:, [0, -1]] = True
        self.eps, self.every = float(eps), max(int(every), 1)
        self.first, self.stop = schedule(iterations, warmup, insertion)
        # (iteration, keys inserted): the count on the device, or an int when restored from a checkpoint
        self._checks: list[tuple[int, torch.Tensor | int]] = []
        self._rendered: torch.Tensor | None = None
        self._weights = interpolation_weights(self.mask, check=False)

    @property
    def inserted(self) -> list[list[int]]:
        """[iteration, keys inserted] of every check that inserted some."""
        pending = [n for _, n in self._checks if isinstance(n, torch.Tensor)]
        read = iter(torch.stack(pending).tolist() if pending else [])  # one transfer for all
        counts = [next(read) if isinstance(n, torch.Tensor) else n for _, n in self._checks]
        return [[it, n] for (it, _), n in zip(self._checks, counts) if n]

    def videos(self, rng: np.random.Generator) -> torch.Tensor:
        self._rendered = render_with(self._weights.to(self.keys.dtype), self.keys)
        self._rendered.retain_grad()  # each rendered frame's gradient: what the insertion rule reads
        return self._rendered

    def after_step(self, it: int) -> None:
        if not (self.first <= it < self.stop and (it - self.first) % self.every == 0):
            return
        if self._rendered is None or self._rendered.grad is None:
            raise RuntimeError("prism: the rendered videos got no gradient this iteration")
        new = insertion_rule(self._rendered.grad, self.mask, self.eps)
        with torch.no_grad():  # an inserted key starts where the interpolation had it: the video is unchanged
            spread = new.view(*new.shape, *[1] * (self.keys.dim() - 2))
            self.keys.copy_(torch.where(spread, self._rendered.detach(), self.keys))
        self.mask |= new
        self._weights = interpolation_weights(self.mask, check=False)
        self._checks.append((it, new.sum()))

    def extra(self) -> dict:
        return {"mask": self.mask.cpu().clone(), "inserted": [list(x) for x in self.inserted]}

    def restore(self, extra: dict) -> None:
        self.mask.copy_(extra["mask"].to(self.mask.device))
        self._weights = interpolation_weights(self.mask, check=False)
        self._checks = [(int(it), int(n)) for it, n in extra["inserted"]]


@register("prism")
def prism(ctx: DistillContext) -> SyntheticSet:
    p = ctx.settings(PRISMSettings)
    iterations = p.iterations
    rng = np.random.default_rng(ctx.seed)
    videos, labels = initial_videos(ctx, rng)
    model = KeyFrameVideos(videos.to(ctx.device), iterations, p.eps, p.warmup, p.insertion, p.insert_every)
    opt = SGD([model.keys], lr=p.lr, momentum=p.momentum)
    meta = match_embeddings(ctx, model.videos, labels, [opt], iterations, resumable=True, hook=model)
    mask = model.mask.cpu()
    counts = mask.sum(1).float()
    per_class = [float(counts[labels == c].mean()) for c in range(ctx.num_classes)]
    log.info("key frames per video by class: %s (of %d frames)", [round(x, 2) for x in per_class], mask.shape[1])
    meta = {
        **meta,
        "method": "prism",
        "keyframes_per_class": per_class,
        "keyframe_positions": mask.int().tolist(),
        "insertions": model.inserted,
        "insertion_phase": [model.first, model.stop],
        "frames": int(mask.shape[1]),
        "classes": ctx.train.table.drop_duplicates("label").sort_values("label")["class"].tolist(),
    }
    return SyntheticSet(
        pack(model.keys.detach(), mask),
        labels.cpu(),
        ctx.num_classes,
        ctx.train.spec.frames,
        expansion="keyframes",
        meta=meta,
    )


__all__ = ["KeyFrameVideos", "insertion_rule", "prism", "schedule"]
