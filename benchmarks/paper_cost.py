"""What a paper run costs on this machine: unit costs measured at the papers' shapes, multiplied by the papers' counts.

    uv run python benchmarks/paper_cost.py [--steps 4]

Measured here, side by side in one run (ConvNet3D 64/128/128, config/paper.yaml's clip shapes):
- student training throughput (forward, backward, update; batch 16) and test throughput (forward only) in clips/s
  at 16×112² (MiniUCF, HMDB51, UCF101) and 8×64² (Kinetics-400, SSv2);
- seconds per distillation iteration of DM (IPC 1 and 5), DM+VDSD, MTT, MTT+VDSD, FRePo, IDTD, Static-DC and TSGF
  with config/paper.yaml's settings at 16×112² on 2 classes (the method's own timer; an iteration's cost is linear in
  the classes: per-class real batches, a synthetic set of classes × IPC), scaled to each dataset's classes.
Projected from them, for config/paper.yaml's `table1` datasets (MiniUCF, HMDB51) with REFERENCE.md's split sizes:
the teacher (50 epochs on the training split), MTT's experts (30 × 50 epochs), one Full Dataset row (3 runs × 50
epochs), one evaluation cell (3 runs × 500 epochs on the distilled set + 3 test passes per run) and each measured
method's distillation at its paper iteration count. Results: results/benchmarks/paper_cost.json and a markdown table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow"))
sys.path.insert(0, str(REPO / "benchmarks"))

import torch  # noqa: E402
import yaml  # noqa: E402
from train import clips_per_second  # noqa: E402

from vidstill.models import ConvNet3D, place_model  # noqa: E402
from vidstill.train import standardize  # noqa: E402

WIDTHS = [64, 128, 128]
SPLITS = {  # REFERENCE.md: train / test clips and classes of the papers' datasets
    "MiniUCF": (4662, 1861, 50),
    "HMDB51": (5236, 1530, 51),
}


def forward_clips_per_second(frames: int, size: int, batch: int, steps: int) -> float:
    """Test-pass throughput: forward only, no gradient."""
    net = place_model(ConvNet3D(50, frames, size, widths=tuple(WIDTHS)), torch.device("cpu")).eval()
    x = torch.randn(batch, frames, 3, size, size)
    with torch.no_grad():
        net(standardize(x))
        t = time.perf_counter()
        for _ in range(steps):
            net(standardize(x))
    return batch * steps / (time.perf_counter() - t)


# Methods measured at the paper's shape: instance -> (IPC, teacher norm or None, iterations timed). Not measured: the
# coresets (one embedding pass over the training clips), DAViD (DM's iterations plus its Q-learning search on
# early-stage DM; david_search_cost.csv measures the search), OptDistill (its crop stage tracks every training video:
# the crop jobs of cost.csv), FRePo+VDSD (FRePo plus VDSD's hallucinator, as DM+VDSD against DM shows).
MEASURED = {
    "dm": (1, None, 2),
    "dm@5": (5, None, 2),
    "dm_vdsd": (1, None, 2),
    "mtt": (1, None, 2),
    "mtt_vdsd": (1, None, 2),
    "frepo": (1, None, 2),
    "idtd": (1, None, 2),
    "static_dc": (1, None, 1),
    "tsgf": (1, "batch", 2),
}
CLASSES = 2  # an iteration's cost is linear in the classes (per-class real batches; a synthetic set of classes x IPC)


def distill_seconds_per_iteration(paper: dict, instance: str, threads: int) -> dict:
    """One method at 16×112² with the paper's settings on CLASSES classes: its own seconds per iteration (the
    method's timer, without process start-up), in a process of its own (benchmarks/distill.py)."""
    name = instance.partition("@")[0]
    ipc, teacher_norm, iterations = MEASURED[instance]
    settings = {
        k: v for k, v in paper["methods"][name].items() if k not in ("label", "iterations", "published_as", "teacher")
    }
    impl = settings.pop("method", name)
    case = dict(
        shape="paper_16x112",
        device="cpu",
        threads=threads,
        iterations=iterations,
        ipc=ipc,
        classes=CLASSES,
        frames=16,
        size=112,
        widths=WIDTHS,
        batch_real=int(settings.get("batch_real", 64)),
        method=impl,
        variant="paper",
        settings=settings,
        teacher_norm=teacher_norm,
    )
    out = subprocess.run(
        [sys.executable, str(REPO / "benchmarks/distill.py"), "--case", json.dumps(case)],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise SystemExit(f"{instance} failed:\n{out.stderr[-3000:]}")
    row = json.loads(out.stdout.strip().splitlines()[-1])
    return dict(
        instance=instance,
        ipc=ipc,
        seconds_per_iteration=row["seconds_per_iteration"],
        peak_memory_mib=row["peak_memory_mib"],
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", nargs="+", choices=list(MEASURED), help="measure only these distillations")
    ap.add_argument("--out", default=str(REPO / "results/benchmarks/paper_cost.json"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    paper = yaml.safe_load((REPO / "config/paper.yaml").read_text())
    ev, teacher, experts = paper["evaluation"], paper["teacher"], paper["experts"]

    units = {}
    for frames, size in ((16, 112), (8, 64)):
        units[f"{frames}x{size}"] = dict(
            train_clips_per_s=clips_per_second(
                torch.device("cpu"), frames, size, WIDTHS, 16, args.steps, True, classes=50
            ),
            test_clips_per_s=forward_clips_per_second(frames, size, 64, args.steps),
        )
        print(f"{frames}x{size}: {json.dumps(units[f'{frames}x{size}'])}", flush=True)
    measured = []
    for instance in args.only or MEASURED:
        m = distill_seconds_per_iteration(paper, instance, args.threads)
        measured.append(m)
        print(
            f"{instance}: {m['seconds_per_iteration']:.2f} s per iteration on {CLASSES} classes at IPC {m['ipc']}, "
            f"peak {m['peak_memory_mib']:.0f} MiB",
            flush=True,
        )

    u = units["16x112"]
    rows = []
    for name, (train, test, classes) in SPLITS.items():
        test_s = ev["test_passes"] * test / u["test_clips_per_s"]
        epoch_s = train / u["train_clips_per_s"]
        rows.append(
            dict(
                dataset=name, job=f"teacher ({teacher['epochs']} epochs)", seconds=teacher["epochs"] * epoch_s + test_s
            )
        )
        rows.append(
            dict(
                dataset=name,
                job=f"MTT experts ({experts['count']} x {experts['epochs']} epochs)",
                seconds=experts["count"] * (experts["epochs"] * epoch_s + test_s),
            )
        )
        rows.append(
            dict(
                dataset=name,
                job=f"Full Dataset row ({ev['runs']} runs x {ev['full']['epochs']} epochs)",
                seconds=ev["runs"] * (ev["full"]["epochs"] * epoch_s + test_s),
            )
        )
        for ipc in (1, 5):
            per_run = ev["epochs"] * classes * ipc / u["train_clips_per_s"] + test_s
            rows.append(
                dict(
                    dataset=name,
                    job=f"one evaluation cell, IPC {ipc} ({ev['runs']} runs x {ev['epochs']} epochs)",
                    seconds=ev["runs"] * per_run,
                )
            )
        for m in measured:
            method = m["instance"].partition("@")[0]
            iterations = paper["methods"][method]["iterations"] * (
                m["ipc"] if method == "tsgf" else 1
            )  # TSGF: per IPC slot
            rows.append(
                dict(
                    dataset=name,
                    job=f"{method} distillation, IPC {m['ipc']} ({iterations} iterations)",
                    seconds=m["seconds_per_iteration"] * classes / CLASSES * iterations,
                )
            )
    print("\n| dataset | job | hours on this CPU |\n|---|---|---|")
    for r in rows:
        print(f"| {r['dataset']} | {r['job']} | {r['seconds'] / 3600:,.1f} |")
    result = dict(
        device="cpu", threads=args.threads, units=units, distill=measured, classes_measured=CLASSES, rows=rows
    )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
