"""Typed settings: every configurable part declares its keys as a frozen dataclass, and a config mapping becomes one
with `build(cls, mapping, path)`, which rejects an unknown key, a value of the wrong type or out of range with the
key's full path (`methods.dm_big.iteratons`) and the keys that are accepted there.

Each field carries its default and a one-line meaning (`setting(default, doc, ...)`), so the default lives in exactly
one place: the code reads attributes of the built instance, and config/README.md's tables of these keys are
generated from the classes (`python -m vidstill.settings_doc`). Planning builds every section once
(`check_config`), so a typo stops `snakemake -n` before any job starts; jobs build theirs where they start.

Torch-free, and cheap to import: planning imports this module (workflow/rules/common/config.smk).
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, TypeVar

T = TypeVar("T", bound="Settings")


class SettingsError(ValueError):
    """A bad setting; the message starts with the key's full path."""


def setting(
    default: Any,
    doc: str,
    *,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
) -> Any:
    """A field: its default, its one-line meaning and the range a number must lie in (ge / gt / le / lt bounds)."""
    return dataclasses.field(default=default, metadata={"doc": doc, "ge": ge, "gt": gt, "le": le, "lt": lt})


@dataclasses.dataclass(frozen=True)
class Settings:
    """Base of every settings class: `from_mapping` builds (and checks) one from a config mapping."""

    @classmethod
    def from_mapping(cls: type[T], values: Mapping[str, Any] | T | None, path: str) -> T:
        return build(cls, values, path)

    def as_dict(self) -> dict[str, Any]:
        """Field name -> value (nested settings stay objects)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


@functools.cache
def hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def describe(hint: Any) -> str:
    """A type as the error messages and the docs spell it."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Literal:
        return " | ".join(repr(a) if not isinstance(a, str) else a for a in args)
    if origin in (typing.Union, types.UnionType):
        return " or ".join("null" if a is type(None) else describe(a) for a in args)
    if origin is tuple:
        return f"list of {describe(args[0])}"
    if origin in (dict, Mapping):
        return f"mapping {describe(args[0])} -> {describe(args[1])}"
    if isinstance(hint, type) and issubclass(hint, Settings):
        return "mapping"
    return {bool: "boolean", int: "integer", float: "number", str: "string"}.get(hint, str(hint))


