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
        rows.append(
            dict(
                id=f"v{i}",
                path=str(path),
                **{"class": f"c{i % 2}"},
                label=i % 2,
                split="test",
                group=f"g{i}",
                frames=12,
                fps=25.0,
                width=64,
                height=48,
                error="",
            )
        )
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
    assert runs["seed"].nunique() == 2  # each run its own seed, shared across architectures


def test_students_learn_the_sets_labels_and_are_scored_against_the_true_ones(test_store):
    """The test clips themselves as the set (class 0 dark, class 1 bright): students trained on their labels get every
    test clip right, per class too; trained on swapped labels, none."""
    videos = torch.from_numpy(
        np.stack([np.ascontiguousarray(test_store.clip_uint8(i)) for i in range(len(test_store))])
    )
    protocol = {**PROTOCOL, "epochs": 15, "lr": 0.05, "test_passes": 1}
    right = SyntheticSet({"videos": videos}, test_store.labels.clone(), 2, 8)
    runs = evaluate_student(right, test_store, protocol, STUDENT, 0, torch.device("cpu"))
    assert runs["top1"].tolist() == [1.0, 1.0] and runs["per_class"].tolist() == [[1.0, 1.0], [1.0, 1.0]]
    swapped = SyntheticSet({"videos": videos}, 1 - test_store.labels, 2, 8)
    runs = evaluate_student(swapped, test_store, {**protocol, "runs": 1}, STUDENT, 0, torch.device("cpu"))
    assert runs["top1"].tolist() == [0.0] and runs["per_class"].tolist() == [[0.0, 0.0]]


def test_best_on_test_keeps_the_best_epoch_and_is_labelled(test_store, monkeypatch):
    """Scripted test accuracies per epoch (0.2, 0.9, 0.4, 0.3, 0.1): best_on_test reports epoch 2's 0.9 and its
    per-class accuracy, final the last measurement."""
    import vidstill.evaluate as ev
    from vidstill.train import Accuracy

    def scripted(values):
        calls = iter(values)

        def fake(*args, **kwargs):
            top1 = next(calls)
            return Accuracy(top1, min(1.0, top1 + 0.05), [top1, 1 - top1], 1)

        return fake

    monkeypatch.setattr(ev, "evaluate", scripted([0.2, 0.9, 0.4, 0.3, 0.1]))
    protocol = {**PROTOCOL, "epochs": 5, "runs": 1, "selection": "best_on_test", "eval_every": 1}
    runs = evaluate_student(toy_set(), test_store, protocol, STUDENT, 0, torch.device("cpu"), lr=0.123)
    assert (runs["selection"] == "best_on_test").all() and (runs["lr"] == 0.123).all()
    assert runs["selected_epoch"].tolist() == [2] and runs["top1"].tolist() == [0.9]
    assert runs["top5"].tolist() == [pytest.approx(0.95)] and runs["per_class"].tolist() == [[0.9, pytest.approx(0.1)]]
    monkeypatch.setattr(ev, "evaluate", scripted([0.3]))
    runs = evaluate_student(toy_set(), test_store, {**protocol, "selection": "final"}, STUDENT, 0, torch.device("cpu"))
    assert runs["selected_epoch"].tolist() == [5] and runs["top1"].tolist() == [0.3]


def test_unknown_selection(test_store):
    with pytest.raises(ValueError, match="selection"):
        evaluate_student(toy_set(), test_store, {**PROTOCOL, "selection": "best"}, STUDENT, 0, torch.device("cpu"))
