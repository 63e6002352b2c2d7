"""SyntheticSet: what every distillation method returns and every evaluation trains on.

A set is the tensors a method stores (they alone count as its storage), the labels (hard or soft), and the name of an
*expansion*: the function that turns stored tensors into the (B, T, C, H, W) clips a student trains on. Methods that
store fewer frames (KeyFrame, DAViD, per class; PRISM's key frames, per video), re-pair parts every epoch (VDSD) or
augment at training time (IDTD's τ, TSGF_A) register their own expansion here (the crop-and-concatenate method's mosaics
expand into their regions), so the evaluation code never changes when a method is added. An expansion that needs DSA
(TSGF_A) registers itself in its own module, listed in EXTERNAL_EXPANSIONS and imported the first time a set names it,
so that loading a set does not import DSA. The code hash (vidstill.workflow.source_hash) counts a module named by its
dotted path as imported: every job that can load a set reruns when that module changes. Saved as safetensors (tensors) +
JSON metadata in the same file: loading never executes code.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vidstill.data.clips import normalize
from vidstill.io import load_tensors, save_tensors
from vidstill.methods.idtd_temporal_augment import temporal_interval
from vidstill.methods.prism_keyframes import render, unpack
from vidstill.methods.vdsd_static_dynamic import memory_videos
from vidstill.runtime import to_device
from vidstill.train import LABEL_LOSSES

Expansion = Callable[["SyntheticSet", torch.Tensor, "np.random.Generator | None"], torch.Tensor]
EXPANSIONS: dict[str, Expansion] = {}
EXTERNAL_EXPANSIONS = {"saliency_augment": "vidstill.methods.tsgf_saliency"}  # name -> the module that registers it
# Integer tables the expansions read on the host (DAViD's and PRISM's frame counts, PRISM's key positions): they stay
# there when a set moves to the GPU, so expanding a batch never waits for the device to answer a count.
HOST_TABLES = ("item_frames", "positions")


def register_expansion(name: str) -> Callable[[Expansion], Expansion]:
    def deco(fn: Expansion) -> Expansion:
        if name in EXPANSIONS:
            raise ValueError(f"expansion {name!r} registered twice")
        EXPANSIONS[name] = fn
        return fn

    return deco


def as_float_videos(videos: torch.Tensor) -> torch.Tensor:
    """Stored videos as normalised float (B, T, C, H, W): uint8 (B, T, H, W, 3) real frames are normalised."""
    return normalize(videos) if videos.dtype == torch.uint8 else videos.float()


def time_indices(length: int, frames: int) -> np.ndarray:
    """Nearest-neighbour resampling of `length` frames to `frames`: fewer are repeated in order (interleave-repeat),
    more are skipped uniformly (a speed-up)."""
    return np.arange(frames) * length // frames


def resize_time(videos: torch.Tensor, frames: int) -> torch.Tensor:
    """(B, T', ...) → (B, frames, ...) along time with `time_indices`."""
    t = videos.shape[1]
    return videos if t == frames else videos[:, to_device(torch.from_numpy(time_indices(t, frames)), videos.device)]


def resize_space(videos: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Float videos (B, T, C, h, w) scaled bilinearly to (H, W) = `size`, frame by frame."""
    b, t, c, h, w = videos.shape
    if (h, w) == tuple(size):
        return videos
    out = torch.nn.functional.interpolate(
        videos.reshape(b * t, c, h, w), size=tuple(size), mode="bilinear", align_corners=False
    )
    return out.reshape(b, t, c, *size)


@register_expansion("stored")
def expand_stored(s: SyntheticSet, idx: torch.Tensor, rng: np.random.Generator | None) -> torch.Tensor:
    """The stored videos themselves, with fewer stored frames repeated in order up to the clip length."""
    stored = s.tensors["videos"]
    return resize_time(as_float_videos(stored[to_device(idx, stored.device)]), s.frames)


@register_expansion("vdsd")
def expand_vdsd(s: SyntheticSet, idx: torch.Tensor, rng: np.random.Generator | None) -> torch.Tensor:
    """VDSD: each item's video hallucinated from one of its two stills and one of its two dynamic maps, drawn anew
    on every call (every epoch of an evaluation), methods/vdsd_static_dynamic.py."""
    t = s.tensors
    with torch.no_grad():
        return memory_videos(
            t["stills"],
            t["dynamics"],
            t["hallucinator.weight"],
            t["hallucinator.bias"],
            idx,
            int(s.expansion_args["ipc"]),
            rng,
        )


@register_expansion("partitioned")
def expand_partitioned(s: SyntheticSet, idx: torch.Tensor, rng: np.random.Generator | None) -> torch.Tensor:
    """DAViD: item i stores its `item_frames[i]` distinct frames contiguously in `frames`; each is repeated in order
    up to the clip length (temporal partitioning, methods/david.py)."""
    counts = s.tensors["item_frames"].long()  # on the host (HOST_TABLES), as idx is
    offsets = torch.cumsum(counts, 0) - counts
    frames = s.tensors["frames"].float()
    return torch.cat(
        [resize_time(frames[o : o + n][None], s.frames) for o, n in zip(offsets[idx].tolist(), counts[idx].tolist())]
    )


@register_expansion("keyframes")
def expand_keyframes(s: SyntheticSet, idx: torch.Tensor, rng: np.random.Generator | None) -> torch.Tensor:
    """PRISM: item i stores only its key frames (`frames`, at `positions` of the clip, `item_frames[i]` of them); the
    frames between two keys are interpolated linearly, as while it was distilled (methods/prism_keyframes.py,
    methods/prism.py)."""
    t = s.tensors
    keys, mask = unpack(t["frames"].float(), t["positions"], t["item_frames"], s.frames)
    with torch.no_grad():
        return render(keys[to_device(idx, keys.device)], mask[idx])


@register_expansion("temporal_interval")
def expand_temporal_interval(s: SyntheticSet, idx: torch.Tensor, rng: np.random.Generator | None) -> torch.Tensor:
    """IDTD: the stored videos under its Stochastic Temporal Augmentation τ, a fresh interval per clip on every call
    (every epoch of an evaluation); without a generator, the videos as stored."""
    videos = expand_stored(s, idx, None)
    return videos if rng is None else temporal_interval(videos, rng, float(s.expansion_args.get("min_span", 0.5)))


@register_expansion("mosaic_regions")
def expand_mosaic_regions(s: SyntheticSet, idx: torch.Tensor, rng: np.random.Generator | None) -> torch.Tensor:
    """The crop-and-concatenate method: item i is region i % N² (row-major) of mosaic i // N², scaled up to the clip
    size; the student trains on the regions with their own soft labels (Eq. 5, methods/optdistill.py)."""
    grid, (h, w) = int(s.expansion_args["grid"]), s.expansion_args["region"]
    mosaics = s.tensors["mosaics"]
    m, k = torch.div(idx, grid * grid, rounding_mode="floor"), idx % (grid * grid)  # idx on the host
    r, c = torch.div(k, grid, rounding_mode="floor"), k % grid
    regions = torch.stack(
        [mosaics[a, :, y * h : (y + 1) * h, x * w : (x + 1) * w] for a, y, x in zip(m.tolist(), r.tolist(), c.tolist())]
    )
    return resize_space(normalize(regions), tuple(mosaics.shape[2:4]))


@dataclass
class SyntheticSet:
    tensors: dict[str, torch.Tensor]
    labels: torch.Tensor  # (N,) long, or (N, K) float soft labels
    num_classes: int
    frames: int  # the clip length a student sees
    expansion: str = "stored"
    expansion_args: dict[str, Any] = field(default_factory=dict)
    lr: float | None = None  # a learned student learning rate (MTT family); None → the protocol's
    label_loss: str = "ce"  # how students fit the labels: "ce" (hard or soft) | "mse" (FRePo's learned labels)
    meta: dict[str, Any] = field(default_factory=dict)  # method, ipc, seed, wall_time, loss_curve, config, ...

    def __post_init__(self) -> None:
        if self.expansion not in EXPANSIONS and self.expansion in EXTERNAL_EXPANSIONS:
            importlib.import_module(EXTERNAL_EXPANSIONS[self.expansion])
        if self.expansion not in EXPANSIONS:
            raise ValueError(
                f"unknown expansion {self.expansion!r}; registered: {sorted({*EXPANSIONS, *EXTERNAL_EXPANSIONS})}"
            )
        if self.label_loss not in LABEL_LOSSES:
            raise ValueError(f"label_loss must be one of {LABEL_LOSSES}, got {self.label_loss!r}")

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def soft_labels(self) -> bool:
        return self.labels.dtype != torch.long

    def storage_bytes(self) -> int:
        """Bytes of everything stored: the tensors at their stored dtype, plus the labels."""
        return int(sum(t.numel() * t.element_size() for t in [*self.tensors.values(), self.labels]))

    def check_finite(self, where: str) -> None:
        """A diverged distillation (a learning rate too high for its IPC) leaves NaN or inf pixels; a student trained on
        them predicts one class, which would enter the table as a method scoring chance. Stop the job instead."""
        for name, t in [*self.tensors.items(), ("labels", self.labels)]:
            if t.is_floating_point() and not bool(torch.isfinite(t).all()):
                bad = int((~torch.isfinite(t)).sum())
                raise ValueError(
                    f"{where}: the distillation diverged: {bad} of {t.numel()} values of {name!r} are NaN or inf; "
                    "lower the method's learning rate for this IPC (config methods.<instance>)"
                )

    def to(self, device: torch.device) -> SyntheticSet:
        """The same set with its tensors on `device`, so the evaluation expands every batch there (a distilled set is
        small next to a GPU's memory) instead of building it on the CPU and sending it each step."""
        moved = {k: v if k in HOST_TABLES else v.to(device) for k, v in self.tensors.items()}
        return SyntheticSet(
            moved,
            self.labels.to(device),
            self.num_classes,
            self.frames,
            self.expansion,
            self.expansion_args,
            self.lr,
            self.label_loss,
            self.meta,
        )

    def videos(
        self, idx: torch.Tensor | np.ndarray | list[int], rng: np.random.Generator | None = None
    ) -> torch.Tensor:
        """The clips of items `idx` (given on the host; each expansion sends what it indexes the device with)."""
        return EXPANSIONS[self.expansion](self, torch.as_tensor(np.asarray(idx), dtype=torch.long), rng)

    def epoch(self, batch_size: int, rng: np.random.Generator) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """A training source (train.TrainSource): shuffled batches, expanded with this epoch's draws."""
        order = rng.permutation(len(self))
        for k in range(0, len(order), batch_size):
            chunk = order[k : k + batch_size]
            yield self.videos(chunk, rng), self.labels[to_device(torch.from_numpy(chunk), self.labels.device)]

    def save(self, path: str | Path) -> None:
        meta = {
            "num_classes": self.num_classes,
            "frames": self.frames,
            "expansion": self.expansion,
            "expansion_args": self.expansion_args,
            "lr": self.lr,
            "label_loss": self.label_loss,
            "storage_bytes": self.storage_bytes(),
            "meta": self.meta,
        }
        save_tensors({**{f"stored.{k}": v for k, v in self.tensors.items()}, "labels": self.labels}, path, meta)

    @classmethod
    def load(cls, path: str | Path) -> SyntheticSet:
        tensors, meta = load_tensors(path)
        stored = {k.removeprefix("stored."): v for k, v in tensors.items() if k.startswith("stored.")}
        return cls(
            stored,
            tensors["labels"],
            int(meta["num_classes"]),
            int(meta["frames"]),
            meta["expansion"],
            meta.get("expansion_args", {}),
            meta.get("lr"),
            meta.get("label_loss", "ce"),
            meta.get("meta", {}),
        )