def _check(value: Any, hint: Any, path: str) -> Any:
    """`value` checked against `hint` and converted where YAML's spelling differs (list -> tuple, int -> float)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arm in (a for a in args if a is not type(None)):
            try:
                return _check(value, arm, path)
            except SettingsError as e:
                errors.append(e)
        deeper = [
            e for e in errors if not str(e).startswith(f"{path}: ")
        ]  # the arm of the value's shape: its own error
        raise deeper[0] if deeper else SettingsError(f"{path}: expected {describe(hint)}, got {value!r}")
    if origin is Literal:
        if any(value == a and type(value) is type(a) for a in args):
            return value
        raise SettingsError(f"{path}: must be one of {', '.join(map(str, args))}; got {value!r}")
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise SettingsError(f"{path}: expected {describe(hint)}, got {value!r}")
        return tuple(_check(v, args[0], f"{path}[{i}]") for i, v in enumerate(value))
    if origin in (dict, Mapping):
        if not isinstance(value, Mapping):
            raise SettingsError(f"{path}: expected {describe(hint)}, got {value!r}")
        return {_check(k, args[0], f"{path} (key {k!r})"): _check(v, args[1], f"{path}.{k}") for k, v in value.items()}
    if isinstance(hint, type) and issubclass(hint, Settings):
        return build(hint, value, path)
    if hint is bool:
        ok = isinstance(value, bool)
    elif hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif hint is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif hint is str:
        ok = isinstance(value, str)
    else:
        raise TypeError(f"{path}: unsupported settings type {hint!r}")
    if not ok:
        raise SettingsError(f"{path}: expected {describe(hint)}, got {value!r}")
    return value


def _check_range(value: Any, meta: Mapping[str, Any], path: str) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return
    for key, fails, words in (
        ("ge", lambda v, b: v < b, "at least"),
        ("gt", lambda v, b: v <= b, "greater than"),
        ("le", lambda v, b: v > b, "at most"),
        ("lt", lambda v, b: v >= b, "less than"),
    ):
        bound = meta.get(key)
        if bound is not None and fails(value, bound):
            raise SettingsError(f"{path}: must be {words} {bound}, got {value!r}")


def accepted(cls: type[Settings]) -> list[str]:
    return sorted(f.name for f in dataclasses.fields(cls))


def build(cls: type[T], values: Mapping[str, Any] | T | None, path: str) -> T:
    """`cls` from a config mapping (None: every default); an instance of `cls` is returned as it is."""
    if isinstance(values, cls):
        return values
    if values is None:
        values = {}
    if not isinstance(values, Mapping):
        raise SettingsError(f"{path}: expected a mapping of settings, got {values!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = [k for k in values if k not in fields]
    if unknown:
        import difflib

        key = unknown[0]
        close = difflib.get_close_matches(str(key), fields, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise SettingsError(f"{path}.{key}: unknown key{hint}; {path} accepts: {', '.join(accepted(cls))}")
    types_ = hints(cls)
    out = {}
    for key, value in values.items():
        out[key] = _check(value, types_[key], f"{path}.{key}")
        _check_range(out[key], fields[key].metadata, f"{path}.{key}")
    return cls(**out)


# --- the training-protocol sections (their JSON schema, workflow/schemas, checks the same keys; tests keep the two's
# defaults equal) ---

ARCHS = Literal["convnet3d", "r3d_18", "r2plus1d_18", "mc3_18"]
OPTIMIZERS = Literal["sgd", "adam", "adamw"]
SCHEDULES = Literal["step", "cosine", "constant", "warmup_cosine"]


@dataclasses.dataclass(frozen=True)
class StudentSettings(Settings):
    """`student`: the network every method distils for and every evaluation trains."""

    arch: ARCHS = setting("convnet3d", "the student architecture")
    widths: tuple[int, ...] = setting((64, 128, 128), "channels of ConvNet3D's blocks (one block per entry)")


@dataclasses.dataclass(frozen=True)
class TrainingSettings(Settings):
    """The one training loop's settings (vidstill.train.TrainConfig): `teacher`, `evaluation`, `experts`."""

    arch: ARCHS = setting("convnet3d", "the network trained")
    widths: tuple[int, ...] = setting((64, 128, 128), "ConvNet3D's block channels")
    norm: Literal["none", "batch"] = setting("none", "normalisation layers of ConvNet3D (batch: BatchNorm)")
    epochs: int = setting(500, "training epochs", ge=1)
    lr: float = setting(0.01, "learning rate", gt=0)
    optimizer: OPTIMIZERS = setting("sgd", "sgd (momentum) | adam | adamw (decoupled weight decay)")
    momentum: float = setting(0.9, "SGD momentum", ge=0)
    weight_decay: float = setting(0.0005, "weight decay", ge=0)
    schedule: SCHEDULES = setting(
        "step", "step: lr x0.1 once at half of the epochs | cosine | constant | warmup_cosine"
    )
    batch_size: int = setting(256, "clips per training batch", ge=1)
    standardize: bool = setting(True, "per-batch standardisation of the inputs (the reference's)")
    amp: bool = setting(True, "bf16 autocast when precision is bf16; false opts this training out")
    seed: int = setting(0, "seed of the training's draws")
    log_every: int = setting(10, "epochs between progress lines", ge=1)


TeacherSettings = TrainingSettings  # `teacher` and each `teachers.<name>` (the teacher's settings with overrides)


@dataclasses.dataclass(frozen=True)
class LabelProtocols(Settings):
    hard: tuple[str, ...] = setting((), "method instances also evaluated under hard labels ([all]: every one)")
    soft: tuple[str, ...] = setting(
        (), "method instances also evaluated under the teacher's soft labels ([all]: every one)"
    )
    ipc: tuple[int, ...] = setting((), "only these IPC of each table get the extra protocols (empty: all)")


@dataclasses.dataclass(frozen=True)
class SoftProtocol(Settings):
    temperature: float = setting(1.0, "softmax temperature of the teacher's labels", gt=0)
    teacher: str | None = setting(None, "a teachers: name; null: the default teacher")


@dataclasses.dataclass(frozen=True)
class FullRow(Settings):
    epochs: int = setting(30, "the Full Dataset row's student epochs", ge=1)
    batch_size: int = setting(32, "the Full Dataset row's batch size", ge=1)


