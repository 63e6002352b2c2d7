"""Which device a run's jobs use, decided while Snakemake plans the run (torch-free: planning must stay fast, and
the Snakefile imports this)."""

from __future__ import annotations

import os
from pathlib import Path


def visible_gpus() -> int:
    """How many NVIDIA GPUs this machine shows a job, found without importing torch (planning stays fast):
    CUDA_VISIBLE_DEVICES when set (empty or -1: none), else the driver's device list (/proc/driver/nvidia/gpus),
    else `nvidia-smi -L`. 0 when there is no driver."""
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is not None:
        ids = [d for d in env.split(",") if d.strip()]
        return 0 if not ids or ids[0].strip() == "-1" else len(ids)
    proc = Path("/proc/driver/nvidia/gpus")
    if proc.is_dir():
        return sum(1 for _ in proc.iterdir())
    import shutil
    import subprocess

    if shutil.which("nvidia-smi") is None:
        return 0
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return 0
    return sum(1 for line in out.stdout.splitlines() if line.startswith("GPU ")) if out.returncode == 0 else 0


def planning_device(setting: str) -> str:
    """The device every job of this run uses: `cpu` / `cuda` as configured; `auto` is resolved here, on the planning
    machine (cuda when it shows a GPU). On a cluster whose login node has no GPU, name `device: cuda`."""
    if setting not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device must be auto, cpu or cuda, got {setting!r}")
    if setting != "auto":
        return setting
    return "cuda" if visible_gpus() > 0 else "cpu"
