"""SyntheticSet: storage accounting, expansion, and a pickle-free save/load round trip."""

import numpy as np
import pytest
import torch

from vidstill.synthetic_set import SyntheticSet, resize_time


def test_save_load_round_trip(tmp_path):
    s = SyntheticSet(
        {"videos": torch.randn(4, 8, 3, 48, 48)},
        torch.tensor([0, 0, 1, 1]),
        2,
        8,
        lr=0.02,
        label_loss="mse",
        meta={"method": "x", "loss_curve": [1.0, 0.5]},
    )
    s.save(tmp_path / "s.safetensors")
    t = SyntheticSet.load(tmp_path / "s.safetensors")
    assert torch.equal(s.tensors["videos"], t.tensors["videos"]) and torch.equal(s.labels, t.labels)
    assert t.lr == 0.02 and t.label_loss == "mse" and t.meta["loss_curve"] == [1.0, 0.5] and t.expansion == "stored"
    assert t.storage_bytes() == 4 * 8 * 3 * 48 * 48 * 4 + 4 * 8


def test_uint8_frames_and_fewer_stored_frames_expand_to_the_clip():
    frames = torch.randint(0, 255, (2, 2, 48, 48, 3), dtype=torch.uint8)  # 2 key frames per item
    s = SyntheticSet({"videos": frames}, torch.tensor([0, 1]), 2, 8)
    x = s.videos([0, 1])
    assert x.shape == (2, 8, 3, 48, 48) and x.dtype == torch.float32
    assert torch.equal(x[:, 0], x[:, 3]) and not torch.equal(x[:, 3], x[:, 4])
    assert s.storage_bytes() == 2 * 2 * 48 * 48 * 3 + 2 * 8


def test_resize_time_interleaves():
    v = torch.arange(4).view(1, 4, 1, 1, 1).float()
    assert resize_time(v, 8).flatten().tolist() == [0, 0, 1, 1, 2, 2, 3, 3]


def test_epoch_covers_every_item_once_with_its_own_label():
    """Item i's video is filled with i and its label is a scrambled function of i: every batch pairs each video with
    its own item's label, and an epoch visits every item once, shuffled."""
    n = 7
    perm = [3, 0, 6, 1, 5, 2, 4]  # label of item i
    videos = torch.arange(n, dtype=torch.float32).view(n, 1, 1, 1, 1).expand(n, 8, 3, 4, 4).contiguous()
    s = SyntheticSet({"videos": videos}, torch.tensor(perm), n, 8)
    items = []
    for x, y in s.epoch(3, np.random.default_rng(0)):
        ids = x[:, 0, 0, 0, 0].long().tolist()
        assert y.tolist() == [perm[i] for i in ids]
        items += ids
    assert sorted(items) == list(range(n)) and items != list(range(n))


def test_unknown_expansion_is_rejected():
    with pytest.raises(ValueError, match="unknown expansion"):
        SyntheticSet({}, torch.tensor([0]), 1, 8, expansion="nope")


def test_unknown_label_loss_is_rejected():
    with pytest.raises(ValueError, match="label_loss"):
        SyntheticSet({}, torch.tensor([0]), 1, 8, label_loss="hinge")


def test_a_diverged_set_is_refused_naming_the_job_and_the_tensor():
    videos = torch.zeros(2, 4, 3, 8, 8)
    s = SyntheticSet({"videos": videos}, torch.tensor([0, 1]), 2, 4)
    s.check_finite("distill synthetic dm ipc 1 seed 0")  # finite: no error
    videos[1, 2, 0, 3, 3] = float("nan")
    videos[0, 0, 0, 0, 0] = float("inf")
    with pytest.raises(
        ValueError, match=r"distill synthetic dm ipc 1 seed 0: .*diverged: 2 of 1536 values of 'videos'"
    ):
        s.check_finite("distill synthetic dm ipc 1 seed 0")
