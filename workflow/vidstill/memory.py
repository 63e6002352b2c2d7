"""Device memory a job will need, estimated at planning from its shapes (torch-free: the Snakefile imports it).

The estimate counts the float32 tensors that dominate a ConvNet3D job (weights are a few MB and are ignored):
- a no-grad forward (the real clips' embeddings) holds, per clip, at most one layer's input and output at a time;
- a forward with a graph (synthetic videos, training batches) keeps every layer's output for the backward, max
  pooling's int64 indices included, and the backward adds about one layer's output and its gradient;
- a real batch is held whole on the device (float32), a synthetic set three times (values, gradient, momentum);
- a graph that is differentiated twice (MTT's unrolled steps, DC's synthetic gradients) keeps its forward and its
  first backward: twice a forward graph.
It is an estimate, not a measurement: on a GPU, `benchmarks/device_check.sh` prints it beside the measured peak.
Jobs without a model here (coresets, key frames, the crop-and-concatenate method, TSGF's teacher, DC's image
network, video ResNets) get None: no check, no GPU-memory resource.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vidstill.methods.settings import MethodSettings

FLOAT = 4
INDEX = 8  # MaxPool3d's saved argmax indices (int64)

# Classes of the real layouts (the synthetic benchmark and subsets are counted from their config).
LAYOUT_CLASSES = {"ucf101": 101, "hmdb51": 51, "kinetics400": 400, "ssv2": 174}
# The methods whose real-clip embeddings are one no-grad forward and whose synthetic set goes through one graph of
# full-length clips (their settings derive from EmbeddingMatch or FeatureRegression).
EMBEDDING_METHODS = ("dm", "dm_vdsd", "david", "frepo", "frepo_vdsd", "prism")


@dataclass(frozen=True)
class ClipShape:
    frames: int
    size: int
    channels: int = 3

    @property
    def elements(self) -> int:
        return self.frames * self.channels * self.size * self.size


def convnet_layers(shape: ClipShape, widths: tuple[int, ...]) -> list[tuple[int, int]]:
    """Per block of ConvNet3D (models.py): (conv output, pool output) elements for one clip."""
    t, h, out = shape.frames, shape.size, []
    for i, w in enumerate(widths):
        h = (h + 2 * 3 - 7) // 2 + 1
        conv = w * t * h * h
        h //= 2
        if i > 0:
            t //= 2
        out.append((conv, w * t * h * h))
    return out


def nograd_bytes_per_clip(shape: ClipShape, widths: tuple[int, ...]) -> int:
    """Peak of a no-grad forward of one clip: the largest (layer input + layer output) pair."""
    prev, peak = shape.elements, 0
    for conv, pool in convnet_layers(shape, widths):
        peak = max(peak, prev + conv, conv + pool)
        prev = pool
    return FLOAT * peak


def graph_bytes_per_clip(shape: ClipShape, widths: tuple[int, ...]) -> int:
    """What one clip's forward keeps for its backward, plus the backward's transient (largest conv output, twice)."""
    layers = convnet_layers(shape, widths)
    saved = FLOAT * shape.elements + sum(FLOAT * conv + (FLOAT + INDEX) * pool for conv, pool in layers)
    return saved + 2 * FLOAT * max(conv for conv, _ in layers)


@dataclass(frozen=True)
class Estimate:
    """A job's estimated peak device memory, with its parts (bytes) for the error message and the README."""

    total: int
    parts: dict[str, int]

    def describe(self) -> str:
        return ", ".join(f"{k} {v / 2**30:.2f} GiB" for k, v in self.parts.items())


def embedding_chunk_bytes(shape: ClipShape, widths: tuple[int, ...], clips: int, chunk: int) -> int:
    """A chunked no-grad embedding of `clips` clips, `chunk` at a time (0: all at once)."""
    n = clips if chunk <= 0 else min(chunk, clips)
    return n * nograd_bytes_per_clip(shape, widths)


