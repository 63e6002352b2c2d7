"""A picture of the classes: one row of frames per class."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd


def write_class_strip(
    root: str | Path, out_png: str | Path, *, frames: int = 8, classes: Sequence[str] | None = None
) -> None:
    """One row per class: `frames` frames spread over the class's first video, labelled with name and kind, so a
    person sees at a glance what separates the classes (and that the motion classes look alike frame by frame)."""
    import decord
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    root = Path(root)
    if frames < 1:
        raise ValueError(f"frames must be >= 1, got {frames!r}")
    table = pd.read_csv(root / "classes.csv")
    kinds = dict(zip(table["class"], table["kind"], strict=True))
    names = list(table["class"]) if classes is None else list(classes)
    unknown = [c for c in names if c not in kinds]
    if unknown:
        raise ValueError(f"classes: {unknown} not in {root / 'classes.csv'}")
    fig, axes = plt.subplots(len(names), frames, figsize=(1.1 * frames + 1.6, 0.95 * len(names) + 0.3), squeeze=False)
    for row, name in enumerate(names):
        video = sorted((root / "UCF-101" / name).glob(f"v_{name}_g*_c*.avi"))[0]
        vr = decord.VideoReader(str(video))
        idx = np.linspace(0, len(vr) - 1, frames).round().astype(int)
        imgs = vr.get_batch(list(idx)).asnumpy()  # RGB
        for col in range(frames):
            ax = axes[row, col]
            ax.imshow(imgs[col], interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(f"t={idx[col]}", fontsize=7)
        axes[row, 0].set_ylabel(f"{name}\n({kinds[name]})", rotation=0, ha="right", va="center", fontsize=7)
    fig.tight_layout()
    out_png = Path(out_png)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out_png.name}.", suffix=".png", dir=out_png.parent)
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=110)
        os.replace(tmp, out_png)
    finally:
        plt.close(fig)
        Path(tmp).unlink(missing_ok=True)
