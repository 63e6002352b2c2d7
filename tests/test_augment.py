"""Siamese video DSA: one draw per group shared by real and synthetic clips and by all frames of a clip, exact where an
op is a permutation or skipped, differentiable, reproducible from its seed."""

import pytest
import torch

from vidstill.augment import DEFAULT_STRATEGY, OPS, DSAParams, apply_draw, augment, sample_draw

MULTI = DSAParams(mode="multiple")


def clips(b=4, t=3, size=16, seed=0):
    return torch.randn(b, t, 3, size, size, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("mode", ["single", "multiple"])
def test_siamese_same_draw_same_output_and_shape(mode):
    x, group = clips(), torch.tensor([0, 1, 2, 0])
    x[3] = x[0]
    draw = sample_draw(DEFAULT_STRATEGY, 3, 7, DSAParams(mode=mode))
    a, b = apply_draw(x, group, draw), apply_draw(x.clone(), group, draw)
    assert a.shape == x.shape and torch.equal(a, b)
    assert torch.equal(a[0], a[3])  # same group, same content: same result


@pytest.mark.parametrize("seed", range(4))
def test_static_clip_stays_static(seed):
    x = clips(t=1, seed=seed).expand(-1, 5, -1, -1, -1)
    for params in (MULTI, DSAParams()):
        y = apply_draw(x, torch.arange(4), sample_draw(DEFAULT_STRATEGY, 4, seed, params))
        assert all(torch.equal(y[:, k], y[:, 0]) for k in range(5))


def test_flip_is_an_exact_mirror():
    x = clips()
    y = apply_draw(x, torch.arange(4), sample_draw("flip", 4, 0, DSAParams(prob_flip=1.0)))
    assert torch.equal(y, torch.flip(x, dims=[-1]))


@pytest.mark.parametrize("strategy", ["none", ""])
def test_no_ops_is_identity(strategy):
    x = clips()
    assert torch.equal(apply_draw(x, torch.arange(4), sample_draw(strategy, 4, 0, MULTI)), x)


def test_crop_is_a_whole_pixel_shift_with_zero_padding():
    x = clips(b=1, size=16)
    draw = sample_draw("crop", 1, 3, MULTI)
    dx, dy = (int(v) for v in torch.round(draw.shift[0] * 16))
    assert (dx, dy) != (0, 0)
    want = torch.zeros_like(x)
    src = x[..., max(-dy, 0) : 16 - max(dy, 0), max(-dx, 0) : 16 - max(dx, 0)]
    want[..., max(dy, 0) : 16 - max(-dy, 0), max(dx, 0) : 16 - max(-dx, 0)] = src
    assert torch.allclose(apply_draw(x, torch.tensor([0]), draw), want, atol=1e-5)


def test_cutout_zeroes_one_square_on_every_frame_and_channel():
    x = clips(size=16).abs() + 1.0  # no zeros of its own
    y = apply_draw(x, torch.arange(4), sample_draw("cutout", 4, 1, MULTI))
    zero = y == 0
    assert torch.equal(y[~zero], x[~zero])
    per_frame = zero.sum(dim=(-1, -2))  # (B, T, C)
    assert (per_frame == per_frame[:, :1, :1]).all() and (per_frame > 0).all() and (per_frame <= 64).all()


def test_color_follows_the_sequential_definition():
    x = clips().double()
    draw = sample_draw("color", 4, 2, MULTI)
    y = apply_draw(x, torch.arange(4), draw)
    b, s, k = (getattr(draw, n).double().view(-1, 1, 1, 1, 1) for n in ("brightness", "saturation", "contrast"))
    v = x + b
    m = v.mean(2, keepdim=True)
    v = (v - m) * s + m
    m = v.mean((2, 3, 4), keepdim=True)
    assert torch.allclose(y, (v - m) * k + m, atol=1e-12)


def test_single_mode_applies_one_op_group_per_draw():
    draw = sample_draw(DEFAULT_STRATEGY, 200, 0)
    applied = torch.stack([draw.color, draw.affine, draw.cutout, draw.flip]).sum(0)
    assert (applied <= 1).all() and draw.color.any() and draw.affine.any() and draw.cutout.any() and draw.flip.any()
    full = sample_draw(DEFAULT_STRATEGY, 200, 0, MULTI)
    assert full.color.all() and full.affine.all() and full.cutout.all() and 50 < int(full.flip.sum()) < 150


@pytest.mark.parametrize("strategy", [*OPS, DEFAULT_STRATEGY])
def test_gradients_flow_to_the_clips(strategy):
    x = clips().requires_grad_(True)
    y = apply_draw(x, torch.tensor([0, 0, 1, 1]), sample_draw(strategy, 2, 0, MULTI))
    (y * torch.randn_like(y)).sum().backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_seeded_reproducible_and_seed_dependent():
    x = clips()
    a = augment(x, DEFAULT_STRATEGY, 5, MULTI)
    assert torch.equal(a, augment(x, DEFAULT_STRATEGY, 5, MULTI))
    assert not torch.equal(a, augment(x, DEFAULT_STRATEGY, 6, MULTI))


def test_each_group_has_its_own_draw_independent_of_the_batch():
    x = clips(b=1).expand(2, -1, -1, -1, -1)
    draw = sample_draw(DEFAULT_STRATEGY, 2, 0, MULTI)
    y = apply_draw(x, torch.tensor([0, 1]), draw)
    assert not torch.allclose(y[0], y[1])
    assert torch.allclose(y[1:], apply_draw(x[1:], torch.tensor([1]), draw), atol=1e-6)


def test_bad_strategy_and_mode():
    with pytest.raises(ValueError, match="unknown DSA op"):
        sample_draw("color_blur", 1, 0)
    with pytest.raises(ValueError, match="DSA mode"):
        DSAParams(mode="sometimes")
