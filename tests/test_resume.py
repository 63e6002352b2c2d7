"""A distillation killed mid-way resumes from its checkpoint and ends with exactly the set an uninterrupted run
makes (every loop that checkpoints seeds its draws from the iteration); a checkpoint that no longer fits the run is
an error naming it."""

import dataclasses

import pytest
import torch
from helpers import ctx, david_ctx, mtt_ctx

from vidstill.methods import get_method
from vidstill.optim import SGD
from vidstill.resume import IterationCheckpoint


class Preempted(Exception):
    pass


CASES = {  # method -> settings of a 6-iteration run
    "dm": dict(iterations=6, batch_real=2, lr=10.0),
    "dc": dict(iterations=6, batch_real=2, outer_loop=2, inner_loop=1),
    "static_dc": dict(iterations=6, batch_real=2, outer_loop=2, inner_loop=1),
    "idtd": dict(iterations=6, batch_real=2, segments=2, init="random"),
    "mtt": dict(iterations=6, lr=1.0, lr_init=0.01, lr_lr=1e-6),
    "frepo": dict(iterations=6, batch_real=2, num_models=2, max_online_steps=3),  # online models reset mid-way
    "david": dict(iterations=6),  # the seeded search is rerun, the final DM resumes
    "prism": dict(iterations=6, batch_real=2, lr=10.0, warmup=0.0, insertion=1.0),  # key-frame mask in the checkpoint
    "sfvd": dict(iterations=6, lr=1.0, lr_init=0.01, lr_lr=1e-6),
    "sfvd_t": dict(iterations=6, lr=1.0, lr_init=0.01, lr_lr=1e-6, lr_reshape=1e-2),  # real clips drawn per iteration
}


@pytest.mark.parametrize("name", list(CASES))
def test_killed_distillation_resumes_to_the_uninterrupted_result(store, experts, teacher, tmp_path, monkeypatch, name):
    def make():
        if name in ("mtt", "sfvd", "sfvd_t"):
            return mtt_ctx(store, experts, method=name, **CASES[name])
        if name == "david":
            return david_ctx(store, teacher, **CASES[name])
        return ctx(store, name, **CASES[name])

    whole = get_method(name).fn(make())
    killed = dataclasses.replace(make(), checkpoint=tmp_path / "ckpt.pt", checkpoint_every_s=0.0)
    save = IterationCheckpoint.maybe_save

    def save_then_preempt(self, done, optimizers, curve, extra=None):
        save(self, done, optimizers, curve, extra)
        if done == 4:  # SLURM's SIGTERM arrives after the fourth iteration's checkpoint
            raise Preempted

    monkeypatch.setattr(IterationCheckpoint, "maybe_save", save_then_preempt)
    with pytest.raises(Preempted):
        get_method(name).fn(killed)
    assert (tmp_path / "ckpt.pt").exists()
    monkeypatch.setattr(IterationCheckpoint, "maybe_save", save)
    resumed = get_method(name).fn(killed)
    assert resumed.meta["resumed_at"] == 4 and not (tmp_path / "ckpt.pt").exists()  # removed once the loop ends
    assert all(torch.isfinite(torch.tensor(whole.meta["loss_curve"])))
    assert resumed.meta["loss_curve"] == pytest.approx(whole.meta["loss_curve"])
    assert resumed.lr == whole.lr  # MTT's learned step size is part of the state
    for key in whole.tensors:
        assert torch.equal(resumed.tensors[key], whole.tensors[key]), key
    if name == "prism":  # key frames were inserted both before and after the kill
        assert resumed.meta["insertions"] == whole.meta["insertions"]
        assert {it for it, _ in whole.meta["insertions"]} & {0, 1, 2, 3} and {
            it for it, _ in whole.meta["insertions"]
        } & {4, 5}


def test_a_checkpoint_of_other_tensors_is_an_error_naming_it(tmp_path):
    a = torch.zeros(2, 3, requires_grad=True)
    ckpt = IterationCheckpoint(tmp_path / "c.pt", every_s=0.0)
    ckpt.maybe_save(1, [SGD([a], lr=0.1, momentum=0.5)], [1.0])
    b = torch.zeros(4, 3, requires_grad=True)
    with pytest.raises(ValueError, match="c.pt"):
        IterationCheckpoint(tmp_path / "c.pt").restore([SGD([b], lr=0.1)])
    assert IterationCheckpoint(None).restore([SGD([b], lr=0.1)]) == (0, [])
