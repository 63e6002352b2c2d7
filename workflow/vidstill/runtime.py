"""Job set-up shared by the workflow scripts: threads, device, precision and determinism from the rule's params, and
the job's peak memory, so every job behaves and reports the same way.

Device, precision and determinism are global switches of torch (TF32 flags, cuDNN flags, autocast): one job is one
process, so the script sets them once here, before any network is built, and the library reads them back
(`autocast`) instead of every call site taking them as arguments. Peak GPU memory is reset here, once per job, and
only read by the library: a method that reset it inside its loop would hide its set-up from the job's figure.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from vidstill.settings import RuntimeSettings, build

PRECISIONS = ("fp32", "tf32", "bf16")

# The job's precision (set by `configure`): read by `autocast`. fp32 until a job says otherwise, so library code
# called outside a job (tests, benchmarks) runs the plain fp32 arithmetic it always ran.
_PRECISION = "fp32"
_EMBED_CHUNK = 0  # clips per no-grad real-clip embedding forward (models.embed_chunked); 0: automatic


def resolve_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device: cuda was requested but torch sees no CUDA device")
    return torch.device(name)


def configure(precision: str = "fp32", deterministic: bool = False, embed_chunk: int = 0) -> None:
    """Set torch's process-wide numerics for this job.

    fp32 and bf16 turn TF32 off for matmuls and cuDNN convolutions (torch enables it for cuDNN by default, which
    would give "fp32" convolutions a 10-bit mantissa); tf32 turns it on for both. bf16 autocasts the training
    forward (train.py); everything else stays fp32. `deterministic` selects cuDNN's deterministic kernels and asks torch
    for deterministic algorithms, warning (not failing) where an op has none. On CPU these flags change nothing.
    `embed_chunk` sizes the chunks of the real-clip embeddings (models.embed_chunked).
    """
    global _PRECISION, _EMBED_CHUNK
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    _PRECISION = precision
    _EMBED_CHUNK = max(int(embed_chunk), 0)
    tf32 = precision == "tf32"
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cudnn.deterministic = bool(deterministic)
    torch.backends.cudnn.benchmark = False
    torch.use_deterministic_algorithms(bool(deterministic), warn_only=True)
    if deterministic:  # cuBLAS needs a fixed workspace for reproducible matmuls (read when CUDA initialises)
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")


def precision() -> str:
    return _PRECISION


def embed_chunk() -> int:
    return _EMBED_CHUNK


def autocast(device: torch.device, enabled: bool = True) -> contextlib.AbstractContextManager:
    """bf16 autocast when the job's precision is bf16 (and the caller has not opted out), else a no-op context."""
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=enabled and _PRECISION == "bf16")


@dataclass(frozen=True)
class Runtime:
    """What a job runs on: the resolved device and the numerics it was configured with."""

    device: torch.device
    precision: str = "fp32"
    deterministic: bool = False

    def record(self) -> dict[str, Any]:
        """Device, precision, determinism and the job's peak GPU memory: written into every result's metadata."""
        return {
            "device": self.device.type,
            "precision": self.precision,
            "deterministic": self.deterministic,
            "gpu_peak_memory_bytes": gpu_peak_memory_bytes(self.device),
        }

    def write_record(self, log: str | Path) -> dict[str, Any]:
        """`record()` beside the job's log (`<log>.device.json`), where the cost table reads every job's GPU peak."""
        rec = self.record()
        Path(f"{log}.device.json").write_text(json.dumps(rec))
        return rec


def job_runtime(settings: Mapping[str, Any] | RuntimeSettings, threads: int) -> Runtime:
    """A job's set-up from its rule's `runtime` param (device, precision, deterministic; the distill rule adds
    embed_chunk): torch uses exactly the
    rule's `threads` (Snakemake also sets OMP_NUM_THREADS), numerics are configured and peak memory is reset."""
    s = build(RuntimeSettings, settings, "runtime")
    torch.set_num_threads(max(int(threads), 1))
    device = resolve_device(s.device)
    rt = Runtime(device, s.precision, s.deterministic)
    configure(rt.precision, rt.deterministic, s.embed_chunk)
    reset_peak_memory(device)
    return rt


def job_device(device: str, threads: int) -> torch.device:
    """The device alone, with fp32 numerics (job_runtime is the full set-up)."""
    return job_runtime({"device": device}, threads).device


def to_device(t: torch.Tensor, device: torch.device) -> torch.Tensor:
    """`t` on `device` without making the host wait: a plain `.to("cuda")` of a host tensor synchronises the stream
    (the host waits for every queued kernel) before it copies. With `non_blocking` the copy is queued instead; from
    pageable memory CUDA stages the bytes before returning, so `t` may be freed or changed at once. On the CPU this is
    `t` itself."""
    return t.to(device, non_blocking=True)


def reset_peak_memory(device: torch.device) -> None:
    """Only job set-up calls this (job_runtime): methods read the peak, never reset it."""
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def peak_memory_bytes(device: torch.device) -> int:
    """Peak memory of this job: allocated CUDA memory on a GPU (since the job started), else the process's peak RSS."""
    if device.type == "cuda":
        return int(torch.cuda.max_memory_allocated(device))
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def gpu_peak_memory_bytes(device: torch.device) -> int | None:
    """Peak allocated CUDA memory since the job started, None on CPU (where the job's benchmark file has the peak
    RSS): Snakemake's benchmark sees only host memory, so GPU jobs record this beside their results (report/cost.py)."""
    return int(torch.cuda.max_memory_allocated(device)) if device.type == "cuda" else None


def check_card(job: str, estimate_mb: int | float | None, device: torch.device, card_bytes: int | None = None) -> None:
    """Stop a job that cannot fit before it starts: its planning-time estimate (the rule's `gpu_mem_mb` resource,
    vidstill.memory) against the card's memory, in an error naming the job, the estimate and the card."""
    card = card_bytes if card_bytes is not None else total_gpu_memory_bytes(device)
    if not estimate_mb or card is None or estimate_mb * 2**20 <= card:
        return
    raise MemoryError(
        f"{job}: estimated peak GPU memory {estimate_mb / 1024:.1f} GiB exceeds the card's {card / 2**30:.1f} GiB "
        f"({torch.cuda.get_device_name(device) if device.type == 'cuda' else device}); set embed_chunk, lower "
        "the method's batch sizes (batch_real, batch_syn, batch_train, class_chunk), syn_steps or IPC, or run it on "
        "a larger card; where you have measured less, override the estimate with --set-resources "
        "<rule>:gpu_mem_mb=N (README: GPU)"
    )


def total_gpu_memory_bytes(device: torch.device) -> int | None:
    return int(torch.cuda.get_device_properties(device).total_memory) if device.type == "cuda" else None


__all__ = [
    "PRECISIONS",
    "Runtime",
    "autocast",
    "check_card",
    "configure",
    "embed_chunk",
    "gpu_peak_memory_bytes",
    "job_device",
    "job_runtime",
    "peak_memory_bytes",
    "precision",
    "reset_peak_memory",
    "resolve_device",
    "total_gpu_memory_bytes",
]
