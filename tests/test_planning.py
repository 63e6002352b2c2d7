"""The workflow's pure planning helpers (vidstill.planning): canonical params, wildcard alternations, and the cluster
resource callables (base + per input GB + per IPC, escalated per retry)."""

import re
from types import SimpleNamespace

import pandas as pd

from vidstill.io import write_parquet
from vidstill.planning import alternation, canonical, input_gb, scaled_resource


def test_canonical_sorts_every_mapping_and_keeps_lists_in_order():
    value = {"b": [{"z": 1, "a": 2}, 3], "a": {"y": 0, "x": None}}
    out = canonical(value)
    assert list(out) == ["a", "b"] and list(out["a"]) == ["x", "y"] and list(out["b"][0]) == ["a", "z"]
    assert out == value and repr(canonical({"b": 1, "a": 2})) == repr(canonical({"a": 2, "b": 1}))


def test_alternation_matches_exactly_the_names():
    assert re.fullmatch(alternation(["ucf", "tr_ucf"]), "tr_ucf") and not re.fullmatch(alternation(["ucf"]), "ucf2")
    assert not re.fullmatch(alternation([]), "") and not re.fullmatch(alternation([]), "x")


def test_input_gb_counts_a_clip_stores_frames_file(tmp_path):
    clips = tmp_path / "clips"
    clips.mkdir()
    (clips / "train.u8").write_bytes(b"\0" * 3000)
    write_parquet(pd.DataFrame({"a": [1]}), clips / "train.parquet", metadata={"frames_file": "train.u8"})
    other = tmp_path / "x.bin"
    other.write_bytes(b"\0" * 1000)
    table = (clips / "train.parquet").stat().st_size
    assert (
        input_gb([str(clips / "train.parquet"), str(other), str(tmp_path / "missing")]) == (table + 3000 + 1000) / 1e9
    )


def test_scaled_resource(tmp_path):
    cluster = {"mem_mb": {"base": 1000, "per_input_gb": 0, "per_ipc": 10}, "escalation": 1.5}
    mem = scaled_resource(cluster, "mem_mb")
    assert mem(SimpleNamespace(ipc="5"), [], 1) == 1050 and mem(SimpleNamespace(), [], 1) == 1000
    assert mem(SimpleNamespace(ipc="5"), [], 2) == int(1050 * 1.5)
