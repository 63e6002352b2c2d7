"""Writing the dataset: the UCF101 layout (videos, class index, train/test lists with the groups kept apart),
`boxes.parquet`, `classes.csv` and the `DONE` marker, built beside the root and renamed onto it (atomic)."""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from vidstill.data.synthetic.classes import CLASS_SPECS, DEFAULT_CLASSES, GENERATOR_VERSION
from vidstill.data.synthetic.plan import plan_clip, video_id
from vidstill.data.synthetic.realism import DEFAULT_REALISM, Realism
from vidstill.data.synthetic.render import group_background, render_clip


def _write_avi(path: Path, frames: np.ndarray, fps: float, quality: int) -> None:
    h, w = frames.shape[1:3]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    if not writer.isOpened():
        raise OSError(f"cv2.VideoWriter cannot write MJPG to {path}")
    writer.set(cv2.VIDEOWRITER_PROP_QUALITY, quality)
    for frame in frames:
        writer.write(frame)
    writer.release()


def split_test_groups(groups: int, test_groups: int, splits: int = 3) -> list[list[int]]:
    """Test groups (1-based) of each split: split k tests the k-th block of `test_groups` groups, like UCF101
    (g01-g07, g08-g14, g15-g21). Blocks wrap around when 3 * test_groups > groups."""
    return [[(k * test_groups + i) % groups + 1 for i in range(test_groups)] for k in range(splits)]


