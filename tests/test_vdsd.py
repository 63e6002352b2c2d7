"""VDSD: the still/map pairing (spc = dpc = 2 × IPC, each video one of its own two stills and one of its own two
maps, re-drawn per epoch), the hallucinator, stage 2 leaving the stage-1 stills untouched, storage accounting."""

import numpy as np
import pytest
import torch
from helpers import ctx

from vidstill.methods import get_method
from vidstill.methods.vdsd import by_ipc
from vidstill.methods.vdsd_static_dynamic import PER_ITEM, hallucinate, initial_hallucinator, pair_indices
from vidstill.synthetic_set import SyntheticSet


def test_each_video_uses_one_of_its_two_stills_and_one_of_its_two_maps():
    ipc, classes = 3, 4
    items = torch.arange(classes * ipc)
    seen_still, seen_map = [set() for _ in items], [set() for _ in items]
    rng = np.random.default_rng(0)
    for _ in range(50):
        still, dyn = pair_indices(items, ipc, rng)
        for i in items.tolist():
            seen_still[i].add(int(still[i]))
            seen_map[i].add(int(dyn[i]))
    for i in items.tolist():
        c, j = divmod(i, ipc)
        own = {c * PER_ITEM * ipc + PER_ITEM * j, c * PER_ITEM * ipc + PER_ITEM * j + 1}
        assert seen_still[i] == own and seen_map[i] == own  # both of its own, never another item's or class's
    # still and map are drawn independently: all four combinations occur
    combos = set()
    for _ in range(50):
        still, dyn = pair_indices(torch.tensor([0]), ipc, rng)
        combos.add((int(still[0]), int(dyn[0])))
    assert len(combos) == 4
    assert pair_indices(items, ipc, None)[0].tolist() == [PER_ITEM * i for i in items.tolist()]


def test_hallucinator_shapes_and_identity_start():
    stills, maps = torch.randn(5, 3, 16, 16), torch.randn(5, 8, 1, 16, 16)
    w, b = initial_hallucinator(3, seed=0)
    assert w.shape == (3, 4, 3, 3, 3) and b.shape == (3,)
    assert hallucinate(stills, maps, w, b).shape == (5, 8, 3, 16, 16)
    w, b = initial_hallucinator(3, seed=0, init="identity")
    videos = hallucinate(stills, maps, w, b)
    assert torch.allclose(videos, stills.unsqueeze(1).expand(-1, 8, -1, -1, -1), atol=1e-6)
    with pytest.raises(ValueError, match="hallucinator_init"):
        initial_hallucinator(3, 0, init="zeros")


def test_ipc_dependent_rates():
    assert by_ipc(3.0, 5, "x") == 3.0
    assert by_ipc({1: 1e-4, "5": 1e3}, 5, "lr_dynamic") == 1e3
    with pytest.raises(ValueError, match="lr_dynamic is given per IPC for \\[1\\], not for ipc 5"):
        by_ipc({1: 1.0}, 5, "lr_dynamic")


@pytest.fixture(scope="module")
def stills(store, tmp_path_factory):
    """Stage 1 at 2 × IPC for IPC 1: Static-DC with 2 stills per class."""
    path = tmp_path_factory.mktemp("stills") / "stills.safetensors"
    get_method("static_dc").fn(ctx(store, "static_dc", ipc=2, iterations=1, batch_real=2, outer_loop=1)).save(path)
    return path


def vdsd_ctx(store, stills, name, experts=None, **params):
    # batch_real: the real clips of the DM / FRePo losses (MTT+VDSD has none: its settings do not accept it)
    c = ctx(
        store,
        name,
        ipc=1,
        **{**({} if name == "mtt_vdsd" else {"batch_real": 2}), "lr_dynamic": 100.0, "lr_hallucinator": 1e-2, **params},
    )
    c.artifacts["stills"] = stills
    if experts is not None:
        c.artifacts["experts"] = experts
    return c


STAGE_TWO = {
    "dm_vdsd": {},
    "mtt_vdsd": dict(syn_steps=2, expert_epochs=1, max_start_epoch=2, lr_dynamic=1e4),
    "frepo_vdsd": dict(num_models=2, max_online_steps=2, lr_dynamic=1e-2, lr_hallucinator=1e-2),
}


