"""Typed settings (vidstill/settings.py, vidstill/methods/settings.py): every method has a settings class, a misspelt
key / a wrong type / an out-of-range value in any typed section stops planning naming the key's full path, the
classes agree with the code's constants and the schema's defaults, config/README.md's tables are the generated ones,
and building the settings imports no torch."""

from __future__ import annotations

import copy
import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO

from vidstill.methods import catalogue
from vidstill.methods.settings import SETTINGS, DMSettings, instance_settings, method_settings
from vidstill.settings import (
    EvaluationSettings,
    ExpertsSettings,
    SettingsError,
    StudentSettings,
    TrainingSettings,
    check_config,
)

CONFIGS = ["config/config.yaml", "config/paper.yaml", "config/smoke.yaml"]


def default_config() -> dict:
    return yaml.safe_load((REPO / "config/config.yaml").read_text())


def stops(config: dict, *words: str) -> str:
    """check_config's error on `config`, which must name every one of `words`."""
    with pytest.raises(SettingsError) as e:
        check_config(config)
    for word in words:
        assert word in str(e.value), (word, str(e.value))
    return str(e.value)


def test_every_catalogue_method_has_a_settings_class():
    assert set(SETTINGS) == set(catalogue())
    for name, cls in SETTINGS.items():
        assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen, name
        for f in dataclasses.fields(cls):
            assert f.metadata.get("doc"), f"{name}.{f.name} has no one-line meaning"


@pytest.mark.parametrize("path", CONFIGS)
def test_shipped_configs_build(path):
    config = yaml.safe_load((REPO / path).read_text())
    built = check_config(config)
    assert set(built) == set(config["methods"])
    for name, settings in built.items():
        assert isinstance(settings, SETTINGS[config["methods"][name].get("method", name)])


def test_misspelt_method_key_names_its_path_and_the_accepted_keys():
    config = default_config()
    config["methods"]["dm_big"] = {"method": "dm", "iteratons": 5000}
    message = stops(config, "methods.dm_big.iteratons", "unknown key", "did you mean 'iterations'")
    accepted = message.split("accepts: ")[1].split(", ")
    assert accepted == sorted(f.name for f in dataclasses.fields(DMSettings))


def test_misspelt_evaluation_key():
    config = default_config()
    config["evaluation"]["test_pases"] = 3
    stops(config, "evaluation.test_pases", "test_passes")
    config = default_config()
    config["evaluation"]["soft"]["temprature"] = 2.0
    stops(config, "evaluation.soft.temprature", "temperature")
    config = default_config()
    config["methods"]["frepo"]["evaluation"] = {"epoch": 100}  # a method's own recipe has the protocol's shape
    stops(config, "methods.frepo.evaluation.epoch", "epochs")


def test_misspelt_teacher_key():
    config = default_config()
    config["teacher"]["epoch"] = 3
    stops(config, "teacher.epoch", "epochs")
    config = default_config()
    config["teachers"]["convnet3d_bn"] = {"nrom": "batch"}
    stops(config, "teachers.convnet3d_bn.nrom", "norm")


def test_misspelt_student_key():
    config = default_config()
    config["student"]["width"] = [16, 32]
    stops(config, "student.width", "widths")


@pytest.mark.parametrize(
    "section, key, bad, words",
    [
        ("methods.dm", "iterations", "many", ["expected integer"]),
        ("methods.dm", "lr", True, ["expected number"]),
        ("methods.dm", "init", "zeros", ["must be one of real, noise"]),
        ("methods.tsgf", "alpha", [0.25, "half", 0.25], ["methods.tsgf.alpha[1]"]),
        ("methods.dm_vdsd", "lr_dynamic", {1: "fast"}, ["methods.dm_vdsd.lr_dynamic"]),
        ("evaluation", "selection", "best", ["must be one of final, best_on_test"]),
        ("evaluation", "cross_arch", "r3d_18", ["expected list"]),
        ("teacher", "standardize", 1, ["expected boolean"]),
        ("student", "widths", [16, "32"], ["student.widths[1]"]),
    ],
)
def test_wrong_type_names_the_key(section, key, bad, words):
    config = default_config()
    node = config
    for part in section.split("."):
        node = node[part]
    node[key] = bad
    stops(config, f"{section}.{key}", *words)


@pytest.mark.parametrize(
    "section, key, bad, words",
    [
        ("methods.dm", "iterations", -1, ["at least 0"]),
        ("methods.dm", "batch_real", 0, ["at least 1"]),
        ("methods.dm", "lr", -1.0, ["at least 0"]),  # 0 is allowed: it freezes the pixels
        ("methods.david", "exploit", 1.5, ["at most 1"]),
        ("methods.tsgf", "floor", -0.1, ["at least 0"]),
        ("evaluation", "runs", 0, ["at least 1"]),
        ("evaluation", "dd_ranking_weight", 2.0, ["at most 1"]),
        ("teacher", "lr", -0.001, ["greater than 0"]),
    ],
)
def test_out_of_range_names_the_key(section, key, bad, words):
    config = default_config()
    node = config
    for part in section.split("."):
        node = node[part]
    node[key] = bad
    stops(config, f"{section}.{key}", *words)


def test_unknown_method_and_generic_keys():
    with pytest.raises(SettingsError, match="methods.mine.method: unknown method 'dmm'"):
        instance_settings("mine", {"method": "dmm"})
    s = instance_settings(
        "mine", {"method": "dm", "label": "Mine", "published_as": ["A", "B"], "evaluation": {"epochs": 5}}
    )
    assert s.published_as == ("A", "B") and s.evaluation.epochs == 5 and s.iterations == 5000
    assert instance_settings("dm", None) == DMSettings()


