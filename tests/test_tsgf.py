"""TSGF: the temporal saliency is zero on a static clip and sits on the moving square of a clip with one, TSGF_O damps
static pixels' updates by exactly `floor` (under Adam and SGD), the BN-statistics term is the REFERENCE formula, TSGF_A
augments static regions and spares moving ones, and the method end to end (hard / soft labels, expansion, BN check)."""

import numpy as np
import pytest
import torch
from helpers import ctx
from torch import nn

from vidstill.augment import DSAParams
from vidstill.methods import get_method
from vidstill.methods.dm import init_from_real
from vidstill.methods.settings import TSGFSettings
from vidstill.methods.tsgf import BNStatistics, pixel_optimizer, saliency_scaled_step, uni_level_loss
from vidstill.methods.tsgf_saliency import (
    SaliencyParams,
    frame_differences,
    gradient_scale,
    saliency_guided_augment,
    temporal_saliency,
)
from vidstill.synthetic_set import SyntheticSet
from vidstill.teacher import build_from_architecture, save_teacher, teacher_architecture


def moving_square(frames=8, size=40, side=4, step=4, channels=3, seed=0):
    """A textured static background with one bright square moving right by `step` pixels per frame; also the mask of
    the pixels the square covers in each frame."""
    g = torch.Generator().manual_seed(seed)
    background = torch.rand(channels, size, size, generator=g) - 0.5
    video = background.expand(frames, -1, -1, -1).clone()
    mask = torch.zeros(frames, 1, size, size, dtype=torch.bool)
    for t in range(frames):
        x = 2 + step * t
        video[t, :, 10 : 10 + side, x : x + side] = 2.0
        mask[t, :, 10 : 10 + side, x : x + side] = True
    return video[None], mask[None]


def test_saliency_is_zero_for_a_static_clip():
    frame = torch.randn(1, 1, 3, 16, 16)
    static = frame.expand(2, 8, -1, -1, -1).clone()
    s = temporal_saliency(static)
    assert s.shape == (2, 8, 1, 16, 16)
    assert torch.count_nonzero(s) == 0
    assert torch.equal(gradient_scale(s, 0.1), torch.full_like(s, 0.1))
    assert torch.count_nonzero(temporal_saliency(torch.randn(1, 1, 3, 4, 4))) == 0  # one frame: nothing moves


def test_saliency_concentrates_on_the_moving_square():
    video, mask = moving_square()
    s = temporal_saliency(video, SaliencyParams(window=3))
    # The square's path: the pixels a frame difference d_t (t − 1 → t, d_0 = d_1) sees change, within the window's
    # ±1 frame: the square where it is, was in the two frames before and will be in the next.
    path = mask.clone()
    path[:, 1:] |= mask[:, :-1]
    path[:, 2:] |= mask[:, :-2]
    path[:, :-1] |= mask[:, 1:]
    path[:, 0] |= mask[:, 2]  # s_0 sees d_0 = d_1 and d_1
    assert torch.count_nonzero(s[~path]) == 0
    assert s[mask].mean() > 0.5  # on the square itself
    assert 0.9 < s.max() < 1.0  # normalised to just under 1 by ε
    d = frame_differences(video)
    assert d.shape == (1, 8, 1, 40, 40) and torch.equal(d[:, 0], d[:, 1])


def test_eps_keeps_noise_sized_motion_below_full_saliency():
    video = torch.zeros(1, 4, 3, 8, 8)
    video[:, 1::2, :, 2, 2] = 0.01  # a flicker far smaller than ε = 0.05
    assert temporal_saliency(video).max() < 0.2
    video[:, 1::2, :, 2, 2] = 2.0
    assert temporal_saliency(video).max() > 0.95


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_tsgf_o_damps_static_updates_by_the_floor(optimizer):
    video, mask = moving_square()
    grad = torch.randn_like(video)
    params = SaliencyParams(floor=0.1)

    def update(saliency):
        x = video.clone().requires_grad_(True)
        opt = pixel_optimizer(x, TSGFSettings(optimizer=optimizer, lr=0.05))
        x.grad = grad.clone()
        saliency_scaled_step(x, opt, saliency)
        return (x - video).detach()

    plain, scaled = update(None), update(params)
    s = temporal_saliency(video, params).expand_as(video)
    static = s == 0
    assert static.float().mean() > 0.5 and torch.count_nonzero(plain[static]) == static.sum()
    torch.testing.assert_close(scaled[static], 0.1 * plain[static])
    torch.testing.assert_close(scaled, (0.1 + 0.9 * s) * plain)
    on_square = mask.expand_as(video) & (s > 0.9)
    assert on_square.any() and (scaled[on_square].abs() > 0.9 * plain[on_square].abs()).all()


