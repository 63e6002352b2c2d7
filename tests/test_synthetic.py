"""The synthetic benchmark: UCF101 layout, determinism, decodable videos with boxes, and the property it exists for:
motion classes cannot be told apart from one frame, but can from the clip; no scene or colour shortcut."""

import hashlib

import decord
import numpy as np
import pandas as pd
import pytest

from vidstill.data.synthetic import (
    CLASS_SPECS,
    DEFAULT_CLASSES,
    DEFAULT_REALISM,
    generate_synthetic,
    group_background,
    plan_clip,
    realism_from_config,
    write_class_strip,
)

SMALL = dict(classes=["RedDisc", "SlideUp", "SlideDown", "Grow"], groups=4, clips_per_group=2, test_groups=1,
             min_frames=20, max_frames=28, seed=3)


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    out = tmp_path_factory.mktemp("syn") / "videos"
    generate_synthetic(out, **SMALL)
    return out


def read(path):
    return path.read_bytes()


def test_ucf101_layout(root):
    lists = root / "ucfTrainTestlist"
    class_ind = read(lists / "classInd.txt").decode()
    assert class_ind.endswith("\r\n") and class_ind.split("\r\n")[:4] == ["1 Grow", "2 RedDisc", "3 SlideDown", "4 SlideUp"]
    for k in (1, 2, 3):
        train = [line.split(" ") for line in read(lists / f"trainlist0{k}.txt").decode().split("\r\n") if line]
        test = [line for line in read(lists / f"testlist0{k}.txt").decode().split("\r\n") if line]
        assert len(train) + len(test) == 4 * 4 * 2 and len(test) == 4 * 1 * 2
        train_groups = {p.split("_")[-2] for p, _ in train}
        test_groups = {p.split("_")[-2] for p in test}
        assert not train_groups & test_groups
        for path, label in train:
            cls = path.split("/")[0]
            assert path == f"{cls}/{path.split('/')[1]}" and (root / "UCF-101" / path).is_file()
            assert class_ind.split("\r\n")[int(label) - 1] == f"{label} {cls}"
    assert (root / "UCF-101/RedDisc/v_RedDisc_g01_c01.avi").is_file() and (root / "DONE").is_file()


def test_videos_decode_with_boxes_on_the_actor(root):
    boxes = pd.read_parquet(root / "boxes.parquet")
    for path in sorted((root / "UCF-101").rglob("*.avi"))[:6]:
        vr = decord.VideoReader(str(path))
        n = len(vr)
        assert SMALL["min_frames"] <= n <= SMALL["max_frames"]
        b = boxes[boxes["id"] == path.stem].sort_values("frame")
        assert b["frame"].tolist() == list(range(n))
        assert ((b["x2"] > b["x1"]) & (b["y2"] > b["y1"]))[b["visible"]].all()


def test_deterministic_per_seed(tmp_path):
    kw = dict(SMALL, classes=["RedDisc", "SlideUp"], groups=2, clips_per_group=1)
    generate_synthetic(tmp_path / "a", **kw)
    generate_synthetic(tmp_path / "b", **kw)
    generate_synthetic(tmp_path / "c", **dict(kw, seed=4))
    digest = lambda r: hashlib.sha256(b"".join(p.read_bytes() for p in sorted(r.rglob("*.avi")))).hexdigest()
    assert digest(tmp_path / "a") == digest(tmp_path / "b") != digest(tmp_path / "c")


def test_single_frame_statistics_do_not_separate_motion_classes():
    """The actor's per-frame state (centre, size, angle, flash) has the same distribution in every motion class:
    a classifier seeing one frame is at chance among them. Frame-to-frame changes do differ."""
    motion = [c for c in DEFAULT_CLASSES if CLASS_SPECS[c].kind == "motion"]
    per_frame, per_step = {}, {}
    for c in motion:
        plans = [plan_clip(c, g, k, seed=0, min_frames=64, max_frames=64) for g in range(1, 11) for k in range(1, 9)]
        per_frame[c] = np.concatenate([np.stack([p.cx, p.cy, p.r, p.flash != 0], 1)[p.t0 :] for p in plans])
        per_step[c] = np.concatenate([np.diff(np.stack([p.cy, p.r], 1)[p.t0 :], axis=0) for p in plans])
    pooled_mean, pooled_std = np.concatenate(list(per_frame.values())).mean(0), np.concatenate(list(per_frame.values())).std(0)
    for c in motion:
        # every per-frame marginal within 0.35 pooled std of the pooled mean: a still actor gives one position per
        # clip, so 80 clips leave a standard error of ~0.11 std; 0.35 is ~3 standard errors
        assert np.all(np.abs(per_frame[c].mean(0) - pooled_mean) < 0.35 * pooled_std + 1e-9), c
    # while the per-step change separates direction and growth (ignoring wrap-around jumps)
    med = {c: np.median(per_step[c], axis=0) for c in motion}
    assert med["SlideUp"][0] < 0 < med["SlideDown"][0] < med["SlideDownFast"][0]
    assert med["Shrink"][1] < 0 < med["Grow"][1]


def test_scene_carries_no_class_signal():
    """Every class's group gNN shares one scene: a per-(class, group) background let the student memorise the class
    from the background of its training groups (99% train / chance test accuracy)."""
    a = group_background("RedDisc", 5, seed=0, width=64, height=48)
    b = group_background("SlideUp", 5, seed=0, width=64, height=48)
    c = group_background("RedDisc", 6, seed=0, width=64, height=48)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_motion_actor_colour_is_not_shared_by_a_group():
    """A motion actor's colour is drawn per clip (a per-group colour was memorised instead of the motion); an
    appearance class keeps its group's colour up to a small jitter."""
    spread = lambda c: np.ptp(np.array([plan_clip(c, 2, k, seed=0).colour for k in range(1, 7)]), axis=0).max()
    assert spread("SlideUp") > 80 and spread("RedDisc") < 40


def test_default_classes_survive_horizontal_flips():
    """The protocol flips clips horizontally (train and test); a mirrored default-class clip must keep its label, so
    no default class moves horizontally in one direction or turns one way."""
    for c in DEFAULT_CLASSES:
        spec = CLASS_SPECS[c]
        assert not (spec.dynamics == "slide" and spec.direction[0] != 0), c
        assert not (spec.dynamics == "rotate" and spec.sense != 0), c


def test_class_strip(root, tmp_path):
    write_class_strip(root, tmp_path / "strip.png", frames=4)
    assert (tmp_path / "strip.png").stat().st_size > 5000


@pytest.mark.parametrize("bad,match", [
    (dict(classes=["Nope"]), "Nope"),
    (dict(test_groups=4), "test_groups"),
    (dict(min_frames=40, max_frames=30), "min_frames"),
])
def test_bad_arguments_name_the_argument(tmp_path, bad, match):
    with pytest.raises(ValueError, match=match):
        generate_synthetic(tmp_path / "x", **{**SMALL, **bad})


def test_realism_from_config():
    assert realism_from_config(None) == DEFAULT_REALISM
    r = realism_from_config({"clutter": 0, "distractors": [0, 0]})
    assert r.clutter == 0 and r.distractors == (0, 0) and r.noise_std == DEFAULT_REALISM.noise_std
    with pytest.raises(ValueError, match="blur"):
        realism_from_config({"blur": 1})
    with pytest.raises(ValueError, match="exit_prob"):
        realism_from_config({"exit_prob": 2})
