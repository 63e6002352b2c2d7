"""What a distillation method receives: the real clip store, the cell (IPC, seed), the device, its settings, the
student it distils for and the upstream artifacts it needs (teacher, experts, stills, crops)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from vidstill.data.clips import ClipStore
from vidstill.models import build_model, place_model


@dataclass
class DistillContext:
    train: ClipStore
    ipc: int
    seed: int
    device: torch.device
    params: dict[str, Any]  # the method instance's hyper-parameters
    student: dict[str, Any]  # the student network config (arch, widths): what the set is distilled for
    teacher: Path | None = None
    artifacts: dict[str, Path | list[Path]] = field(default_factory=dict)  # upstream files the method needs
    checkpoint: Path | None = None  # where a long loop keeps its resumable state (resume.py), outside the outputs
    checkpoint_every_s: float = 300.0

    @property
    def num_classes(self) -> int:
        return self.train.num_classes

    def network(self, seed: int, norm: str = "none") -> nn.Module:
        """A freshly initialised student network, seeded: the shared factory of every method."""
        torch.manual_seed(seed)
        spec = self.train.spec
        s = self.student
        return place_model(build_model(s["arch"], self.num_classes, spec.frames, spec.crop, norm=norm, widths=tuple(s["widths"])), self.device)

    def teacher_network(self) -> nn.Module:
        if self.teacher is None:
            raise ValueError(f"method {self.params.get('method')} needs a teacher, but none was given")
        from vidstill.teacher import load_teacher

        return load_teacher(self.teacher, self.device)
