"""UCF101, and the synthetic dataset, which the pipeline writes in the same layout (`layout: synthetic` is read by
the same code; only the name in its messages differs)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd

from vidstill.data.indexers.common import (
    LAYOUT_DOCS,
    VIDEO_SUFFIXES,
    Layout,
    Pairs,
    check_root,
    check_unique_ids,
    layout_error,
    list_files,
    log,
    missing_error,
    read_lines,
    require_file,
    rows_frame,
)

UCF101_LAYOUT = """\
UCF101 (as UCF101.rar and UCF101TrainTestSplits-RecognitionTask.zip unpack; the synthetic dataset uses the same):
  <root>/UCF-101/<Class>/v_<Class>_gNN_cNN.avi
  <root>/ucfTrainTestlist/classInd.txt            lines "<id> <Class>", ids 1..K (label = id - 1)
  <root>/ucfTrainTestlist/trainlist0{1,2,3}.txt   lines "<Class>/v_<Class>_gNN_cNN.avi <id>"
  <root>/ucfTrainTestlist/testlist0{1,2,3}.txt    lines "<Class>/v_<Class>_gNN_cNN.avi"
  (CRLF or LF line endings; the class is the folder name, so HandstandPushups/v_HandStandPushups_* is fine)"""

LAYOUT_DOCS.update(ucf101=UCF101_LAYOUT, synthetic=UCF101_LAYOUT)

_UCF_GROUP = re.compile(r"_g(\d+)_c(\d+)$")


def _ucf_paths(root: Path, split: int) -> tuple[Path, Path, Path, Path]:
    lists = root / "ucfTrainTestlist"
    return root / "UCF-101", lists / "classInd.txt", lists / f"trainlist0{split}.txt", lists / f"testlist0{split}.txt"


def _ucf_class_ind(layout: str, path: Path) -> list[str]:
    """classInd.txt → class names in label order; ids must be 1..K, each once."""
    by_id: dict[int, str] = {}
    for n, line in read_lines(layout, path):
        parts = line.split()
        if len(parts) != 2 or not parts[0].isdigit():
            raise layout_error(layout, f"malformed line {n} {line!r} (expected '<id> <Class>')", path)
        cid = int(parts[0])
        if cid in by_id or parts[1] in by_id.values():
            raise layout_error(layout, f"line {n} {line!r} repeats a class id or name", path)
        by_id[cid] = parts[1]
    if not by_id:
        raise layout_error(layout, "no classes in", path)
    if sorted(by_id) != list(range(1, len(by_id) + 1)):
        raise layout_error(layout, f"class ids are not 1..{len(by_id)}", path)
    return [by_id[i] for i in range(1, len(by_id) + 1)]


def _ucf_list(layout: str, path: Path, classes: list[str], labelled: bool) -> list[tuple[str, str]]:
    """A train/test list → (class folder, file name) pairs; a train line's label must agree with classInd."""
    index = {c: i for i, c in enumerate(classes)}
    out: list[tuple[str, str]] = []
    for n, line in read_lines(layout, path):
        parts = line.split()
        ok = len(parts) == 2 if labelled else len(parts) in (1, 2)  # a test line may carry the id too; checked below
        rel = parts[0] if parts else ""
        folder, _, name = rel.partition("/")
        if not ok or not folder or not name or "/" in name:
            form = "'<Class>/<video>.avi <id>'" if labelled else "'<Class>/<video>.avi'"
            raise layout_error(layout, f"malformed line {n} {line!r} (expected {form})", path)
        if folder not in index:
            raise layout_error(layout, f"line {n}: class folder {folder!r} is not in classInd.txt", path)
        if len(parts) == 2:
            if not parts[1].isdigit() or int(parts[1]) != index[folder] + 1:
                expected = f"{folder} = {index[folder] + 1}"
                raise layout_error(
                    layout, f"line {n}: label {parts[1]!r} disagrees with classInd.txt ({expected})", path
                )
        out.append((folder, name))
    return out


def parse_ucf101(
    layout: str, root: str | Path, split: int
) -> tuple[Path, list[str], dict[str, Pairs], dict[str, Path]]:
    """Everything check_layout validates for UCF101: root, video folder, the three split files and their lines."""
    if split not in (1, 2, 3):
        raise ValueError(f"{layout}: split must be 1, 2 or 3, got {split}")
    root = check_root(layout, root)
    videos, class_ind, train, test = _ucf_paths(root, split)
    if not videos.is_dir():
        raise layout_error(layout, "missing video folder", videos)
    classes = _ucf_class_ind(layout, require_file(layout, class_ind, "class index"))
    lists = {
        "train": _ucf_list(layout, require_file(layout, train, f"split {split} train list"), classes, True),
        "test": _ucf_list(layout, require_file(layout, test, f"split {split} test list"), classes, False),
    }
    return videos, classes, lists, {"train": train, "test": test}


def read_ucf101(layout: str, root: str | Path, split: int) -> Layout:
    videos, classes, lists, files = parse_ucf101(layout, root, split)
    index = {c: i for i, c in enumerate(classes)}
    present: dict[str, set[str]] = {}
    records: list[dict[str, object]] = []
    for split_name, entries in lists.items():
        for folder, name in entries:
            if folder not in present:
                present[folder] = list_files(videos / folder)
            path = videos / folder / name
            stem = Path(name).stem
            m = _UCF_GROUP.search(stem)
            records.append(
                {
                    "id": stem,
                    "path": str(path),
                    "class": folder,
                    "label": index[folder],
                    "split": split_name,
                    # groups are per class: g08 of ApplyEyeMakeup and g08 of Archery are different people/scenes
                    "group": f"{folder}_g{m.group(1)}" if m else stem,
                    "error": missing_error(path, present[folder]),
                }
            )
    df = rows_frame(records)
    check_unique_ids(layout, df, f"{files['train']} + {files['test']}")
    _log_unlisted_ucf(videos, present, df)
    return Layout(df, classes, {c: str(files["train"]) for c in classes})


def _log_unlisted_ucf(videos: Path, present: dict[str, set[str]], df: pd.DataFrame) -> None:
    """Videos on disk in neither list of this split are ignored (a split is a selection); count them for debugging."""
    listed = set(zip(df["class"], df["path"].map(lambda p: Path(p).name)))
    on_disk = 0
    unlisted = 0
    with os.scandir(videos) as it:
        for entry in it:
            if not entry.is_dir():
                continue
            names = present.get(entry.name)
            if names is None:
                names = list_files(Path(entry.path))
            for name in names:
                if name.lower().endswith(VIDEO_SUFFIXES):
                    on_disk += 1
                    unlisted += (entry.name, name) not in listed
    log.debug("%s: %d video files on disk, %d in neither list of this split (ignored)", videos, on_disk, unlisted)
