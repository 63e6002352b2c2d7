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

SMALL = dict(
    classes=["RedDisc", "SlideUp", "SlideDown", "Grow"],
    groups=4,
    clips_per_group=2,
    test_groups=1,
    min_frames=20,
    max_frames=28,
    seed=3,
)


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
    assert class_ind.endswith("\r\n") and class_ind.split("\r\n")[:4] == [
        "1 Grow",
        "2 RedDisc",
        "3 SlideDown",
        "4 SlideUp",
    ]
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
    lists = lambda r: [p.read_bytes() for p in sorted((r / "ucfTrainTestlist").iterdir())]  # noqa: E731
    assert lists(tmp_path / "a") == lists(tmp_path / "b")
    boxes = {k: pd.read_parquet(tmp_path / k / "boxes.parquet") for k in "abc"}
    pd.testing.assert_frame_equal(boxes["a"], boxes["b"])
    assert not boxes["a"][["x1", "y1"]].equals(boxes["c"][["x1", "y1"]])


def test_single_frame_statistics_do_not_separate_motion_classes():
    """The actor's per-frame state (centre, size, angle, flash) has the same distribution in every motion class:
    a classifier seeing one frame is at chance among them. Frame-to-frame changes do differ."""
    motion = [c for c in DEFAULT_CLASSES if CLASS_SPECS[c].kind == "motion"]
    per_frame, per_step = {}, {}
    for c in motion:
        plans = [plan_clip(c, g, k, seed=0, min_frames=64, max_frames=64) for g in range(1, 11) for k in range(1, 9)]
        per_frame[c] = np.concatenate([np.stack([p.cx, p.cy, p.r, p.flash != 0], 1)[p.t0 :] for p in plans])
        per_step[c] = np.concatenate([np.diff(np.stack([p.cx, p.cy], 1)[p.t0 :], axis=0) for p in plans])
    pooled_mean, pooled_std = (
        np.concatenate(list(per_frame.values())).mean(0),
        np.concatenate(list(per_frame.values())).std(0),
    )
    for c in motion:
        # every per-frame marginal within 0.35 pooled std of the pooled mean: a still actor gives one position per
        # clip, so 80 clips leave a standard error of ~0.11 std; 0.35 is ~3 standard errors
        assert np.all(np.abs(per_frame[c].mean(0) - pooled_mean) < 0.35 * pooled_std + 1e-9), c
    # while the per-step change separates the directions (medians ignore the wrap-around jumps)
    med = {c: np.median(per_step[c], axis=0) for c in motion}
    absx = {c: np.median(np.abs(per_step[c][:, 0])) for c in motion}
    assert med["SlideUp"][1] < 0 < med["SlideDown"][1] and absx["SlideUp"] == absx["SlideDown"] == 0
    assert med["RiseDiagonal"][1] < 0 < med["FallDiagonal"][1] and min(absx["RiseDiagonal"], absx["FallDiagonal"]) > 1
    assert med["SlideSideways"][1] == 0 and absx["SlideSideways"] > 1
    assert np.all(per_step["Still"] == 0)


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
        spec = CLASS_SPECS[c]  # sense 0: the horizontal sense is drawn per video, so a mirror stays in the class
        assert not (spec.dynamics == "slide" and spec.direction[0] != 0 and spec.sense != 0), c
        assert not (spec.dynamics == "rotate" and spec.sense != 0), c
    left = [plan_clip("SlideSideways", 1, k, seed=0) for k in range(1, 41)]
    signs = {int(np.sign(np.median(np.diff(p.cx[p.t0 :])))) for p in left}
    assert signs == {-1, 1}  # both senses occur: the class is its own mirror image


