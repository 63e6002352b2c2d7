"""Previews of an exported set, so a person can look at what was distilled: one animated GIF per class (its items
side by side, every clip frame as a student sees it through the portable view's expansion) and a contact sheet PNG
(one row per class: frames spread over the clip of its first item, through report/strips.py's grid).

GIF through Pillow (installed with matplotlib): browsers show it inline, so the HTML report can embed it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from vidstill.report.strips import item_classes, plot_strip, spread
from vidstill.synthetic_set import SyntheticSet, time_indices

CONTACT_SHEET = "contact_sheet.png"  # report/exports.py links preview/<this>


def item_clips(frames: torch.Tensor, counts: torch.Tensor, clip_frames: int) -> list[np.ndarray]:
    """Each item's clip (T, H, W, 3) uint8 from the portable view (distinct frames repeated in order)."""
    offsets = torch.cumsum(counts, 0) - counts
    return [frames[o : o + n].numpy()[time_indices(n, clip_frames)] for o, n in zip(offsets.tolist(), counts.tolist())]


def file_stem(name: str) -> str:
    """A class name as a safe file name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "class"


def write_gif(clips: Sequence[np.ndarray], path: Path, scale: int = 2, fps: float = 8.0) -> None:
    """Clips of equal shape side by side (2 px gap), scaled up `scale`× (nearest), looping."""
    from PIL import Image

    gap = np.zeros((clips[0].shape[1], 2, 3), np.uint8)
    frames = []
    for t in range(clips[0].shape[0]):
        row = np.concatenate([part for c in clips for part in (c[t], gap)][:-1], axis=1)
        frames.append(Image.fromarray(row.repeat(scale, 0).repeat(scale, 1)))
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=int(1000 / fps), loop=0)


def write_previews(
    frames: torch.Tensor,
    counts: torch.Tensor,
    s: SyntheticSet,
    class_names: list[str] | None,
    out: Path,
    sheet_frames: int = 8,
) -> list[Path]:
    """`out/<class>.gif` for every class with items, and `out/contact_sheet.png`; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    names = class_names or [f"class_{k}" for k in range(s.num_classes)]
    clips = item_clips(frames, counts, s.frames)
    owner = item_classes(s).tolist()
    written, per_class = [], []
    for k, name in enumerate(names):
        mine = [c for c, o in zip(clips, owner) if o == k]
        per_class.append(mine[0][spread(len(mine[0]), sheet_frames)].astype(np.float32) / 255.0 if mine else None)
        if mine:
            path = out / f"{k:03d}_{file_stem(name)}.gif"
            write_gif(mine, path)
            written.append(path)
    method = s.meta.get("instance") or s.meta.get("method") or "set"
    plot_strip(
        [(name, [clip]) for name, clip in zip(names, per_class)],
        [str(method)],
        out / CONTACT_SHEET,
        title=f"{method}: first item of every class, frames spread over the clip",
    )
    return [*written, out / CONTACT_SHEET]
