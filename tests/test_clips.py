"""Clip store: stored frame selection, decode → store → sample round trip, subsets pointing at the parent's frames."""

import cv2
import numpy as np
import pandas as pd
import pytest
import torch

from vidstill.data.clips import (
    ClipSpec,
    ClipStore,
    denormalize,
    extract_clips,
    sample_clips,
    stored_frame_indices,
    write_subset_store,
)


def write_video(path, n, w=64, h=48, seed=0):
    """Frame i carries its index in the red channel of a block, so tests can read which frames were stored."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25, (w, h))
    for i in range(n):
        frame = np.full((h, w, 3), 40, np.uint8)
        frame[:, :, 2] = min(4 * i, 255)  # BGR: red encodes the frame index
        writer.write(frame)
    writer.release()


def test_stride_indices_follow_the_reference():
    spec = ClipSpec(frames=8, stride=4, sampling="stride", resize=None, crop=48, max_stored=12)
    assert stored_frame_indices(40, spec).tolist() == list(range(0, 40, 4))
    # long video: max_stored frames at the stride, centred
    idx = stored_frame_indices(100, spec)
    assert len(idx) == 12 and np.all(np.diff(idx) == 4) and idx[0] == 24  # 25 candidates, the middle 12
    # shorter than T*s: stride n // T, T frames
    assert stored_frame_indices(20, spec).tolist() == [0, 2, 4, 6, 8, 10, 12, 14]
    # shorter than T: frames repeat the last one rather than index past the end
    assert stored_frame_indices(5, spec).max() == 4


def test_middle_and_uniform_sampling():
    mid = ClipSpec(frames=8, stride=2, sampling="middle", resize=None, crop=48, max_stored=8)
    idx = stored_frame_indices(100, mid)
    assert len(idx) == 8 and np.all(np.diff(idx) == 2) and abs((idx[0] + idx[-1]) / 2 - 49.5) <= 1
    uni = ClipSpec(frames=8, stride=1, sampling="uniform", resize=None, crop=48, max_stored=8)
    assert stored_frame_indices(71, uni).tolist() == [0, 10, 20, 30, 40, 50, 60, 70]


def test_bad_spec_names_the_key():
    with pytest.raises(ValueError, match="sampling"):
        ClipSpec(sampling="random")
    with pytest.raises(ValueError, match="max_stored"):
        ClipSpec(frames=16, max_stored=8)


def make_index(tmp_path, lengths, labels, splits):
    rows = []
    for i, (n, label, split) in enumerate(zip(lengths, labels, splits)):
        path = tmp_path / f"v{i}.avi"
        write_video(path, n)
        rows.append(
            dict(
                id=f"v{i}",
                path=str(path),
                **{"class": f"c{label}"},
                label=label,
                split=split,
                group=f"g{i}",
                frames=n,
                fps=25.0,
                width=64,
                height=48,
                error="",
            )
        )
    return pd.DataFrame(rows)


def test_extract_and_sample_round_trip(tmp_path):
    index = make_index(tmp_path, [40, 24, 60], [0, 1, 1], ["train", "train", "test"])
    index.loc[3] = dict(index.loc[0], id="bad", error="unreadable: x")  # a skipped row must not be decoded
    spec = ClipSpec(frames=4, stride=2, sampling="stride", resize=(32, 24), crop=24, max_stored=10)
    table = extract_clips(index, ["train"], spec, tmp_path / "train.npy", tmp_path / "train.parquet", threads=2)
    assert table["id"].tolist() == ["v0", "v1"]
    assert table["length"].tolist() == [10, 10]  # 20 and 12 candidates at stride 2, the middle 10 kept
    store = ClipStore.open(tmp_path / "train.parquet")
    assert store.frames.shape == (20, 24, 24, 3) and store.frames.dtype == np.uint8
    assert store.num_classes == 2 and store.labels.tolist() == [0, 1]
    # stored frames of v0 are 10 consecutive frames at stride 2: red rises by 8 per stored frame
    red = store.video(0)[:, 12, 12, 0].astype(int)
    assert np.all(np.abs(np.diff(red) - 8) <= 3), red
    rng = np.random.default_rng(0)
    x = sample_clips(store, [0, 1, 0], rng)
    assert x.shape == (3, 4, 3, 24, 24) and x.dtype == torch.float32
    back = denormalize(x)
    assert back.min() >= 0 and back.max() <= 1
    # the clip is a run of consecutive stored frames
    r = (back[0, :, 0, 12, 12] * 255).round()
    assert torch.all((r[1:] - r[:-1] - 8).abs() <= 3)
    static = sample_clips(store, [0], rng, static=True)
    assert torch.allclose(static[0, 0], static[0, -1])


def test_sampler_is_deterministic_per_seed(tmp_path):
    index = make_index(tmp_path, [60, 60], [0, 1], ["test", "test"])
    spec = ClipSpec(frames=4, stride=1, sampling="stride", resize=None, crop=48, max_stored=60)
    extract_clips(index, ["test"], spec, tmp_path / "t.npy", tmp_path / "t.parquet", progress=False)
    store = ClipStore.open(tmp_path / "t.parquet")
    a, b, c = (sample_clips(store, [0, 1], np.random.default_rng(s)) for s in (3, 3, 4))
    assert torch.equal(a, b) and not torch.equal(a, c)
    centre = sample_clips(store, [0, 1])  # no rng: the centre clip, unflipped, every time
    assert torch.equal(centre, sample_clips(store, [0, 1]))


def test_decode_failure_names_the_file(tmp_path):
    index = make_index(tmp_path, [20], [0], ["train"])
    (tmp_path / "v0.avi").write_bytes(b"not a video")
    spec = ClipSpec(frames=4, stride=1, sampling="stride", resize=None, crop=48, max_stored=8)
    with pytest.raises(RuntimeError, match="v0.avi"):
        extract_clips(index, ["train"], spec, tmp_path / "x.npy", tmp_path / "x.parquet", progress=False)
    assert not (tmp_path / "x.npy").exists() and not (tmp_path / "x.parquet").exists()


def test_subset_store_reuses_parent_frames(tmp_path):
    index = make_index(tmp_path, [20, 20, 20], [0, 1, 2], ["train"] * 3)
    spec = ClipSpec(frames=4, stride=1, sampling="stride", resize=None, crop=48, max_stored=8)
    (tmp_path / "parent").mkdir()
    extract_clips(
        index, ["train"], spec, tmp_path / "parent/train.npy", tmp_path / "parent/train.parquet", progress=False
    )
    subset = index[index["label"].isin([0, 2])].copy()
    subset["label"] = [0, 1]
    write_subset_store(tmp_path / "parent/train.parquet", subset, tmp_path / "sub/train.parquet")
    assert not (tmp_path / "sub/train.npy").exists()
    sub = ClipStore.open(tmp_path / "sub/train.parquet")
    parent = ClipStore.open(tmp_path / "parent/train.parquet")
    assert sub.labels.tolist() == [0, 1] and sub.num_classes == 2
    assert np.array_equal(sub.video(1), parent.video(2))


def test_sizes_decord_cannot_copy_fall_back_to_opencv(tmp_path):
    """decord 0.6.0 mis-copies 48x48 frames; the store must still hold the right pixels."""
    index = make_index(tmp_path, [12], [0], ["train"])
    write_video(tmp_path / "v0.avi", 12, w=48, h=48)
    index.loc[0, ["width", "height"]] = [48, 48]
    spec = ClipSpec(frames=4, stride=1, sampling="stride", resize=None, crop=48, max_stored=12)
    extract_clips(index, ["train"], spec, tmp_path / "s.npy", tmp_path / "s.parquet", progress=False)
    red = ClipStore.open(tmp_path / "s.parquet").video(0)[:, 24, 24, 0].astype(int)
    assert np.all(np.abs(red - 4 * np.arange(12)) <= 3), red


@pytest.mark.parametrize("flip", [True, False])
def test_clip_flip_is_horizontal_and_off_with_flip_false(flip):
    """Frames whose pixels all differ (value 3x + 29y + 71c, so no mirror or rotation maps the image onto itself):
    every sampled clip is the stored frames or their left-right mirror, both occur over draws when flipping is on,
    and only the stored frames with `flip: false`."""
    h, w, n = 6, 8, 5
    y, x, c = np.meshgrid(np.arange(h), np.arange(w), np.arange(3), indexing="ij")
    frame = ((3 * x + 29 * y + 71 * c) % 256).astype(np.uint8)
    frames = np.stack([frame] * n)
    table = pd.DataFrame({"id": ["v0"], "label": [0], "offset": [0], "length": [n]})
    spec = ClipSpec(frames=4, stride=1, sampling="stride", resize=None, crop=8, max_stored=n, flip=flip)
    store = ClipStore(frames, table, spec, 1)
    plain = sample_clips(store, [0])[0]
    mirrored = plain.flip(-1)
    assert not torch.equal(mirrored, plain.flip(-2)) and not torch.equal(mirrored, plain)
    seen = set()
    for seed in range(20):
        clip = sample_clips(store, [0], np.random.default_rng(seed))[0]
        assert torch.equal(clip, plain) or torch.equal(clip, mirrored)
        seen.add(torch.equal(clip, mirrored))
    assert seen == ({False, True} if flip else {False})
