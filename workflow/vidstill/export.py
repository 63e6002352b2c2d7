"""A distilled set people can take away: one self-describing safetensors file plus the same description as JSON.

`set.safetensors` holds two views of the set:
- `stored.<name>`: the tensors the method stores, at their stored dtype, bit for bit (what `vidstill evaluate` trains
  on, so an exported set evaluates exactly as the workflow's own artifact; VDSD's stills, dynamic maps and
  hallucinator, IDTD's videos, DAViD's partitioned frames, OptDistill's mosaics, ...);
- `frames` (uint8, (F_total, H, W, 3), RGB) and `item_frames` (int64, (N,)): the portable view, readable without
  this package: item i's distinct frames are `frames[o_i : o_i + item_frames[i]]` (o_i the sum of the counts before
  it), and its clip of T frames shows distinct frame `t * item_frames[i] // T` at time t. Methods that store fewer
  frames (KeyFrame, DAViD) keep only their distinct frames here; sets whose clips are computed (VDSD's pairing,
  OptDistill's scaled regions) hold the clips their deterministic expansion gives, and the sidecar says so;
- `labels`: (N,) int64 hard labels or (N, K) float label vectors (soft or learned).
The JSON description (`set.json`, also inside the safetensors header under `vidstill`) names the format and its
version, the classes, the labels' kind and loss, the clip shape and the normalisation a student applies, how the
method expands its stored tensors at training time, the method, its settings, and the code version.

A set made elsewhere needs only `frames`, `item_frames`, `labels` and the description's `num_classes` / `frames`
(`import_vdsd.py` writes one from the reference code's files). Loading never executes code (safetensors, JSON).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import torch

from vidstill.data.clips import IMAGENET_MEAN, IMAGENET_STD, denormalize, normalize
from vidstill.io import load_tensors, read_tensors_metadata, save_tensors, write_json
from vidstill.synthetic_set import SyntheticSet

FORMAT = "vidstill.distilled_set"
FORMAT_VERSION = 1
SET_FILE = "set.safetensors"
SIDECAR = "set.json"
PORTABLE_AS_STORED = ("stored", "temporal_interval", "saliency_augment")  # their stored videos are the distinct frames
PORTABLE_NOTES = {
    "stored": "the stored frames",
    "temporal_interval": "the stored frames; students see a random temporal interval of them each epoch (IDTD's tau)",
    "saliency_augment": "the stored frames; students see a saliency-guided DSA draw of them each epoch (TSGF_A)",
    "partitioned": "each item's distinct frames (its own temporal resolution, DAViD)",
    "vdsd": (
        "one deterministic pairing of stills and dynamic maps through the hallucinator; "
        "students see a fresh pairing each epoch (VDSD)"
    ),
    "mosaic_regions": "each mosaic region scaled to the clip size; the mosaics themselves are stored.mosaics",
}


class SetFormatError(ValueError):
    """A file that is not a distilled set, or one whose parts disagree; the message names the file and the reason."""


def to_uint8_frames(videos: torch.Tensor) -> torch.Tensor:
    """Normalised float (..., 3, H, W) → uint8 (..., H, W, 3) RGB, the inverse of `normalize` rounded to 8 bits."""
    lead = videos.shape[:-3]
    flat = videos.reshape(-1, 1, *videos.shape[-3:]).float()
    pixels = (denormalize(flat)[:, 0] * 255.0).round().to(torch.uint8).permute(0, 2, 3, 1)
    return pixels.reshape(*lead, *pixels.shape[1:])


def portable_frames(s: SyntheticSet) -> tuple[torch.Tensor, torch.Tensor]:
    """The set's distinct frames as uint8 (F_total, H, W, 3) and each item's count (N,)."""
    n = len(s)
    if s.expansion == "partitioned":
        return to_uint8_frames(s.tensors["frames"]), s.tensors["item_frames"].long().clone()
    if s.expansion in PORTABLE_AS_STORED:
        videos = s.tensors["videos"]
        uint8 = videos if videos.dtype == torch.uint8 else to_uint8_frames(videos)
    else:
        with torch.no_grad():
            uint8 = torch.cat([to_uint8_frames(s.videos(torch.arange(k, min(k + 16, n)))) for k in range(0, n, 16)])
    return uint8.reshape(-1, *uint8.shape[2:]).clone(), torch.full((n,), uint8.shape[1], dtype=torch.long)


def library_version() -> dict[str, str]:
    """The package version and a hash of every library source file: which code made (and evaluates) the set."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    try:
        version = metadata.version("vidstill")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return {"package": version, "library_sha256": digest.hexdigest()[:16]}


