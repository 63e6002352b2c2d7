"""Something-Something-V2: the class is the *template* with its brackets removed, numbered by the labels JSON."""

from __future__ import annotations

import json
from pathlib import Path

from vidstill.data.indexers.common import (
    LAYOUT_DOCS,
    Layout,
    Pairs,
    check_root,
    drop_duplicate_ids,
    find_in,
    layout_error,
    list_files,
    missing_error,
    rows_frame,
    single_split,
)

SSV2_LAYOUT = """\
Something-Something-V2 (official JSON annotations and webm videos):
  <root>/something-something-v2-train.json        [{"id": "78687", "template": "Holding [something] ...", ...}]
  <root>/something-something-v2-validation.json   (validation is used as the test split)
  <root>/something-something-v2-labels.json       {"Holding something next to something": "<label id>", ...}
    (the three files in <root>, <root>/annotations/ or <root>/labels/; the short names train.json,
     validation.json, labels.json of the newer download are accepted too)
  <id>.webm in <root>/20bn-something-something-v2/, <root>/videos/ or <root>/ itself
  Class = template with "[" and "]" removed; label from the labels JSON."""

LAYOUT_DOCS["ssv2"] = SSV2_LAYOUT

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
        raise layout_error(layout, f"not valid JSON ({e})", path) from e


def _ssv2_class(template: str) -> str:
    """The class of an SSv2 entry: its template without the placeholder brackets (as labels.json spells it)."""
    return template.replace("[", "").replace("]", "")


def parse_ssv2(root: str | Path, split: int) -> tuple[Path, dict[str, Path], list[str], dict[str, Pairs]]:
    """Root, annotation files, classes in label order and each split's (id, class) entries, all validated."""
    single_split("ssv2", split)
    root = check_root("ssv2", root)
    files: dict[str, Path] = {}
    for key, names in _SSV2_FILES.items():
        found = find_in(root, names, ["annotations", "labels"])
        if found is None:
            raise layout_error("ssv2", f"missing annotation file {names[0]}", root / names[0])
        files[key] = found
    labels = _load_json("ssv2", files["labels"])
    if not isinstance(labels, dict) or not labels:
        raise layout_error("ssv2", "labels file is not a non-empty {class: id} object", files["labels"])
    try:
        ids = {name: int(v) for name, v in labels.items()}
    except (TypeError, ValueError) as e:
        raise layout_error("ssv2", f"a label id is not an integer ({e})", files["labels"]) from e
    if sorted(ids.values()) != list(range(len(ids))):
        raise layout_error("ssv2", f"label ids are not 0..{len(ids) - 1}, each once", files["labels"])
    classes = sorted(ids, key=ids.__getitem__)
    entries: dict[str, list[tuple[str, str]]] = {}
    for split_name in ("train", "test"):
        path = files[split_name]
        data = _load_json("ssv2", path)
        if not isinstance(data, list):
            raise layout_error("ssv2", "annotation file is not a JSON list of entries", path)
        out = []
        for k, item in enumerate(data):
            if not isinstance(item, dict) or "id" not in item or "template" not in item:
                raise layout_error("ssv2", f"entry {k} lacks 'id' or 'template': {str(item)[:120]}", path)
            cls = _ssv2_class(str(item["template"]))
            if cls not in ids:
                raise layout_error(
                    "ssv2",
                    f"entry {k} (id {item['id']}): template {item['template']!r} is not a "
                    f"class of {files['labels'].name}",
                    path,
                )
            out.append((str(item["id"]), cls))
        entries[split_name] = out
    return root, files, classes, entries


def _ssv2_video_dir(root: Path) -> tuple[Path, set[str]]:
    """The first candidate folder holding .webm files (else the first that exists) and its file names."""
    first: tuple[Path, set[str]] | None = None
    for d in _SSV2_VIDEO_DIRS:
        cand = root / d if d else root
        if cand.is_dir():
            names = list_files(cand)
            if any(n.endswith(".webm") for n in names):
                return cand, names
            first = first or (cand, names)
    assert first is not None  # root itself is a candidate and exists
    return first


def read_ssv2(root: str | Path, split: int) -> Layout:
    root, files, classes, entries = parse_ssv2(root, split)
    index = {c: i for i, c in enumerate(classes)}
    video_dir, present = _ssv2_video_dir(root)
    records = []
    for split_name, items in entries.items():
        for vid, cls in items:
            path = video_dir / f"{vid}.webm"
            records.append(
                {
                    "id": vid,
                    "path": str(path),
                    "class": cls,
                    "label": index[cls],
                    "split": split_name,
                    "group": vid,
                    "error": missing_error(path, present),
                }
            )
    df = drop_duplicate_ids(rows_frame(records), f"{files['train']} + {files['test']}")
    return Layout(df, classes, {c: str(files["train"]) for c in classes})
