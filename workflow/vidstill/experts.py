"""Expert trajectories for trajectory matching (MTT and the methods built on it).

An expert is a student network trained on the real training data with its parameters kept after every epoch: MTT
distils a set whose few training steps move a network along a stretch of such a trajectory. Experts far below the
full-data accuracy are a known way MTT reproductions fail, so each expert's test accuracy is measured and
`expert_summary` compares it with the Full Dataset row's.

A trajectory is stored as one (epochs + 1, P) float32 tensor of flattened parameters (row 0 is the initialisation),
so distillation reads just the two rows it needs (`trajectory_rows`) instead of loading every expert.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch import nn

from vidstill.data.clips import ClipStore, RealClips
from vidstill.io import save_tensors
from vidstill.models import build_model
from vidstill.runtime import to_device
from vidstill.settings import ExpertsSettings, StudentSettings, build
from vidstill.train import TrainConfig, epoch_seed, evaluate, train

log = logging.getLogger("vidstill.experts")


def flat_parameters(model: nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()]).float().cpu()


def expert_seed(base: int, expert: int) -> int:
    return epoch_seed(base, 50_000 + expert)


def train_expert(
    train_store: ClipStore,
    test_store: ClipStore,
    cfg: Mapping[str, Any] | ExpertsSettings,
    student: Mapping[str, Any] | StudentSettings,
    expert: int,
    device: torch.device,
    test_passes: int = 3,
) -> tuple[torch.Tensor, dict[str, Any]]:
    """Expert number `expert`: the student network trained with `cfg` (the config's `experts` block); returns the
    trajectory and what was measured (test top-1/top-5, training curve, seconds)."""
    cfg = build(ExpertsSettings, cfg, "experts")
    student = build(StudentSettings, student, "student")
    seed = expert_seed(cfg.seed, expert)
    tc = TrainConfig.from_config(cfg, seed=seed)
    spec = train_store.spec
    torch.manual_seed(seed)
    model = build_model(student.arch, train_store.num_classes, spec.frames, spec.crop, widths=tuple(student.widths))
    snapshots = [flat_parameters(model)]

    def keep(epoch: int, m: nn.Module) -> None:
        snapshots.append(flat_parameters(m))

    result = train(model, RealClips(train_store), tc, device, on_epoch_end=keep)
    acc = evaluate(
        model,
        RealClips(test_store).test_batches(),
        test_store.num_classes,
        device,
        passes=test_passes,
        seed=seed,
        standardize_inputs=tc.standardize,
    )
    log.info(
        "expert %d: test top1 %.4f top5 %.4f after %d epochs (%.1fs)",
        expert,
        acc.top1,
        acc.top5,
        tc.epochs,
        result.wall_time,
    )
    info = {
        "expert": expert,
        "seed": seed,
        "epochs": tc.epochs,
        "top1": acc.top1,
        "top5": acc.top5,
        "wall_time": result.wall_time,
        "curve": result.curve,
        "standardize": tc.standardize,
    }
    return torch.stack(snapshots), info


def save_expert(trajectory: torch.Tensor, info: dict[str, Any], path: str | Path) -> None:
    save_tensors({"trajectory": trajectory}, path, metadata=info)


def expert_info(path: str | Path) -> dict[str, Any]:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        return json.loads((f.metadata() or {}).get("vidstill", "{}"))


def trajectory_rows(path: str | Path, rows: list[int], device: torch.device | str = "cpu") -> list[torch.Tensor]:
    """The flattened parameters after the given epochs, read without loading the rest of the trajectory."""
    from safetensors import safe_open

    # read on the host and queued to the device: a file opened onto the GPU copies with a sync, every MTT iteration
    with safe_open(str(path), framework="pt", device="cpu") as f:
        traj = f.get_slice("trajectory")
        epochs = traj.get_shape()[0] - 1
        for r in rows:
            if not 0 <= r <= epochs:
                raise ValueError(f"{path}: epoch {r} requested, but the expert was trained for {epochs} epochs")
        # copies, in torch's 64-byte-aligned memory: a view into the file sits wherever the metadata header ends,
        # and oneDNN's vectorised kernels round differently on differently aligned inputs, so an expert's wall time
        # (its metadata's length) moved MTT's result by an ulp
        return [to_device(traj[r : r + 1][0].clone(), torch.device(device)) for r in rows]


def expert_summary(infos: list[dict[str, Any]], full_top1: float, min_ratio: float) -> pd.DataFrame:
    """One row per expert: its test accuracy, the Full Dataset row's mean accuracy and their ratio; `weak` marks
    experts below `min_ratio` of the full-data accuracy."""
    df = pd.DataFrame([{k: i[k] for k in ("expert", "seed", "epochs", "top1", "top5", "wall_time")} for i in infos])
    df["full_top1"] = full_top1
    df["ratio"] = df["top1"] / full_top1 if full_top1 > 0 else float("nan")
    df["weak"] = df["ratio"] < min_ratio
    return df


def check_experts(summary: pd.DataFrame, min_ratio: float, strict: bool, source: str) -> str | None:
    """A message when experts are weak; raised when `strict`, else returned for the log and the MTT set's metadata."""
    weak = summary[summary["weak"]]
    if weak.empty:
        return None
    msg = (
        f"{source}: {len(weak)} of {len(summary)} experts reach less than {min_ratio:.0%} of the full-data accuracy "
        f"{summary['full_top1'].iloc[0]:.3f} (expert top-1 {', '.join(f'{a:.3f}' for a in weak['top1'])}); "
        "MTT matching weak experts distils poor sets — train them longer or with a higher lr (config experts:)"
    )
    if strict:
        raise RuntimeError(msg)
    return msg
