"""Student evaluation: runs × architectures rows, final vs best-on-test selection always labelled, learned lr used."""

import cv2
import numpy as np
import pandas as pd
import pytest
import torch

from vidstill.data.clips import ClipSpec, ClipStore, extract_clips
from vidstill.evaluate import evaluate_student
from vidstill.synthetic_set import SyntheticSet


@pytest.fixture(scope="module")
def test_store(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("eval")
    rows = []
    for i in range(4):
        path = tmp / f"v{i}.avi"
        w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25, (64, 48))
        for t in range(12):
            w.write(np.full((48, 64, 3), 40 + 150 * (i % 2), np.uint8))
        w.release()
        rows.append(dict(id=f"v{i}", path=str(path), **{"class": f"c{i % 2}"}, label=i % 2, split="test",
                         group=f"g{i}", frames=12, fps=25.0, width=64, height=48, error=""))
    spec = ClipSpec(frames=8, stride=1, sampling="stride", resize=None, crop=48, max_stored=12)
    extract_clips(pd.DataFrame(rows), ["test"], spec, tmp / "t.npy", tmp / "t.parquet", progress=False)
    return ClipStore.open(tmp / "t.parquet")


def toy_set():
    return SyntheticSet({"videos": torch.randn(4, 8, 3, 48, 48)}, torch.tensor([0, 0, 1, 1]), 2, 8)


PROTOCOL = dict(epochs=3, lr=0.01, batch_size=4, runs=2, test_passes=2)
STUDENT = {"arch": "convnet3d", "widths": [4, 8, 8]}


def test_rows_per_run_and_architecture(test_store):
    protocol = {**PROTOCOL, "epochs": 1, "cross_arch": ["r3d_18"]}
    runs = evaluate_student(toy_set(), test_store, protocol, STUDENT, 0, torch.device("cpu"))
    assert runs[["arch", "run"]].values.tolist() == [["convnet3d", 0], ["convnet3d", 1], ["r3d_18", 0], ["r3d_18", 1]]
    assert (runs["selection"] == "final").all() and (runs["selected_epoch"] == 1).all()
    assert runs["top1"].between(0, 1).all() and runs["per_class"].map(len).eq(2).all()
    assert runs["seed"].nunique() == 2  # each run its own seed, shared across architectures


def test_best_on_test_is_labelled_and_learned_lr_is_used(test_store):
    runs = evaluate_student(toy_set(), test_store, {**PROTOCOL, "selection": "best_on_test", "eval_every": 1}, STUDENT,
                            0, torch.device("cpu"), lr=0.123)
    assert (runs["selection"] == "best_on_test").all() and (runs["lr"] == 0.123).all()
    assert runs["selected_epoch"].between(1, 3).all()


def test_unknown_selection(test_store):
    with pytest.raises(ValueError, match="selection"):
        evaluate_student(toy_set(), test_store, {**PROTOCOL, "selection": "best"}, STUDENT, 0, torch.device("cpu"))
