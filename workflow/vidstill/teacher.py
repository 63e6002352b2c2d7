"""Teachers: a network trained on the full real training split, used by the Δ-ranking, DAViD's reward, TSGF, crop
scoring and the coreset embeddings. Saved as safetensors with its architecture in the metadata, so loading it needs
nothing but the file."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch import nn

from vidstill.data.clips import ClipStore, RealClips
from vidstill.io import load_tensors, read_tensors_metadata, save_tensors
from vidstill.models import build_model, place_model
from vidstill.settings import TeacherSettings, build
from vidstill.train import Accuracy, TrainConfig, TrainResult, evaluate, standardize, train


def teacher_architecture(cfg: Mapping[str, Any] | TeacherSettings, store: ClipStore) -> dict[str, Any]:
    cfg = build(TeacherSettings, cfg, "teacher")
    return {
        "arch": cfg.arch,
        "widths": list(cfg.widths),
        "norm": cfg.norm,
        "num_classes": store.num_classes,
        "frames": store.spec.frames,
        "size": store.spec.crop,
    }


def build_from_architecture(a: dict[str, Any]) -> nn.Module:
    return build_model(a["arch"], a["num_classes"], a["frames"], a["size"], norm=a["norm"], widths=tuple(a["widths"]))


def train_teacher(
    train_store: ClipStore,
    test_store: ClipStore,
    cfg: Mapping[str, Any] | TeacherSettings,
    device: torch.device,
    checkpoint: str | Path | None = None,
    static: bool = False,
    test_passes: int = 3,
) -> tuple[nn.Module, dict[str, Any], TrainResult, Accuracy]:
    """Train on every training clip. `static=True` trains and tests on single frames repeated over time (Δ-ranking)."""
    cfg = build(TeacherSettings, cfg, "teacher")
    arch = teacher_architecture(cfg, train_store)
    tc = TrainConfig.from_config(cfg)
    torch.manual_seed(tc.seed)
    model = build_from_architecture(arch)
    result = train(model, RealClips(train_store, static=static), tc, device, checkpoint=checkpoint)
    acc = evaluate(
        model,
        RealClips(test_store, static=static).test_batches(),
        test_store.num_classes,
        device,
        passes=test_passes,
        seed=tc.seed,
        standardize_inputs=tc.standardize,
    )
    return model, {**arch, "static": static, "standardize": tc.standardize}, result, acc


def save_teacher(model: nn.Module, arch: dict[str, Any], path: str | Path) -> None:
    save_tensors(model.state_dict(), path, metadata={"architecture": arch})


def load_teacher(path: str | Path, device: torch.device | str = "cpu") -> nn.Module:
    tensors, meta = load_tensors(path)
    model = build_from_architecture(meta["architecture"])
    model.load_state_dict(tensors)
    return place_model(model, torch.device(device)).eval()


def per_class_table(acc: Accuracy, store: ClipStore) -> pd.DataFrame:
    classes = store.table.drop_duplicates("label").set_index("label")["class"]
    return pd.DataFrame(
        {
            "label": range(store.num_classes),
            "class": [classes.get(i, "") for i in range(store.num_classes)],
            "accuracy": acc.per_class,
        }
    )


def teacher_softmax(
    teacher: nn.Module,
    batches: Iterable[torch.Tensor],
    device: torch.device,
    standardize_inputs: bool,
    temperature: float = 1.0,
) -> torch.Tensor:
    """The teacher's softmax (at `temperature`) on batches of float clips, each batch standardised as in its training:
    the soft labels and scores of the methods that ask the teacher (OptDistill's crops, TSGF's `labels: soft`)."""
    out = []
    with torch.no_grad():
        for x in batches:
            x = x.to(device)
            out.append(
                torch.softmax(teacher(standardize(x) if standardize_inputs else x).float() / temperature, dim=1).cpu()
            )
    return torch.cat(out) if out else torch.zeros(0)


def teacher_standardizes(path: str | Path) -> bool:
    """Whether the teacher was trained on per-batch standardised inputs (then every use of it standardises too)."""
    return bool(read_tensors_metadata(path).get("architecture", {}).get("standardize", True))