def test_class_strip_shows_each_classs_frames_and_names_it(root, tmp_path, monkeypatch):
    """Row r is class r of classes.csv: its first video's frames at evenly spread indices, labelled with its name and
    kind (read from the figure's axes before it is saved, not from the PNG's size)."""
    import decord
    from matplotlib.figure import Figure

    saved = []
    savefig = Figure.savefig
    monkeypatch.setattr(Figure, "savefig", lambda fig, *a, **k: (saved.append(fig), savefig(fig, *a, **k))[1])
    write_class_strip(root, tmp_path / "strip.png", frames=4)
    assert (tmp_path / "strip.png").stat().st_size > 5000
    table = pd.read_csv(root / "classes.csv")
    axes = np.array(saved[0].axes).reshape(len(table), 4)
    for r, (name, kind) in enumerate(zip(table["class"], table["kind"])):
        assert axes[r, 0].get_ylabel() == f"{name}\n({kind})"
        video = sorted((root / "UCF-101" / name).glob(f"v_{name}_g*_c*.avi"))[0]
        vr = decord.VideoReader(str(video))
        frames = vr.get_batch(list(np.linspace(0, len(vr) - 1, 4).round().astype(int))).asnumpy()
        for k in range(4):
            assert np.array_equal(np.asarray(axes[r, k].images[0].get_array()), frames[k])


@pytest.mark.parametrize(
    "bad,match",
    [
        (dict(classes=["Nope"]), "Nope"),
        (dict(test_groups=4), "test_groups"),
        (dict(min_frames=40, max_frames=30), "min_frames"),
    ],
)
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


# ---------------------------------------------------------------------------------------------------------------
# Stricter checks: exact split-file format, boxes against a clean render, distribution tests of the key property.

from vidstill.data.synthetic import Realism, render_clip  # noqa: E402


def test_split_files_list_every_video_once_and_keep_groups_apart(root):
    lists = root / "ucfTrainTestlist"
    videos = {f"{p.parent.name}/{p.name}" for p in (root / "UCF-101").rglob("*.avi")}
    test_sets = []
    for k in (1, 2, 3):
        raw_train, raw_test = read(lists / f"trainlist0{k}.txt"), read(lists / f"testlist0{k}.txt")
        for raw in (raw_train, raw_test, read(lists / "classInd.txt")):
            assert raw.count(b"\n") == raw.count(b"\r\n") and raw.endswith(b"\r\n")  # CRLF only, like the official
        train = [line.split(" ") for line in raw_train.decode().split("\r\n")[:-1]]
        test = raw_test.decode().split("\r\n")[:-1]
        assert all(len(t) == 2 and t[1].isdigit() and int(t[1]) >= 1 for t in train)  # "path label", 1-based
        assert all(" " not in line for line in test)  # test lines carry no label
        listed = [p for p, _ in train] + test
        assert len(listed) == len(set(listed)) and set(listed) == videos  # every video exactly once per split
        cg = lambda p: (p.split("/")[0], p.split("_")[-2])  # noqa: E731
        assert not {cg(p) for p, _ in train} & {cg(p) for p in test}
        test_sets.append(frozenset(cg(p)[1] for p in test))
    assert len(set(test_sets)) == 3  # split k tests other groups than split j, like UCF101


@pytest.mark.parametrize("name", ["SlideUp", "Grow", "RedDisc", "GreenSquare", "YellowStar", "CheckerBox"])
def test_boxes_enclose_the_drawn_actor(name):
    """On a clean render (flat scene, no noise, no distractors) the pixels that differ from the scene are the actor:
    they must lie inside the ground-truth box and fill it out to its edges."""
    clean = Realism.clean()
    plan = plan_clip(name, 1, 1, seed=5, min_frames=24, max_frames=24, realism=clean)
    frames = render_clip(plan, seed=5, realism=clean)
    scene = np.median(frames.reshape(-1, 3), axis=0)
    boxes, visible = plan.boxes()
    assert visible.all()
    for t in range(0, plan.n_frames, 3):
        diff = np.abs(frames[t].astype(int) - scene).max(-1)
        ys, xs = np.nonzero(diff > 0.35 * diff.max())  # OpenCV's anti-aliasing leaves a faint fringe: ignore it
        x1, y1, x2, y2 = boxes[t]
        assert len(xs) > 10
        # the anti-aliased fill is about half a pixel fat, and a partly covered pixel counts whole
        assert x1 - 1.5 <= xs.min() and xs.max() + 1 <= x2 + 1.5 and y1 - 1.5 <= ys.min() and ys.max() + 1 <= y2 + 1.5
        assert xs.min() <= x1 + 1 and xs.max() + 1 >= x2 - 1 and ys.min() <= y1 + 1 and ys.max() + 1 >= y2 - 1