def _check_args(
    classes: Sequence[str],
    groups: int,
    clips_per_group: int,
    test_groups: int,
    min_frames: int,
    max_frames: int,
    width: int,
    height: int,
    fps: float,
    seed: int,
) -> list[str]:
    if isinstance(classes, str):
        raise ValueError(f"classes must be a sequence of class names, not the string {classes!r}")
    names = list(classes)
    if not names:
        raise ValueError("classes is empty")
    unknown = [c for c in names if c not in CLASS_SPECS]
    if unknown:
        raise ValueError(f"classes: unknown class name(s) {unknown}; known: {sorted(CLASS_SPECS)}")
    dup = sorted({c for c in names if names.count(c) > 1})
    if dup:
        raise ValueError(f"classes: duplicated class name(s) {dup}")
    for key, value, low, high in (
        ("groups", groups, 2, 99),
        ("clips_per_group", clips_per_group, 1, 99),
        ("test_groups", test_groups, 1, 98),
        ("min_frames", min_frames, 2, None),
        ("width", width, 16, None),
        ("height", height, 16, None),
        ("seed", seed, 0, None),
    ):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
            raise ValueError(f"{key} must be an integer, got {value!r}")
        if value < low or (high is not None and value > high):
            raise ValueError(f"{key} must be in [{low}, {high if high is not None else 'inf'}], got {value!r}")
    if test_groups >= groups:
        raise ValueError(f"test_groups ({test_groups}) must be < groups ({groups}): no train group would be left")
    if not isinstance(max_frames, (int, np.integer)) or max_frames < min_frames:
        raise ValueError(f"max_frames ({max_frames!r}) must be an integer >= min_frames ({min_frames})")
    if width < height:
        raise ValueError(f"width ({width}) must be >= height ({height}): the actor lives in the central square")
    if not (isinstance(fps, (int, float)) and math.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be a positive number, got {fps!r}")
    return names


def generate_synthetic(
    root: str | Path,
    *,
    classes: Sequence[str] = DEFAULT_CLASSES,
    groups: int = 10,
    clips_per_group: int = 3,
    test_groups: int = 3,
    min_frames: int = 32,
    max_frames: int = 96,
    width: int = 64,
    height: int = 48,
    fps: float = 25.0,
    seed: int = 0,
    realism: Realism = DEFAULT_REALISM,
) -> None:
    """Write the benchmark under `root` in the UCF101 layout (plus boxes.parquet, classes.csv and DONE).

    The whole tree is built in `<root>.tmp-*` and renamed onto `root` after `DONE` is written, so `root` is either
    absent, complete, or the previous complete version. An existing `root` is replaced only if it holds no files or
    is a previous output of this generator (has `DONE`); anything else is refused rather than deleted.
    """
    names = _check_args(classes, groups, clips_per_group, test_groups, min_frames, max_frames, width, height, fps, seed)
    realism.validate()
    root = Path(root)
    _check_replaceable(root)
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"{root.name}.tmp-", dir=root.parent))
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)
        _build(
            tmp,
            sorted(names),
            groups,
            clips_per_group,
            test_groups,
            min_frames,
            max_frames,
            width,
            height,
            fps,
            seed,
            realism,
        )
        done = {
            "generator": "vidstill.data.synthetic",
            "version": GENERATOR_VERSION,
            "classes": sorted(names),
            "groups": groups,
            "clips_per_group": clips_per_group,
            "test_groups": test_groups,
            "min_frames": min_frames,
            "max_frames": max_frames,
            "width": width,
            "height": height,
            "fps": fps,
            "seed": seed,
            "realism": asdict(realism),
        }
        (tmp / "DONE").write_text(json.dumps(done, indent=2, sort_keys=True) + "\n")
        _replace_dir(tmp, root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _build(
    out: Path,
    classes: list[str],
    groups: int,
    clips_per_group: int,
    test_groups: int,
    min_frames: int,
    max_frames: int,
    width: int,
    height: int,
    fps: float,
    seed: int,
    realism: Realism,
) -> None:
    video_root = out / "UCF-101"
    rows: list[pd.DataFrame] = []
    for name in classes:
        (video_root / name).mkdir(parents=True)
        for g in range(1, groups + 1):
            bg = group_background(name, g, seed=seed, width=width, height=height, realism=realism)
            for c in range(1, clips_per_group + 1):
                plan = plan_clip(
                    name,
                    g,
                    c,
                    seed=seed,
                    min_frames=min_frames,
                    max_frames=max_frames,
                    width=width,
                    height=height,
                    realism=realism,
                )
                _write_avi(video_root / name / f"{plan.id}.avi", render_clip(plan, bg), fps, realism.quality)
                box, visible = plan.boxes()
                rows.append(
                    pd.DataFrame(
                        {
                            "id": plan.id,
                            "frame": np.arange(plan.n_frames, dtype=np.int32),
                            "x1": box[:, 0].astype(np.float32),
                            "y1": box[:, 1].astype(np.float32),
                            "x2": box[:, 2].astype(np.float32),
                            "y2": box[:, 3].astype(np.float32),
                            "visible": visible,
                        }
                    )
                )
    pd.concat(rows, ignore_index=True).to_parquet(out / "boxes.parquet", index=False)
    pd.DataFrame(
        {
            "class": classes,
            "kind": [CLASS_SPECS[c].kind for c in classes],
            "description": [CLASS_SPECS[c].description for c in classes],
        }
    ).to_csv(out / "classes.csv", index=False)
    lists = out / "ucfTrainTestlist"
    lists.mkdir()
    crlf = "\r\n"
    (lists / "classInd.txt").write_bytes("".join(f"{i} {c}{crlf}" for i, c in enumerate(classes, 1)).encode())
    for k, tests in enumerate(split_test_groups(groups, test_groups), 1):
        train, test = [], []
        for label, name in enumerate(classes, 1):
            for g in range(1, groups + 1):
                for c in range(1, clips_per_group + 1):
                    rel = f"{name}/{video_id(name, g, c)}.avi"
                    (test.append(f"{rel}{crlf}") if g in tests else train.append(f"{rel} {label}{crlf}"))
        (lists / f"trainlist{k:02d}.txt").write_bytes("".join(train).encode())
        (lists / f"testlist{k:02d}.txt").write_bytes("".join(test).encode())


def _is_ours_or_empty(root: Path) -> bool:
    if (root / "DONE").is_file() and (root / "UCF-101").is_dir():
        try:
            return json.loads((root / "DONE").read_text()).get("generator") == "vidstill.data.synthetic"
        except (OSError, ValueError):
            return False
    return not any(p.is_file() or p.is_symlink() for p in root.rglob("*"))


def _check_replaceable(root: Path) -> None:
    if root.is_symlink() or (root.exists() and not root.is_dir()):
        raise FileExistsError(f"{root} exists and is not a directory this generator wrote; refusing to replace it")
    if root.is_dir() and not _is_ours_or_empty(root):
        raise FileExistsError(f"{root} holds files that this generator did not write (no DONE); refusing to delete")


def _replace_dir(tmp: Path, root: Path) -> None:
    _check_replaceable(root)
    if not root.exists():
        os.rename(tmp, root)
        return
    old = Path(tempfile.mkdtemp(prefix=f"{root.name}.old-", dir=root.parent))
    os.rename(root, old / "x")
    os.rename(tmp, root)
    shutil.rmtree(old, ignore_errors=True)