@pytest.mark.parametrize("name", list(STAGE_TWO))
def test_stage_two_learns_maps_and_hallucinator_and_leaves_the_stills(store, stills, experts, name):
    extra = STAGE_TWO[name]
    before = get_method(name).fn(vdsd_ctx(store, stills, name, experts, iterations=0, **extra))
    after = get_method(name).fn(vdsd_ctx(store, stills, name, experts, iterations=3, **extra))
    stage1 = SyntheticSet.load(stills).tensors["videos"][:, 0]
    assert torch.equal(after.tensors["stills"], stage1)  # frozen, bit for bit
    assert after.tensors["stills"].shape[0] == after.tensors["dynamics"].shape[0] == 3 * PER_ITEM * 1
    assert after.tensors["dynamics"].shape == (6, 8, 1, 48, 48)
    assert not torch.equal(after.tensors["dynamics"], before.tensors["dynamics"])
    assert not torch.equal(after.tensors["hallucinator.weight"], before.tensors["hallucinator.weight"])
    assert after.expansion == "vdsd"
    if name == "frepo_vdsd":  # learnt soft labels, regressed by the students
        assert after.label_loss == "mse" and after.labels.shape == (3, 3)
        assert not torch.equal(after.labels, before.labels)
    else:
        assert after.labels.tolist() == [0, 1, 2]
    assert np.isfinite(after.meta["loss_curve"]).all() and len(after.meta["loss_curve"]) == 3
    if name == "mtt_vdsd":
        assert after.lr is not None and after.lr != 0.01
    # reproducible
    again = get_method(name).fn(vdsd_ctx(store, stills, name, experts, iterations=3, **extra))
    assert torch.equal(again.tensors["dynamics"], after.tensors["dynamics"])


def test_the_set_redraws_pairings_and_stores_only_its_memory(store, stills, tmp_path):
    s = get_method("dm_vdsd").fn(vdsd_ctx(store, stills, "dm_vdsd", iterations=1))
    path = tmp_path / "s.safetensors"
    s.save(path)
    s = SyntheticSet.load(path)
    t = s.tensors
    expected = sum(v.numel() * v.element_size() for v in t.values()) + s.labels.numel() * 8
    assert s.storage_bytes() == expected and t["hallucinator.weight"].numel() + t["hallucinator.bias"].numel() == 327
    batches = list(s.epoch(2, np.random.default_rng(0)))
    assert [len(y) for _, y in batches] == [2, 1] and batches[0][0].shape == (2, 8, 3, 48, 48)


def known_memory(n=8, frames=8, size=4):
    """Still k is the constant k; map j at frame t is 100 j + 10 t; a hallucinator whose centre taps add the map to
    every channel of the still, bias 0.5 c: the video of (still k, map j) is k + 100 j + 10 t + 0.5 c everywhere."""
    stills = torch.arange(n).float().view(n, 1, 1, 1).expand(n, 3, size, size).contiguous()
    maps = 100 * torch.arange(n).float().view(n, 1, 1, 1, 1) + 10 * torch.arange(frames).float().view(
        1, frames, 1, 1, 1
    )
    maps = maps.expand(n, frames, 1, size, size).contiguous()
    weight = torch.zeros(3, 4, 3, 3, 3)
    weight[torch.arange(3), torch.arange(3), 1, 1, 1] = 1.0
    weight[:, 3, 1, 1, 1] = 1.0
    return stills, maps, weight, torch.tensor([0.0, 0.5, 1.0])


def test_hallucination_is_the_hand_computed_video():
    stills, maps, weight, bias = known_memory()
    videos = hallucinate(stills[[2, 5]], maps[[7, 0]], weight, bias)
    t, c = torch.arange(8).view(1, 8, 1, 1, 1), torch.tensor([0.0, 0.5, 1.0]).view(1, 1, 3, 1, 1)
    expected = torch.tensor([2 + 700, 5 + 0]).float().view(2, 1, 1, 1, 1) + 10 * t + c
    torch.testing.assert_close(videos, expected.expand(2, 8, 3, 4, 4))


