"""What every layout reader shares: the layout names, the reader's result (`Layout`), the errors that quote the
expected layout, and the small readers of split files and folders."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from vidstill.data import DatasetLayoutError

log = logging.getLogger("vidstill.data")

LAYOUTS = ("ucf101", "hmdb51", "kinetics400", "ssv2", "synthetic")  # synthetic = the UCF101 layout, generated

SPLITS = ("train", "test", "unused")  # row order of the tables: train first, then test, then HMDB51's unused
VIDEO_SUFFIXES = (".avi", ".mp4", ".webm", ".mkv", ".mov", ".m4v", ".flv", ".mpg", ".mpeg")

# The expected layout of each dataset, quoted by every DatasetLayoutError so the user sees what to fix without reading
# code. Each layout module adds its own (ucf101.py, hmdb51.py, kinetics400.py, ssv2.py); the package imports them all.
LAYOUT_DOCS: dict[str, str] = {}

Pairs = list[tuple[str, str]]  # parsed split lines: (class folder, file name) or (video, split name) or (id, class)


@dataclass
class Layout:
    """What a layout reader found: the split rows, the class list in label order, and for each class the file
    that lists its train videos (so "no usable train video" can name the file the user should look at)."""

    rows: pd.DataFrame
    classes: list[str]
    train_source: dict[str, str] = field(default_factory=dict)


def layout_error(layout: str, problem: str, path: str | Path) -> DatasetLayoutError:
    """An error that names the offending path and quotes the expected layout of the dataset."""
    return DatasetLayoutError(f"{layout}: {problem}: {path}\n\nExpected layout:\n{LAYOUT_DOCS[layout]}")


def check_layout_name(layout: str) -> None:
    if layout not in LAYOUTS:
        raise ValueError(f"unknown dataset layout {layout!r}; known layouts: {', '.join(LAYOUTS)}")


def check_root(layout: str, root: str | Path) -> Path:
    """The root as an absolute path *without* resolving symlinks: users link datasets under resources/datasets/,
    and the index should name the paths they configured."""
    root = Path(os.path.abspath(Path(root).expanduser()))
    if not root.is_dir():
        raise layout_error(layout, "dataset root does not exist or is not a directory", root)
    return root


def require_file(layout: str, path: Path, what: str) -> Path:
    if not path.is_file():
        raise layout_error(layout, f"missing {what}", path)
    return path


def read_lines(layout: str, path: Path) -> list[tuple[int, str]]:
    """(line number, stripped text) of the non-blank lines: CRLF, trailing spaces and a BOM are release quirks."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise layout_error(layout, f"not a UTF-8 text file ({e.reason})", path) from e
    return [(n, line.strip()) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]


def list_files(directory: Path) -> set[str]:
    """Names of the files in one folder (one scandir instead of one stat per split line)."""
    try:
        with os.scandir(directory) as it:
            return {e.name for e in it if e.is_file()}
    except (FileNotFoundError, NotADirectoryError):
        return set()


def rows_frame(records: list[dict[str, object]]) -> pd.DataFrame:
    """The read_layout table: fixed columns and dtypes, ordered train → test → unused, then label, then id."""
    cols = ["id", "path", "class", "label", "split", "group", "error"]
    df = pd.DataFrame.from_records(records, columns=cols)
    df["label"] = df["label"].astype("int64")
    for c in ("id", "path", "class", "split", "group", "error"):
        df[c] = df[c].astype(str)
    order = df["split"].map({s: i for i, s in enumerate(SPLITS)})
    df = df.assign(_o=order).sort_values(["_o", "label", "id"], kind="stable").drop(columns="_o")
    return df.reset_index(drop=True)


def missing_error(path: Path, present: set[str] | None = None) -> str:
    """The error of a split line: "" when its video exists, else "missing file: <path>"."""
    exists = path.name in present if present is not None else path.is_file()
    return "" if exists else f"missing file: {path}"


def check_unique_ids(layout: str, df: pd.DataFrame, source: str | Path) -> None:
    """UCF101/HMDB51 split files list each video once; a repeat (e.g. in train and test) is a leak, not a quirk."""
    dup = df["id"][df["id"].duplicated()]
    if len(dup):
        raise layout_error(layout, f"video(s) listed more than once, e.g. {sorted(set(dup))[:5]}", source)


def drop_duplicate_ids(df: pd.DataFrame, source: str) -> pd.DataFrame:
    """Large crowd-sourced annotation files can repeat an entry; keep the first and say so."""
    dup = df["id"].duplicated()
    if dup.any():
        log.warning(
            "%d duplicate video id(s) in %s, keeping the first of each: %s",
            int(dup.sum()),
            source,
            ", ".join(df["id"][dup].head(5)),
        )
    return df[~dup].reset_index(drop=True)


def single_split(layout: str, split: int) -> None:
    if split != 1:
        raise ValueError(f"{layout} has one official train/validation split; split must be 1, got {split}")


def find_in(root: Path, names: Sequence[str], subdirs: Sequence[str]) -> Path | None:
    """The first existing file of `names` in root or one of its `subdirs` (annotations may sit in either)."""
    for d in ("", *subdirs):
        for n in names:
            cand = root / d / n if d else root / n
            if cand.is_file():
                return cand
    return None
