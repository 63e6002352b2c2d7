"""The method registry: every distillation method is a function DistillContext -> SyntheticSet.

Config entries under `methods:` are *instances*: `methods.<name>.method` names the registered implementation (default:
the entry's own name), the remaining keys are its hyper-parameters. Ablations are instances of the same method with
other settings. `needs` says which upstream artifacts the distill rule must provide (e.g. a trained teacher).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from vidstill.data.clips import ClipStore
from vidstill.models import build_model, place_model
from vidstill.synthetic_set import SyntheticSet


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


Method = Callable[[DistillContext], SyntheticSet]


@dataclass(frozen=True)
class MethodSpec:
    name: str
    fn: Method
    module: str  # source file under vidstill/, hashed into the rule's params so a code change reruns the method
    needs: tuple[str, ...] = ()


METHODS: dict[str, MethodSpec] = {}

def _method_modules() -> list[str]:
    """Every module of this package registers its methods on import; found by listing, so adding a method is adding
    a module. They are imported on the first lookup, not with the package."""
    import pkgutil

    return [f"{__name__}.{m.name}" for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")]


def register(name: str, needs: tuple[str, ...] = ()) -> Callable[[Method], Method]:
    def deco(fn: Method) -> Method:
        if name in METHODS:
            raise ValueError(f"method {name!r} registered twice")
        module = fn.__module__.removeprefix("vidstill.").replace(".", "/") + ".py"
        METHODS[name] = MethodSpec(name, fn, module, needs)
        return fn

    return deco


def get_method(name: str) -> MethodSpec:
    for module in _method_modules():
        importlib.import_module(module)
    if name not in METHODS:
        raise KeyError(f"unknown method {name!r}; registered: {', '.join(sorted(METHODS))}")
    return METHODS[name]