def test_the_vdsd_set_rebuilds_each_video_from_one_of_its_own_stills_and_maps(tmp_path):
    """A saved VDSD set of 2 classes x IPC 2 over a known memory: every expanded video is exactly the hand-computed
    video of one still and one map the item owns (item i of class c: stills and maps 4c + 2i and 4c + 2i + 1), all
    four pairings occur over epochs, and without a generator the first of each."""
    stills, maps, weight, bias = known_memory()
    SyntheticSet(
        {"stills": stills, "dynamics": maps, "hallucinator.weight": weight, "hallucinator.bias": bias},
        torch.tensor([0, 0, 1, 1]),
        2,
        8,
        expansion="vdsd",
        expansion_args={"ipc": 2},
    ).save(tmp_path / "v.safetensors")
    s = SyntheticSet.load(tmp_path / "v.safetensors")
    t, c = torch.arange(8).float().view(8, 1, 1, 1), torch.tensor([0.0, 0.5, 1.0]).view(1, 3, 1, 1)
    pairs = [set() for _ in range(4)]
    for epoch in range(40):
        videos = s.videos(torch.arange(4), np.random.default_rng(epoch))
        for item, video in enumerate(videos):
            value = int(video[0, 0, 0, 0])
            still, dyn = value % 100, value // 100
            torch.testing.assert_close(video, (still + 100 * dyn + 10 * t + c).expand(8, 3, 4, 4))
            pairs[item].add((still, dyn))
    for item in range(4):
        own = {2 * item, 2 * item + 1}
        assert pairs[item] == {(a, b) for a in own for b in own}
    first = s.videos(torch.arange(4))[:, 0, 0, 0, 0].tolist()
    assert first == [2 * i + 100 * 2 * i for i in range(4)]


def test_dm_stage_two_lowers_the_match_on_unseen_networks(store, stills):
    """30 iterations of DM+VDSD must lower the DM match of the hallucinated videos (4 pairings each) on 5 networks and
    real batches the distillation never drew (measured: 3.34 -> 2.27)."""
    from vidstill.methods.dm import embedding_match_loss, real_batch

    c = vdsd_ctx(store, stills, "dm_vdsd", batch_real=4, iterations=30)
    after = get_method("dm_vdsd").fn(c)
    before = get_method("dm_vdsd").fn(vdsd_ctx(store, stills, "dm_vdsd", batch_real=4, iterations=0))

    def match(s):
        total = 0.0
        for k in range(5):
            net = c.network(10_000 + k)
            real, labels = real_batch(c, 4, np.random.default_rng(k))
            for e in range(4):
                with torch.no_grad():
                    videos = s.videos(torch.arange(3), np.random.default_rng(100 + e))
                    total += float(embedding_match_loss(net.embed(real), labels, net.embed(videos), s.labels, 3))
        return total

    assert match(after) < 0.85 * match(before)


def test_stage_one_must_match_the_ipc(store, stills):
    c = vdsd_ctx(store, stills, "dm_vdsd", iterations=1)
    c.ipc = 2  # needs 4 stills per class; the file has 2
    with pytest.raises(ValueError, match="stills.safetensors: VDSD at ipc 2 needs 4 stills per class"):
        get_method("dm_vdsd").fn(c)
    c = vdsd_ctx(store, stills, "dm_vdsd", iterations=1)
    del c.artifacts["stills"]
    with pytest.raises(ValueError, match="needs the stage-1 stills"):
        get_method("dm_vdsd").fn(c)


def test_stills_may_be_any_single_frame_set(store, tmp_path):
    """A one-keyframe coreset (uint8 frames) can serve as stage 1; a multi-frame set cannot."""
    keyframes = get_method("keyframe").fn(ctx(store, "keyframe", ipc=2, keyframes=1))
    keyframes.save(tmp_path / "k1.safetensors")
    s = get_method("dm_vdsd").fn(vdsd_ctx(store, tmp_path / "k1.safetensors", "dm_vdsd", iterations=1))
    assert s.tensors["stills"].dtype == torch.float32 and s.tensors["stills"].shape == (6, 3, 48, 48)
    get_method("random").fn(ctx(store, "random", ipc=2)).save(tmp_path / "clips.safetensors")
    with pytest.raises(ValueError, match="clips.safetensors: stage-1 stills must be a single-frame set"):
        get_method("dm_vdsd").fn(vdsd_ctx(store, tmp_path / "clips.safetensors", "dm_vdsd", iterations=1))
