"""The one training loop: teachers, static (single-frame) models, expert trajectories and student evaluation.

Reproducibility is by construction: every epoch reseeds torch and numpy from (seed, epoch), so a run resumed from a
checkpoint draws exactly the batches, flips and dropout masks an uninterrupted run would have drawn.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from vidstill.data.clips import normalize
from vidstill.models import place_model
from vidstill.optim import SGD, Adam, AdamW, Optimizer
from vidstill.resume import IterationCheckpoint, load_buffers, saved_buffers
from vidstill.runtime import autocast, to_device
from vidstill.settings import Settings

log = logging.getLogger("vidstill.train")

Batch = tuple[torch.Tensor, torch.Tensor]


class TrainSource(Protocol):
    """Anything that yields one epoch of (clips (B,T,C,H,W), labels (B,) long or (B,K) soft) batches."""

    def epoch(self, batch_size: int, rng: np.random.Generator) -> Iterator[Batch]: ...


@dataclass(frozen=True)
class TrainConfig:
    epochs: int
    lr: float = 0.01
    optimizer: str = "sgd"  # sgd | adam | adamw (decoupled weight decay: FRePo's evaluation)
    momentum: float = 0.9
    weight_decay: float = 5e-4
    schedule: str = "step"  # step: x0.1 once at half of the epochs (reference) | cosine | constant | warmup_cosine
    batch_size: int = 256
    standardize: bool = True  # per-batch standardisation of the inputs (reference behaviour)
    label_loss: str = "ce"  # ce: cross-entropy (hard or soft labels) | mse: regression onto label vectors (FRePo)
    amp: bool = True  # bf16 autocast when the job's precision is bf16 (runtime.configure); false opts this training out
    seed: int = 0
    log_every: int = 10  # epochs between progress lines

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any] | Settings, **overrides) -> TrainConfig:
        """From a training section's settings (teacher, evaluation, experts: vidstill.settings) or a mapping of them."""
        values = cfg.as_dict() if isinstance(cfg, Settings) else cfg
        known = {k: v for k, v in {**values, **overrides}.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def standardize(x: torch.Tensor) -> torch.Tensor:
    """Standardise a batch by its own scalar mean and std (the reference evaluation does this to every batch)."""
    return (x - x.mean()) / (x.std() + 1e-6)


def epoch_seed(seed: int, epoch: int) -> int:
    return (seed * 1_000_003 + epoch * 7919) % (2**31 - 1)


def make_optimizer(params, cfg: TrainConfig) -> Optimizer:
    if cfg.optimizer == "sgd":
        return SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adam":
        return Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adamw":
        return AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    raise ValueError(f"optimizer must be 'sgd', 'adam' or 'adamw', got {cfg.optimizer!r}")


def lr_at(cfg: TrainConfig, epoch: int) -> float:
    if cfg.schedule == "step":
        return cfg.lr * (0.1 if epoch >= cfg.epochs // 2 else 1.0)
    if cfg.schedule == "cosine":
        return 0.5 * cfg.lr * (1 + math.cos(math.pi * epoch / max(cfg.epochs, 1)))
    if cfg.schedule == "constant":
        return cfg.lr
    if cfg.schedule == "warmup_cosine":
        # FRePo's evaluation (the reference's FRePo/lib_torch/utils.py): a linear warm-up from 1 % over the first 10 %
        # of the epochs, chained with a cosine decay to 1 % over all of them; the two factors multiply.
        warm = max(int(0.1 * cfg.epochs), 1)
        ramp = 0.01 + 0.99 * min(epoch / warm, 1.0)
        decay = 0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * epoch / max(cfg.epochs, 1)))
        return cfg.lr * ramp * decay
    raise ValueError(f"schedule must be step, cosine, constant or warmup_cosine, got {cfg.schedule!r}")


LABEL_LOSSES = ("ce", "mse")


def classification_loss(logits: torch.Tensor, labels: torch.Tensor, kind: str = "ce") -> torch.Tensor:
    """Cross-entropy against hard labels (long) or soft label distributions (float rows summing to 1); or, for
    `kind="mse"`, the squared error to label vectors summed over classes (FRePo's learned labels may be negative and
    do not sum to one, so they are regressed, as FRePo's own evaluation does)."""
    if kind == "mse":
        target = F.one_hot(labels, logits.shape[1]).float() if labels.dtype == torch.long else labels
        return ((logits - target) ** 2).sum(1).mean()
    if kind != "ce":
        raise ValueError(f"label_loss must be one of {LABEL_LOSSES}, got {kind!r}")
    if labels.dtype == torch.long:
        return F.cross_entropy(logits, labels)
    return torch.sum(-labels * F.log_softmax(logits, dim=1), dim=1).mean()


