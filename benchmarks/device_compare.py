"""One DM set distilled on the CPU and on CUDA from the same clips, seed and settings, in fp32 with TF32 off: the two
must agree within a stated tolerance (the summation orders of oneDNN and cuDNN differ, so bit equality is not
expected). Also prints the planning-time memory estimate (vidstill.memory) beside the CUDA job's measured peak.

    python benchmarks/device_compare.py results/synthetic/clips/train.parquet [--iterations 10] [--tolerance 1e-3]

Exit status 1 when max |cuda − cpu| exceeds tolerance × max |cpu| (the set's value range). Run by
benchmarks/device_check.sh on a machine with a GPU.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow"))


def distill_dm(train: str, device: str, iterations: int, ipc: int, seed: int, widths: list[int]) -> tuple:
    from vidstill.data.clips import ClipStore
    from vidstill.methods import get_method
    from vidstill.methods.context import DistillContext
    from vidstill.runtime import job_runtime, peak_memory_bytes

    rt = job_runtime({"device": device, "precision": "fp32", "deterministic": True}, 4)
    ctx = DistillContext(
        ClipStore.open(train),
        ipc,
        seed,
        rt.device,
        {"method": "dm", "iterations": iterations, "lr": 10.0, "batch_real": 8, "dsa": False},
        {"arch": "convnet3d", "widths": widths},
    )
    s = get_method("dm").fn(ctx)
    return s.tensors["videos"], peak_memory_bytes(rt.device), ctx


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("train", help="a clip store's table (results/<dataset>/clips/train.parquet)")
    ap.add_argument("--iterations", type=int, default=10)
    ap.add_argument("--ipc", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--widths", type=int, nargs=3, default=[64, 128, 128])
    ap.add_argument("--tolerance", type=float, default=1e-3, help="of max |cpu|, for max |cuda - cpu|")
    args = ap.parse_args()
    import torch

    from vidstill.memory import ClipShape, distill_estimate

    cpu, _, ctx = distill_dm(args.train, "cpu", args.iterations, args.ipc, args.seed, args.widths)
    cuda, peak, _ = distill_dm(args.train, "cuda", args.iterations, args.ipc, args.seed, args.widths)
    diff = float((cuda - cpu).abs().max())
    scale = float(cpu.abs().max())
    spec = ctx.train.spec
    est = distill_estimate(
        "dm", {"batch_real": 8}, ClipShape(spec.frames, spec.crop), tuple(args.widths), ctx.num_classes, args.ipc, 0
    )
    out = {
        "iterations": args.iterations,
        "max_abs_diff": diff,
        "max_abs_cpu": scale,
        "relative": diff / scale,
        "tolerance": args.tolerance,
        "ok": diff <= args.tolerance * scale,
        "cuda_peak_bytes": peak,
        "estimate_bytes": est.total,
        "estimate_parts": est.parts,
        "mean_abs_diff": float((cuda - cpu).abs().mean()),
        "bit_identical": bool(torch.equal(cpu, cuda)),
    }
    print(json.dumps(out, indent=1))
    raise SystemExit(0 if out["ok"] else 1)


if __name__ == "__main__":
    main()
