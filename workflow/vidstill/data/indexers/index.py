"""The public steps: `check_layout` and `read_layout` dispatch to the layout readers, `build_index` adds probing, the
min-frames rule, the skipped-video log and the per-class sanity checks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from vidstill.data import INDEX_COLUMNS, DatasetLayoutError
from vidstill.data.indexers.common import LAYOUT_DOCS, SPLITS, Layout, check_layout_name, log
from vidstill.data.indexers.hmdb51 import parse_hmdb51, read_hmdb51
from vidstill.data.indexers.kinetics400 import parse_kinetics400, read_kinetics400
from vidstill.data.indexers.probe import PROBE_COLUMNS, probe_videos
from vidstill.data.indexers.ssv2 import parse_ssv2, read_ssv2
from vidstill.data.indexers.ucf101 import parse_ucf101, read_ucf101


def check_layout(layout: str, root: str | Path, split: int = 1) -> None:
    """Validate a dataset root without decoding a video: the root and the split/annotation files exist and parse.

    Raises DatasetLayoutError naming the missing or malformed path and describing the expected layout, so a bad root
    stops the run at start-up instead of failing hours later inside a job. Missing *videos* are not fatal here: they
    become error rows of the index (`read_layout` / `build_index`)."""
    check_layout_name(layout)
    if layout in ("ucf101", "synthetic"):
        parse_ucf101(layout, root, split)
    elif layout == "hmdb51":
        parse_hmdb51(root, split)
    elif layout == "kinetics400":
        parse_kinetics400(root, split)
    else:
        parse_ssv2(root, split)


def _read(layout: str, root: str | Path, split: int) -> Layout:
    check_layout_name(layout)
    readers: dict[str, Callable[[], Layout]] = {
        "ucf101": lambda: read_ucf101("ucf101", root, split),
        "synthetic": lambda: read_ucf101("synthetic", root, split),
        "hmdb51": lambda: read_hmdb51(root, split),
        "kinetics400": lambda: read_kinetics400(root, split),
        "ssv2": lambda: read_ssv2(root, split),
    }
    found = readers[layout]()
    _warn_straddling_groups(layout, found.rows)
    return found


def _warn_straddling_groups(layout: str, rows: pd.DataFrame) -> None:
    """A group (UCF101: one person/scene of a class) in both train and test leaks test content into training; the
    official splits never do it, so seeing it means a hand-made or damaged split file."""
    sides = rows[rows["split"].isin(["train", "test"])].groupby("group")["split"].nunique()
    leaking = sides.index[sides > 1]
    if len(leaking):
        log.warning(
            "%s: %d group(s) have videos in both train and test, e.g. %s",
            layout,
            len(leaking),
            ", ".join(map(str, leaking[:5])),
        )


def read_layout(layout: str, root: str | Path, split: int = 1) -> pd.DataFrame:
    """The rows of the split/annotation files: id, path (absolute), class, label, split, group, error.

    `error` is "missing file: <path>" for a line naming a video that is not on disk, "" otherwise. No decoding."""
    return _read(layout, root, split).rows


def build_index(
    layout: str, root: str | Path, *, split: int = 1, threads: int = 1, min_frames: int = 1, progress: bool = True
) -> pd.DataFrame:
    """The index table (INDEX_COLUMNS, in order): read_layout, then probe every video that exists.

    Skipped videos stay listed with their reason (DESIGN: skipped videos are listed, never silent) and each gets one
    WARNING line; a class left without a usable train video stops the build, because every later stage would
    silently train a classifier that can never predict it."""
    found = _read(layout, root, split)
    df = found.rows.copy()
    for c in ("frames", "width", "height"):
        df[c] = 0
    df["fps"] = 0.0
    todo = (df["error"] == "").to_numpy()
    if todo.any():
        probed = probe_videos(df.loc[todo, "path"].tolist(), threads=threads, progress=progress)
        for c in PROBE_COLUMNS:
            df.loc[todo, c] = probed[c].to_numpy()
    short = (df["error"] == "") & (df["frames"] < min_frames)
    df.loc[short, "error"] = [f"too short: {n} frames < min_frames {min_frames}" for n in df.loc[short, "frames"]]
    df = _index_dtypes(df[list(INDEX_COLUMNS)])
    _log_skipped(layout, df)
    _check_classes(layout, df, found)
    return df


def _index_dtypes(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    for c in ("label", "frames", "width", "height"):
        df[c] = df[c].astype("int64")
    df["fps"] = df["fps"].astype("float64")
    for c in ("id", "path", "class", "split", "group", "error"):
        df[c] = df[c].astype(str)
    return df.reset_index(drop=True)


def _log_skipped(layout: str, df: pd.DataFrame) -> None:
    """One WARNING per skipped video (file and reason), then one INFO summary of usable / skipped per split."""
    bad = df[df["error"] != ""]
    for path, err in zip(bad["path"], bad["error"]):
        log.warning("%s: skipping %s: %s", layout, path, err)
    parts = []
    for s in SPLITS:
        rows = df[df["split"] == s]
        if len(rows):
            n_bad = int((rows["error"] != "").sum())
            parts.append(f"{s} {len(rows) - n_bad} usable / {n_bad} skipped")
    log.info("%s index: %d videos in %d classes: %s", layout, len(df), df["class"].nunique(), "; ".join(parts))
    if len(bad):
        reasons = bad["error"].map(_reason_kind).value_counts()
        log.warning(
            "%s: %d skipped video(s) by reason: %s", layout, len(bad), ", ".join(f"{r} {n}" for r, n in reasons.items())
        )


def _reason_kind(error: str) -> str:
    """ "missing file: /a/b.avi" → "missing file": the reason without its details, for the summary's counts."""
    return error.split(":", 1)[0].split(" (", 1)[0]


def _check_classes(layout: str, df: pd.DataFrame, found: Layout) -> None:
    usable = df[df["error"] == ""]
    train = set(usable.loc[usable["split"] == "train", "class"])
    test = set(usable.loc[usable["split"] == "test", "class"])
    empty = [c for c in found.classes if c not in train]
    if empty:
        lines = "\n".join(f"  {c!r} (train videos listed in {found.train_source.get(c, '?')})" for c in empty[:20])
        more = f"\n  ... and {len(empty) - 20} more" if len(empty) > 20 else ""
        raise DatasetLayoutError(
            f"{layout}: {len(empty)} class(es) have no usable train video (all missing, unreadable or too short; see "
            f"the warnings above):\n{lines}{more}\n\nExpected layout:\n{LAYOUT_DOCS[layout]}"
        )
    for c in found.classes:
        if c not in test:
            log.warning("%s: class %r has no usable test video; its test accuracy will be undefined", layout, c)
