"""PRISM: the insertion rule on constructed gradients, the linear interpolation between key frames, the storage
round trip (only key frames stored, the same videos back), the schedule, and a run on the tiny clip store."""

import numpy as np
import pytest
import torch
from helpers import ctx

from vidstill.methods import get_method
from vidstill.methods.prism import KeyFrameVideos, insertion_rule, schedule
from vidstill.methods.prism_keyframes import interpolation_weights, pack, render, unpack
from vidstill.synthetic_set import SyntheticSet


def mask_of(*rows):
    return torch.tensor(rows, dtype=torch.bool)


def test_a_frame_disagreeing_with_both_neighbouring_keys_becomes_a_key():
    """Keys at 0 and 4. Frame 2's gradient points against both keys' (cosine −0.7 with each): inserted. Frame 1
    disagrees with key 0 (−0.7) but agrees with key 4 (+0.7): not inserted. Frame 3 is orthogonal to key 0 (cosine 0,
    not < 0) and opposed to key 4: not inserted."""
    e = torch.eye(3)
    grad = torch.stack([e[0], e[1] - e[0], -e[0] - e[1], -e[1], e[1]])[None]  # (1, 5, 3)
    mask = mask_of([1, 0, 0, 0, 1])
    new = insertion_rule(grad, mask, 0.0)
    assert new.tolist() == [[False, False, True, False, False]]
    # eps moves the threshold: at eps 0.5 frame 3 (cosines 0 and −1) is inserted too, frame 1 (cosines −0.7, +0.7) not
    assert insertion_rule(grad, mask, 0.5).tolist() == [[False, False, True, True, False]]


def test_neighbours_are_the_nearest_keys_not_the_adjacent_frames():
    """Frame 3 between keys 2 and 5: only those keys' gradients count, not frame 4's (which agrees with it)."""
    grad = torch.tensor([[1.0, 0], [1, 0], [1, 0], [-1, 0], [-1, 0], [1, 0]])[None]
    new = insertion_rule(grad, mask_of([1, 0, 1, 0, 0, 1]), 0.0)
    assert new.tolist() == [[False, False, False, True, True, False]]
    # key frames are never candidates, and a zero gradient (cosine 0) is never inserted at eps 0
    grad = torch.tensor([[1.0, 0], [0, 0], [-1, 0]])[None]
    assert not insertion_rule(grad, mask_of([1, 0, 1]), 0.0).any()


def test_interpolation_is_linear_between_adjacent_keys():
    keys = torch.arange(6, dtype=torch.float32).reshape(1, 6, 1) * 10  # values at non-key positions are ignored
    keys[0, 3] = 90.0
    video = render(keys, mask_of([1, 0, 0, 1, 0, 1]))[0, :, 0]
    assert video.tolist() == pytest.approx([0, 30, 60, 90, 70, 50])
    w = interpolation_weights(mask_of([1, 0, 0, 1, 0, 1]))[0]
    assert torch.allclose(w.sum(1), torch.ones(6)) and not w[:, [1, 2, 4]].any()  # only keys carry weight
    with pytest.raises(ValueError, match="first and last"):
        render(keys, mask_of([0, 0, 0, 1, 0, 1]))


def test_gradient_of_an_in_between_frame_reaches_only_its_two_keys():
    keys = torch.randn(1, 5, 2, requires_grad=True)
    render(keys, mask_of([1, 0, 1, 0, 1]))[0, 1].sum().backward()
    assert keys.grad[0, :, 0].tolist() == pytest.approx([0.5, 0, 0.5, 0, 0])


def test_storage_round_trip_keeps_only_key_frames_and_gives_the_same_videos(tmp_path):
    torch.manual_seed(0)
    keys = torch.randn(3, 8, 3, 4, 4)
    mask = mask_of([1, 0, 0, 0, 0, 0, 0, 1], [1, 1, 0, 1, 0, 0, 1, 1], [1] * 8)
    videos = render(keys, mask)
    stored = pack(keys, mask)
    assert stored["frames"].shape == (2 + 5 + 8, 3, 4, 4) and stored["item_frames"].tolist() == [2, 5, 8]
    s = SyntheticSet(stored, torch.tensor([0, 1, 1]), 2, 8, expansion="keyframes")
    s.save(tmp_path / "s.safetensors")
    back = SyntheticSet.load(tmp_path / "s.safetensors")
    assert back.storage_bytes() == s.storage_bytes() < keys.numel() * 4 * 15 / 24 + 200  # the keys, not 24 frames
    assert torch.allclose(back.videos([2, 0, 1]), videos[[2, 0, 1]], atol=1e-6)
    k2, m2 = unpack(**stored, length=8)
    assert torch.equal(m2, mask) and torch.equal(k2[mask], keys[mask])
    with pytest.raises(ValueError, match="disagree"):
        unpack(stored["frames"][:-1], stored["positions"], stored["item_frames"], 8)


def test_schedule_is_warmup_insertion_cooldown():
    assert schedule(30, 0.2, 0.6) == (6, 24) and schedule(5000, 0.2, 0.6) == (1000, 4000)
    with pytest.raises(ValueError, match="fractions"):
        schedule(10, 0.5, 0.6)


def test_insertion_keeps_the_video_and_happens_only_in_its_phase():
    torch.manual_seed(0)
    model = KeyFrameVideos(torch.randn(2, 5, 3), iterations=10, eps=0.0, warmup=0.2, insertion=0.6, every=1)
    before = model.videos(np.random.default_rng(0))
    grad = torch.zeros(2, 5, 3)
    grad[:, 0], grad[:, 4], grad[:, 2] = (
        torch.tensor([1.0, 0, 0]),
        torch.tensor([1.0, 0, 0]),
        torch.tensor([-1.0, 0, 0]),
    )
    before.backward(grad)
    model.after_step(1)  # warm-up: nothing inserted
    assert model.mask.sum().item() == 4
    model.after_step(2)
    assert model.mask[:, 2].all() and model.mask.sum().item() == 6 and model.inserted == [[2, 2]]
    assert torch.allclose(model.videos(np.random.default_rng(0)), before.detach())  # inserting changes no frame


def test_prism_runs_with_dm_loss_and_reports_key_frames_per_class(store):
    s = get_method("prism").fn(ctx(store, "prism", iterations=10, batch_real=2, lr=10.0))
    counts = s.tensors["item_frames"]
    assert len(s) == 6 and counts.min() >= 2 and counts.max() <= 8 and s.tensors["frames"].shape[0] == counts.sum()
    assert len(s.meta["keyframes_per_class"]) == 3 and s.meta["insertion_phase"] == [2, 8]
    assert s.meta["keyframes_per_class"] == pytest.approx(
        [float(counts[s.labels == c].float().mean()) for c in range(3)]
    )
    assert np.isfinite(s.meta["loss_curve"]).all() and s.videos([0, 1]).shape == (2, 8, 3, 48, 48)
    assert set(s.meta["classes"]) == {"c0", "c1", "c2"}