def test_boxes_mark_an_actor_that_leaves_the_frame():
    """Camera pans (realism.exit_prob) push the actor out of the frame in some videos: `visible` turns false there
    and the clipped box stays inside the frame."""
    always = Realism(exit_prob=1.0)
    plans = [plan_clip("SlideUp", 1, k, seed=0, min_frames=96, max_frames=96, realism=always) for k in range(1, 13)]
    boxes = np.concatenate([p.boxes()[0] for p in plans])
    visible = np.concatenate([p.boxes()[1] for p in plans])
    assert 0 < (~visible).sum() < len(visible)
    assert (boxes >= 0).all() and (boxes[:, [0, 2]] <= 64).all() and (boxes[:, [1, 3]] <= 48).all()


def _ks(a, b):
    x = np.concatenate([a, b])
    fa = np.searchsorted(np.sort(a), x, side="right") / len(a)
    fb = np.searchsorted(np.sort(b), x, side="right") / len(b)
    return np.abs(fa - fb).max()


def _samples(classes, clips=240):
    """One random frame per clip (what a single-frame classifier sees: screen position, size, angle, flash state,
    colour brightness) and window features of an 8-frame stride-4 clip (what a clip classifier sees)."""
    rng = np.random.default_rng(0)
    frame, window, group = {}, {}, {}
    for c in classes:
        f, w, g_ = [], [], []
        for i in range(clips):
            g, k = i % 10 + 1, i // 10 + 1
            p = plan_clip(c, g, k, seed=0)
            t = rng.integers(p.n_frames)
            sx, sy = p.screen_xy
            f.append([sx[t], sy[t], p.r[t], p.angle[t], p.flash[t], max(p.colour)])
            idx = np.arange(s := rng.integers(0, p.n_frames - 28), s + 29, 4)
            dx, dy, dr = np.diff(p.cx[idx]), np.diff(p.cy[idx]), np.diff(p.r[idx])
            fl = p.flash[idx]
            order = np.sum((fl[:-1] == 1) & (fl[1:] == 2)) - np.sum((fl[:-1] == 2) & (fl[1:] == 1))
            w.append(
                [
                    np.median(dx),
                    np.median(dy),
                    np.median(np.abs(dx)),
                    np.median(np.abs(dy)),
                    np.median(dr),
                    np.median(np.angle(np.exp(1j * np.diff(p.angle[idx])))),
                    order,
                    np.sum(np.diff(np.sign(dx[dx != 0])) != 0),
                ]
            )
            g_.append(g)
        frame[c], window[c], group[c] = np.array(f), np.array(w), np.array(g_)
    return frame, window, group


def _nearest_centroid(features, group, classes):
    """Train on groups 1-7, test on 8-10 (unseen groups, like a split)."""
    x = np.concatenate([features[c] for c in classes])
    y = np.concatenate([[i] * len(features[c]) for i, c in enumerate(classes)])
    g = np.concatenate([group[c] for c in classes])
    train = g <= 7
    z = (x - x[train].mean(0)) / (x[train].std(0) + 1e-9)
    centroids = np.stack([z[train & (y == i)].mean(0) for i in range(len(classes))])
    pred = ((z[:, None] - centroids[None]) ** 2).sum(-1).argmin(1)
    return (pred[~train] == y[~train]).mean()


def test_single_frame_distributions_match_across_motion_classes_but_clips_differ():
    """The key property, as distribution tests: two-sample Kolmogorov-Smirnov on one random frame per clip, every
    pair of default motion classes, every per-frame attribute, at a family-wise level of 1%. Mixed classes differ in
    size / brightness on purpose and must be detected (the test has power). A nearest-centroid classifier is at
    chance on single-frame states and near perfect on 8-frame stride-4 window features."""
    motion = [c for c in DEFAULT_CLASSES if CLASS_SPECS[c].kind == "motion"]
    n = 240
    frame, window, group = _samples(motion + ["TinySpin", "DimRise"], clips=n)
    attributes = 5  # screen x, screen y, size, angle, flash state
    tests = len(motion) * (len(motion) - 1) // 2 * attributes
    critical = np.sqrt(-0.5 * np.log(0.01 / tests / 2)) * np.sqrt(2 / n)
    for i, a in enumerate(motion):
        for b in motion[i + 1 :]:
            for j in range(attributes):
                assert _ks(frame[a][:, j], frame[b][:, j]) < critical, (a, b, j)
    assert all(_ks(frame["TinySpin"][:, 2], frame[c][:, 2]) > 2 * critical for c in motion)
    assert all(_ks(frame["DimRise"][:, 5], frame[c][:, 5]) > 2 * critical for c in motion)
    chance = 1 / len(motion)
    assert _nearest_centroid({c: frame[c][:, :attributes] for c in motion}, group, motion) < chance + 0.08
    assert _nearest_centroid({c: window[c] for c in motion}, group, motion) > 0.9


