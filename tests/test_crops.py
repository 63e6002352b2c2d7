"""The crop stage (detection, CSRT tracking, windows, scores) and the crop-and-concatenate method's mosaics."""

import cv2
import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from vidstill.crops import tracking
from vidstill.crops.geometry import box_iou, cover_window, crop_resize
from vidstill.crops.scoring import fit_length, score_crops, window_starts
from vidstill.crops.tracking import preselect, track_video, track_videos
from vidstill.data.clips import ClipSpec
from vidstill.methods.optdistill import equal_speed, select_crops, tile
from vidstill.synthetic_set import SyntheticSet

SPEC = ClipSpec(frames=4, stride=1, sampling="stride", resize=None, crop=32, max_stored=24)


def moving_square(n=12, size=(64, 48), side=10, step=2):
    """Frames of a white square moving right on a dark textured background, and its true boxes."""
    rng = np.random.default_rng(0)
    w, h = size
    base = (rng.random((h, w, 3)) * 60).astype(np.uint8)
    frames, boxes = [], []
    for t in range(n):
        f = base.copy()
        x, y = 8 + step * t, 18
        f[y : y + side, x : x + side] = 255
        frames.append(f)
        boxes.append([x, y, x + side, y + side])
    return np.stack(frames), np.array(boxes, float)


def test_cover_window_is_the_smallest_covering_window_of_the_aspect():
    window, adjusted = cover_window(np.array([20, 10, 30, 30]), 1.0, 64, 48)  # 10 x 20 box -> 20 x 20 window
    assert window.tolist() == [15, 10, 35, 30] and not adjusted
    window, _ = cover_window(np.array([20, 10, 40, 20]), 2.0, 64, 48)  # 20 x 10 at aspect 2 covers exactly
    assert window.tolist() == [20, 10, 40, 20]


def test_cover_window_stays_inside_the_frame():
    window, adjusted = cover_window(np.array([-6, 40, 6, 52]), 1.0, 64, 48)  # past the left and bottom borders
    assert adjusted and window.tolist() == [0, 36, 12, 48]
    window, adjusted = cover_window(np.array([0, 0, 64, 10]), 1.0, 64, 48)  # needs 64 x 64: shrinks to 48 x 48
    assert (
        adjusted and (window[2] - window[0], window[3] - window[1]) == (48, 48) and window[0] >= 0 and window[2] <= 64
    )
    crop = crop_resize(np.zeros((48, 64, 3), np.uint8), window, (16, 16))
    assert crop.shape == (16, 16, 3)


def test_box_iou():
    assert box_iou([[0, 0, 10, 10]], [[0, 0, 10, 10]])[0] == 1.0
    assert box_iou([[0, 0, 10, 10]], [[5, 0, 15, 10]])[0] == pytest.approx(50 / 150)
    assert box_iou([[0, 0, 10, 10]], [[20, 20, 30, 30]])[0] == 0.0


def test_csrt_follows_a_moving_square():
    frames, truth = moving_square()
    out = track_video(
        "v",
        frames,
        np.arange(len(frames)),
        np.ones(len(frames), bool),
        np.array([[*truth[0], 0.9]]),
        np.random.default_rng(0),
        3,
        4,
        1.0,
        {"template_size": 32, "use_segmentation": False},
    )
    assert out.status == "tracked" and out.tracks == 1 and out.lost == 0 and len(out.rows) == len(frames)
    got = pd.DataFrame(out.rows)
    iou = box_iou(got[["x1", "y1", "x2", "y2"]].to_numpy(), truth)
    assert iou.mean() > 0.6, iou
    windows = got[["wx1", "wy1", "wx2", "wy2"]].to_numpy()
    assert ((windows[:, 2] - windows[:, 0]) == (windows[:, 3] - windows[:, 1])).all()  # square windows


def test_only_stored_frames_are_kept_and_at_most_max_tracks_followed():
    frames, truth = moving_square()
    stored = np.zeros(len(frames), bool)
    stored[::3] = True
    dets = np.array([[*truth[0], 0.9], [40, 2, 50, 12, 0.8], [2, 30, 12, 40, 0.7], [50, 30, 60, 40, 0.6]])
    out = track_video("v", frames, np.arange(len(frames)) * 4, stored, dets, np.random.default_rng(1), 3, 2, 1.0, {})
    rows = pd.DataFrame(out.rows)
    assert out.detections == 4 and out.tracks == 3 and rows["track"].nunique() == 3
    assert set(rows["frame"]) == {0, 12, 24, 36}  # the stored frames, in video frame numbers


