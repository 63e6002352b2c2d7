"""Networks: ConvNet3D (the student of every paper), its BatchNorm variant, torchvision's video ResNets.

ConvNet3D follows VDSD's definition (see REFERENCE.md): three Conv3d(k=(3,7,7), s=(1,2,2), p=(1,3,3)) blocks with
ReLU and max pooling, widths 64/128/128, no normalisation; the head average-pools, applies dropout and a 1x1x1
conv, then takes the max over the remaining time steps. Inputs are (B, T, C, H, W) like every clip in vidstill.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

CONVNET_WIDTHS = (64, 128, 128)
VIDEO_RESNETS = ("r3d_18", "r2plus1d_18", "mc3_18")


class ConvNet3D(nn.Module):
    """VDSD's ConvNet3D; `norm="batch"` inserts BatchNorm3d after every conv (for BN-statistics matching)."""

    def __init__(
        self,
        num_classes: int,
        frames: int,
        size: int,
        widths: tuple[int, ...] = CONVNET_WIDTHS,
        norm: str = "none",
        channels: int = 3,
    ) -> None:
        super().__init__()
        if norm not in ("none", "batch"):
            raise ValueError(f"ConvNet3D norm must be 'none' or 'batch', got {norm!r}")
        layers: list[nn.Module] = []
        in_ch = channels
        for i, width in enumerate(widths):
            layers.append(nn.Conv3d(in_ch, width, kernel_size=(3, 7, 7), stride=(1, 2, 2), padding=(1, 3, 3)))
            if norm == "batch":
                layers.append(nn.BatchNorm3d(width))
            layers.append(nn.ReLU(inplace=True))
            layers.append(nn.MaxPool3d((1, 2, 2) if i == 0 else (2, 2, 2)))
            in_ch = width
        self.features = nn.Sequential(*layers)
        t, h = _feature_shape(frames, size, len(widths))
        if t < 1 or h < 1:
            raise ValueError(f"ConvNet3D needs larger clips than {frames}x{size}x{size}: features vanish")
        pool = (2, 2, 2) if size > 64 else (2, 1, 1)
        pool = (min(pool[0], t), min(pool[1], h), min(pool[2], h))
        self.pool = nn.AvgPool3d(pool, stride=1)
        self.dropout = nn.Dropout(0.5)
        self.classifier = nn.Conv3d(in_ch, num_classes, kernel_size=1)
        self.embed_dim = in_ch * t * h * h

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Flattened conv features: the embedding DM, the coresets and the ranking compare."""
        return self.features(x.permute(0, 2, 1, 3, 4)).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.features(x.permute(0, 2, 1, 3, 4))
        f = self.classifier(self.dropout(self.pool(f)))  # (B, classes, T', H', W')
        return f.amax(dim=(3, 4)).amax(dim=2)


class ConvNet2D(nn.Module):
    """The image ConvNet of DC and of VDSD's stage 1 (image DC on single frames): blocks of a 3×3 conv (padding 1),
    instance normalisation (GroupNorm with one group per channel, affine), ReLU and 2×2 average pooling; a linear
    classifier on the flattened features. Reference width 128, depth 3. Takes (B, T, C, H, W) like every vidstill
    network and reads the first frame only: a still repeated over time is one image."""

    def __init__(
        self, num_classes: int, size: int, widths: tuple[int, ...] = (128, 128, 128), channels: int = 3
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        in_ch, h = channels, size
        for width in widths:
            layers += [
                nn.Conv2d(in_ch, width, 3, padding=1),
                nn.GroupNorm(width, width, affine=True),
                nn.ReLU(inplace=True),
                nn.AvgPool2d(2, 2),
            ]
            in_ch, h = width, h // 2
        if h < 1:
            raise ValueError(f"ConvNet2D needs images larger than {size}x{size} for {len(widths)} blocks")
        self.features = nn.Sequential(*layers)
        self.embed_dim = in_ch * h * h
        self.classifier = nn.Linear(self.embed_dim, num_classes)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x[:, 0]).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.embed(x))


def _feature_shape(frames: int, size: int, blocks: int) -> tuple[int, int]:
    t, h = frames, size
    for i in range(blocks):
        h = (h + 2 * 3 - 7) // 2 + 1
        h //= 2
        if i > 0:
            t //= 2
    return t, h


def place_model(model: nn.Module, device: torch.device) -> nn.Module:
    """Move `model` to `device`; on CPU also store its Conv3d weights channels-last, with which oneDNN ran ConvNet3D's
    forward+backward 1.12-1.23x faster (benchmarks/train.py measures both layouts). GPUs keep PyTorch's default
    (not measured there)."""
    model.to(device)
    if device.type == "cpu":
        for module in model.modules():
            if isinstance(module, nn.Conv3d):
                module.to(memory_format=torch.channels_last_3d)
    return model


def build_model(
    arch: str,
    num_classes: int,
    frames: int,
    size: int,
    norm: str = "none",
    widths: tuple[int, ...] = CONVNET_WIDTHS,
    weights: str | Path | None = None,
) -> nn.Module:
    """The one model factory. `weights` is a local safetensors / state-dict file; nothing is ever downloaded."""
    if arch == "convnet3d":
        model: nn.Module = ConvNet3D(num_classes, frames, size, widths=tuple(widths), norm=norm)
    elif arch in VIDEO_RESNETS:
        model = _VideoResNet(arch, num_classes)
    else:
        raise ValueError(f"unknown architecture {arch!r}; known: convnet3d, {', '.join(VIDEO_RESNETS)}")
    if weights:
        from safetensors.torch import load_file

        model.load_state_dict(load_file(str(weights)))
    return model


class _VideoResNet(nn.Module):
    """torchvision's video ResNet behind vidstill's (B, T, C, H, W) input convention; BN is built in."""

    def __init__(self, arch: str, num_classes: int) -> None:
        super().__init__()
        from torchvision.models import video

        self.net = getattr(video, arch)(weights=None, num_classes=num_classes)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        net = self.net
        x = net.stem(x.permute(0, 2, 1, 3, 4))
        for layer in (net.layer1, net.layer2, net.layer3, net.layer4):
            x = layer(x)
        return net.avgpool(x).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.permute(0, 2, 1, 3, 4))


def embedding_chunk(net: nn.Module, clips: torch.Tensor, chunk: int) -> int:
    """Clips per forward of a no-grad embedding: `chunk` when set (> 0); 0 means all at once on the CPU (the
    arithmetic every CPU result was made with) and, on CUDA, as many as half the free memory holds by the estimate
    of vidstill.memory (ConvNet3D; other networks are assumed to need 32 input-sizes per clip)."""
    n = len(clips)
    if chunk > 0 or clips.device.type != "cuda" or n == 0:
        return min(chunk, n) if chunk > 0 else n
    from vidstill.memory import ClipShape, nograd_bytes_per_clip

    if isinstance(net, ConvNet3D):
        t, c, h = clips.shape[1], clips.shape[2], clips.shape[3]
        widths = tuple(m.out_channels for m in net.features if isinstance(m, nn.Conv3d))
        per_clip = nograd_bytes_per_clip(ClipShape(t, h, c), widths)
    else:
        per_clip = 32 * clips[0].numel() * clips.element_size()
    free, _ = torch.cuda.mem_get_info(clips.device)
    return max(1, min(n, int(0.5 * free) // max(per_clip, 1)))


@torch.no_grad()
def embed_chunked(net: nn.Module, clips: torch.Tensor, chunk: int | None = None) -> torch.Tensor:
    """`net.embed(clips)` without a graph, `chunk` clips at a time (runtime.embed_chunk() when None): the real-clip
    embeddings of DM, IDTD and FRePo, whose one forward over every real clip of an iteration needs tens of GB at
    paper scale. Each clip's embedding depends on that clip only (the networks embed in eval mode or without
    normalisation), so the chunks concatenate to the one forward's result within float tolerance."""
    if chunk is None:
        from vidstill.runtime import embed_chunk

        chunk = embed_chunk()
    size = embedding_chunk(net, clips, chunk)
    if size >= len(clips):
        return net.embed(clips)
    if any(isinstance(m, nn.modules.batchnorm._BatchNorm) and m.training for m in net.modules()):
        raise ValueError(
            "embed_chunked: a BatchNorm network in training mode normalises by its batch; chunks would change "
            "the embeddings (put it in eval mode or set embed_chunk: 0)"
        )
    return torch.cat([net.embed(part) for part in clips.split(size)])