@pytest.mark.parametrize(
    "bad,match",
    [
        (dict(groups=1, test_groups=0), "groups"),
        (dict(clips_per_group=0), "clips_per_group"),
        (dict(classes=["RedDisc", "RedDisc"]), "RedDisc"),
        (dict(width=40, height=48), "width"),
        (dict(fps=0), "fps"),
        (dict(seed=-1), "seed"),
    ],
)
def test_more_bad_arguments_name_the_argument(tmp_path, bad, match):
    with pytest.raises(ValueError, match=match):
        generate_synthetic(tmp_path / "x", **{**SMALL, **bad})
    assert not (tmp_path / "x").exists()


def test_output_directory_is_replaced_only_when_it_is_ours(tmp_path, monkeypatch):
    kw = dict(SMALL, classes=["SlideUp"], groups=2, clips_per_group=1)
    foreign = tmp_path / "foreign"
    (foreign / "sub").mkdir(parents=True)
    (foreign / "sub" / "keep.txt").write_text("user data")
    with pytest.raises(FileExistsError):
        generate_synthetic(foreign, **kw)
    assert (foreign / "sub" / "keep.txt").read_text() == "user data"
    empty = tmp_path / "made_by_snakemake" / "ucfTrainTestlist"
    empty.mkdir(parents=True)  # Snakemake creates the parents of declared outputs before the job runs
    generate_synthetic(empty.parent, **kw)
    generate_synthetic(empty.parent, **dict(kw, seed=9))  # a previous output (it has DONE) is replaced
    assert '"seed": 9' in (empty.parent / "DONE").read_text()
    # an interrupted build leaves neither a complete-looking root nor a temporary directory behind
    import vidstill.data.synthetic.dataset as synthetic

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(synthetic, "_write_avi", boom)
    with pytest.raises(KeyboardInterrupt):
        generate_synthetic(tmp_path / "interrupted", **kw)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["foreign", "made_by_snakemake"]


def test_every_window_of_a_motion_class_shows_its_motion():
    """The student sees 8 frames at stride 4 from a random start. Every such window of a default motion class must
    show the class's motion (the probe found Grow / Shrink and the flash-order classes ambiguous in some windows):
    on each axis the class moves along, most of the window's 7 steps go the class's way (a wrap-around jump comes
    at most every third step per axis at these speeds), and no step of a Still window moves the actor."""
    motion = [c for c in DEFAULT_CLASSES if CLASS_SPECS[c].kind == "motion"]
    for c in motion:
        spec = CLASS_SPECS[c]
        for g, k in [(g, k) for g in range(1, 11) for k in range(1, 5)]:
            p = plan_clip(c, g, k, seed=0, min_frames=32, max_frames=96)
            want = np.asarray(spec.direction, dtype=float)
            if spec.sense == 0:  # the horizontal sense of this video
                want[0] *= np.sign(np.median(np.diff(p.cx[p.t0 :])))
            for start in range(p.n_frames - 28):
                idx = np.arange(start, start + 29, 4)
                steps = np.stack([np.diff(p.cx[idx]), np.diff(p.cy[idx])], 1)
                if spec.dynamics == "still":
                    assert np.all(steps == 0), (c, g, k, start)
                    continue
                assert spec.dynamics == "slide", c
                frozen = int(np.sum(idx[1:] <= p.t0))  # the action starts up to 15 % into the video
                for axis in np.flatnonzero(want):
                    right_way = np.sum(steps[:, axis] * np.sign(want[axis]) > 0)
                    assert right_way >= 4 - frozen and right_way > 7 - right_way - frozen, (c, g, k, start, axis)
                assert np.all(steps[:, want == 0] == 0), (c, g, k, start)
