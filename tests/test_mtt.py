"""MTT: the unrolled step is plain SGD, gradients reach pixels and step size, experts keep every epoch, and
distillation brings the student closer to the expert's target than the start set does."""

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import EXPERT_CFG, STUDENT, mtt_ctx

from vidstill.experts import check_experts, expert_info, expert_summary, flat_parameters, train_expert, trajectory_rows
from vidstill.methods import get_method
from vidstill.methods.mtt import trajectory_loss, unflatten, unrolled_sgd
from vidstill.models import ConvNet3D
from vidstill.train import standardize


def tiny():
    torch.manual_seed(0)
    net = ConvNet3D(3, 8, 48, widths=(4, 8, 8)).eval()  # eval: no dropout, so manual and unrolled steps see one net
    x, y = torch.randn(5, 8, 3, 48, 48), torch.tensor([0, 1, 2, 0, 1])
    return net, x, y


def test_unrolled_steps_equal_manual_sgd_steps():
    net, x, y = tiny()
    manual = copy.deepcopy(net)
    for _ in range(2):
        manual.zero_grad()
        F.cross_entropy(manual(standardize(x)), y).backward()
        with torch.no_grad():
            for p in manual.parameters():
                p -= 0.1 * p.grad
    theta = unrolled_sgd(
        net, flat_parameters(net), x, y, torch.tensor(0.1), steps=2, batch=5, rng=np.random.default_rng(0)
    )
    assert torch.allclose(theta, flat_parameters(manual), atol=1e-6)


def test_gradients_reach_pixels_and_step_size():
    net, x, y = tiny()
    x.requires_grad_(True)
    lr = torch.tensor(0.01, requires_grad=True)
    start = flat_parameters(net)
    target = start + 0.01 * torch.randn_like(start)
    trajectory_loss(unrolled_sgd(net, start, x, y, lr, 3, 2, np.random.default_rng(0)), start, target).backward()
    assert x.grad.abs().sum() > 0 and lr.grad.abs() > 0


def test_trajectory_loss_is_relative_to_the_expert_step():
    a, b = torch.zeros(10), torch.ones(10)
    assert float(trajectory_loss(b, a, b)) == 0.0 and float(trajectory_loss(a, a, b)) == 1.0


def test_unflatten_rejects_other_networks():
    net, _, _ = tiny()
    with pytest.raises(ValueError, match="expert and student differ"):
        unflatten(net, torch.zeros(7))


def test_experts_keep_every_epoch(experts, store):
    info = expert_info(experts[0])
    assert info["epochs"] == 4 and 0 <= info["top1"] <= 1 and len(info["curve"]) == 4
    first, last = trajectory_rows(experts[0], [0, 4])
    assert first.shape == last.shape and not torch.equal(first, last)
    # row 0 is the seeded initialisation: the same expert trained again starts from the same point
    again, _ = train_expert(store, store, {**EXPERT_CFG, "epochs": 1}, STUDENT, 0, torch.device("cpu"), test_passes=1)
    assert torch.equal(again[0], first)
    with pytest.raises(ValueError, match="expert0.safetensors: epoch 9"):
        trajectory_rows(experts[0], [9])


def test_expert_check_flags_weak_experts():
    s = expert_summary(
        [
            {"expert": 0, "seed": 1, "epochs": 5, "top1": 0.5, "top5": 1.0, "wall_time": 1.0},
            {"expert": 1, "seed": 2, "epochs": 5, "top1": 0.2, "top5": 1.0, "wall_time": 1.0},
        ],
        0.5,
        0.8,
    )
    assert s["weak"].tolist() == [False, True]
    assert "1 of 2 experts" in check_experts(s, 0.8, strict=False, source="x")
    with pytest.raises(RuntimeError, match="x: 1 of 2 experts"):
        check_experts(s, 0.8, strict=True, source="x")
    assert check_experts(s[~s["weak"]], 0.8, strict=True, source="x") is None


def test_mtt_moves_the_student_towards_the_expert(store, experts):
    """One expert, one start epoch, a fixed step size: the pixels alone must bring the student's end point closer to
    the expert's (measured over 8 dropout draws: 0.82 from the real-clip start, 0.64 after 30 iterations)."""
    settings = dict(expert_epochs=1, syn_steps=3, max_start_epoch=1, lr=300.0, lr_lr=0.0)
    s = get_method("mtt").fn(mtt_ctx(store, experts[:1], iterations=20, **settings))
    assert s.tensors["videos"].shape == (3, 8, 3, 48, 48) and s.labels.tolist() == [0, 1, 2]
    assert s.lr == pytest.approx(0.05) and s.meta["peak_memory_bytes"] > 0
    assert len(s.meta["loss_curve"]) == 20 and np.isfinite(s.meta["loss_curve"]).all()

    def loss(videos):
        net = mtt_ctx(store, experts).network(0).train()
        start, target = trajectory_rows(experts[0], [0, 1])
        total = 0.0
        for k in range(8):
            torch.manual_seed(k)
            theta = unrolled_sgd(net, start, videos, s.labels, torch.tensor(0.05), 3, 3, np.random.default_rng(0))
            total += float(trajectory_loss(theta, start, target).detach())
        return total

    initial = get_method("mtt").fn(mtt_ctx(store, experts[:1], iterations=0, **settings))
    assert loss(s.tensors["videos"]) < 0.9 * loss(initial.tensors["videos"])


def test_mtt_is_reproducible_and_checks_expert_length(store, experts):
    a = get_method("mtt").fn(mtt_ctx(store, experts, iterations=2))
    b = get_method("mtt").fn(mtt_ctx(store, experts, iterations=2))
    assert torch.equal(a.tensors["videos"], b.tensors["videos"]) and a.lr == b.lr and a.lr != 0.05  # the lr learns
    with pytest.raises(ValueError, match="exceeds the 4 epochs"):
        get_method("mtt").fn(mtt_ctx(store, experts, iterations=1, max_start_epoch=4))


def test_the_learned_step_size_is_kept_above_its_floor(store, experts):
    """The reference clips the step size to >= 1e-3 after every update. Started below the floor with an lr of its own
    too small to move it, one iteration must leave it exactly at the floor; without a floor it stays where it began."""
    settings = dict(iterations=1, lr_init=1e-4, lr_lr=1e-12)
    assert get_method("mtt").fn(mtt_ctx(store, experts, lr_floor=1e-3, **settings)).lr == pytest.approx(1e-3)
    assert get_method("mtt").fn(mtt_ctx(store, experts, lr_floor=0.0, **settings)).lr == pytest.approx(1e-4)