@dataclasses.dataclass(frozen=True)
class EvaluationSettings(TrainingSettings):
    """`evaluation`: the students trained on every distilled set (and, with `full`'s overrides, the Full Dataset row)"""

    test_passes: int = setting(3, "passes over the test set (fresh temporal starts and flips)", ge=1)
    test_batch_size: int = setting(64, "clips per test batch", ge=1)
    runs: int = setting(3, "students per distilled set", ge=1)
    selection: Literal["final", "best_on_test"] = setting(
        "final", "final: final-epoch accuracy | best_on_test: the reference's inflated selection"
    )
    eval_every: int = setting(10, "epochs between test passes under selection best_on_test", ge=1)
    cross_arch: tuple[ARCHS, ...] = setting((), "extra student architectures trained on every set")
    label_protocols: LabelProtocols = setting(
        LabelProtocols(), "the hard / soft label protocols beside each method's own labels"
    )
    soft: SoftProtocol = setting(SoftProtocol(), "the soft protocol's temperature and teacher")
    dd_ranking_weight: float = setting(0.5, "w of DD-Ranking's label-robust score w IOR - (1 - w) HLR", ge=0, le=1)
    full: FullRow = setting(FullRow(), "the Full Dataset row's epochs and batch size")


@dataclasses.dataclass(frozen=True)
class ExpertsSettings(TrainingSettings):
    """`experts`: MTT's expert trajectories (the training loop's settings, how many, and their check)."""

    count: int = setting(30, "expert trajectories per dataset", ge=1)
    min_ratio: float = setting(0.8, "experts below this fraction of the Full Dataset accuracy are flagged weak", ge=0)
    strict: bool = setting(False, "fail the expert check (and MTT) when any expert is weak")
    test_passes: int = setting(1, "test passes of each expert", ge=1)


@dataclasses.dataclass(frozen=True)
class RuntimeSettings(Settings):
    """A job's `runtime` param: where and how numerics run (the top-level keys of the same names)."""

    device: str = setting("auto", "auto: CUDA when present, else CPU; or a torch device name (cpu, cuda, cuda:1)")
    precision: Literal["fp32", "tf32", "bf16"] = setting("fp32", "fp32 | tf32 | bf16 autocast of training forwards")
    deterministic: bool = setting(False, "deterministic cuDNN kernels and torch algorithms")
    embed_chunk: int = setting(0, "clips per no-grad real-clip embedding forward (0: all / from free memory)", ge=0)


def training_settings(cfg: Mapping[str, Any] | TrainingSettings, path: str = "teacher") -> TrainingSettings:
    """A `teacher`-shaped mapping (or settings) as TrainingSettings; other sections' extra keys are not accepted."""
    return build(TrainingSettings, cfg, path)


__all__ = [
    "EvaluationSettings",
    "ExpertsSettings",
    "FullRow",
    "LabelProtocols",
    "RuntimeSettings",
    "Settings",
    "SettingsError",
    "SoftProtocol",
    "StudentSettings",
    "TeacherSettings",
    "TrainingSettings",
    "accepted",
    "build",
    "describe",
    "setting",
    "check_config",
    "training_settings",
]


def check_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """Every typed section of a (schema-validated) config built once, at planning: `student`, `teacher`, each
    `teachers.<name>` (the teacher's settings with its overrides), `evaluation`, `experts` and every
    `methods.<instance>`. Raises SettingsError naming the first bad key's full path; returns the method instances'
    settings by instance name (planning reads their generic keys, e.g. `teacher` and `stills`, from them)."""
    from vidstill.methods.settings import instance_settings

    build(StudentSettings, config.get("student"), "student")
    teacher = config.get("teacher") or {}
    build(TrainingSettings, teacher, "teacher")
    for name, overrides in (config.get("teachers") or {}).items():
        build(TrainingSettings, overrides, f"teachers.{name}")  # its own keys, then the merged settings
        build(TrainingSettings, {**teacher, **(overrides or {})}, f"teachers.{name}")
    build(EvaluationSettings, config.get("evaluation"), "evaluation")
    build(ExpertsSettings, config.get("experts"), "experts")
    return {name: instance_settings(name, values) for name, values in (config.get("methods") or {}).items()}
