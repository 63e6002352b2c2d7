"""Δ-ranking arithmetic, grouping rule, top-K subsets and per-group accuracy."""

import numpy as np
import pandas as pd
import pytest

from vidstill.analysis.ranking import delta_table, group_accuracy, top_k_classes

CLASSES = ["Appear", "Mixed", "MotionA", "MotionB"]


def acc(values):
    return pd.DataFrame({"label": range(len(values)), "class": CLASSES[: len(values)], "accuracy": values})


def test_delta_is_the_mean_of_per_seed_differences_with_spread():
    full = [acc([0.9, 0.6, 0.8, 0.7]), acc([0.8, 0.6, 0.9, 0.9])]
    static = [acc([0.9, 0.4, 0.1, 0.2]), acc([0.9, 0.5, 0.2, 0.1])]
    d = delta_table(full, static, groups=2).set_index("class")
    assert d.loc["MotionA", "delta"] == pytest.approx(0.7)
    assert d.loc["Appear", "delta"] == pytest.approx(-0.05)
    assert d.loc["MotionB", "delta_std"] == pytest.approx(np.std([0.5, 0.8], ddof=1))
    assert (
        d.loc["MotionA", "rank"] == 1 and d.loc["MotionB", "rank"] == 2 and d.loc["Appear", "rank"] == 4
    )  # Δ 0.7 > 0.65
    assert d.loc["Appear", "group"] == 0 and d.loc["Mixed", "group"] == 0 and d.loc["MotionA", "group"] == 1


def test_groups_are_equal_sized_and_ordered():
    values = np.linspace(0, 1, 22)
    names = [f"c{i:02d}" for i in range(22)]
    full = [pd.DataFrame({"label": range(22), "class": names, "accuracy": values})]
    static = [pd.DataFrame({"label": range(22), "class": names, "accuracy": np.zeros(22)})]
    d = delta_table(full, static, groups=11)
    assert d.groupby("group").size().tolist() == [2] * 11
    assert d.groupby("group")["delta"].mean().is_monotonic_increasing
    assert np.isnan(d["delta_std"]).all()  # one seed: no spread to report


def test_top_k():
    d = delta_table([acc([0.5, 0.5, 0.9, 0.8])], [acc([0.5, 0.4, 0.1, 0.1])])
    assert top_k_classes(d, 2) == ["MotionA", "MotionB"]
    with pytest.raises(ValueError, match="top_k_by_delta"):
        top_k_classes(d, 5)


def test_group_accuracy_maps_subset_labels_through_class_names():
    d = delta_table([acc([0.9, 0.6, 0.9, 0.9])], [acc([0.9, 0.5, 0.1, 0.2])], groups=2)
    runs = pd.DataFrame(
        [
            dict(dataset="tr", method="dm", ipc=1, per_class=[0.2, 0.4]),  # tr's labels: MotionA, MotionB
            dict(dataset="tr", method="dm", ipc=1, per_class=[0.4, 0.6]),
        ]
    )
    out = group_accuracy(runs, {"tr": ["MotionA", "MotionB"]}, {"tr": d})
    assert out.to_dict("records") == [
        dict(dataset="tr", method="dm", ipc=1, group=1, accuracy=pytest.approx(40.0), classes=2, runs=2)
    ]


def test_mismatched_runs_are_an_error():
    with pytest.raises(ValueError, match="same non-zero number"):
        delta_table([acc([0.1])], [])