class FakeTracker:
    """Follows a scripted list of (ok, box) results instead of the image."""

    def __init__(self, script):
        self.script = list(script)

    def init(self, frame, box):
        pass

    def update(self, frame):
        return self.script.pop(0)


def test_a_lost_track_ends_and_a_too_short_one_is_dropped(monkeypatch):
    frames, truth = moving_square(n=8)
    script = [(True, (10, 18, 10, 10))] * 2 + [(False, (0, 0, 0, 0))] * 5
    monkeypatch.setattr(tracking, "csrt", lambda params: FakeTracker(script))
    dets = np.array([[*truth[0], 0.9]])
    keep = np.ones(8, bool)
    out = track_video("v", frames, np.arange(8), keep, dets, np.random.default_rng(0), 3, 3, 1.0, {})
    assert out.lost == 1 and out.tracks == 1 and len(out.rows) == 3  # first frame + 2 updates, then lost
    out = track_video("v", frames, np.arange(8), keep, dets, np.random.default_rng(0), 3, 4, 1.0, {})
    assert out.lost == 1 and out.short == 1 and out.tracks == 0 and out.rows == []


def test_a_box_leaving_the_frame_is_counted_and_its_window_stays_inside(monkeypatch):
    frames, truth = moving_square(n=5)
    script = [(True, (50 + 5 * k, 18, 10, 10)) for k in range(4)]  # walks out past the right border
    monkeypatch.setattr(tracking, "csrt", lambda params: FakeTracker(script))
    out = track_video(
        "v",
        frames,
        np.arange(5),
        np.ones(5, bool),
        np.array([[*truth[0], 0.9]]),
        np.random.default_rng(0),
        1,
        2,
        1.0,
        {},
    )
    rows = pd.DataFrame(out.rows)
    assert out.frames_outside == 3 and (rows["wx2"] <= 64).all() and (rows["wx1"] >= 0).all()


def test_no_detection_is_an_outcome_not_an_error():
    frames, _ = moving_square(n=4)
    out = track_video(
        "v", frames, np.arange(4), np.ones(4, bool), np.zeros((0, 5)), np.random.default_rng(0), 3, 2, 1.0, {}
    )
    assert out.status == "no_detection" and out.rows == [] and out.reason


class FixedDetector:
    def __init__(self, boxes):
        self.boxes = boxes

    def detect(self, frames):
        return [self.boxes.copy() for _ in frames]


def write_avi(path, frames):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25, (frames.shape[2], frames.shape[1]))
    for f in frames:
        writer.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    writer.release()


def test_track_videos_counts_unreadable_videos_and_keeps_the_rest(tmp_path):
    frames, truth = moving_square(n=8)
    good = tmp_path / "good.avi"
    write_avi(good, frames)
    bad = tmp_path / "bad.avi"
    bad.write_bytes(b"not a video at all")
    videos = pd.DataFrame({"id": ["good", "bad"], "path": [str(good), str(bad)], "label": [0, 1]})
    spec = ClipSpec(frames=4, stride=2, sampling="stride", resize=None, crop=32, max_stored=24)
    tracks, per_video, speed = track_videos(
        videos, FixedDetector(np.array([[*truth[0], 0.9]])), spec, {"tracker": {"template_size": 32}}, seed=0, threads=2
    )
    status = per_video.set_index("id")["status"]
    assert status["good"] == "tracked" and status["bad"] == "unreadable"
    assert "bad.avi" in per_video.set_index("id").loc["bad", "reason"]
    assert set(tracks["id"]) == {"good"} and sorted(tracks["frame"]) == [0, 2, 4, 6]  # stride-2 stored frames
    assert speed["crops_per_s"] > 0
    summary = tracking.summarise(per_video, tracks.assign(iou=0.5), [speed], {"map50": 0.9})
    assert summary["unreadable"] == 1 and summary["tracked_videos"] == 1 and summary["detector_map50"] == 0.9


def test_preselect_draws_per_class_and_is_deterministic():
    index = pd.DataFrame(
        {"id": [f"v{i:02d}" for i in range(20)], "class": ["a"] * 12 + ["b"] * 8, "split": "train", "error": ""}
    )
    index.loc[0, "error"] = "unreadable"
    a, b = preselect(index, 5, seed=3), preselect(index, 5, seed=3)
    assert a.equals(b) and a["class"].value_counts().to_dict() == {"a": 5, "b": 5} and "v00" not in set(a["id"])
    assert len(preselect(index, None, seed=3)) == 19


