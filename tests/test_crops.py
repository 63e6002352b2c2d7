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
    assert adjusted and (window[2] - window[0], window[3] - window[1]) == (48, 48) and window[0] >= 0 and window[2] <= 64
    crop = crop_resize(np.zeros((48, 64, 3), np.uint8), window, (16, 16))
    assert crop.shape == (16, 16, 3)


def test_box_iou():
    assert box_iou([[0, 0, 10, 10]], [[0, 0, 10, 10]])[0] == 1.0
    assert box_iou([[0, 0, 10, 10]], [[5, 0, 15, 10]])[0] == pytest.approx(50 / 150)
    assert box_iou([[0, 0, 10, 10]], [[20, 20, 30, 30]])[0] == 0.0


def test_csrt_follows_a_moving_square():
    frames, truth = moving_square()
    out = track_video("v", frames, np.arange(len(frames)), np.ones(len(frames), bool), np.array([[*truth[0], 0.9]]),
                      np.random.default_rng(0), 3, 4, 1.0, {"template_size": 32, "use_segmentation": False})
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
    out = track_video("v", frames, np.arange(5), np.ones(5, bool), np.array([[*truth[0], 0.9]]), np.random.default_rng(0), 1, 2, 1.0, {})
    rows = pd.DataFrame(out.rows)
    assert out.frames_outside == 3 and (rows["wx2"] <= 64).all() and (rows["wx1"] >= 0).all()


def test_no_detection_is_an_outcome_not_an_error():
    frames, _ = moving_square(n=4)
    out = track_video("v", frames, np.arange(4), np.ones(4, bool), np.zeros((0, 5)), np.random.default_rng(0), 3, 2, 1.0, {})
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
    tracks, per_video, speed = track_videos(videos, FixedDetector(np.array([[*truth[0], 0.9]])), spec,
                                            {"tracker": {"template_size": 32}}, seed=0, threads=2)
    status = per_video.set_index("id")["status"]
    assert status["good"] == "tracked" and status["bad"] == "unreadable"
    assert "bad.avi" in per_video.set_index("id").loc["bad", "reason"]
    assert set(tracks["id"]) == {"good"} and sorted(tracks["frame"]) == [0, 2, 4, 6]  # stride-2 stored frames
    assert speed["crops_per_s"] > 0
    summary = tracking.summarise(per_video, tracks.assign(iou=0.5), [speed], {"map50": 0.9})
    assert summary["unreadable"] == 1 and summary["tracked_videos"] == 1 and summary["detector_map50"] == 0.9


def test_preselect_draws_per_class_and_is_deterministic():
    index = pd.DataFrame({"id": [f"v{i:02d}" for i in range(20)], "class": ["a"] * 12 + ["b"] * 8, "split": "train", "error": ""})
    index.loc[0, "error"] = "unreadable"
    a, b = preselect(index, 5, seed=3), preselect(index, 5, seed=3)
    assert a.equals(b) and a["class"].value_counts().to_dict() == {"a": 5, "b": 5} and "v00" not in set(a["id"])
    assert len(preselect(index, None, seed=3)) == 19


def scores_table(lengths, score):
    return pd.DataFrame({"id": [f"v{i}" for i in range(len(lengths))], "track": 0, "label": 0, "frames": lengths,
                         "top_probability": score, "realism": np.log(score)})


def test_select_crops_keeps_top_k_and_groups_by_length():
    scores = scores_table([9, 5, 30, 7, 12, 6], [0.9, 0.8, 0.7, 0.6, 0.5, 0.1])
    chosen, repeated = select_crops(scores, 0, ipc=1, grid=2, top_k=5, score="top_probability", rng=np.random.default_rng(0))
    assert repeated == 0 and len(chosen) == 4 and "v5" not in set(chosen["id"])  # the worst is never in the top 5
    assert chosen["frames"].is_monotonic_increasing
    chosen, repeated = select_crops(scores.head(2), 0, ipc=1, grid=2, top_k=5, score="realism", rng=np.random.default_rng(0))
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
    s = SyntheticSet({"mosaics": torch.from_numpy(mosaic[None])}, labels, 4, 4, "mosaic_regions", {"grid": 2, "region": [16, 16]})
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
    scores = score_crops(crops, {"r": 0, "g": 0}, ColourTeacher(), SPEC, torch.device("cpu"), standardize_inputs=False).set_index("id")
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
    boxes = pd.DataFrame([{"id": v, "frame": t, "x1": b[0], "y1": b[1], "x2": b[2], "y2": b[3], "visible": True}
                          for v in ("train", "test") for t, b in enumerate(truth)])
    data = write_yolo_dataset(pd.DataFrame(rows), boxes, tmp_path / "yolo", {"train": 3, "val": 2}, seed=0)
    labels = sorted((tmp_path / "yolo/labels/train").glob("*.txt"))
    assert len(labels) == 3 and len(list((tmp_path / "yolo/images/val").glob("*.png"))) == 2
    for path in labels:
        t = int(path.stem.split("_")[-1])
        cls, cx, cy, w, h = map(float, path.read_text().split())
        x1, y1, x2, y2 = truth[t]
        assert cls == 0 and cx == pytest.approx((x1 + x2) / 2 / 64, abs=1e-5) and h == pytest.approx((y2 - y1) / 48, abs=1e-5)
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
