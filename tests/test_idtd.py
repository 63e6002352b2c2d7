"""IDTD: Feature Selectors / Temporal Fusor shapes for several T and K, τ keeps the clip length, L_div pushes
segments apart and is bounded, the ablation variants, the class-by-class update equal to the batched one."""

import numpy as np
import pandas as pd
import pytest
import torch
from helpers import ctx

from vidstill.data.clips import normalize
from vidstill.methods import get_method
from vidstill.methods.idtd import diversity_loss, fuse, initial_fusor, initial_selectors, select, stitch, stitch_indices
from vidstill.methods.idtd_temporal_augment import temporal_interval
from vidstill.synthetic_set import SyntheticSet


@pytest.mark.parametrize("frames,k", [(8, 2), (8, 4), (8, 8), (16, 8), (6, 4)])
def test_selectors_and_fusor_shapes(frames, k):
    n, pool_frames = 3, 5
    pool = torch.randn(n, pool_frames, 3, 6, 6)
    w, b = initial_selectors(n, k, frames, pool_frames, seed=0, init="random")
    segments = select(pool, w, b)
    assert segments.shape == (n, k, frames, 3, 6, 6)
    fw, fb = initial_fusor(n, 3, k, seed=0, init="default")
    assert fw.shape == (n, 3, 3 * k, 3) and fb.shape == (n, 3)
    assert fuse(segments, fw, fb).shape == (n, frames, 3, 6, 6)
    assert stitch(segments, frames).shape == (n, frames, 3, 6, 6)


def test_fusor_is_one_convolution_per_instance():
    """The grouped convolution equals a separate Conv3d(K·C → C, kernel (3, 1, 1), padding 1) over each instance's
    segments concatenated along channels."""
    n, k, t = 2, 4, 8
    segments = torch.randn(n, k, t, 3, 5, 5)
    fw, fb = initial_fusor(n, 3, k, seed=1, init="default")
    out = fuse(segments, fw, fb)
    for i in range(n):
        x = segments[i].permute(0, 2, 1, 3, 4).reshape(1, k * 3, t, 5, 5)  # (1, K·C, T, H, W)
        ref = torch.nn.functional.conv3d(x, fw[i][..., None, None], fb[i], padding=(1, 0, 0))[0].permute(1, 0, 2, 3)
        torch.testing.assert_close(out[i], ref)


@pytest.mark.parametrize("frames,k", [(8, 4), (16, 8), (8, 2)])
def test_every_fused_frame_depends_on_every_segment(frames, k):
    """The fusor fuses: the gradient of each output frame reaches every one of the K segments (a kernel and stride of
    (K, 1, 1) over the time-concatenated segments gives each output frame one segment only)."""
    segments = torch.randn(1, k, frames, 3, 4, 4, requires_grad=True)
    fw, fb = initial_fusor(1, 3, k, seed=0, init="default")
    out = fuse(segments, fw, fb)
    for t in range(frames):
        (grad,) = torch.autograd.grad(out[:, t].sum(), segments, retain_graph=True)
        per_segment = grad.abs().sum(dim=(0, 2, 3, 4, 5))
        assert (per_segment > 0).all(), (t, per_segment)
        assert (grad.abs().sum(dim=(0, 1, 3, 4, 5)) > 0).sum() <= 3  # a temporal kernel of 3: frames t-1, t, t+1