def test_preselect_takes_every_split_the_students_train_on():
    """HMDB51's students train on split-1 train + unused: the crops come from both, never from test."""
    index = pd.DataFrame(
        {
            "id": [f"v{i}" for i in range(6)],
            "class": "a",
            "error": "",
            "split": ["train", "unused", "test", "train", "unused", "test"],
        }
    )
    assert preselect(index, None, seed=0)["id"].tolist() == ["v0", "v3"]  # the default: train only
    assert preselect(index, None, seed=0, splits=["train", "unused"])["id"].tolist() == ["v0", "v1", "v3", "v4"]


def test_one_best_segment_per_video_and_the_threshold_tau():
    scores = pd.DataFrame(
        {
            "id": ["v0", "v0", "v0", "v1", "v2", "v2"],
            "track": [0, 1, 2, 0, 0, 1],
            "label": 0,
            "frames": [10, 11, 12, 13, 14, 15],
            "top_probability": [0.5, 0.9, 0.7, 0.6, 0.3, 0.2],
        }
    )
    scores["realism"] = np.log(scores["top_probability"])
    rng = np.random.default_rng(0)
    chosen, repeated = select_crops(scores, 0, ipc=1, grid=1, top_k=3, score="top_probability", rng=rng)
    assert set(zip(chosen["id"], chosen["track"])) <= {("v0", 1), ("v1", 0), ("v2", 0)}  # each video's best track
    best3, _ = select_crops(scores, 0, ipc=3, grid=1, top_k=3, score="top_probability", rng=rng)
    assert sorted(zip(best3["id"], best3["track"])) == [("v0", 1), ("v1", 0), ("v2", 0)]
    every, _ = select_crops(scores, 0, ipc=3, grid=1, top_k=3, score="top_probability", rng=rng, per_video="all")
    assert sorted(zip(every["id"], every["track"])) == [
        ("v0", 1),
        ("v0", 2),
        ("v1", 0),
    ]  # the reference keeps all tracks
    kept, short = select_crops(scores, 0, ipc=3, grid=1, top_k=3, score="top_probability", rng=rng, tau=0.55)
    assert set(kept["id"]) == {"v0", "v1"} and short == 1  # v2's best (0.3) is below tau
    with pytest.raises(ValueError, match="tau"):
        select_crops(scores, 0, 1, 1, 3, "realism", rng, tau=0.0)
    with pytest.raises(ValueError, match="per_video"):
        select_crops(scores, 0, 1, 1, 3, "realism", rng, per_video="first")


