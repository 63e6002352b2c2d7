"""Test setup: the library is importable from the source tree (also without an installed env), and the workflow
tests can find the repository root and the smoke config.

The fixtures several test modules share live here (module-scoped: each module builds its own, as when each module
imported them); plain helpers are in helpers.py. No test module imports another (test_suite_layout.py checks it)."""

import sys
from pathlib import Path

# OpenCV first: once decord (which carries its own FFmpeg) is loaded, OpenCV's FFmpeg backend can no longer open a VP8
# writer (measured: `import decord; import cv2` -> VideoWriter(..., 'VP80').isOpened() is False; the other order
# works). The fake SSv2 videos are VP8 in WebM, and which test module pytest imports first depends on the order.
import cv2
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow"))


def pytest_collection_modifyitems(config, items):
    """`gpu` tests need a CUDA device: without one they skip, saying so (torch is imported only when one is marked)."""
    gpu = [item for item in items if item.get_closest_marker("gpu")]
    if gpu:
        import torch

        if not torch.cuda.is_available():
            for item in gpu:
                item.add_marker(pytest.mark.skip(reason="needs a CUDA device (gpu marker)"))


# ------------------------------------------------------------------------------------------------------------------
# the tiny 3-class clip store and what is trained on it (distillation method tests)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """12 tiny videos of 3 classes (a flat colour per class and a moving bar), as a clip store of 8-frame clips."""
    import numpy as np
    import pandas as pd

    from vidstill.data.clips import ClipSpec, ClipStore, extract_clips

    tmp = tmp_path_factory.mktemp("store")
    rows = []
    for i in range(12):
        label = i % 3
        path = tmp / f"v{i}.avi"
        w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25, (48, 48))
        for t in range(16):
            frame = np.full((48, 48, 3), 30 + 60 * label, np.uint8)
            frame[:, (2 * t + i) % 40 : (2 * t + i) % 40 + 6] = 250
            w.write(frame)
        w.release()
        rows.append(
            dict(
                id=f"v{i}",
                path=str(path),
                **{"class": f"c{label}"},
                label=label,
                split="train",
                group=f"g{i}",
                frames=16,
                fps=25.0,
                width=48,
                height=48,
                error="",
            )
        )
    spec = ClipSpec(frames=8, stride=1, sampling="stride", resize=None, crop=48, max_stored=12)
    extract_clips(pd.DataFrame(rows), ["train"], spec, tmp / "train.npy", tmp / "train.parquet", progress=False)
    return ClipStore.open(tmp / "train.parquet")


@pytest.fixture(scope="module")
def experts(store, tmp_path_factory):
    """Two short expert trajectories (helpers.EXPERT_CFG, every epoch kept) on the store."""
    import torch
    from helpers import EXPERT_CFG, STUDENT

    from vidstill.experts import save_expert, train_expert

    tmp = tmp_path_factory.mktemp("experts")
    paths = []
    for e in range(2):
        traj, info = train_expert(store, store, EXPERT_CFG, STUDENT, e, torch.device("cpu"), test_passes=1)
        save_expert(traj, info, tmp / f"expert{e}.safetensors")
        paths.append(tmp / f"expert{e}.safetensors")
    return paths


@pytest.fixture(scope="module")
def teacher(store, tmp_path_factory):
    """An untrained tiny teacher (seeded) for the store."""
    import torch

    from vidstill.teacher import build_from_architecture, save_teacher, teacher_architecture

    path = tmp_path_factory.mktemp("teacher") / "convnet3d.safetensors"
    arch = teacher_architecture({"arch": "convnet3d", "widths": [4, 8, 8]}, store)
    torch.manual_seed(0)
    save_teacher(build_from_architecture(arch), arch, path)
    return path


@pytest.fixture(scope="module")
def bn_teacher(store, tmp_path_factory):
    """A tiny BatchNorm teacher whose running statistics are the store's clips' (TSGF matches them)."""
    import numpy as np
    import torch

    from vidstill.data.clips import sample_clips
    from vidstill.teacher import build_from_architecture, save_teacher, teacher_architecture

    path = tmp_path_factory.mktemp("teacher") / "convnet3d_bn.safetensors"
    arch = teacher_architecture({"arch": "convnet3d", "widths": [4, 8, 8], "norm": "batch"}, store)
    torch.manual_seed(0)
    model = build_from_architecture(arch)
    model.train()
    with torch.no_grad():  # running statistics of real clips, so the BN term starts finite and meaningful
        model(sample_clips(store, np.arange(len(store.labels))))
    save_teacher(model, {**arch, "standardize": False}, path)
    return path