def test_yaml_spellings_are_converted():
    s = instance_settings("x", {"method": "dm", "lr": 100})  # an integer where a number is expected
    assert s.lr == 100.0 and isinstance(s.lr, float)
    s = instance_settings("x", {"method": "static_dc", "image_widths": [16, 32]})
    assert s.image_widths == (16, 32)


def test_a_distill_job_builds_its_settings_once():
    """The job side: DistillContext turns the rule's mapping into the method's settings (and refuses a typo too)."""
    pytest.importorskip("torch")
    import torch

    from vidstill.methods.context import DistillContext

    ctx = DistillContext(
        None, 1, 0, torch.device("cpu"), {"method": "dm", "lr": 3}, {"arch": "convnet3d", "widths": [4]}
    )
    assert isinstance(ctx.params, DMSettings) and ctx.params.lr == 3.0 and ctx.student.widths == (4,)
    assert method_settings(ctx.params) is ctx.params
    with pytest.raises(SettingsError, match="methods.dm.lrr"):
        DistillContext(None, 1, 0, torch.device("cpu"), {"method": "dm", "lrr": 3}, {})


def test_choices_match_the_code():
    """The settings' literal choices and defaults are the code's own constants (the code modules import torch, the
    settings may not)."""
    import typing

    from vidstill import augment
    from vidstill.crops import scoring
    from vidstill.methods import david, dc, idtd, optdistill
    from vidstill.methods import settings as ms
    from vidstill.methods import vdsd_static_dynamic as static_dynamic
    from vidstill.settings import hints

    def choices(cls, name):
        hint = hints(cls)[name]
        return set(typing.get_args(hint))

    assert ms.DEFAULT_DSA_STRATEGY == augment.DEFAULT_STRATEGY
    assert ms.DSAStrategy().dsa_mode == augment.DSAParams().mode
    assert choices(ms.DCSettings, "metric") == set(dc.METRICS)
    assert choices(ms.StaticDCSettings, "network") == set(dc.NETWORKS)
    assert choices(ms.IDTDSettings, "modules") == set(idtd.MODULES)
    assert choices(ms.IDTDSettings, "init") == set(idtd.INITS)
    assert choices(ms.IDTDSettings, "fusor_init") == set(idtd.FUSOR_INITS)
    assert choices(ms.DAViDSettings, "search") == set(david.SEARCHES)
    assert choices(ms.DAViDSettings, "repeats") == set(david.REPEATS)
    assert choices(ms.DAViDSettings, "states") == set(david.STATES)
    assert choices(ms.DAViDSettings, "schedule") == set(david.SCHEDULES)
    assert choices(ms.OptDistillSettings, "per_video") == set(optdistill.PER_VIDEO)
    assert choices(ms.OptDistillSettings, "score") == set(scoring.SCORES)
    assert choices(ms.StaticDynamic, "hallucinator_init") == set(static_dynamic.HALLUCINATOR_INITS)


def test_training_defaults_equal_the_schema_defaults():
    """The JSON schema fills these sections' defaults before the dataclasses see them: the two must agree."""
    schema = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
    training = schema["$defs"]["training"]["properties"]

    def check(cls, props):
        for key, prop in props.items():
            if "default" not in prop or key not in {f.name for f in dataclasses.fields(cls)}:
                continue
            default = {f.name: f.default for f in dataclasses.fields(cls)}[key]
            if dataclasses.is_dataclass(default):
                check(type(default), prop.get("properties", {}))
                continue
            expected = tuple(prop["default"]) if isinstance(prop["default"], list) else prop["default"]
            assert default == expected, (cls.__name__, key, default, expected)

    check(TrainingSettings, training)
    check(EvaluationSettings, {**training, **schema["properties"]["evaluation"]["properties"]})
    check(ExpertsSettings, {**training, **schema["properties"]["experts"]["properties"]})
    check(StudentSettings, schema["properties"]["student"]["properties"])


def test_readme_tables_are_generated_from_the_classes():
    from vidstill import settings_doc

    text = (REPO / "config/README.md").read_text()
    assert settings_doc.BEGIN in text and settings_doc.END in text
    assert settings_doc.replaced(text) == text, (
        "config/README.md is stale: run `python -m vidstill.settings_doc --write` in workflow/"
    )


def test_building_settings_imports_no_torch():
    """Planning builds every section: that must stay torch-free (and method-module-free)."""
    code = (
        "import sys, yaml; from vidstill.settings import check_config; "
        "check_config(yaml.safe_load(open('config/config.yaml'))); "
        "bad = [m for m in sys.modules if m == 'torch' "
        "or m.startswith('vidstill.methods.') and m != 'vidstill.methods.settings']; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO / "workflow"), "PATH": ""},
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.workflow
def test_dry_run_stops_on_a_misspelt_key(tmp_path):
    config = yaml.safe_load((REPO / "config/smoke.yaml").read_text())
    config["methods"]["dm"]["iteratons"] = config["methods"]["dm"].pop("iterations")
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(copy.deepcopy(config)))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "-n",
            "--nolock",
            "--cores",
            "1",
            "--configfile",
            str(path),
            "--directory",
            str(tmp_path),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    out = result.stdout + result.stderr
    assert "config: methods.dm.iteratons: unknown key (did you mean 'iterations'?)" in out, out[-3000:]
    assert "methods.dm accepts: batch_real, dsa, dsa_mode" in out
    assert not (Path(tmp_path) / "results").exists()
