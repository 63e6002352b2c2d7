"""Indexers: read each real dataset's original on-disk layout into the one index table of DESIGN.md.

The pipeline promises that a user who symlinks UCF101 / HMDB51 / Kinetics-400 / SSv2 under `resources/datasets/`
*as the official releases unpack* gets the papers' tables. So every layout is read from its official split or
annotation files (never from a re-packed CSV of our own), with the releases' quirks handled here, once:

- UCF101: CRLF split files; the `HandstandPushups` folder whose files are named `v_HandStandPushups_*` (the class is
  taken from the folder, never from the file name); test lists without labels; groups `gNN` are per class.
- HMDB51: one split file per class and split number, `<video>.avi <0|1|2> ` with a trailing space; 0 = unused.
- Kinetics-400: clips named `<youtube_id>_<start:06d>_<end:06d>.mp4`, flat or in per-label folders depending on the
  copy; many clips of the CSVs are missing on disk (YouTube takedowns), which is an error row, not a failure.
- SSv2: the class is the *template* with its brackets removed, numbered by the labels JSON.

Three steps, each usable alone:
`check_layout` (cheap, no decoding; the Snakefile calls it at start-up so a bad root stops the run before any job),
`read_layout` (the split rows, with "missing file" errors), `probe_videos` (decord metadata, never raises) and
`build_index` (all of it, plus the min-frames rule, the skipped-video log and the per-class sanity checks).
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from vidstill.data import INDEX_COLUMNS, DatasetLayoutError

log = logging.getLogger("vidstill.data")

LAYOUTS = ("ucf101", "hmdb51", "kinetics400", "ssv2", "synthetic")  # synthetic = the UCF101 layout, generated

SPLITS = ("train", "test", "unused")  # row order of the tables: train first, then test, then HMDB51's unused
VIDEO_SUFFIXES = (".avi", ".mp4", ".webm", ".mkv", ".mov", ".m4v", ".flv", ".mpg", ".mpeg")

# The expected layouts, quoted by every DatasetLayoutError so the user sees what to fix without reading code.
UCF101_LAYOUT = """\
UCF101 (as UCF101.rar and UCF101TrainTestSplits-RecognitionTask.zip unpack; the synthetic dataset uses the same):
  <root>/UCF-101/<Class>/v_<Class>_gNN_cNN.avi
  <root>/ucfTrainTestlist/classInd.txt            lines "<id> <Class>", ids 1..K (label = id - 1)
  <root>/ucfTrainTestlist/trainlist0{1,2,3}.txt   lines "<Class>/v_<Class>_gNN_cNN.avi <id>"
  <root>/ucfTrainTestlist/testlist0{1,2,3}.txt    lines "<Class>/v_<Class>_gNN_cNN.avi"
  (CRLF or LF line endings; the class is the folder name, so HandstandPushups/v_HandStandPushups_* is fine)"""

HMDB51_LAYOUT = """\
HMDB51 (as hmdb51_org.rar's per-class archives and test_train_splits.rar unpack):
  <root>/<class>/<video>.avi                      one folder per class, e.g. <root>/brush_hair/...avi
  <class>_test_split{1,2,3}.txt                   lines "<video>.avi <0|1|2>" (1 train, 2 test, 0 unused),
                                                  one file per class and split, in either
    <root>/testTrainMulti_7030_splits/            (split folder inside the video root) or
    <root>/../testTrainMulti_7030_splits/         (split folder beside the video root)
  Classes are the split files' <class> names, sorted (label = position)."""

KINETICS400_LAYOUT = """\
Kinetics-400 (official annotation CSVs; clips as the common public copies store them):
  <root>/train.csv and <root>/validate.csv        (or under <root>/annotations/), columns
                                                  label,youtube_id,time_start,time_end,split[,is_cc]
  <root>/train/<youtube_id>_<time_start:06d>_<time_end:06d>.mp4
  <root>/val/...  or  <root>/validate/...         validation clips (used as the test split)
  Clips may lie flat in the split folder or in per-label subfolders (any name): they are found by file name.
  Classes are the CSV labels, sorted (label = position)."""

SSV2_LAYOUT = """\
Something-Something-V2 (official JSON annotations and webm videos):
  <root>/something-something-v2-train.json        [{"id": "78687", "template": "Holding [something] ...", ...}]
  <root>/something-something-v2-validation.json   (validation is used as the test split)
  <root>/something-something-v2-labels.json       {"Holding something next to something": "<label id>", ...}
    (the three files in <root>, <root>/annotations/ or <root>/labels/; the short names train.json,
     validation.json, labels.json of the newer download are accepted too)
  <id>.webm in <root>/20bn-something-something-v2/, <root>/videos/ or <root>/ itself
  Class = template with "[" and "]" removed; label from the labels JSON."""

LAYOUT_DOCS = {
    "ucf101": UCF101_LAYOUT,
    "synthetic": UCF101_LAYOUT,
    "hmdb51": HMDB51_LAYOUT,
    "kinetics400": KINETICS400_LAYOUT,
    "ssv2": SSV2_LAYOUT,
}


# --------------------------------------------------------------------------------------------------------------------
# shared helpers

_Pairs = list[tuple[str, str]]  # parsed split lines: (class folder, file name) or (video, split name) or (id, class)


@dataclass
class _Layout:
    """What a layout reader found: the split rows, the class list in label order, and for each class the file
    that lists its train videos (so "no usable train video" can name the file the user should look at)."""

    rows: pd.DataFrame
    classes: list[str]
    train_source: dict[str, str] = field(default_factory=dict)


def _layout_error(layout: str, problem: str, path: str | Path) -> DatasetLayoutError:
    """An error that names the offending path and quotes the expected layout of the dataset."""
    return DatasetLayoutError(f"{layout}: {problem}: {path}\n\nExpected layout:\n{LAYOUT_DOCS[layout]}")


def _check_layout_name(layout: str) -> None:
    if layout not in LAYOUTS:
        raise ValueError(f"unknown dataset layout {layout!r}; known layouts: {', '.join(LAYOUTS)}")


def _check_root(layout: str, root: str | Path) -> Path:
    """The root as an absolute path *without* resolving symlinks: users link datasets under resources/datasets/,
    and the index should name the paths they configured."""
    root = Path(os.path.abspath(Path(root).expanduser()))
    if not root.is_dir():
        raise _layout_error(layout, "dataset root does not exist or is not a directory", root)
    return root


def _require_file(layout: str, path: Path, what: str) -> Path:
    if not path.is_file():
        raise _layout_error(layout, f"missing {what}", path)
    return path


def _read_lines(layout: str, path: Path) -> list[tuple[int, str]]:
    """(line number, stripped text) of the non-blank lines: CRLF, trailing spaces and a BOM are release quirks."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise _layout_error(layout, f"not a UTF-8 text file ({e.reason})", path) from e
    return [(n, line.strip()) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]


def _list_files(directory: Path) -> set[str]:
    """Names of the files in one folder (one scandir instead of one stat per split line)."""
    try:
        with os.scandir(directory) as it:
            return {e.name for e in it if e.is_file()}
    except (FileNotFoundError, NotADirectoryError):
        return set()


def _rows_frame(records: list[dict[str, object]]) -> pd.DataFrame:
    """The read_layout table: fixed columns and dtypes, ordered train → test → unused, then label, then id."""
    cols = ["id", "path", "class", "label", "split", "group", "error"]
    df = pd.DataFrame.from_records(records, columns=cols)
    df["label"] = df["label"].astype("int64")
    for c in ("id", "path", "class", "split", "group", "error"):
        df[c] = df[c].astype(str)
    order = df["split"].map({s: i for i, s in enumerate(SPLITS)})
    df = df.assign(_o=order).sort_values(["_o", "label", "id"], kind="stable").drop(columns="_o")
    return df.reset_index(drop=True)


def _missing(path: Path, present: set[str] | None = None) -> str:
    """The error of a split line: "" when its video exists, else "missing file: <path>"."""
    exists = path.name in present if present is not None else path.is_file()
    return "" if exists else f"missing file: {path}"


def _check_unique_ids(layout: str, df: pd.DataFrame, source: str | Path) -> None:
    """UCF101/HMDB51 split files list each video once; a repeat (e.g. in train and test) is a leak, not a quirk."""
    dup = df["id"][df["id"].duplicated()]
    if len(dup):
        raise _layout_error(layout, f"video(s) listed more than once, e.g. {sorted(set(dup))[:5]}", source)


def _drop_duplicate_ids(df: pd.DataFrame, source: str) -> pd.DataFrame:
    """Large crowd-sourced annotation files can repeat an entry; keep the first and say so."""
    dup = df["id"].duplicated()
    if dup.any():
        log.warning("%d duplicate video id(s) in %s, keeping the first of each: %s", int(dup.sum()), source,
                    ", ".join(df["id"][dup].head(5)))
    return df[~dup].reset_index(drop=True)


def _single_split(layout: str, split: int) -> None:
    if split != 1:
        raise ValueError(f"{layout} has one official train/validation split; split must be 1, got {split}")


# --------------------------------------------------------------------------------------------------------------------
# UCF101 (and the synthetic dataset, which the pipeline writes in the same layout)

_UCF_GROUP = re.compile(r"_g(\d+)_c(\d+)$")


def _ucf_paths(root: Path, split: int) -> tuple[Path, Path, Path, Path]:
    lists = root / "ucfTrainTestlist"
    return root / "UCF-101", lists / "classInd.txt", lists / f"trainlist0{split}.txt", lists / f"testlist0{split}.txt"


def _ucf_class_ind(layout: str, path: Path) -> list[str]:
    """classInd.txt → class names in label order; ids must be 1..K, each once."""
    by_id: dict[int, str] = {}
    for n, line in _read_lines(layout, path):
        parts = line.split()
        if len(parts) != 2 or not parts[0].isdigit():
            raise _layout_error(layout, f"malformed line {n} {line!r} (expected '<id> <Class>')", path)
        cid = int(parts[0])
        if cid in by_id or parts[1] in by_id.values():
            raise _layout_error(layout, f"line {n} {line!r} repeats a class id or name", path)
        by_id[cid] = parts[1]
    if not by_id:
        raise _layout_error(layout, "no classes in", path)
    if sorted(by_id) != list(range(1, len(by_id) + 1)):
        raise _layout_error(layout, f"class ids are not 1..{len(by_id)}", path)
    return [by_id[i] for i in range(1, len(by_id) + 1)]


def _ucf_list(layout: str, path: Path, classes: list[str], labelled: bool) -> list[tuple[str, str]]:
    """A train/test list → (class folder, file name) pairs; a train line's label must agree with classInd."""
    index = {c: i for i, c in enumerate(classes)}
    out: list[tuple[str, str]] = []
    for n, line in _read_lines(layout, path):
        parts = line.split()
        ok = len(parts) == 2 if labelled else len(parts) in (1, 2)  # a test line may carry the id too; checked below
        rel = parts[0] if parts else ""
        folder, _, name = rel.partition("/")
        if not ok or not folder or not name or "/" in name:
            form = "'<Class>/<video>.avi <id>'" if labelled else "'<Class>/<video>.avi'"
            raise _layout_error(layout, f"malformed line {n} {line!r} (expected {form})", path)
        if folder not in index:
            raise _layout_error(layout, f"line {n}: class folder {folder!r} is not in classInd.txt", path)
        if len(parts) == 2:
            if not parts[1].isdigit() or int(parts[1]) != index[folder] + 1:
                expected = f"{folder} = {index[folder] + 1}"
                raise _layout_error(layout, f"line {n}: label {parts[1]!r} disagrees with classInd.txt ({expected})",
                                    path)
        out.append((folder, name))
    return out


def _ucf_parse(layout: str, root: str | Path, split: int) -> tuple[Path, list[str], dict[str, _Pairs], dict[str, Path]]:
    """Everything check_layout validates for UCF101: root, video folder, the three split files and their lines."""
    if split not in (1, 2, 3):
        raise ValueError(f"{layout}: split must be 1, 2 or 3, got {split}")
    root = _check_root(layout, root)
    videos, class_ind, train, test = _ucf_paths(root, split)
    if not videos.is_dir():
        raise _layout_error(layout, "missing video folder", videos)
    classes = _ucf_class_ind(layout, _require_file(layout, class_ind, "class index"))
    lists = {
        "train": _ucf_list(layout, _require_file(layout, train, f"split {split} train list"), classes, True),
        "test": _ucf_list(layout, _require_file(layout, test, f"split {split} test list"), classes, False),
    }
    return videos, classes, lists, {"train": train, "test": test}


def _read_ucf101(layout: str, root: str | Path, split: int) -> _Layout:
    videos, classes, lists, files = _ucf_parse(layout, root, split)
    index = {c: i for i, c in enumerate(classes)}
    present: dict[str, set[str]] = {}
    records: list[dict[str, object]] = []
    for split_name, entries in lists.items():
        for folder, name in entries:
            if folder not in present:
                present[folder] = _list_files(videos / folder)
            path = videos / folder / name
            stem = Path(name).stem
            m = _UCF_GROUP.search(stem)
            records.append({
                "id": stem, "path": str(path), "class": folder, "label": index[folder], "split": split_name,
                # groups are per class: g08 of ApplyEyeMakeup and g08 of Archery are different people/scenes
                "group": f"{folder}_g{m.group(1)}" if m else stem,
                "error": _missing(path, present[folder]),
            })
    df = _rows_frame(records)
    _check_unique_ids(layout, df, f"{files['train']} + {files['test']}")
    _log_unlisted_ucf(videos, present, df)
    return _Layout(df, classes, {c: str(files["train"]) for c in classes})


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
                names = _list_files(Path(entry.path))
            for name in names:
                if name.lower().endswith(VIDEO_SUFFIXES):
                    on_disk += 1
                    unlisted += (entry.name, name) not in listed
    log.debug("%s: %d video files on disk, %d in neither list of this split (ignored)", videos, on_disk, unlisted)


# --------------------------------------------------------------------------------------------------------------------
# HMDB51

_HMDB_SPLIT_DIR = "testTrainMulti_7030_splits"
_HMDB_SPLIT_FILE = re.compile(r"^(?P<cls>.+)_test_split(?P<n>[123])\.txt$")
_HMDB_CODES = {"1": "train", "2": "test", "0": "unused"}


def _hmdb_split_dir(root: Path) -> Path:
    """Inside the root, or beside it (beside the link the user made, or beside the folder it points to)."""
    for cand in (root / _HMDB_SPLIT_DIR, root.parent / _HMDB_SPLIT_DIR, root.resolve().parent / _HMDB_SPLIT_DIR):
        if cand.is_dir():
            return cand
    raise _layout_error("hmdb51", "split folder not found (looked inside and beside the root)", root / _HMDB_SPLIT_DIR)


def _hmdb_parse(root: str | Path, split: int) -> tuple[Path, list[str], dict[str, Path], dict[str, _Pairs]]:
    """Root, sorted classes, each class's split file and its (video, split name) lines, all validated."""
    if split not in (1, 2, 3):
        raise ValueError(f"hmdb51: split must be 1, 2 or 3, got {split}")
    root = _check_root("hmdb51", root)
    split_dir = _hmdb_split_dir(root)
    by_class: dict[str, set[int]] = {}
    for name in _list_files(split_dir):
        m = _HMDB_SPLIT_FILE.match(name)
        if m:
            by_class.setdefault(m["cls"], set()).add(int(m["n"]))
    if not by_class:
        raise _layout_error("hmdb51", "no <class>_test_split<N>.txt files in", split_dir)
    classes = sorted(by_class)
    files = {c: split_dir / f"{c}_test_split{split}.txt" for c in classes}
    lines: dict[str, list[tuple[str, str]]] = {}
    for c in classes:
        path = _require_file("hmdb51", files[c], f"split {split} file of class {c!r}")
        entries = []
        for n, line in _read_lines("hmdb51", path):
            parts = line.rsplit(None, 1)
            if len(parts) != 2 or parts[1] not in _HMDB_CODES or not parts[0].lower().endswith(VIDEO_SUFFIXES):
                raise _layout_error("hmdb51", f"malformed line {n} {line!r} (expected '<video>.avi <0|1|2>')", path)
            entries.append((parts[0], _HMDB_CODES[parts[1]]))
        lines[c] = entries
    return root, classes, files, lines


def _read_hmdb51(root: str | Path, split: int) -> _Layout:
    root, classes, files, lines = _hmdb_parse(root, split)
    records: list[dict[str, object]] = []
    for label, c in enumerate(classes):
        present = _list_files(root / c)
        for name, split_name in lines[c]:
            path = root / c / name
            stem = Path(name).stem
            records.append({"id": stem, "path": str(path), "class": c, "label": label, "split": split_name,
                            "group": stem, "error": _missing(path, present)})
    df = _rows_frame(records)
    _check_unique_ids("hmdb51", df, files[classes[0]].parent)
    return _Layout(df, classes, {c: str(files[c]) for c in classes})


# --------------------------------------------------------------------------------------------------------------------
# Kinetics-400

_K400_COLUMNS = ("label", "youtube_id", "time_start", "time_end")
_K400_SPLITS = {"train": ("train.csv", ("train",)), "test": ("validate.csv", ("val", "validate", "valid"))}


def _find_in(root: Path, names: Sequence[str], subdirs: Sequence[str]) -> Path | None:
    """The first existing file of `names` in root or one of its `subdirs` (annotations may sit in either)."""
    for d in ("", *subdirs):
        for n in names:
            cand = root / d / n if d else root / n
            if cand.is_file():
                return cand
    return None


def _k400_csv(path: Path) -> pd.DataFrame:
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except Exception as e:  # pandas raises several types for a broken CSV; all mean "malformed"
        raise _layout_error("kinetics400", f"cannot parse CSV ({e})", path) from e
    missing = [c for c in _K400_COLUMNS if c not in df.columns]
    if missing:
        raise _layout_error("kinetics400", f"CSV lacks column(s) {missing} (has {list(df.columns)})", path)
    for col in ("time_start", "time_end"):
        bad = pd.to_numeric(df[col], errors="coerce").isna()
        if bad.any():
            n = int(bad.idxmax()) + 2  # +1 header, +1 one-based
            raise _layout_error("kinetics400", f"line {n}: {col} {df[col][bad].iloc[0]!r} is not a number", path)
    return df


def _k400_parse(root: str | Path, split: int) -> tuple[Path, dict[str, Path], dict[str, Path], dict[str, pd.DataFrame]]:
    _single_split("kinetics400", split)
    root = _check_root("kinetics400", root)
    csvs: dict[str, Path] = {}
    dirs: dict[str, Path] = {}
    tables: dict[str, pd.DataFrame] = {}
    for split_name, (csv_name, dir_names) in _K400_SPLITS.items():
        found = _find_in(root, [csv_name], ["annotations"])
        if found is None:
            raise _layout_error("kinetics400", f"missing annotation file {csv_name}", root / csv_name)
        csvs[split_name] = found
        tables[split_name] = _k400_csv(found)
        cands = [root / d for d in dir_names]
        video_dir = next((d for d in cands if d.is_dir()), None)
        if video_dir is None:
            raise _layout_error("kinetics400", f"missing {split_name} clip folder", " or ".join(map(str, cands)))
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


def _read_kinetics400(root: str | Path, split: int) -> _Layout:
    root, csvs, dirs, tables = _k400_parse(root, split)
    classes = sorted(set(tables["train"]["label"]) | set(tables["test"]["label"]))
    index = {c: i for i, c in enumerate(classes)}
    records = []
    for split_name, table in tables.items():
        on_disk = _video_files_below(dirs[split_name])
        for label, yid, start, end in zip(table["label"], table["youtube_id"], table["time_start"], table["time_end"]):
            stem = _k400_stem(yid, start, end)
            expected = dirs[split_name] / f"{stem}.mp4"  # where a missing clip is reported (flat copies)
            path = on_disk.get(stem)
            records.append({"id": stem, "path": str(path or expected), "class": label, "label": index[label],
                            "split": split_name, "group": stem, "error": "" if path else f"missing file: {expected}"})
    df = _drop_duplicate_ids(_rows_frame(records), f"{csvs['train']} + {csvs['test']}")
    return _Layout(df, classes, {c: str(csvs["train"]) for c in classes})


# --------------------------------------------------------------------------------------------------------------------
# Something-Something-V2

_SSV2_FILES = {
    "train": ("something-something-v2-train.json", "train.json"),
    "test": ("something-something-v2-validation.json", "validation.json"),
    "labels": ("something-something-v2-labels.json", "labels.json"),
}
_SSV2_VIDEO_DIRS = ("20bn-something-something-v2", "videos", "")


def _load_json(layout: str, path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise _layout_error(layout, f"not valid JSON ({e})", path) from e


def _ssv2_class(template: str) -> str:
    """The class of an SSv2 entry: its template without the placeholder brackets (as labels.json spells it)."""
    return template.replace("[", "").replace("]", "")


def _ssv2_parse(root: str | Path, split: int) -> tuple[Path, dict[str, Path], list[str], dict[str, _Pairs]]:
    """Root, annotation files, classes in label order and each split's (id, class) entries, all validated."""
    _single_split("ssv2", split)
    root = _check_root("ssv2", root)
    files: dict[str, Path] = {}
    for key, names in _SSV2_FILES.items():
        found = _find_in(root, names, ["annotations", "labels"])
        if found is None:
            raise _layout_error("ssv2", f"missing annotation file {names[0]}", root / names[0])
        files[key] = found
    labels = _load_json("ssv2", files["labels"])
    if not isinstance(labels, dict) or not labels:
        raise _layout_error("ssv2", "labels file is not a non-empty {class: id} object", files["labels"])
    try:
        ids = {name: int(v) for name, v in labels.items()}
    except (TypeError, ValueError) as e:
        raise _layout_error("ssv2", f"a label id is not an integer ({e})", files["labels"]) from e
    if sorted(ids.values()) != list(range(len(ids))):
        raise _layout_error("ssv2", f"label ids are not 0..{len(ids) - 1}, each once", files["labels"])
    classes = sorted(ids, key=ids.__getitem__)
    entries: dict[str, list[tuple[str, str]]] = {}
    for split_name in ("train", "test"):
        path = files[split_name]
        data = _load_json("ssv2", path)
        if not isinstance(data, list):
            raise _layout_error("ssv2", "annotation file is not a JSON list of entries", path)
        out = []
        for k, item in enumerate(data):
            if not isinstance(item, dict) or "id" not in item or "template" not in item:
                raise _layout_error("ssv2", f"entry {k} lacks 'id' or 'template': {str(item)[:120]}", path)
            cls = _ssv2_class(str(item["template"]))
            if cls not in ids:
                raise _layout_error("ssv2", f"entry {k} (id {item['id']}): template {item['template']!r} is not a "
                                            f"class of {files['labels'].name}", path)
            out.append((str(item["id"]), cls))
        entries[split_name] = out
    return root, files, classes, entries


def _ssv2_video_dir(root: Path) -> tuple[Path, set[str]]:
    """The first candidate folder holding .webm files (else the first that exists) and its file names."""
    first: tuple[Path, set[str]] | None = None
    for d in _SSV2_VIDEO_DIRS:
        cand = root / d if d else root
        if cand.is_dir():
            names = _list_files(cand)
            if any(n.endswith(".webm") for n in names):
                return cand, names
            first = first or (cand, names)
    assert first is not None  # root itself is a candidate and exists
    return first


def _read_ssv2(root: str | Path, split: int) -> _Layout:
    root, files, classes, entries = _ssv2_parse(root, split)
    index = {c: i for i, c in enumerate(classes)}
    video_dir, present = _ssv2_video_dir(root)
    records = []
    for split_name, items in entries.items():
        for vid, cls in items:
            path = video_dir / f"{vid}.webm"
            records.append({"id": vid, "path": str(path), "class": cls, "label": index[cls], "split": split_name,
                            "group": vid, "error": _missing(path, present)})
    df = _drop_duplicate_ids(_rows_frame(records), f"{files['train']} + {files['test']}")
    return _Layout(df, classes, {c: str(files["train"]) for c in classes})


# --------------------------------------------------------------------------------------------------------------------
# public: check_layout / read_layout


def check_layout(layout: str, root: str | Path, split: int = 1) -> None:
    """Validate a dataset root without decoding a video: the root and the split/annotation files exist and parse.

    Raises DatasetLayoutError naming the missing or malformed path and describing the expected layout, so a bad root
    stops the run at start-up instead of failing hours later inside a job. Missing *videos* are not fatal here: they
    become error rows of the index (`read_layout` / `build_index`)."""
    _check_layout_name(layout)
    if layout in ("ucf101", "synthetic"):
        _ucf_parse(layout, root, split)
    elif layout == "hmdb51":
        _hmdb_parse(root, split)
    elif layout == "kinetics400":
        _k400_parse(root, split)
    else:
        _ssv2_parse(root, split)


def _read(layout: str, root: str | Path, split: int) -> _Layout:
    _check_layout_name(layout)
    readers: dict[str, Callable[[], _Layout]] = {
        "ucf101": lambda: _read_ucf101("ucf101", root, split),
        "synthetic": lambda: _read_ucf101("synthetic", root, split),
        "hmdb51": lambda: _read_hmdb51(root, split),
        "kinetics400": lambda: _read_kinetics400(root, split),
        "ssv2": lambda: _read_ssv2(root, split),
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
        log.warning("%s: %d group(s) have videos in both train and test, e.g. %s", layout, len(leaking),
                    ", ".join(map(str, leaking[:5])))


def read_layout(layout: str, root: str | Path, split: int = 1) -> pd.DataFrame:
    """The rows of the split/annotation files: id, path (absolute), class, label, split, group, error.

    `error` is "missing file: <path>" for a line naming a video that is not on disk, "" otherwise. No decoding."""
    return _read(layout, root, split).rows


# --------------------------------------------------------------------------------------------------------------------
# probing

PROBE_COLUMNS = ("frames", "fps", "width", "height", "error")

_DECORD_PREFIX = re.compile(r"\[\d{2}:\d{2}:\d{2}\] \S+?:\d+: ")
_SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (0, b"RIFF", "AVI"), (4, b"ftyp", "MP4/MOV"), (4, b"moov", "MP4/MOV"), (4, b"mdat", "MP4/MOV"),
    (4, b"free", "MP4/MOV"), (4, b"wide", "MP4/MOV"), (4, b"skip", "MP4/MOV"),
    (0, b"\x1a\x45\xdf\xa3", "Matroska/WebM"),
    (0, b"FLV", "FLV"), (0, b"\x00\x00\x01\xba", "MPEG-PS"), (0, b"\x00\x00\x01\xb3", "MPEG"), (0, b"OggS", "Ogg"),
    (0, b"\x30\x26\xb2\x75", "ASF/WMV"), (0, b"\x47", "MPEG-TS"),
)


def _decord_reason(exc: BaseException) -> str:
    """decord's message without its C++ timestamp/file prefixes, on one line and short enough for a table cell."""
    text = _DECORD_PREFIX.sub("", str(exc))
    text = " ".join(text.split())
    return text[:240] if text else type(exc).__name__


def _container(head: bytes) -> str | None:
    for offset, magic, name in _SIGNATURES:
        if head[offset:offset + len(magic)] == magic:
            return name
    return None


def _diagnose_unopenable(path: str, head: bytes, exc: BaseException) -> tuple[int, float, int, int, str]:
    """Turn decord's failure to open a file into a specific reason. decord only says "Error reading <path>" (the real
    reason goes to its stderr log), so: a file with no video container signature is "not a video file"; a file
    whose container declares no frames (OpenCV reads the header) is "no frames"; the rest keep decord's words."""
    reason = _decord_reason(exc)
    kind = _container(head)
    if kind is None:
        return 0, 0.0, 0, 0, f"unreadable: not a video file (no known container signature; starts with {head[:16]!r})"
    if "cannot find video stream" in reason:
        return 0, 0.0, 0, 0, f"unreadable: no video stream found in this {kind} file (truncated, corrupt or audio only)"
    declared = _opencv_declared_frames(path)
    if declared == 0:
        return 0, 0.0, 0, 0, f"no frames ({kind} container declares 0 frames)"
    return 0, 0.0, 0, 0, f"unreadable: {reason} ({kind} file that decord cannot open: truncated or corrupt)"


def _opencv_declared_frames(path: str) -> int | None:
    """Frame count in the container header as OpenCV reads it, or None when OpenCV cannot open the file either."""
    try:
        import cv2

        cap = cv2.VideoCapture(path)
        try:
            if not cap.isOpened():
                return None
            n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
            return 0 if n <= 0 and not cap.read()[0] else n
        finally:
            cap.release()
    except Exception:  # a diagnostic only: never let it turn a bad video into a crash
        return None


def _probe_one(path: str) -> tuple[int, float, int, int, str]:
    """(frames, fps, width, height, error) of one video; never raises.

    Opening reads the container index (frame count, fps); decoding frame 0 gives the size; decoding the *last*
    frame catches files truncated after the header (their index promises frames whose bytes are gone), at the cost
    of decoding at most one GOP. decord's decoder thread reads packets ahead, so a bad packet near the end can make
    even frame 0 fail, at random: any decode failure is therefore one error, "truncated or corrupt", and the size
    then comes from the container header (OpenCV), so the row is the same on every run (checked by the tests)."""
    try:
        size = os.stat(path).st_size
        with open(path, "rb") as f:
            head = f.read(32)
    except FileNotFoundError:
        return 0, 0.0, 0, 0, f"missing file: {path}"
    except OSError as e:
        return 0, 0.0, 0, 0, f"unreadable: {e.strerror or e}"
    if size == 0:
        return 0, 0.0, 0, 0, "empty file (0 bytes)"
    try:
        import decord

        vr = decord.VideoReader(path, ctx=decord.cpu(0), num_threads=1)
    except Exception as e:  # decord raises RuntimeError or its DECORDError for unreadable input
        return _diagnose_unopenable(path, head, e)
    try:
        n = len(vr)
        fps = float(vr.get_avg_fps())
    except Exception as e:
        return 0, 0.0, 0, 0, f"unreadable: {_decord_reason(e)}"
    if n <= 0:
        return 0, fps, 0, 0, "no frames"
    try:
        h, w = (int(x) for x in vr[0].shape[:2])
        if n > 1:
            vr[n - 1]
    except Exception as e:
        # decord's words here depend on its thread timing ("Error sending packet" or "run_.load()"), so they go to
        # the debug log and the table gets a reason that is the same on every run
        log.debug("%s: decode failed: %s", path, _decord_reason(e))
        w, h = _opencv_header_size(path)
        return n, fps, w, h, f"truncated or corrupt: the container lists {n} frames but they do not all decode"
    finally:
        del vr
    return n, fps, w, h, ""


def _opencv_header_size(path: str) -> tuple[int, int]:
    """(width, height) from the container header as OpenCV reads it, (0, 0) when it cannot."""
    try:
        import cv2

        cap = cv2.VideoCapture(path)
        try:
            return int(cap.get(cv2.CAP_PROP_FRAME_WIDTH) or 0), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT) or 0)
        finally:
            cap.release()
    except Exception:  # a diagnostic only
        return 0, 0


