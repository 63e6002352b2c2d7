"""Pure helpers of the workflow's planning (workflow/rules/common/): canonical params, wildcard alternations and the
cluster resource callables. Torch-free and cheap to import: the Snakefile imports this module before any job runs.
No workflow script imports it, so editing it reruns nothing."""

from __future__ import annotations

from pathlib import Path


def canonical(value):
    """A config value with every mapping's keys sorted, for `params:`. Snakemake compares params by their printed
    form, so without this, reordering keys in a config file (or a tool rewriting it) would rerun every job."""
    if isinstance(value, dict):
        return {k: canonical(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [canonical(v) for v in value]
    return value


def alternation(names):
    """A wildcard constraint matching exactly these names (or nothing when there are none)."""
    return "|".join(names) if names else "(?!x)x"


def input_gb(input):
    """The job's input in GB, a clip store's memory-mapped frames file (named in its table's metadata) included."""
    from vidstill.io import read_parquet_metadata

    total = 0
    for f in input:
        p = Path(f)
        if not p.exists():
            continue
        total += p.stat().st_size
        if p.suffix == ".parquet" and p.parent.name == "clips":
            frames = p.parent / read_parquet_metadata(p).get("frames_file", "")
            total += frames.stat().st_size if frames.is_file() else 0
    return total / 1e9


def scaled_resource(cluster, key):
    """A resource callable (MB or minutes) from the config's `cluster` section: base + per input GB + per IPC, times
    `escalation` per retry attempt. Snakemake passes the arguments by name: keep them named as they are."""
    c = cluster

    def resource(wildcards, input, attempt):
        ipc = int(getattr(wildcards, "ipc", 0) or 0)
        value = c[key]["base"] + c[key]["per_input_gb"] * input_gb(input) + c[key]["per_ipc"] * ipc
        return int(value * c["escalation"] ** (attempt - 1))

    return resource
