"""HMDB51: one split file per class and split number, `<video>.avi <0|1|2> ` with a trailing space; 0 = unused."""

from __future__ import annotations

import re
from pathlib import Path

from vidstill.data.indexers.common import (
    LAYOUT_DOCS,
    VIDEO_SUFFIXES,
    Layout,
    Pairs,
    check_root,
    check_unique_ids,
    layout_error,
    list_files,
    missing_error,
    read_lines,
    require_file,
    rows_frame,
)

HMDB51_LAYOUT = """\
HMDB51 (as hmdb51_org.rar's per-class archives and test_train_splits.rar unpack):
  <root>/<class>/<video>.avi                      one folder per class, e.g. <root>/brush_hair/...avi
  <class>_test_split{1,2,3}.txt                   lines "<video>.avi <0|1|2>" (1 train, 2 test, 0 unused),
                                                  one file per class and split, in either
    <root>/testTrainMulti_7030_splits/            (split folder inside the video root) or
    <root>/../testTrainMulti_7030_splits/         (split folder beside the video root)
  Classes are the split files' <class> names, sorted (label = position)."""

LAYOUT_DOCS["hmdb51"] = HMDB51_LAYOUT

_HMDB_SPLIT_DIR = "testTrainMulti_7030_splits"
_HMDB_SPLIT_FILE = re.compile(r"^(?P<cls>.+)_test_split(?P<n>[123])\.txt$")
_HMDB_CODES = {"1": "train", "2": "test", "0": "unused"}


def _hmdb_split_dir(root: Path) -> Path:
    """Inside the root, or beside it (beside the link the user made, or beside the folder it points to)."""
    for cand in (root / _HMDB_SPLIT_DIR, root.parent / _HMDB_SPLIT_DIR, root.resolve().parent / _HMDB_SPLIT_DIR):
        if cand.is_dir():
            return cand
    raise layout_error("hmdb51", "split folder not found (looked inside and beside the root)", root / _HMDB_SPLIT_DIR)


def parse_hmdb51(root: str | Path, split: int) -> tuple[Path, list[str], dict[str, Path], dict[str, Pairs]]:
    """Root, sorted classes, each class's split file and its (video, split name) lines, all validated."""
    if split not in (1, 2, 3):
        raise ValueError(f"hmdb51: split must be 1, 2 or 3, got {split}")
    root = check_root("hmdb51", root)
    split_dir = _hmdb_split_dir(root)
    by_class: dict[str, set[int]] = {}
    for name in list_files(split_dir):
        m = _HMDB_SPLIT_FILE.match(name)
        if m:
            by_class.setdefault(m["cls"], set()).add(int(m["n"]))
    if not by_class:
        raise layout_error("hmdb51", "no <class>_test_split<N>.txt files in", split_dir)
    classes = sorted(by_class)
    files = {c: split_dir / f"{c}_test_split{split}.txt" for c in classes}
    lines: dict[str, list[tuple[str, str]]] = {}
    for c in classes:
        path = require_file("hmdb51", files[c], f"split {split} file of class {c!r}")
        entries = []
        for n, line in read_lines("hmdb51", path):
            parts = line.rsplit(None, 1)
            if len(parts) != 2 or parts[1] not in _HMDB_CODES or not parts[0].lower().endswith(VIDEO_SUFFIXES):
                raise layout_error("hmdb51", f"malformed line {n} {line!r} (expected '<video>.avi <0|1|2>')", path)
            entries.append((parts[0], _HMDB_CODES[parts[1]]))
        lines[c] = entries
    return root, classes, files, lines


def read_hmdb51(root: str | Path, split: int) -> Layout:
    root, classes, files, lines = parse_hmdb51(root, split)
    records: list[dict[str, object]] = []
    for label, c in enumerate(classes):
        present = list_files(root / c)
        for name, split_name in lines[c]:
            path = root / c / name
            stem = Path(name).stem
            records.append(
                {
                    "id": stem,
                    "path": str(path),
                    "class": c,
                    "label": label,
                    "split": split_name,
                    "group": stem,
                    "error": missing_error(path, present),
                }
            )
    df = rows_frame(records)
    check_unique_ids("hmdb51", df, files[classes[0]].parent)
    return Layout(df, classes, {c: str(files[c]) for c in classes})
