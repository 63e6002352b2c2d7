"""A distillation killed mid-way resumes from its checkpoint and ends with exactly the set an uninterrupted run
makes (DM's draws are seeded from the iteration); a checkpoint that no longer fits the run is an error naming it."""

import dataclasses

import pytest
import torch

import vidstill.methods.dm as dm_module
from test_coresets import ctx, store  # noqa: F401  (the tiny 3-class clip store fixture)
from vidstill.methods import get_method
from vidstill.optim import SGD
from vidstill.resume import IterationCheckpoint


class Preempted(Exception):
    pass


def test_killed_distillation_resumes_to_the_uninterrupted_result(store, tmp_path, monkeypatch):
    name, settings = "dm", dict(iterations=6, batch_real=2, lr=10.0)
    whole = get_method(name).fn(ctx(store, name, **settings))
    killed = dataclasses.replace(ctx(store, name, **settings), checkpoint=tmp_path / "ckpt.pt", checkpoint_every_s=0.0)
    real_descend, calls = dm_module.descend, {"n": 0}

    def descend_then_preempt(loss, optimizers):
        if calls["n"] == 4:  # SLURM's SIGTERM arrives after four iterations
            raise Preempted
        calls["n"] += 1
        return real_descend(loss, optimizers)

    monkeypatch.setattr(dm_module, "descend", descend_then_preempt)
    with pytest.raises(Preempted):
        get_method(name).fn(killed)
    assert (tmp_path / "ckpt.pt").exists()
    monkeypatch.setattr(dm_module, "descend", real_descend)
    resumed = get_method(name).fn(killed)
    assert resumed.meta["resumed_at"] == 4 and not (tmp_path / "ckpt.pt").exists()  # removed once the loop ends
    assert resumed.meta["loss_curve"] == pytest.approx(whole.meta["loss_curve"])
    for key in whole.tensors:
        assert torch.equal(resumed.tensors[key], whole.tensors[key]), key


def test_a_checkpoint_of_other_tensors_is_an_error_naming_it(tmp_path):
    a = torch.zeros(2, 3, requires_grad=True)
    ckpt = IterationCheckpoint(tmp_path / "c.pt", every_s=0.0)
    ckpt.maybe_save(1, [SGD([a], lr=0.1, momentum=0.5)], [1.0])
    b = torch.zeros(4, 3, requires_grad=True)
    with pytest.raises(ValueError, match="c.pt"):
        IterationCheckpoint(tmp_path / "c.pt").restore([SGD([b], lr=0.1)])
    assert IterationCheckpoint(None).restore([SGD([b], lr=0.1)]) == (0, [])