def test_a_region_soft_label_is_the_teacher_output_on_that_crop(tmp_path, monkeypatch):
    """OptDistill labels each mosaic region with the teacher's softmax on the crop tiled there: swap two crops and
    their labels (and tiles) swap with them."""
    from vidstill.data.clips import ClipSpec
    from vidstill.io import write_parquet
    from vidstill.methods import optdistill as od
    from vidstill.methods.context import DistillContext

    spec = ClipSpec(frames=4, stride=1, sampling="stride", resize=None, crop=8, max_stored=4)
    train = type("Store", (), {"spec": spec, "num_classes": 2})()
    keys = [(f"v{c}{i}", 0) for c in range(2) for i in range(4)]
    scores = pd.DataFrame(
        {
            "id": [k[0] for k in keys],
            "track": 0,
            "label": [0] * 4 + [1] * 4,
            "frames": 4,
            "top_probability": np.linspace(0.9, 0.5, 8),
            "realism": -1.0,
        }
    )
    write_parquet(scores, tmp_path / "scores.parquet", metadata={"grid": 2})
    pd.DataFrame({"id": scores["id"], "path": "unused"}).to_parquet(tmp_path / "index.parquet")
    scores[["id", "track"]].to_parquet(tmp_path / "tracks.parquet")
    brightness = {k: 20 * (i + 1) for i, k in enumerate(keys)}  # every crop a different flat grey

    def crops_of(paths, tracks, spec, size, threads=1):
        return {
            k: np.full((4, size[1], size[0], 3), brightness[k], np.uint8) for k in zip(tracks["id"], tracks["track"])
        }

    def teacher(net, regions, spec, device, standardize, temperature=1.0):  # a "teacher" that reads the crop's grey
        grey = torch.tensor([float(r.mean()) for r in regions])
        return torch.softmax(torch.stack([grey / 40, -grey / 40], 1), 1)

    monkeypatch.setattr(od, "cropped_videos", crops_of)
    monkeypatch.setattr(od, "teacher_probabilities", teacher)
    monkeypatch.setattr(od, "teacher_standardizes", lambda path: True)
    monkeypatch.setattr(DistillContext, "teacher_network", lambda self: None)
    ctx = DistillContext(
        train,
        ipc=1,
        seed=0,
        device=torch.device("cpu"),
        params={"method": "optdistill", "top_k": 4},
        student={},
        teacher=tmp_path / "t",
        artifacts={
            "scores": tmp_path / "scores.parquet",
            "index": tmp_path / "index.parquet",
            "tracks": tmp_path / "tracks.parquet",
        },
    )

    def regions_and_labels():
        s = od.optdistill(ctx)
        m = s.tensors["mosaics"]  # (mosaics, T, H, W, 3): region r of mosaic j at row r // 2, column r % 2
        tiles = [int(m[j, 0, (r // 2) * 4, (r % 2) * 4, 0]) for j in range(len(m)) for r in range(4)]
        return tiles, s.labels

    tiles, labels = regions_and_labels()
    expected = teacher(None, [np.full((1, 1, 1, 3), g, np.uint8) for g in tiles], spec, None, True)
    torch.testing.assert_close(labels, expected)  # region r's label is the teacher on region r's crop
    a, b = keys[0], keys[5]  # swap two crops (of different classes) between their tracks
    brightness[a], brightness[b] = brightness[b], brightness[a]
    swapped_tiles, swapped_labels = regions_and_labels()
    ia, ib = tiles.index(brightness[b]), tiles.index(brightness[a])  # where a's and b's crops sat before
    assert swapped_tiles[ia] == brightness[a] and swapped_tiles[ib] == brightness[b]
    torch.testing.assert_close(swapped_labels[ia], labels[ib])
    torch.testing.assert_close(swapped_labels[ib], labels[ia])


def scores_table(lengths, score):
    return pd.DataFrame(
        {
            "id": [f"v{i}" for i in range(len(lengths))],
            "track": 0,
            "label": 0,
            "frames": lengths,
            "top_probability": score,
            "realism": np.log(score),
        }
    )


def test_select_crops_keeps_top_k_and_groups_by_length():
    scores = scores_table([9, 5, 30, 7, 12, 6], [0.9, 0.8, 0.7, 0.6, 0.5, 0.1])
    chosen, repeated = select_crops(
        scores, 0, ipc=1, grid=2, top_k=5, score="top_probability", rng=np.random.default_rng(0)
    )
    assert repeated == 0 and len(chosen) == 4 and "v5" not in set(chosen["id"])  # the worst is never in the top 5
    assert chosen["frames"].is_monotonic_increasing
    chosen, repeated = select_crops(
        scores.head(2), 0, ipc=1, grid=2, top_k=5, score="realism", rng=np.random.default_rng(0)
    )
    assert repeated == 2 and len(chosen) == 4 and set(chosen["id"]) == {"v0", "v1"}
    with pytest.raises(ValueError, match="class 3"):
        select_crops(scores, 3, 1, 2, 5, "top_probability", np.random.default_rng(0))


def test_equal_speed_speeds_the_longer_crops_up_to_the_shortest():
    videos = [np.arange(n)[:, None, None, None].repeat(2, 1).astype(np.uint8) for n in (8, 16, 24)]
    out = equal_speed(videos, 4)
    assert [len(v) for v in out] == [4, 4, 4]
    assert out[0][:, 0, 0, 0].tolist() == [2, 3, 4, 5]  # the shortest: its centre window, unchanged speed
    assert out[1][:, 0, 0, 0].tolist() == [4, 6, 8, 10]  # twice as long: every second frame
    assert equal_speed([videos[0][:2]], 4)[0][:, 0, 0, 0].tolist() == [0, 0, 1, 1]  # shorter than T: repeated


def test_mosaic_regions_expand_to_their_tiles_scaled_up():
    regions = [np.full((4, 16, 16, 3), 40 * (k + 1), np.uint8) for k in range(4)]
    mosaic = tile(regions, 2, 32)
    assert mosaic.shape == (4, 32, 32, 3) and mosaic[0, 0, 16, 0] == 80 and mosaic[0, 16, 0, 0] == 120
    labels = torch.eye(4)
    s = SyntheticSet(
        {"mosaics": torch.from_numpy(mosaic[None])}, labels, 4, 4, "mosaic_regions", {"grid": 2, "region": [16, 16]}
    )
    videos = s.videos([0, 1, 2, 3])
    assert len(s) == 4 and videos.shape == (4, 4, 3, 32, 32)
    means = videos.mean(dim=(1, 3, 4))[:, 0]
    assert torch.all(means[1:] > means[:-1])  # region k is the k-th tile: brighter in order
    assert torch.allclose(videos[2], videos[2][:, :, :1, :1].expand_as(videos[2]))  # a flat tile stays flat
    assert s.storage_bytes() == mosaic.nbytes + labels.numel() * 4


class ColourTeacher(nn.Module):
    """Logits from the mean of each colour channel: class c = the brightest channel."""

    def forward(self, x):
        return 10 * x.mean(dim=(1, 3, 4))


def test_scores_rank_by_confidence_and_by_the_true_label():
    red = np.zeros((6, 16, 16, 3), np.uint8)
    red[..., 0] = 255
    green = np.zeros((3, 16, 16, 3), np.uint8)
    green[..., 1] = 255
    crops = {("r", 0): red, ("g", 0): green}
    scores = score_crops(
        crops, {"r": 0, "g": 0}, ColourTeacher(), SPEC, torch.device("cpu"), standardize_inputs=False
    ).set_index("id")
    assert scores.loc["r", "top_label"] == 0 and scores.loc["g", "top_label"] == 1
    assert scores.loc["r", "realism"] > scores.loc["g", "realism"]  # both are "class 0": only the red one looks it
    assert scores.loc["g", "frames"] == 3 and scores.loc["g", "top_probability"] > 0.5


def test_window_helpers():
    assert window_starts(4, 4) == [0] and window_starts(10, 4) == [0, 3, 6]
    assert fit_length(np.arange(2), 4).tolist() == [0, 0, 1, 1] and len(fit_length(np.arange(9), 4)) == 9


def test_yolo_dataset_labels_are_the_ground_truth_boxes(tmp_path):
    from vidstill.crops.detector import write_yolo_dataset

    frames, truth = moving_square(n=6)
    rows = []
    for split in ("train", "test"):
        write_avi(tmp_path / f"{split}.avi", frames)
        rows.append({"id": split, "path": str(tmp_path / f"{split}.avi"), "split": split, "error": ""})
    boxes = pd.DataFrame(
        [
            {"id": v, "frame": t, "x1": b[0], "y1": b[1], "x2": b[2], "y2": b[3], "visible": True}
            for v in ("train", "test")
            for t, b in enumerate(truth)
        ]
    )
    data = write_yolo_dataset(pd.DataFrame(rows), boxes, tmp_path / "yolo", {"train": 3, "val": 2}, seed=0)
    labels = sorted((tmp_path / "yolo/labels/train").glob("*.txt"))
    assert len(labels) == 3 and len(list((tmp_path / "yolo/images/val").glob("*.png"))) == 2
    for path in labels:
        t = int(path.stem.split("_")[-1])
        cls, cx, cy, w, h = map(float, path.read_text().split())
        x1, y1, x2, y2 = truth[t]
        assert (
            cls == 0
            and cx == pytest.approx((x1 + x2) / 2 / 64, abs=1e-5)
            and h == pytest.approx((y2 - y1) / 48, abs=1e-5)
        )
    assert "names:\n  0: actor" in data.read_text()


def test_a_saved_detector_loads_without_pickle_and_checks_its_class(tmp_path):
    from ultralytics.nn.tasks import DetectionModel

    from vidstill.crops.detector import load_detector, save_detector

    net = DetectionModel("yolov8n.yaml", nc=1, verbose=False)
    path = tmp_path / "detector.safetensors"
    save_detector(net.state_dict(), {"model": "yolov8n.yaml", "names": {0: "actor"}, "imgsz": 64}, path)
    detector = load_detector(path, "actor", conf=0.5)
    out = detector.detect([np.zeros((48, 64, 3), np.uint8)])
    assert len(out) == 1 and out[0].shape[1] == 5
    with pytest.raises(ValueError, match="person.*actor"):
        load_detector(path, "person", conf=0.5)
    with pytest.raises(FileNotFoundError, match="no.pt"):
        load_detector(tmp_path / "no.pt", "person", conf=0.5)


def test_no_crops_at_all_gives_an_empty_score_table():
    scores = score_crops({}, {}, ColourTeacher(), SPEC, torch.device("cpu"), standardize_inputs=False)
    assert scores.empty and {"top_probability", "realism"} <= set(scores.columns)
