"""Plain helpers several test modules use (no fixtures: those are in conftest.py). Test modules import from here,
never from one another, so each one runs alone and in any order."""

from __future__ import annotations

import re

import torch

from vidstill.methods.context import DistillContext

# ------------------------------------------------------------------------------------------------------------------
# distillation contexts on the tiny 3-class clip store (conftest's `store`, `experts` and `teacher` fixtures)

# The experts conftest's `experts` fixture trains, and the student they are trained for.
EXPERT_CFG = {
    "epochs": 4,
    "lr": 0.05,
    "optimizer": "sgd",
    "momentum": 0.0,
    "weight_decay": 0.0,
    "schedule": "constant",
    "batch_size": 4,
    "seed": 0,
}
STUDENT = {"arch": "convnet3d", "widths": [4, 8, 8]}


def ctx(store, name, ipc=2, seed=0, **params):
    return DistillContext(
        store, ipc, seed, torch.device("cpu"), {"method": name, **params}, {"arch": "convnet3d", "widths": [4, 8, 8]}
    )


def mtt_ctx(store, experts, **params):
    c = ctx(
        store,
        "mtt",
        ipc=1,
        **{
            "syn_steps": 4,
            "expert_epochs": 2,
            "max_start_epoch": 2,
            "lr": 100.0,
            "lr_lr": 1e-4,
            "lr_init": 0.05,
            **params,
        },
    )
    c.artifacts["experts"] = experts
    return c


def david_ctx(store, teacher, ipc=2, **params):
    c = ctx(
        store,
        "david",
        ipc=ipc,
        **{"iterations": 4, "batch_real": 2, "lr": 10.0, "rl_steps": 3, "reward_real": 2, **params},
    )
    c.teacher = teacher
    return c


# ------------------------------------------------------------------------------------------------------------------
# Siamese augmentation (DM, DC)


def record_draws(monkeypatch, module):
    """Replace `module.apply_draw` by a recorder: each call still augments as before, and records, for every group
    (class) it was given, what that group's draw does to one fixed probe clip. Two calls gave a class the same
    augmentation exactly when their probes agree."""
    from vidstill import augment

    probe = torch.randn(1, 8, 3, 48, 48, generator=torch.Generator().manual_seed(0))
    calls = []

    def recorder(x, group, draw):
        calls.append({int(g): augment.apply_draw(probe, torch.tensor([int(g)]), draw) for g in group.unique()})
        return augment.apply_draw(x, group, draw)

    monkeypatch.setattr(module, "apply_draw", recorder)
    return calls, probe


def assert_siamese(calls, probe, pairs):
    """Calls come in (real, synthetic) pairs: within a pair every class's draw is the same; the draws do something."""
    assert len(calls) == 2 * pairs
    moved = False
    for real, syn in zip(calls[0::2], calls[1::2]):
        assert real.keys() == syn.keys()
        for c in real:
            assert torch.equal(real[c], syn[c]), f"class {c}: real and synthetic clips got different augmentations"
            moved |= not torch.allclose(real[c], probe)
    assert moved


# ------------------------------------------------------------------------------------------------------------------
# snakemake dry runs


def planned_jobs(proc) -> dict[str, int]:
    """Rule → job count from a dry run's "Job stats" table."""
    text = proc.stdout + proc.stderr
    if "Nothing to be done" in text:
        return {}
    stats = text.split("Job stats:", 1)[1]
    return {
        m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)\s*$", stats, re.M) if m.group(1) != "total"
    }
