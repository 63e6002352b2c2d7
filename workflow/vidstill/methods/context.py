"""What a distillation method receives: the real clip store, the cell (IPC, seed), the device, its settings, the
student it distils for and the upstream artifacts it needs (teacher, experts, stills, crops)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import torch
from torch import nn

from vidstill.data.clips import ClipStore
from vidstill.methods.settings import MethodSettings, method_settings
from vidstill.models import build_model, place_model
from vidstill.settings import StudentSettings, build

S = TypeVar("S", bound=MethodSettings)


@dataclass
class DistillContext:
    train: ClipStore
    ipc: int
    seed: int
    device: torch.device
    # the method instance's settings: a mapping naming the method (`method`) becomes its typed settings here, once
    params: MethodSettings | Mapping[str, Any]
    student: StudentSettings | Mapping[str, Any]  # the student network (arch, widths): what the set is distilled for
    teacher: Path | None = None
    artifacts: dict[str, Path | list[Path]] = field(default_factory=dict)  # upstream files the method needs
    checkpoint: Path | None = None  # where a long loop keeps its resumable state (resume.py), outside the outputs
    checkpoint_every_s: float = 300.0

    def __post_init__(self) -> None:
        self.params = method_settings(self.params)
        self.student = build(StudentSettings, self.student, "student")

    def settings(self, cls: type[S]) -> S:
        """The method's settings as `cls` (its own class, or the mixin of a shared loop it runs)."""
        if not isinstance(self.params, cls):
            raise TypeError(
                f"method {self.params.method!r} has settings {type(self.params).__name__}, not {cls.__name__}"
            )
        return self.params

    @property
    def num_classes(self) -> int:
        return self.train.num_classes

    def network(self, seed: int, norm: str = "none") -> nn.Module:
        """A freshly initialised student network, seeded: the shared factory of every method."""
        torch.manual_seed(seed)
        spec = self.train.spec
        s = build(StudentSettings, self.student, "student")
        return place_model(
            build_model(s.arch, self.num_classes, spec.frames, spec.crop, norm=norm, widths=tuple(s.widths)),
            self.device,
        )

    def teacher_network(self) -> nn.Module:
        if self.teacher is None:
            raise ValueError(f"method {method_settings(self.params).method} needs a teacher, but none was given")
        from vidstill.teacher import load_teacher

        return load_teacher(self.teacher, self.device)
