"""Job set-up shared by the workflow scripts: threads and device from the rule, so every job behaves the same."""

from __future__ import annotations

import torch

from vidstill.train import resolve_device


def job_device(device: str, threads: int) -> torch.device:
    """Torch uses exactly the rule's `threads` (Snakemake also sets OMP_NUM_THREADS); the device follows config."""
    torch.set_num_threads(max(int(threads), 1))
    return resolve_device(device)
