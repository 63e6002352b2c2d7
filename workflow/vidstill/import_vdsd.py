"""Sets saved by VDSD's reference code (github.com/yuz1wan/video_distillation), converted to the export format so
`vidstill evaluate` can train students on them under our protocol.

What the reference writes: its baseline distillations (`distill_baseline.py`: DM, MTT) `torch.save` the synthetic
videos as one float tensor, `images_<it>.pt` / `images_best.pt`, of shape (N, T, C, H, W), ImageNet-normalised as
its data loader normalises real frames (the same normalisation as ours), N = classes × IPC stored class-major
(`label_syn` is 0 … 0, 1 … 1, …: the labels are not saved). FRePo's script also saves its learned labels
(`y_syn_<it>.pt`, (N, K) float). The static–dynamic sets (`distill_s2d_ms.py`: stills, `dynamic_<it>.pt` and the
hallucinator's `state_dict`) are not converted: their pairing is the reference's own code.

Files are read with `torch.load(weights_only=True)`, which unpickles tensors and plain containers only and never
executes code from the file.
"""

from __future__ import annotations

from pathlib import Path

import torch

from vidstill.export import SetFormatError
from vidstill.synthetic_set import SyntheticSet


def load_tensor_file(path: str | Path, what: str) -> torch.Tensor:
    """One tensor from a torch.save file, safely; a file holding anything else is refused with the reason."""
    path = Path(path)
    if not path.is_file():
        raise SetFormatError(f"{path}: no such file")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - unreadable, or holds objects weights_only refuses: both are "not a tensor file"
        raise SetFormatError(
            f"{path}: not a torch tensor file readable without executing code ({type(e).__name__}: {e})"
        ) from e
    if isinstance(obj, dict) and len(obj) == 1:
        obj = next(iter(obj.values()))
    if not isinstance(obj, torch.Tensor):
        kind = f"a dict with keys {sorted(map(str, obj))[:6]}" if isinstance(obj, dict) else type(obj).__name__
        raise SetFormatError(f"{path}: expected one tensor of {what}, found {kind}")
    return obj.detach()


def reference_set(videos_path: str | Path, num_classes: int, labels_path: str | Path | None = None) -> SyntheticSet:
    """The reference's synthetic videos (and optional label file) as a SyntheticSet with the 'stored' expansion; the
    float tensor is kept bit for bit."""
    videos = load_tensor_file(videos_path, "videos (N, T, C, H, W)")
    if videos.ndim == 4:
        raise SetFormatError(
            f"{videos_path}: a 4-D tensor {tuple(videos.shape)} is a set of stills (VDSD's static memory); "
            "only the reference's video sets (N, T, C, H, W) convert"
        )
    if videos.ndim != 5 or videos.shape[2] != 3 or not videos.is_floating_point():
        raise SetFormatError(
            f"{videos_path}: expected float videos (N, T, 3, H, W), got {videos.dtype} {tuple(videos.shape)}"
        )
    if not torch.isfinite(videos).all():
        raise SetFormatError(f"{videos_path}: the videos hold NaN or infinite values")
    n = videos.shape[0]
    if num_classes < 1:
        raise SetFormatError(f"{videos_path}: the number of classes must be positive, got {num_classes}")
    if labels_path is not None:
        labels = load_tensor_file(labels_path, "labels (N,) or (N, K)")
        labels = labels.float() if labels.is_floating_point() else labels.long()
        if labels.shape[0] != n:
            raise SetFormatError(f"{labels_path}: {labels.shape[0]} labels for the {n} videos of {videos_path}")
    else:
        if n % num_classes:
            raise SetFormatError(
                f"{videos_path}: {n} videos do not split into {num_classes} classes of equal size "
                "(the reference stores classes × IPC, class-major); pass the labels file"
            )
        labels = torch.arange(n) * num_classes // n
    label_loss = "mse" if labels.is_floating_point() else "ce"  # FRePo's learned labels are regressed, as FRePo does
    meta = {
        "method": "reference",
        "instance": Path(videos_path).stem,
        "ipc": n // num_classes,
        "settings": {"source": str(videos_path), "labels": str(labels_path) if labels_path else "class-major"},
    }
    return SyntheticSet(
        {"videos": videos.float()}, labels, num_classes, int(videos.shape[1]), "stored", {}, None, label_loss, meta
    )