def _probe_chunk(paths: Sequence[str]) -> list[tuple[int, float, int, int, str]]:
    """Worker entry: probe a chunk with decord's own logging silenced (the reasons land in the table instead)."""
    _quiet_decord()
    return [_probe_one(p) for p in paths]


def _quiet_decord() -> None:
    try:
        import decord

        decord.logging.set_level(decord.logging.QUIET)
    except Exception:
        pass


def _executor(kind: str, threads: int) -> Executor:
    """Threads by default: decord's calls go through ctypes, which releases the GIL, and threads start instantly.
    "process" forks (forkserver/spawn would re-run an unguarded __main__, which Snakemake's script files are, and
    cost ~1 s of imports per worker); it isolates the parent from a decoder crash on a hostile file."""
    if kind == "thread":
        return ThreadPoolExecutor(max_workers=threads)
    import multiprocessing as mp

    return ProcessPoolExecutor(max_workers=threads, mp_context=mp.get_context("fork"))


def probe_videos(paths: Sequence[str], threads: int = 1, progress: bool = True, pool: str = "thread") -> pd.DataFrame:
    """decord metadata of each path, in the same order: frames, fps, width, height, error. Never raises for a bad
    video: the reason goes to `error` ("missing file: ...", "empty file (0 bytes)", "unreadable: ...", "no frames",
    "truncated or corrupt: ...").

    With threads > 1 the paths are probed in chunks by a pool of `threads` workers: "thread" (default) or "process".
    Measured on 2 cores, 120 videos of 150 frames at 320x240 (MJPG / mp4v / XVID, page cache warm): serial
    ~330 videos/s, 2 threads ~730/s, 2 forked processes ~640/s, forkserver/spawn ~100/s (worker start-up)."""
    paths = [str(p) for p in paths]
    results: list[tuple[int, float, int, int, str]] = []
    from tqdm import tqdm

    bar = tqdm(total=len(paths), desc="probe videos", unit="video", file=sys.stderr, disable=not progress)
    try:
        if threads <= 1 or len(paths) < 2:
            _quiet_decord()
            for p in paths:
                results.append(_probe_one(p))
                bar.update(1)
        else:
            results = _probe_parallel(paths, threads, pool, bar.update)
    finally:
        bar.close()
    df = pd.DataFrame.from_records(results, columns=list(PROBE_COLUMNS))
    return _probe_dtypes(df)