def describe(
    s: SyntheticSet,
    frames: torch.Tensor,
    counts: torch.Tensor,
    class_names: list[str] | None,
    student: dict[str, Any] | None,
    evaluation: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON description of an exported set with portable view (frames, counts) (README "Taking a distilled set
    away" documents every field); `evaluation`: the protocol the set was evaluated under in the workflow, if known."""
    meta = dict(s.meta)
    standardize = (evaluation or {}).get("standardize", True)
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "num_classes": s.num_classes,
        "class_names": class_names,
        "items": len(s),
        "labels": {"kind": "soft" if s.soft_labels else "hard", "loss": s.label_loss, "shape": list(s.labels.shape)},
        "frames": s.frames,
        "clip": {"frames": s.frames, "height": int(frames.shape[1]), "width": int(frames.shape[2]), "channels": 3},
        "normalisation": {
            "scale": 1 / 255,
            "mean": list(IMAGENET_MEAN),
            "std": list(IMAGENET_STD),
            "then": "per-batch standardisation (x - mean(x)) / std(x) of every training and test batch"
            if standardize
            else "nothing (evaluation.standardize is off)",
        },
        "student": student,
        "evaluation": evaluation,
        "lr": s.lr,
        "portable": {
            "frames": "uint8 (F_total, H, W, 3) RGB",
            "item_frames": "int64 (N,)",
            "expand": "item i at time t shows frames[o_i + t * item_frames[i] // T]",
            "content": PORTABLE_NOTES.get(s.expansion, s.expansion),
            "distinct_frames": int(counts.sum()),
        },
        "expansion": s.expansion,
        "expansion_args": s.expansion_args,
        "stored": {
            k: {"dtype": str(v.dtype).removeprefix("torch."), "shape": list(v.shape)} for k, v in s.tensors.items()
        },
        "storage_bytes": s.storage_bytes(),
        "method": meta.pop("method", None),
        "instance": meta.pop("instance", None),
        "dataset": meta.pop("dataset", None),
        "ipc": meta.pop("ipc", None),
        "seed": meta.pop("seed", None),
        "settings": meta.pop("settings", {}),
        "code": library_version(),
        "meta": {k: v for k, v in meta.items() if k != "loss_curve"},
    }


def write_export(
    s: SyntheticSet,
    out: str | Path,
    class_names: list[str] | None = None,
    student: dict[str, Any] | None = None,
    preview: bool = False,
    overwrite: bool = False,
    evaluation: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Write `out/set.safetensors`, `out/set.json` (and with `preview`, `out/preview/`) into a temporary directory
    beside `out`, then rename it into place: an interrupted export leaves no half set."""
    out = Path(out)
    if out.exists() and not (out.is_dir() and (overwrite or not any(out.iterdir()))):
        raise FileExistsError(f"{out}: exists and is not an empty directory (pass --force to replace it)")
    if class_names is not None and len(class_names) != s.num_classes:
        raise ValueError(f"{len(class_names)} class names for a set of {s.num_classes} classes")
    frames, counts = portable_frames(s)
    info = describe(s, frames, counts, class_names, student, evaluation)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        tensors = {
            **{f"stored.{k}": v for k, v in s.tensors.items()},
            "labels": s.labels,
            "frames": frames,
            "item_frames": counts,
        }
        save_tensors(tensors, tmp / SET_FILE, info)
        write_json(info, tmp / SIDECAR)
        if preview:
            from vidstill.preview import write_previews

            write_previews(frames, counts, s, class_names, tmp / "preview")
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return info


def set_file(path: str | Path) -> Path:
    """An export directory or a set file → the set file."""
    path = Path(path)
    return path / SET_FILE if path.is_dir() else path


def load_any_set(path: str | Path) -> tuple[SyntheticSet, dict[str, Any]]:
    """An exported set (directory or file), or a workflow artifact (results/.../distilled/...), as a SyntheticSet
    plus its description. Every inconsistency is a SetFormatError naming the file."""
    file = set_file(path)
    if not file.is_file():
        raise SetFormatError(f"{file}: no such file")
    try:
        info = read_tensors_metadata(file)
        tensors, _ = load_tensors(file)
    except Exception as e:  # noqa: BLE001 - any parse failure means the same thing to the user
        raise SetFormatError(f"{file}: not a safetensors file ({type(e).__name__}: {e})") from e
    if info.get("format") == FORMAT:
        return _from_export(file, tensors, info), info
    if "expansion" in info and "labels" in tensors:  # a workflow artifact (SyntheticSet.save)
        try:
            s = SyntheticSet.load(file)
        except (KeyError, ValueError) as e:
            raise SetFormatError(f"{file}: not a distilled set ({e})") from e
        _check_labels(file, s.labels, len(s), s.num_classes)
        return s, {"format": "vidstill.artifact", **s.meta, "num_classes": s.num_classes, "class_names": None}
    raise SetFormatError(f"{file}: not a distilled set (its metadata names no format {FORMAT!r} and no expansion)")


def _check_labels(file: Path, labels: torch.Tensor, items: int, num_classes: int) -> None:
    if labels.shape[0] != items:
        raise SetFormatError(f"{file}: {labels.shape[0]} labels for {items} items")
    if labels.dtype in (torch.int64, torch.int32):
        if labels.ndim != 1 or (items and (labels.min() < 0 or labels.max() >= num_classes)):
            raise SetFormatError(f"{file}: hard labels must be one class index in [0, {num_classes}) per item")
    elif not labels.is_floating_point() or labels.ndim != 2 or labels.shape[1] != num_classes:
        raise SetFormatError(
            f"{file}: label vectors must be float (items, {num_classes}); got {labels.dtype} {tuple(labels.shape)}"
        )


def _from_export(file: Path, tensors: dict[str, torch.Tensor], info: dict[str, Any]) -> SyntheticSet:
    if int(info.get("format_version", 0)) > FORMAT_VERSION:
        raise SetFormatError(
            f"{file}: format version {info['format_version']} is newer than this vidstill reads ({FORMAT_VERSION})"
        )
    for key in ("num_classes", "frames"):
        if not isinstance(info.get(key), int) or info[key] < 1:
            raise SetFormatError(f"{file}: the description's {key!r} must be a positive integer, got {info.get(key)!r}")
    if "labels" not in tensors:
        raise SetFormatError(f"{file}: no 'labels' tensor")
    labels = tensors["labels"]
    if not labels.is_floating_point():
        labels = labels.long()
    label_loss = info.get("labels", {}).get("loss", "ce")
    stored = {k.removeprefix("stored."): v for k, v in tensors.items() if k.startswith("stored.")}
    if stored and info.get("expansion"):
        try:
            s = SyntheticSet(
                stored,
                labels,
                info["num_classes"],
                info["frames"],
                info["expansion"],
                info.get("expansion_args", {}),
                info.get("lr"),
                label_loss,
                {},
            )
        except ValueError as e:
            raise SetFormatError(f"{file}: {e}") from e
    else:
        s = portable_set(file, tensors, labels, info["num_classes"], info["frames"], label_loss, info.get("lr"))
    items = tensors["item_frames"].numel() if "item_frames" in tensors else info.get("items", len(s))
    _check_labels(file, s.labels, int(items), s.num_classes)
    s.meta.update({k: info.get(k) for k in ("method", "instance", "dataset", "ipc", "seed", "settings")})
    return s


def portable_set(
    file: Path,
    tensors: dict[str, torch.Tensor],
    labels: torch.Tensor,
    num_classes: int,
    frames: int,
    label_loss: str = "ce",
    lr: float | None = None,
) -> SyntheticSet:
    """A set from the portable view alone (a set made elsewhere): its distinct frames, normalised, expanded as DAViD's
    partitioned frames are (each repeated in order up to the clip length)."""
    for key in ("frames", "item_frames"):
        if key not in tensors:
            raise SetFormatError(
                f"{file}: no {key!r} tensor (a set without stored.* tensors needs frames and item_frames)"
            )
    pixels, counts = tensors["frames"], tensors["item_frames"]
    if pixels.dtype != torch.uint8 or pixels.ndim != 4 or pixels.shape[-1] != 3:
        raise SetFormatError(f"{file}: 'frames' must be uint8 (F, H, W, 3); got {pixels.dtype} {tuple(pixels.shape)}")
    if counts.ndim != 1 or (counts < 1).any() or int(counts.sum()) != pixels.shape[0]:
        raise SetFormatError(
            f"{file}: 'item_frames' must be positive counts summing to the {pixels.shape[0]} frames; "
            f"got {counts.numel()} counts summing to {int(counts.sum())}"
        )
    stored = {"frames": normalize(pixels[None])[0], "item_frames": counts.long()}
    return SyntheticSet(stored, labels, num_classes, frames, "partitioned", {}, lr, label_loss, {})


def check_against_dataset(
    file: str | Path, s: SyntheticSet, info: dict[str, Any], class_names: list[str], frames: int, size: int
) -> None:
    """A set and a test split must agree on the classes (names, when the set has them, in label order) and the clip
    shape the student is built for; otherwise the accuracy would be meaningless."""
    file = set_file(file)
    if s.num_classes != len(class_names):
        raise SetFormatError(
            f"{file}: the set has {s.num_classes} classes, the dataset's test split {len(class_names)}"
        )
    names = info.get("class_names")
    if names and list(names) != list(class_names):
        missing = [n for n in names if n not in class_names]
        why = (
            f"classes not in the dataset: {', '.join(missing[:5])}" if missing else "the same classes in another order"
        )
        raise SetFormatError(f"{file}: the set's classes differ from the dataset's ({why})")
    with torch.no_grad():
        clip = s.videos(torch.arange(min(1, len(s))))
    if len(s) and (clip.shape[1] != frames or tuple(clip.shape[-2:]) != (size, size)):
        raise SetFormatError(
            f"{file}: the set's clips are {clip.shape[1]} frames of {clip.shape[-2]}x{clip.shape[-1]}, "
            f"the dataset's test clips {frames} frames of {size}x{size}"
        )


__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "SET_FILE",
    "SIDECAR",
    "SetFormatError",
    "check_against_dataset",
    "describe",
    "load_any_set",
    "portable_frames",
    "portable_set",
    "set_file",
    "to_uint8_frames",
    "write_export",
]
