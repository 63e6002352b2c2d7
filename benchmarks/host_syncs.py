"""Host syncs in the hot loops: does a longer loop make the host wait for the GPU more often?

Every distillation loop runs `--iterations` N and then 2N iterations; student training runs with a batch size that
doubles the batch count; the evaluation's test passes run with halved batches. On CUDA, PyTorch's sync debug mode
(`torch.cuda.set_sync_debug_mode("warn")`) warns at every operation that makes the host wait for the device, and
the warnings are counted. The count a loop adds when it runs longer is what issue 27 (Build 4) asks to be zero: the
loops read the GPU at their logging intervals (a tenth of the run), when a checkpoint is written and at the end.

Without CUDA the same runs count the CPU stand-in the tests use (tests/test_host_reads.py): the host's reads of
float32 values (`item`, `tolist`, `float`, `bool`, `int`, `nonzero`), which is what a loss or logit read is. It cannot
see a blocking copy or an index sent from the host, which only the CUDA run counts.

    python benchmarks/host_syncs.py RESULTS [--iterations 20] [--device cuda] [--out host_syncs.json]

RESULTS: a finished run's results directory (the smoke table's, as benchmarks/device_check.sh leaves it) for the
synthetic dataset's clips, experts, BN teacher and VDSD stills. Exit status 1 when any loop's count grows.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import torch
from torch.overrides import TorchFunctionMode

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow"))

READS = {
    torch.Tensor.item,
    torch.Tensor.tolist,
    torch.Tensor.__float__,
    torch.Tensor.__int__,
    torch.Tensor.__bool__,
    torch.Tensor.nonzero,
}


class HostReads(TorchFunctionMode):
    """Counts the host's reads of float32 tensors' values, by operation: the CPU stand-in for a device sync (losses,
    embeddings and logits live on the device; the host's own draws are int64 picks, bool masks and Adam's float64
    step counts)."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: collections.Counter[str] = collections.Counter()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func in READS and args[0].dtype == torch.float32:
            self.counts[func.__name__] += 1
        return func(*args, **(kwargs or {}))


def host_reads(run: Callable[[], object]) -> collections.Counter:
    with HostReads() as mode:
        run()
    return mode.counts


def cuda_syncs(run: Callable[[], object]) -> collections.Counter:
    """Synchronising operations PyTorch reports while `run` runs, by the warning's first line."""
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("warn")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            run()
    finally:
        torch.cuda.set_sync_debug_mode(0)
    return collections.Counter(
        str(w.message).splitlines()[0][:120] for w in caught if "synchroniz" in str(w.message).lower()
    )


def distill_runs(results: Path, device: torch.device, widths: list[int]) -> dict[str, Callable[[int], object]]:
    """Each loop as a function of its iteration count, on tiny settings over the run's synthetic clips."""
    from vidstill.data.clips import ClipStore
    from vidstill.methods import get_method
    from vidstill.methods.context import DistillContext

    data = results / "synthetic"
    store = ClipStore.open(data / "clips/train.parquet", in_memory=True)
    student = {"arch": "convnet3d", "widths": list(widths)}
    experts = sorted((data / "experts").glob("expert*.safetensors"))
    stills = data / "distilled/vdsd_stills/ipc2/seed0.safetensors"
    teacher = data / "teacher/convnet3d_bn.safetensors"

    def run(method: str, teacher_path: Path | None = None, artifacts: dict | None = None, **params):
        def go(n: int) -> object:
            ctx = DistillContext(store, 1, 0, device, {"method": method, "iterations": n, **params}, student)
            ctx.teacher, ctx.artifacts = teacher_path, dict(artifacts or {})
            return get_method(method).fn(ctx)

        return go

    runs = {
        "dm": run("dm", batch_real=4, dsa=True),
        "dc": run("dc", batch_real=4, outer_loop=2, inner_loop=1),
        "frepo": run("frepo", batch_real=4),
        "idtd": run("idtd", batch_real=4),
        "prism": run("prism", batch_real=4),
    }
    if experts:
        runs["mtt"] = run("mtt", artifacts={"experts": experts}, syn_steps=4, expert_epochs=1, max_start_epoch=1)
    if stills.exists():
        runs["dm_vdsd"] = run("dm_vdsd", artifacts={"stills": stills}, batch_real=4)
    if teacher.exists():
        runs["tsgf"] = run("tsgf", teacher_path=teacher)
    return runs


def training_runs(results: Path, device: torch.device, widths: list[int]) -> dict[str, Callable[[int], object]]:
    """Student training (the batch count grows with n) and the evaluation's test passes (likewise)."""
    from vidstill.data.clips import ClipStore, RealClips
    from vidstill.models import build_model
    from vidstill.train import TrainConfig, evaluate, train

    data = results / "synthetic"
    store = ClipStore.open(data / "clips/train.parquet", in_memory=True)
    test = RealClips(ClipStore.open(data / "clips/test.parquet", in_memory=True))
    spec = store.spec

    def model() -> torch.nn.Module:
        torch.manual_seed(0)
        return build_model("convnet3d", store.num_classes, spec.frames, spec.crop, widths=tuple(widths))

    # n = 20 or 40: batches of 32 or 16 clips, the same epochs
    return {
        "train": lambda n: train(
            model(), RealClips(store), TrainConfig(epochs=2, lr=0.01, batch_size=640 // n), device
        ),
        "evaluate": lambda n: evaluate(model(), test.test_batches(640 // n), store.num_classes, device, passes=2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", type=Path, help="a finished run's results/ (the smoke table's)")
    ap.add_argument("--iterations", type=int, default=20)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--only", nargs="*", help="these loops only (dm, dc, frepo, idtd, prism, mtt, dm_vdsd, tsgf, ...)")
    ap.add_argument("--widths", type=int, nargs="+", default=[16, 32], help="the run's student (its experts match it)")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    from vidstill.runtime import job_runtime

    rt = job_runtime({"device": args.device, "precision": "fp32", "deterministic": False}, 8)
    count = cuda_syncs if rt.device.type == "cuda" else host_reads
    runs = {**distill_runs(args.results, rt.device, args.widths), **training_runs(args.results, rt.device, args.widths)}
    report, grew = (
        {"device": str(rt.device), "counts": "cuda syncs" if count is cuda_syncs else "float32 host reads"},
        [],
    )
    n = args.iterations
    for name, run in runs.items():
        if args.only and name not in args.only:
            continue
        short, long = count(lambda: run(n)), count(lambda: run(2 * n))
        added = {k: long[k] - short.get(k, 0) for k in long if long[k] != short.get(k, 0)}
        report[name] = {"short": sum(short.values()), "long": sum(long.values()), "added": added}
        print(f"{name:10s} {n:3d} → {2 * n:3d}: {sum(short.values()):5d} → {sum(long.values()):5d}  {added or ''}")
        if sum(long.values()) > sum(short.values()):
            grew.append(name)
    report["grew"] = grew
    if args.out:
        args.out.write_text(json.dumps(report, indent=1))
    print("loops whose count grew with their length:", ", ".join(grew) or "none")
    raise SystemExit(1 if grew else 0)


if __name__ == "__main__":
    main()
