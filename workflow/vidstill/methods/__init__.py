"""The method registry: every distillation method is a function DistillContext -> SyntheticSet.

Config entries under `methods:` are *instances*: `methods.<name>.method` names the registered implementation (default:
the entry's own name), the remaining keys are its hyper-parameters. Ablations are instances of the same method with
other settings. `needs` says which upstream artifacts the distill rule must provide (e.g. a trained teacher).

Planning needs every method's name, module and needs, and must not import torch or any method to get them (a dry run,
and every cluster job's own planning, would pay seconds for it): `catalogue()` reads them from the `@register(...)`
decorators by parsing the modules. `get_method` imports only the one module that defines the method asked for. The
context a method receives (DistillContext, torch) lives in `methods/context.py`. Each method's settings (its keys, types
and defaults) are a frozen dataclass in `methods/settings.py`, torch-free too, keyed by the method's name there.
"""

from __future__ import annotations

import ast
import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vidstill.methods.context import DistillContext
    from vidstill.synthetic_set import SyntheticSet

    Method = Callable[[DistillContext], SyntheticSet]

# VDSD's memory: the stills (and dynamic maps) each synthetic item owns, so stage 1 (Static-DC) is distilled at
# STILLS_PER_ITEM x IPC. Here, not in vdsd_static_dynamic.py, because planning needs it without torch.
STILLS_PER_ITEM = 2
_HERE = Path(__file__).parent


@dataclass(frozen=True)
class MethodInfo:
    """What planning knows of a method: its name, the library file that defines it (relative to vidstill/) and the
    upstream artifacts it needs."""

    name: str
    module: str
    needs: tuple[str, ...] = ()


@dataclass(frozen=True)
class MethodSpec(MethodInfo):
    fn: Callable = None  # type: ignore[assignment]  # the imported method


METHODS: dict[str, MethodSpec] = {}


def register(name: str, needs: tuple[str, ...] = ()) -> Callable[[Method], Method]:
    """Register `fn` as method `name`. Both arguments must be literals: `catalogue()` reads them without importing."""

    def deco(fn: Method) -> Method:
        if name in METHODS:
            raise ValueError(f"method {name!r} registered twice")
        module = fn.__module__.removeprefix("vidstill.").replace(".", "/") + ".py"
        METHODS[name] = MethodSpec(name, module, tuple(needs), fn)
        return fn

    return deco


def _registrations(path: Path) -> list[MethodInfo]:
    """The `@register("name", needs=(...))` decorators of one module, read from its source."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.FunctionDef):
            continue
        for deco in node.decorator_list:
            if isinstance(deco, ast.Call) and isinstance(deco.func, ast.Name) and deco.func.id == "register":
                try:
                    args = [ast.literal_eval(a) for a in deco.args]
                    kwargs = {k.arg: ast.literal_eval(k.value) for k in deco.keywords}
                except ValueError as e:
                    raise ValueError(f"{path}: @register arguments of {node.name} must be literals") from e
                name, needs = (
                    (args + [kwargs.get("name")])[0],
                    tuple(args[1] if len(args) > 1 else kwargs.get("needs", ())),
                )
                found.append(MethodInfo(name, f"methods/{path.name}", needs))
    return found


@functools.cache
def catalogue() -> dict[str, MethodInfo]:
    """Every registered method, found by parsing the modules of this package (adding a method is adding a module)."""
    out: dict[str, MethodInfo] = {}
    for path in sorted(_HERE.glob("*.py")):
        if path.name.startswith("_") or path.name in ("context.py", "settings.py"):
            continue
        for info in _registrations(path):
            if info.name in out:
                raise ValueError(f"method {info.name!r} registered twice ({out[info.name].module}, {info.module})")
            out[info.name] = info
    return out


def method_info(name: str) -> MethodInfo:
    """Name, module and needs of a registered method, without importing it."""
    methods = catalogue()
    if name not in methods:
        raise KeyError(f"unknown method {name!r}; registered: {', '.join(sorted(methods))}")
    return methods[name]


def get_method(name: str) -> MethodSpec:
    """The method itself: imports the one module that defines it."""
    info = method_info(name)
    importlib.import_module("vidstill." + info.module.removesuffix(".py").replace("/", "."))
    return METHODS[name]