def test_real_selectors_pick_their_clip_and_fusor_inits():
    n, k, t = 2, 4, 8
    clips = torch.randn(n, k, t, 3, 4, 4)
    w, b = initial_selectors(n, k, t, k * t, seed=0, init="real")
    segments = select(clips.reshape(n, k * t, 3, 4, 4), w, b)
    torch.testing.assert_close(segments, clips)
    fw, fb = initial_fusor(n, 3, k, seed=0, init="sample")
    torch.testing.assert_close(fuse(segments, fw, fb), clips[:, k // 2])  # the centre segment passes through
    fw, fb = initial_fusor(n, 3, k, seed=0, init="mean")
    torch.testing.assert_close(fuse(segments, fw, fb), clips.mean(1))
    with pytest.raises(ValueError, match="fusor_kernel"):
        initial_fusor(n, 3, k, seed=0, init="mean", kernel=2)


def test_stitch_takes_each_segment_in_order_at_its_slot_centres():
    seg, frame = stitch_indices(4, 8, 8)
    assert seg.tolist() == [0, 0, 1, 1, 2, 2, 3, 3] and frame.tolist() == [2, 6, 2, 6, 2, 6, 2, 6]
    seg, frame = stitch_indices(8, 16, 16)  # the paper's K = 8, T = 16: two frames of each segment
    assert seg.tolist() == [k for k in range(8) for _ in range(2)] and frame.tolist() == [4, 12] * 8
    seg, frame = stitch_indices(3, 8, 8)  # uneven: every segment used, every slot filled
    assert sorted(set(seg.tolist())) == [0, 1, 2] and len(seg) == 8 and frame.max() < 8
    with pytest.raises(ValueError, match="K=9 > T=8"):
        stitch_indices(9, 8, 8)


def test_tau_keeps_the_clip_length_and_stays_inside_the_clip():
    videos = torch.arange(8.0).view(1, 8, 1, 1, 1).repeat(50, 1, 3, 2, 2).requires_grad_(True)
    out = temporal_interval(videos, np.random.default_rng(0), min_span=0.5)
    assert out.shape == videos.shape
    t = out[:, :, 0, 0, 0].detach()
    assert (t[:, 1:] >= t[:, :-1]).all()  # order kept
    assert ((t[:, -1] - t[:, 0]) >= 0.5 * 7 - 1e-5).all() and t.min() >= 0 and t.max() <= 7  # span ≥ min_span, inside
    assert not torch.equal(t[0], t[1])  # each clip its own interval
    out.sum().backward()
    assert videos.grad.abs().sum() > 0
    torch.testing.assert_close(temporal_interval(videos, np.random.default_rng(0), min_span=1.0), videos)
    with pytest.raises(ValueError, match="min_span"):
        temporal_interval(videos, np.random.default_rng(0), min_span=0.0)


def test_diversity_loss_is_a_bounded_hinge_that_pushes_segments_apart():
    margin = torch.tensor([4.0])
    same = torch.zeros(1, 3, 2)
    loss, ratio = diversity_loss(same, margin)
    assert loss.item() == pytest.approx(4.0) and ratio.item() == 0  # identical segments: the margin, its maximum
    far = torch.tensor([[[0.0, 0.0], [3.0, 0.0], [0.0, 3.0]]])  # every pair ≥ 3 apart: 9 > 4
    assert diversity_loss(far, margin)[0].item() == 0.0
    assert diversity_loss(far * 100, margin)[0].item() == 0.0  # no reward for inflating beyond real diversity
    emb = (torch.randn(2, 4, 8) * 0.01).requires_grad_(True)
    margins = torch.tensor([1.0, 1.0])
    start = diversity_loss(emb, margins)[1].item()
    opt = torch.optim.SGD([emb], lr=0.2)
    for _ in range(200):
        opt.zero_grad()
        diversity_loss(emb, margins)[0].backward()
        opt.step()
    loss, ratio = diversity_loss(emb, margins)
    assert ratio.item() > 0.9 > 100 * start and loss.item() < 0.05


def idtd_ctx(store, **params):
    return ctx(
        store,
        "idtd",
        ipc=1,
        **{
            "iterations": 2,
            "batch_real": 2,
            "segments": 2,
            "init": "real",
            "fusor_init": "sample",
            "lr": 0.01,
            **params,
        },
    )


@pytest.mark.parametrize("modules", ["idtd", "segments_fusor", "pool_selectors"])
def test_learnt_variants_move_away_from_their_real_start(store, modules):
    fn = get_method("idtd").fn
    start = fn(idtd_ctx(store, modules=modules, iterations=0))
    s = fn(idtd_ctx(store, modules=modules))
    assert s.tensors["videos"].shape == (3, 8, 3, 48, 48) and s.labels.tolist() == [0, 1, 2]
    assert not torch.allclose(s.tensors["videos"], start.tensors["videos"])
    assert len(s.meta["loss_terms"]["diversity"]) == 2 and s.meta["modules"] == modules
    assert s.expansion == "temporal_interval"


def test_stitch_real_is_real_frames_and_idtd_starts_from_a_real_clip(store):
    fn = get_method("idtd").fn
    a = fn(idtd_ctx(store, modules="stitch_real"))
    assert a.meta["loss_curve"] == []
    real_frames = normalize(torch.from_numpy(np.array(store.frames))[None])[0]  # every stitched frame is a real one
    start = fn(idtd_ctx(store, iterations=0)).tensors["videos"]  # real pool, one-hot selectors, centre-tap fusor
    for f in torch.cat([a.tensors["videos"], start]).flatten(0, 1):
        assert (real_frames - f).abs().amax(dim=(1, 2, 3)).min() < 1e-5


def test_class_by_class_updates_equal_the_batched_update(store):
    fn = get_method("idtd").fn
    batched = fn(idtd_ctx(store, iterations=3, class_chunk=0))
    per_class = fn(idtd_ctx(store, iterations=3, class_chunk=1))
    torch.testing.assert_close(batched.tensors["videos"], per_class.tensors["videos"], atol=1e-5, rtol=1e-4)
    np.testing.assert_allclose(batched.meta["loss_curve"], per_class.meta["loss_curve"], rtol=1e-4)


def test_the_set_stores_videos_and_evaluates_under_tau(store, tmp_path):
    s = get_method("idtd").fn(idtd_ctx(store, iterations=1, min_span=0.5))
    s.save(tmp_path / "s.safetensors")
    loaded = SyntheticSet.load(tmp_path / "s.safetensors")
    assert loaded.storage_bytes() == 3 * 8 * 3 * 48 * 48 * 4 + 3 * 8
    torch.testing.assert_close(loaded.videos([0, 1, 2]), s.tensors["videos"])  # no generator: as stored
    a, b = loaded.videos([0, 1, 2], np.random.default_rng(0)), loaded.videos([0, 1, 2], np.random.default_rng(1))
    assert a.shape == (3, 8, 3, 48, 48) and not torch.equal(a, b)


def test_bad_settings_name_the_key(store):
    fn = get_method("idtd").fn
    with pytest.raises(ValueError, match="modules"):
        fn(idtd_ctx(store, modules="fusor_only"))
    with pytest.raises(ValueError, match="init"):
        fn(idtd_ctx(store, init="zeros"))
    with pytest.raises(ValueError, match="fusor_init"):
        fn(idtd_ctx(store, fusor_init="identity"))


def test_alpha_div_weights_the_diversity_term_and_alpha_video_the_video_term(store, monkeypatch):
    """Each weight scales its own term: swapping alpha_div and alpha_video changes the loss the optimiser sees."""
    from vidstill.methods import idtd as idtd_module

    seen = []
    real_loss = idtd_module.idtd_loss

    def spy(*args, **kwargs):
        terms = real_loss(*args, **kwargs)
        seen.append({k: float(v.detach()) for k, v in terms.items()})
        return terms

    monkeypatch.setattr(idtd_module, "idtd_loss", spy)
    # real clips are already as diverse as real data (the hinge is 0): plant a diversity term that is not
    real_div = idtd_module.diversity_loss
    monkeypatch.setattr(
        idtd_module,
        "diversity_loss",
        lambda emb, margins: (
            real_div(emb, margins)[0] + 0.25 * emb.abs().mean() / emb.abs().mean().detach(),
            real_div(emb, margins)[1],
        ),
    )
    get_method("idtd").fn(idtd_ctx(store, iterations=1, segment_weight=0.5, alpha_div=0.3, alpha_video=7.0))
    t = seen[0]
    assert t["diversity"] > 0 and t["video"] > 0 and t["diversity"] != pytest.approx(t["video"], rel=0.1)
    assert t["total"] == pytest.approx(0.5 * t["segments"] + 0.3 * t["diversity"] + 7.0 * t["video"], rel=1e-5)


def test_redundancy_variances_are_over_frames_and_over_clips(store, monkeypatch):
    """R_t's variance is over time within a clip (then averaged over features and clips), R_IC's over the class's
    clips: features constant in time but spread across features must give within_variance 0."""
    from vidstill.analysis import redundancy

    def features(net, clips):
        b = len(clips)
        f_t = torch.tensor([[0.0, 10.0, -4.0]]).expand(b, 4, 3).clone()  # (B, T, d): the same at every time step
        f_t[:, 1, 0] = 2.0  # one feature moves at one time step: var over 4 frames of [0, 2, 0, 0] = 0.75
        f_ic = torch.arange(b, dtype=torch.float32)[:, None].expand(b, 2).clone()  # clips differ: 0, 1, 2, ...
        return f_t, f_ic

    monkeypatch.setattr(redundancy, "clip_features", features)
    table = redundancy.class_redundancy(torch.nn.Identity(), store, torch.device("cpu"), batch_size=64)
    np.testing.assert_allclose(table["within_variance"], 0.75 / 3, rtol=1e-6)  # mean over the 3 features
    labels = store.labels.numpy()  # clip i has f_ic = i; class c holds the clips with that label
    for c, row in table.iterrows():
        np.testing.assert_allclose(row["inter_variance"], np.var(np.flatnonzero(labels == c)), rtol=1e-6)


def test_redundancy_features_and_per_class_table(store):
    from vidstill.analysis.redundancy import class_redundancy, clip_features, correlations, redundancy_gain_table
    from vidstill.models import ConvNet3D

    torch.manual_seed(0)
    net = ConvNet3D(3, 8, 48, widths=(4, 8, 8)).eval()
    moving = torch.randn(4, 8, 3, 48, 48)
    static = moving[:, :1].expand(-1, 8, -1, -1, -1)
    f_t, f_ic = clip_features(net, moving)
    assert f_t.shape[:2] == (4, 4) and f_ic.shape == (4, net.embed_dim)  # second block halves time
    assert clip_features(net, static)[0].var(1).mean() < f_t.var(1).mean()  # a still clip is redundant in time
    table = class_redundancy(net, store, torch.device("cpu"))
    assert table["class"].tolist() == ["c0", "c1", "c2"] and (table["clips"] == 4).all()
    assert table[["R_t", "R_IC"]].apply(lambda c: c.between(0, 1)).all().all()
    assert np.allclose(table["R_t"], np.tanh(1 / table["within_variance"]))
    runs = lambda accs: pd.DataFrame({"per_class": [accs, accs]})  # noqa: E731
    gains = redundancy_gain_table(table, runs([0.5, 0.2, 0.1]), runs([0.25, 0.25, 0.1]))
    assert gains["gain"].round(6).tolist() == [25.0, -5.0, 0.0]
    assert set(correlations(gains)) <= {"R_t", "R_IC"}
    with pytest.raises(ValueError, match="ConvNet3D"):
        clip_features(torch.nn.Identity(), moving)