def _probe_parallel(paths: list[str], threads: int, pool: str, advance: Callable[[int], object]) -> list[
        tuple[int, float, int, int, str]]:
    """Chunks of ~32 paths (small enough for a live progress bar, large enough to amortise the pool's overhead)."""
    if pool not in ("process", "thread"):
        raise ValueError(f"pool must be 'process' or 'thread', got {pool!r}")
    size = max(1, min(32, len(paths) // (threads * 4) or 1))
    chunks = [paths[i:i + size] for i in range(0, len(paths), size)]
    out: list[list[tuple[int, float, int, int, str]]] = [[] for _ in chunks]
    with _executor(pool, threads) as ex:
        futures = {ex.submit(_probe_chunk, c): k for k, c in enumerate(chunks)}
        for fut in as_completed(futures):
            k = futures[fut]
            try:
                out[k] = fut.result()
            except Exception as e:  # a crashed worker (e.g. a decoder segfault): report the chunk, don't die
                out[k] = [(0, 0.0, 0, 0, f"unreadable: probe worker failed ({type(e).__name__}: {e})")] * len(chunks[k])
            advance(len(chunks[k]))
    return [r for chunk in out for r in chunk]


def _probe_dtypes(df: pd.DataFrame) -> pd.DataFrame:
    for c in ("frames", "width", "height"):
        df[c] = df[c].astype("int64")
    df["fps"] = df["fps"].astype("float64")
    df["error"] = df["error"].astype(str)
    return df


# --------------------------------------------------------------------------------------------------------------------
# build_index


def build_index(layout: str, root: str | Path, *, split: int = 1, threads: int = 1, min_frames: int = 1,
                progress: bool = True) -> pd.DataFrame:
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
        log.warning("%s: %d skipped video(s) by reason: %s", layout, len(bad),
                    ", ".join(f"{r} {n}" for r, n in reasons.items()))


def _reason_kind(error: str) -> str:
    """"missing file: /a/b.avi" → "missing file": the reason without its details, for the summary's counts."""
    return error.split(":", 1)[0].split(" (", 1)[0]


def _check_classes(layout: str, df: pd.DataFrame, found: _Layout) -> None:
    usable = df[df["error"] == ""]
    train = set(usable.loc[usable["split"] == "train", "class"])
    test = set(usable.loc[usable["split"] == "test", "class"])
    empty = [c for c in found.classes if c not in train]
    if empty:
        lines = "\n".join(f"  {c!r} (train videos listed in {found.train_source.get(c, '?')})" for c in empty[:20])
        more = f"\n  ... and {len(empty) - 20} more" if len(empty) > 20 else ""
        raise DatasetLayoutError(
            f"{layout}: {len(empty)} class(es) have no usable train video (all missing, unreadable or too short; see "
            f"the warnings above):\n{lines}{more}\n\nExpected layout:\n{LAYOUT_DOCS[layout]}")
    for c in found.classes:
        if c not in test:
            log.warning("%s: class %r has no usable test video; its test accuracy will be undefined", layout, c)
