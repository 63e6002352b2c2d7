"""SFVD and SFVD-T: one stored frame per video; the duplicated frame receives the summed gradient of its copies; the
channel reshaping layer starts as the identity on the still and learns to use the real clip; both run on MTT's loop."""

import numpy as np
import pytest
import torch
from helpers import mtt_ctx

from vidstill.methods import get_method
from vidstill.methods.sfvd import ChannelReshape, duplicated


def test_the_duplicated_frame_receives_the_summed_gradient_of_all_its_copies():
    torch.manual_seed(0)
    stills = torch.randn(2, 3, 4, 4, requires_grad=True)
    per_copy = torch.randn(2, 5, 3, 4, 4)  # a different upstream gradient at every time step
    (duplicated(stills, 5) * per_copy).sum().backward()
    assert torch.allclose(stills.grad, per_copy.sum(1), atol=1e-6)
    video = duplicated(stills, 5)
    assert video.shape == (2, 5, 3, 4, 4) and all(torch.equal(video[:, t], stills) for t in range(5))


def test_channel_reshape_starts_as_the_still_and_reaches_the_real_clip():
    torch.manual_seed(0)
    layer = ChannelReshape(3, torch.device("cpu"))
    stills, real = torch.randn(2, 3, 4, 4, requires_grad=True), torch.randn(2, 6, 3, 4, 4)
    out = layer(stills, real)
    assert torch.allclose(out, duplicated(stills, 6))
    out.pow(2).sum().backward()
    assert layer.weight.grad[:, 3:].abs().sum() > 0  # the real clip's channels can be learnt in
    with torch.no_grad():
        layer.weight[:, 3:] = torch.eye(3)
    assert torch.allclose(layer(stills, real), duplicated(stills, 6) + real)


@pytest.mark.parametrize("name", ["sfvd", "sfvd_t"])
def test_sfvd_stores_one_frame_per_video_and_trains_on_its_repetition(store, experts, name):
    s = get_method(name).fn(
        mtt_ctx(store, experts, method=name, iterations=3, **({"lr_reshape": 1e-2} if name == "sfvd_t" else {}))
    )
    assert s.tensors["videos"].shape == (3, 1, 3, 48, 48) and s.labels.tolist() == [0, 1, 2]
    assert s.storage_bytes() == 3 * 3 * 48 * 48 * 4 + 3 * 8  # one float frame per video and its label
    v = s.videos([0, 2])
    assert v.shape == (2, 8, 3, 48, 48) and torch.equal(v[:, 0], v[:, 7])
    assert s.lr is not None and np.isfinite(s.meta["loss_curve"]).all() and len(s.meta["loss_curve"]) == 3
    if name == "sfvd_t":
        assert np.asarray(s.meta["reshape"]["weight"]).shape == (3, 6)
