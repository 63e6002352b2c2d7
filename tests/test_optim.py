"""vidstill.optim reproduces torch.optim step for step (it exists only to skip torch.optim's torch._dynamo import)."""

import copy
import subprocess
import sys

import pytest
import torch
from conftest import REPO

from vidstill.optim import SGD, Adam, AdamW


def run(opt_cls, kwargs, steps=6):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.ReLU(), torch.nn.Linear(7, 3))
    opt = opt_cls(net.parameters(), **kwargs)
    for k in range(steps):
        x = torch.randn(4, 5, generator=torch.Generator().manual_seed(k))
        net(x).pow(2).mean().backward()
        opt.step()
        opt.zero_grad()
        if k == 2:  # a change of lr between steps, as the schedules do
            opt.param_groups[0]["lr"] *= 0.5
    return [p.detach().clone() for p in net.parameters()]


@pytest.mark.parametrize(
    "ours,theirs,kwargs",
    [
        (SGD, torch.optim.SGD, dict(lr=0.1)),
        (SGD, torch.optim.SGD, dict(lr=0.1, momentum=0.9, weight_decay=5e-4)),
        (Adam, torch.optim.Adam, dict(lr=0.01)),
        (Adam, torch.optim.Adam, dict(lr=0.01, weight_decay=1e-3)),
        (AdamW, torch.optim.AdamW, dict(lr=0.01, weight_decay=0.5)),
        (AdamW, torch.optim.AdamW, dict(lr=0.01, weight_decay=0.0)),
    ],
)
def test_matches_torch_optim(ours, theirs, kwargs):
    for a, b in zip(run(ours, kwargs), run(theirs, kwargs)):
        assert torch.allclose(a, b, atol=1e-6, rtol=1e-5)


def test_state_dict_round_trip_continues_identically():
    torch.manual_seed(0)
    p = torch.nn.Parameter(torch.randn(3))
    opt = SGD([p], lr=0.1, momentum=0.9)
    for _ in range(2):
        p.grad = torch.ones(3)
        opt.step()
    saved, p_saved = copy.deepcopy(opt.state_dict()), p.detach().clone()  # torch.save copies it too
    p.grad = torch.ones(3)
    opt.step()
    q = torch.nn.Parameter(p_saved)
    opt2 = SGD([q], lr=0.5, momentum=0.0)
    opt2.load_state_dict(saved)
    q.grad = torch.ones(3)
    opt2.step()
    assert torch.allclose(p, q)


def test_training_does_not_import_dynamo():
    code = (
        "import sys; sys.path.insert(0, 'workflow'); import torch; "
        "from vidstill.train import TrainConfig, make_optimizer;"
        "m = torch.nn.Linear(2, 2); o = make_optimizer(m.parameters(), TrainConfig(epochs=1));"
        "m(torch.ones(1, 2)).sum().backward(); o.step(); assert 'torch._dynamo' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)