def test_saliency_params_check_their_values():
    def tsgf(**values):
        return TSGFSettings.from_mapping(values, "methods.tsgf")

    assert SaliencyParams.from_params(tsgf()) == SaliencyParams()
    assert SaliencyParams.from_params(tsgf(window=5)).alpha == (1.0,) * 5
    assert SaliencyParams.from_params(tsgf(window=5, alpha=[1, 2, 3, 2, 1])).alpha == (1.0, 2.0, 3.0, 2.0, 1.0)
    for bad in ({"window": 2}, {"window": 3, "alpha": [1, 1]}, {"alpha": [-1, 1, 1]}, {"eps": 0}, {"floor": 1.5}):
        with pytest.raises(ValueError):  # the settings' ranges or SaliencyParams' own checks
            SaliencyParams.from_params(tsgf(**bad))


def test_bn_statistics_is_the_reference_distance():
    bn = nn.BatchNorm3d(2).eval()
    bn.running_mean.copy_(torch.tensor([0.5, -1.0]))
    bn.running_var.copy_(torch.tensor([2.0, 0.5]))
    net = nn.Sequential(nn.Identity(), bn)
    x = torch.randn(3, 2, 4, 5, 5)
    with BNStatistics(net) as stats:
        net(x)
    mean, var = x.mean(dim=(0, 2, 3, 4)), x.var(dim=(0, 2, 3, 4), unbiased=False)
    expected = ((mean - bn.running_mean) ** 2).sum() + ((var - bn.running_var) ** 2).sum()
    torch.testing.assert_close(stats.loss(), expected)
    net(x)
    assert len(stats.terms) == 1  # hooks are removed on exit


def test_saliency_guided_augment_spares_the_moving_square():
    video, mask = moving_square()
    static = video[:, :1].expand(-1, 8, -1, -1, -1).clone()
    clips = torch.cat([video, static])
    out = saliency_guided_augment(clips, seed=3, strategy="color", dsa=DSAParams(mode="multiple"))
    s = temporal_saliency(clips)
    on_square = mask[0].expand(-1, 3, -1, -1) & (s[0] > 0.9).expand(-1, 3, -1, -1)
    change = (out - clips).abs()
    assert change[1].mean() > 0.01  # the static clip gets the whole colour augmentation
    # On the moving square the augmentation enters with weight 1 − S < 0.1.
    full = saliency_guided_augment(
        clips, seed=3, strategy="color", params=SaliencyParams(eps=1e9), dsa=DSAParams(mode="multiple")
    )
    assert (change[0][on_square] <= 0.1 * (full - clips).abs()[0][on_square] + 1e-5).all()
    # Geometric ops apply to the whole clip: a flip mirrors every frame, moving ones included.
    flipped = saliency_guided_augment(clips, seed=0, strategy="flip", dsa=DSAParams(mode="multiple", prob_flip=1.0))
    torch.testing.assert_close(flipped, clips.flip(-1))