def distill_estimate(
    method: str,
    settings: Mapping[str, Any] | MethodSettings,
    shape: ClipShape,
    widths: tuple[int, ...],
    classes: int,
    ipc: int,
    chunk: int,
) -> Estimate | None:
    """A distillation's peak, by the loop its settings name: embedding matching / feature regression (DM family,
    FRePo, PRISM, DAViD), trajectory matching (MTT family, SFVD), gradient matching (DC, Static-DC on the video
    network) or IDTD's segments; None for the rest."""
    from vidstill.methods.settings import (
        DCSettings,
        EmbeddingMatch,
        FeatureRegression,
        IDTDSettings,
        MethodSettings,
        TrajectoryMatch,
        settings_class,
    )
    from vidstill.settings import build

    typed = (
        settings
        if isinstance(settings, MethodSettings)
        else build(settings_class(method), settings, f"methods.{method}")
    )
    syn = classes * ipc
    synthetic_set = 3 * syn * FLOAT * shape.elements
    if isinstance(typed, EmbeddingMatch | FeatureRegression):
        real = classes * typed.batch_real
        parts = {
            "real batch": real * FLOAT * shape.elements,
            "real embedding": embedding_chunk_bytes(shape, widths, real, chunk),
            "synthetic graph": syn * graph_bytes_per_clip(shape, widths),
            "synthetic set": synthetic_set,
        }
        return Estimate(sum(parts.values()), parts)
    if isinstance(typed, TrajectoryMatch):
        batch = min(typed.batch_syn or syn, syn)
        parts = {
            "unrolled graph": typed.syn_steps * batch * 2 * graph_bytes_per_clip(shape, widths),
            "synthetic set": synthetic_set,
        }
        return Estimate(sum(parts.values()), parts)
    if isinstance(typed, DCSettings):
        if getattr(typed, "network", "video") != "video":
            return None
        # one class at a time: its real clips' gradient graph beside its synthetic clips' twice-differentiated one;
        # the inner loop trains on batch_train synthetic clips after that class loop has freed its graphs
        outer = typed.batch_real * (FLOAT * shape.elements + graph_bytes_per_clip(shape, widths)) + ipc * 2 * (
            graph_bytes_per_clip(shape, widths)
        )
        inner = min(typed.batch_train, syn) * graph_bytes_per_clip(shape, widths)
        parts = {
            "class gradients" if outer >= inner else "inner training": max(outer, inner),
            "synthetic set": synthetic_set,
        }
        return Estimate(sum(parts.values()), parts)
    if isinstance(typed, IDTDSettings):
        real = classes * typed.batch_real
        chunk_classes = typed.class_chunk or classes
        k = typed.segments
        parts = {
            "real batch": real * FLOAT * shape.elements,
            "real embedding": embedding_chunk_bytes(shape, widths, real, chunk),
            # a class chunk's K segments and its fused video per instance, through one graph
            "segment graph": chunk_classes * ipc * (k + 1) * graph_bytes_per_clip(shape, widths),
            # the segments with their gradient and Adam's two moments
            "segments": 4 * syn * k * FLOAT * shape.elements,
        }
        return Estimate(sum(parts.values()), parts)
    return None


def training_estimate(batch_size: int, shape: ClipShape, widths: tuple[int, ...]) -> Estimate:
    """A ConvNet3D training step (teacher, expert, evaluation): one batch's graph and input."""
    parts = {"batch graph": batch_size * graph_bytes_per_clip(shape, widths)}
    return Estimate(sum(parts.values()), parts)


def dataset_shape(clips: dict) -> ClipShape:
    """The clip a network sees, from a dataset's `clips:` config (crop, else the resized height)."""
    size = clips.get("crop") or (clips.get("resize") or [None, None])[1]
    if not size:
        raise ValueError("clips: needs crop or resize to size the network's input")
    return ClipShape(int(clips["frames"]), int(size))


def dataset_classes(datasets: dict, name: str) -> int | None:
    """Classes of a configured dataset, known before any job runs (None where only the data will tell)."""
    ds = datasets[name]
    if "subset_of" in ds:
        if "top_k_by_delta" in ds:
            return int(ds["top_k_by_delta"])
        if "classes_file" in ds:
            from pathlib import Path

            path = Path(ds["classes_file"])
            return sum(1 for line in path.read_text().splitlines() if line.strip()) if path.is_file() else None
        return None
    if ds.get("layout") == "synthetic":
        return len(ds.get("generator", {}).get("classes", [])) or None
    return LAYOUT_CLASSES.get(ds.get("layout"))


__all__ = [
    "ClipShape",
    "EMBEDDING_METHODS",
    "Estimate",
    "convnet_layers",
    "dataset_classes",
    "dataset_shape",
    "distill_estimate",
    "embedding_chunk_bytes",
    "graph_bytes_per_clip",
    "nograd_bytes_per_clip",
    "training_estimate",
]
