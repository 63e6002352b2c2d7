"""Job set-up shared by the workflow scripts: threads and device from the rule, so every job behaves the same."""

from __future__ import annotations

import torch

from vidstill.train import resolve_device


def job_device(device: str, threads: int) -> torch.device:
    """Torch uses exactly the rule's `threads` (Snakemake also sets OMP_NUM_THREADS); the device follows config."""
    torch.set_num_threads(max(int(threads), 1))
    return resolve_device(device)


def reset_peak_memory(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def peak_memory_bytes(device: torch.device) -> int:
    """Peak memory of this job: allocated CUDA memory on a GPU (since the last reset), else the process's peak RSS."""
    if device.type == "cuda":
        return int(torch.cuda.max_memory_allocated(device))
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def gpu_peak_memory_bytes(device: torch.device) -> int | None:
    """Peak allocated CUDA memory since the last reset, None on CPU (where the job's benchmark file has the peak RSS):
    Snakemake's benchmark sees only host memory, so GPU jobs record this beside their results (report/cost.py)."""
    return int(torch.cuda.max_memory_allocated(device)) if device.type == "cuda" else None
