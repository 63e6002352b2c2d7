"""Student-training throughput (clips/s) of ConvNet3D: training steps of the one training loop, on synthetic
batches, at the default shape and at the papers' shapes, on CPU (and CUDA when there is one).

    uv run python benchmarks/train.py [--threads 1 2] [--steps 10]

For each (device, shape, widths, batch, threads) it times --steps optimiser steps (forward, backward, update, after
2 warm-up steps) and reports clips/s, with the network as `models.place_model` lays it out (on CPU: channels-last
Conv3d weights) and, side by side, with PyTorch's default layout; results go to results/benchmarks/train.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow"))

import torch  # noqa: E402
import yaml  # noqa: E402

from vidstill.models import ConvNet3D, place_model  # noqa: E402
from vidstill.train import TrainConfig, classification_loss, make_optimizer, standardize  # noqa: E402


def clips_per_second(
    device: torch.device, frames: int, size: int, widths, batch: int, steps: int, placed: bool, classes: int = 12
) -> float:
    torch.manual_seed(0)
    net = ConvNet3D(classes, frames, size, widths=tuple(widths))
    net = place_model(net, device) if placed else net.to(device)
    opt = make_optimizer(net.parameters(), TrainConfig(epochs=1))
    x = torch.randn(batch, frames, 3, size, size, device=device)
    y = torch.randint(0, classes, (batch,), device=device)

    def step() -> None:
        loss = classification_loss(net(standardize(x)), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    for _ in range(2):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return batch * steps / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--out", default=str(REPO / "results/benchmarks/train.json"))
    args = ap.parse_args()
    cfg = yaml.safe_load((REPO / "config/config.yaml").read_text())
    clips = cfg["datasets"]["synthetic"]["clips"]
    default = (clips["frames"], clips["crop"], cfg["student"]["widths"])
    shapes = {
        "default": default,
        "reference_8x64": (8, 64, [64, 128, 128]),
        "reference_16x112": (16, 112, [64, 128, 128]),
    }
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    rows = []
    for device in devices:
        for name, (frames, size, widths) in shapes.items():
            for batch in (12, 60) if name == "default" else (16,):
                for threads in args.threads if device.type == "cpu" else [torch.get_num_threads()]:
                    torch.set_num_threads(threads)
                    rates = {
                        layout: clips_per_second(device, frames, size, widths, batch, args.steps, layout == "placed")
                        for layout in ("placed", "pytorch_default")
                    }
                    row = dict(
                        device=device.type,
                        shape=name,
                        frames=frames,
                        size=size,
                        widths=list(widths),
                        batch=batch,
                        threads=threads,
                        clips_per_s=rates["placed"],
                        clips_per_s_default_layout=rates["pytorch_default"],
                        speedup=rates["placed"] / rates["pytorch_default"],
                    )
                    rows.append(row)
                    print(json.dumps(row))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
