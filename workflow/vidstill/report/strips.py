"""Frame strips of distilled videos: for a few classes, frames spread over the clip each method's students see (its
expansion applied: VDSD's hallucinated pairing, DAViD's repeated frames, OptDistill's scaled mosaic region), beside
one real training clip of the class. A reader sees at a glance what each method stores and whether motion survived.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from vidstill.data.clips import ClipStore, denormalize
from vidstill.report.figures import pyplot, save_figure
from vidstill.synthetic_set import SyntheticSet


def strip_classes(num_classes: int, count: int) -> list[int]:
    """`count` labels spread evenly over 0 … K−1 (first, last and between), so the strip is not only the
    alphabetically first classes."""
    if num_classes < 1 or count < 1:
        raise ValueError(f"need at least one class and one strip class, got {num_classes} and {count}")
    return sorted({int(round(x)) for x in np.linspace(0, num_classes - 1, min(count, num_classes))})


def spread(length: int, frames: int) -> np.ndarray:
    """`frames` frame indices spread over a clip of `length`, first and last included."""
    return np.linspace(0, length - 1, min(frames, length)).round().astype(int)


def item_classes(s: SyntheticSet) -> torch.Tensor:
    """The class each item was distilled for. Soft labels (OptDistill's regions, TSGF's teacher softmax, FRePo's
    learned labels) need not peak at it, but every method stores its items class-major with the same count per class,
    so the position says it; a set not divisible by the classes falls back to the arg-max."""
    if not s.soft_labels:
        return s.labels
    n = len(s)
    if n % s.num_classes == 0:
        return torch.arange(n) * s.num_classes // n
    return s.labels.argmax(1)


def distilled_frames(s: SyntheticSet, label: int, frames: int) -> np.ndarray | None:
    """(frames, H, W, 3) floats in [0, 1] of the first item of class `label` as a student sees it (the expansion's
    deterministic draw), or None when the set holds no item of that class."""
    items = torch.nonzero(item_classes(s) == label).flatten()
    if len(items) == 0:
        return None
    with torch.no_grad():
        video = denormalize(s.videos(items[:1]).float())[0]  # (T, 3, H, W)
    return video[torch.from_numpy(spread(video.shape[0], frames))].permute(0, 2, 3, 1).numpy()


def real_frames(store: ClipStore, label: int, frames: int) -> np.ndarray | None:
    """The centre clip of the first training video of class `label`, as (frames, H, W, 3) floats in [0, 1]."""
    videos = store.indices_of_class(label)
    if len(videos) == 0:
        return None
    clip = store.clip_uint8(int(videos[0]))
    return clip[spread(len(clip), frames)].astype(np.float32) / 255.0


Row = tuple[str, Sequence[np.ndarray | None]]  # (row label, one frame array per class, None where missing)


def plot_strip(rows: Sequence[Row], class_names: Sequence[str], path: str | Path, title: str = "") -> None:
    """A grid: one row per method (the real clip first), per class a block of frames; a class a method has no
    item of is left blank and marked."""
    plt = pyplot()
    frames = max((len(f) for _, per_class in rows for f in per_class if f is not None), default=1)
    cols = len(class_names) * frames
    fig, axes = plt.subplots(len(rows), cols, figsize=(0.75 * cols + 1.8, 0.8 * len(rows) + 0.6), squeeze=False)
    for r, (label, per_class) in enumerate(rows):
        for c, clip in enumerate(per_class):
            for f in range(frames):
                ax = axes[r, c * frames + f]
                ax.set_xticks([])
                ax.set_yticks([])
                if clip is not None and f < len(clip):
                    ax.imshow(np.clip(clip[f], 0, 1), interpolation="nearest")
                elif f == 0:
                    ax.text(0.5, 0.5, "none", ha="center", va="center", fontsize=6, transform=ax.transAxes)
                if r == 0 and f == 0:
                    ax.set_title(class_names[c], fontsize=7, loc="left")
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    save_figure(fig, path, dpi=100)