def test_saliency_augment_expansion_round_trips(tmp_path):
    video, _ = moving_square()
    s = SyntheticSet(
        {"videos": video.repeat(2, 1, 1, 1, 1)},
        torch.tensor([0, 1]),
        2,
        8,
        "saliency_augment",
        {"window": 3, "alpha": [0.25, 0.5, 0.25], "eps": 0.05, "strategy": "color_cutout", "dsa_mode": "single"},
    )
    s.save(tmp_path / "s.safetensors")
    loaded = SyntheticSet.load(tmp_path / "s.safetensors")
    torch.testing.assert_close(loaded.videos([0, 1]), video.repeat(2, 1, 1, 1, 1))  # no generator: as stored
    a = loaded.videos([0, 1], np.random.default_rng(0))
    b = loaded.videos([0, 1], np.random.default_rng(0))
    assert torch.equal(a, b) and not torch.equal(a, loaded.videos([0, 1]))


def tsgf_ctx(store, teacher, **params):
    c = ctx(store, "tsgf", ipc=2, **{"iterations": 3, "lr": 0.05, **params})
    c.teacher = teacher
    return c


def test_tsgf_optimises_each_ipc_slot_and_lowers_the_loss(store, bn_teacher):
    s = get_method("tsgf").fn(tsgf_ctx(store, bn_teacher, iterations=6))
    assert s.labels.tolist() == [0, 0, 1, 1, 2, 2] and s.expansion == "saliency_augment"
    assert s.tensors["videos"].shape == (6, 8, 3, 48, 48) and s.tensors["videos"].dtype == torch.float32
    curve = s.meta["loss_curve"]
    assert len(curve) == 12  # 2 IPC slots x 6 iterations
    assert curve[5] < curve[0] and curve[11] < curve[6]
    assert s.expansion_args["strategy"] == "color_crop_cutout_flip_scale_rotate"
    again = get_method("tsgf").fn(tsgf_ctx(store, bn_teacher, iterations=6))
    assert torch.equal(s.tensors["videos"], again.tensors["videos"])  # seeded: reproducible


def test_tsgf_options_soft_labels_and_no_saliency(store, bn_teacher):
    """Soft labels are the teacher's softmax (at the temperature) on the final stored videos, item by item."""
    from vidstill.teacher import load_teacher

    s = get_method("tsgf").fn(
        tsgf_ctx(store, bn_teacher, labels="soft", saliency_augmentation=False, saliency_optimization=False)
    )
    assert s.soft_labels and s.labels.shape == (6, 3)
    teacher = load_teacher(bn_teacher)
    with torch.no_grad():
        logits = teacher(s.tensors["videos"])  # this teacher was saved with standardize false
    torch.testing.assert_close(s.labels, torch.softmax(logits, 1))
    hot = get_method("tsgf").fn(
        tsgf_ctx(
            store, bn_teacher, labels="soft", temperature=4.0, saliency_augmentation=False, saliency_optimization=False
        )
    )
    torch.testing.assert_close(hot.labels, torch.softmax(logits / 4.0, 1))
    assert not torch.allclose(hot.labels, s.labels)
    assert s.expansion == "stored"
    c = tsgf_ctx(store, bn_teacher, iterations=0)
    real, _ = init_from_real(c, np.random.default_rng(c.seed))
    torch.testing.assert_close(
        get_method("tsgf").fn(c).tensors["videos"], real
    )  # no iteration: the real clips it starts from


def test_tsgf_needs_a_batchnorm_teacher(store, tmp_path):
    path = tmp_path / "convnet3d.safetensors"
    arch = teacher_architecture({"arch": "convnet3d", "widths": [4, 8, 8]}, store)
    save_teacher(build_from_architecture(arch), arch, path)
    with pytest.raises(ValueError, match="no BatchNorm layer"):
        get_method("tsgf").fn(tsgf_ctx(store, path))


def test_uni_level_loss_weights_the_bn_term(store, bn_teacher):
    from vidstill.teacher import load_teacher

    teacher = load_teacher(bn_teacher)
    x, y = torch.randn(3, 8, 3, 48, 48), torch.tensor([0, 1, 2])
    with BNStatistics(teacher) as stats:
        ce = torch.nn.functional.cross_entropy(teacher(x), y)
    bn = stats.loss()
    assert bn > 0
    assert uni_level_loss(teacher, x, y, 0.5, standardize_inputs=False).item() == pytest.approx(
        (ce + 0.5 * bn).item(), rel=1e-5
    )
