"""ConvNet3D as REFERENCE.md defines it, its BN variant, and the torchvision video ResNets behind one factory."""

import pytest
import torch

from vidstill.models import ConvNet3D, build_model


@pytest.mark.parametrize("frames,size,dim", [(16, 112, 2048), (8, 64, 256)])
def test_convnet3d_embedding_size_matches_reference(frames, size, dim):
    net = ConvNet3D(10, frames, size)
    x = torch.randn(2, frames, 3, size, size)
    assert net.embed(x).shape == (2, dim)
    assert net(x).shape == (2, 10)


def test_convnet3d_layers_are_the_reference():
    net = ConvNet3D(5, 16, 112)
    convs = [m for m in net.features if isinstance(m, torch.nn.Conv3d)]
    assert [c.out_channels for c in convs] == [64, 128, 128]
    assert all(c.kernel_size == (3, 7, 7) and c.stride == (1, 2, 2) and c.padding == (1, 3, 3) for c in convs)
    pools = [m.kernel_size for m in net.features if isinstance(m, torch.nn.MaxPool3d)]
    assert pools == [(1, 2, 2), (2, 2, 2), (2, 2, 2)]
    assert not any(isinstance(m, torch.nn.BatchNorm3d) for m in net.modules())
    assert net.pool.kernel_size == (2, 2, 2) and ConvNet3D(5, 8, 64).pool.kernel_size == (2, 1, 1)


def test_batchnorm_variant_and_bad_norm():
    net = ConvNet3D(3, 8, 48, widths=(8, 16, 16), norm="batch")
    assert sum(isinstance(m, torch.nn.BatchNorm3d) for m in net.modules()) == 3
    with pytest.raises(ValueError, match="norm"):
        ConvNet3D(3, 8, 48, norm="layer")
    with pytest.raises(ValueError, match="larger clips"):
        ConvNet3D(3, 8, 32)


def test_max_over_time_head():
    """The logit of a class is the max over remaining time steps: permuting time can change features but the
    head itself must take a max, so a clip's logits equal the max of its per-step logits."""
    net = ConvNet3D(4, 16, 112, widths=(4, 8, 8)).eval()
    x = torch.randn(1, 16, 3, 112, 112)
    f = net.classifier(net.pool(net.features(x.permute(0, 2, 1, 3, 4))))
    assert torch.allclose(net(x), f.amax(dim=(2, 3, 4)))


@pytest.mark.parametrize("arch", ["r3d_18", "r2plus1d_18", "mc3_18"])
def test_video_resnets_from_the_factory(arch):
    net = build_model(arch, 7, 8, 64)
    x = torch.randn(1, 8, 3, 64, 64)
    assert net(x).shape == (1, 7) and net.embed(x).shape == (1, 512)


def test_factory_rejects_unknown_arch():
    with pytest.raises(ValueError, match="unknown architecture"):
        build_model("vit", 3, 8, 64)
