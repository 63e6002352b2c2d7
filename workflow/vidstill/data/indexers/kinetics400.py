"""Kinetics-400: clips named `<youtube_id>_<start:06d>_<end:06d>.mp4`, flat or in per-label folders depending on
the copy; many clips of the CSVs are missing on disk (YouTube takedowns), which is an error row, not a failure."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from vidstill.data.indexers.common import (
    LAYOUT_DOCS,
    VIDEO_SUFFIXES,
    Layout,
    check_root,
    drop_duplicate_ids,
    find_in,
    layout_error,
    rows_frame,
    single_split,
)

KINETICS400_LAYOUT = """\
Kinetics-400 (official annotation CSVs; clips as the common public copies store them):
  <root>/train.csv and <root>/validate.csv        (or under <root>/annotations/), columns
                                                  label,youtube_id,time_start,time_end,split[,is_cc]
  <root>/train/<youtube_id>_<time_start:06d>_<time_end:06d>.mp4
  <root>/val/...  or  <root>/validate/...         validation clips (used as the test split)
  Clips may lie flat in the split folder or in per-label subfolders (any name): they are found by file name.
  Classes are the CSV labels, sorted (label = position)."""

LAYOUT_DOCS["kinetics400"] = KINETICS400_LAYOUT

_K400_COLUMNS = ("label", "youtube_id", "time_start", "time_end")
_K400_SPLITS = {"train": ("train.csv", ("train",)), "test": ("validate.csv", ("val", "validate", "valid"))}


def _k400_csv(path: Path) -> pd.DataFrame:
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except Exception as e:  # pandas raises several types for a broken CSV; all mean "malformed"
        raise layout_error("kinetics400", f"cannot parse CSV ({e})", path) from e
    missing = [c for c in _K400_COLUMNS if c not in df.columns]
    if missing:
        raise layout_error("kinetics400", f"CSV lacks column(s) {missing} (has {list(df.columns)})", path)
    for col in ("time_start", "time_end"):
        bad = pd.to_numeric(df[col], errors="coerce").isna()
        if bad.any():
            n = int(bad.idxmax()) + 2  # +1 header, +1 one-based
            raise layout_error("kinetics400", f"line {n}: {col} {df[col][bad].iloc[0]!r} is not a number", path)
    return df


def parse_kinetics400(
    root: str | Path, split: int
) -> tuple[Path, dict[str, Path], dict[str, Path], dict[str, pd.DataFrame]]:
    single_split("kinetics400", split)
    root = check_root("kinetics400", root)
    csvs: dict[str, Path] = {}
    dirs: dict[str, Path] = {}
    tables: dict[str, pd.DataFrame] = {}
    for split_name, (csv_name, dir_names) in _K400_SPLITS.items():
        found = find_in(root, [csv_name], ["annotations"])
        if found is None:
            raise layout_error("kinetics400", f"missing annotation file {csv_name}", root / csv_name)
        csvs[split_name] = found
        tables[split_name] = _k400_csv(found)
        cands = [root / d for d in dir_names]
        video_dir = next((d for d in cands if d.is_dir()), None)
        if video_dir is None:
            raise layout_error("kinetics400", f"missing {split_name} clip folder", " or ".join(map(str, cands)))
        dirs[split_name] = video_dir
    return root, csvs, dirs, tables


def _video_files_below(directory: Path) -> dict[str, Path]:
    """stem → path of every video file below `directory`, flat or in subfolders (copies differ); first one wins."""
    found: dict[str, Path] = {}
    for dirpath, dirnames, filenames in os.walk(directory, followlinks=True):
        dirnames.sort()
        for name in sorted(filenames):
            if name.lower().endswith(VIDEO_SUFFIXES) and not name.startswith("."):
                found.setdefault(os.path.splitext(name)[0], Path(dirpath) / name)
    return found


def _k400_stem(youtube_id: str, start: str, end: str) -> str:
    return f"{youtube_id}_{int(float(start)):06d}_{int(float(end)):06d}"


def read_kinetics400(root: str | Path, split: int) -> Layout:
    root, csvs, dirs, tables = parse_kinetics400(root, split)
    classes = sorted(set(tables["train"]["label"]) | set(tables["test"]["label"]))
    index = {c: i for i, c in enumerate(classes)}
    records = []
    for split_name, table in tables.items():
        on_disk = _video_files_below(dirs[split_name])
        for label, yid, start, end in zip(table["label"], table["youtube_id"], table["time_start"], table["time_end"]):
            stem = _k400_stem(yid, start, end)
            expected = dirs[split_name] / f"{stem}.mp4"  # where a missing clip is reported (flat copies)
            path = on_disk.get(stem)
            records.append(
                {
                    "id": stem,
                    "path": str(path or expected),
                    "class": label,
                    "label": index[label],
                    "split": split_name,
                    "group": stem,
                    "error": "" if path else f"missing file: {expected}",
                }
            )
    df = drop_duplicate_ids(rows_frame(records), f"{csvs['train']} + {csvs['test']}")
    return Layout(df, classes, {c: str(csvs["train"]) for c in classes})