def prefetched(batches: Iterator[Batch], depth: int = 2) -> Iterator[Batch]:
    """`batches` produced in a background thread, `depth` ahead, each in pinned (page-locked) host memory, so the
    next batch is sampled and its copy to the GPU can overlap the current step. Only for generators that draw from
    numpy alone (RealClips.epoch_uint8): a torch draw in the thread would interleave with the training's own."""
    import queue
    import threading

    pin = torch.cuda.is_available()  # page-locking needs the CUDA driver
    q: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def produce() -> None:
        try:
            for x, y in batches:
                if stop.is_set():
                    return
                q.put((x.pin_memory(), y.pin_memory()) if pin else (x, y))
            q.put(done)
        except BaseException as e:  # re-raised in the consumer
            q.put(e)

    thread = threading.Thread(target=produce, daemon=True)
    thread.start()
    try:
        while (item := q.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue
            with contextlib.suppress(queue.Empty):
                q.get_nowait()
            thread.join(timeout=0.05)


def epoch_batches(
    source: TrainSource, batch_size: int, rng: np.random.Generator, device: torch.device
) -> Iterator[Batch]:
    """One epoch of `source` on `device`. On CUDA, a source with uint8 batches (RealClips) sends those, pinned and
    prefetched, and they are normalised on the GPU; everything else (and every CPU run) takes the float batches
    as they come, so CPU results do not depend on this path."""
    if device.type == "cuda" and hasattr(source, "epoch_uint8"):
        for x, y in prefetched(source.epoch_uint8(batch_size, rng)):
            yield normalize(to_device(x, device)), to_device(y, device)
        return
    for x, y in source.epoch(batch_size, rng):
        yield to_device(x, device), to_device(y, device)


@dataclass
class TrainResult:
    curve: list[dict] = field(default_factory=list)  # per logged epoch: epoch, loss, lr, seconds, (+ eval metrics)
    wall_time: float = 0.0
    resumed_from: int = 0


def train(
    model: nn.Module,
    source: TrainSource,
    cfg: TrainConfig,
    device: torch.device,
    checkpoint: str | Path | None = None,
    checkpoint_every: int = 10,
    on_epoch_end: Callable[[int, nn.Module], dict | None] | None = None,
) -> TrainResult:
    """Train `model` in place for cfg.epochs epochs of `source`.

    `checkpoint`: a path outside the job's declared outputs (Snakemake deletes those on failure). If it exists the run
    resumes from it; it is rewritten every `checkpoint_every` epochs and removed at the end. `on_epoch_end(epoch,
    model)` may return metrics to add to the curve (expert trajectories save parameters there).
    """
    place_model(model, device)
    optimizer = make_optimizer(model.parameters(), cfg)
    result = TrainResult()
    resume = IterationCheckpoint(checkpoint)  # the weights are the optimizer's parameters; buffers travel as extra
    start_epoch, curve = resume.restore([optimizer])
    if start_epoch:
        load_buffers([model], resume.extra["buffers"])
        result.curve, result.resumed_from = list(curve), start_epoch
    t0 = time.perf_counter()
    for epoch in range(start_epoch, cfg.epochs):
        torch.manual_seed(epoch_seed(cfg.seed, epoch))
        rng = np.random.default_rng(epoch_seed(cfg.seed, epoch))
        for group in optimizer.param_groups:
            group["lr"] = lr_at(cfg, epoch)
        model.train()
        # the epoch's loss sum stays on the device (float64: the same sums Python's floats made) and is read once per
        # epoch, so no batch waits for the host
        total, count = torch.zeros((), dtype=torch.float64, device=device), 0
        for x, y in epoch_batches(source, cfg.batch_size, rng, device):
            if cfg.standardize:
                x = standardize(x)
            with autocast(device, cfg.amp):
                loss = classification_loss(model(x).float(), y, cfg.label_loss)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.detach().double() * len(x)
            count += len(x)
        row = {
            "epoch": epoch + 1,
            "loss": total.item() / max(count, 1),
            "lr": lr_at(cfg, epoch),
            "seconds": time.perf_counter() - t0,
        }
        extra = on_epoch_end(epoch + 1, model) if on_epoch_end else None
        if extra:
            row.update(extra)
        result.curve.append(row)
        if (epoch + 1) % cfg.log_every == 0 or epoch + 1 == cfg.epochs:
            log.info(
                "epoch %d/%d loss %.4f lr %.2g %.1fs", epoch + 1, cfg.epochs, row["loss"], row["lr"], row["seconds"]
            )
        if (epoch + 1) % checkpoint_every == 0 and epoch + 1 < cfg.epochs:
            resume.save(epoch + 1, [optimizer], result.curve, lambda: {"buffers": saved_buffers([model])})
    result.wall_time = time.perf_counter() - t0
    resume.finish()
    return result


@dataclass
class Accuracy:
    top1: float
    top5: float
    per_class: list[float]
    passes: int


@torch.no_grad()
def evaluate(
    model: nn.Module,
    batches: Callable[[np.random.Generator], Iterator[Batch]],
    num_classes: int,
    device: torch.device,
    passes: int = 3,
    seed: int = 0,
    standardize_inputs: bool = True,
) -> Accuracy:
    """Accuracy averaged over `passes` passes of the test set (each with fresh temporal starts and flips).

    Per-class accuracy is averaged over passes too; top-5 is top-min(5, classes).
    """
    place_model(model.eval(), device)
    k = min(5, num_classes)
    top1, top5 = [], []
    # hits are counted on the device and read once per pass (a per-batch read would make the host wait for the
    # GPU); integer counts, so the figures are those of a per-batch count
    correct = torch.zeros(num_classes, dtype=torch.long, device=device)
    seen = np.zeros(num_classes)
    for p in range(passes):
        rng = np.random.default_rng(epoch_seed(seed, 10_000 + p))
        hits = torch.zeros(2, dtype=torch.long, device=device)
        n = 0
        for x, y in batches(rng):
            x, labels = to_device(x, device), to_device(y, device)
            if standardize_inputs:
                x = standardize(x)
            pred = model(x).float().topk(k, dim=1).indices
            ok1 = pred[:, 0] == labels
            hits += torch.stack([ok1.sum(), (pred == labels[:, None]).any(1).sum()])
            correct += (F.one_hot(labels, num_classes) * ok1[:, None]).sum(0)  # no atomics: deterministic on CUDA
            np.add.at(seen, y.numpy(), 1)
            n += len(y)
        hit1, hit5 = hits.tolist()
        top1.append(hit1 / n)
        top5.append(hit5 / n)
    per_class = np.where(seen > 0, correct.cpu().numpy() / np.maximum(seen, 1), np.nan)
    return Accuracy(float(np.mean(top1)), float(np.mean(top5)), per_class.tolist(), passes)
