# Shared helpers of the rule files: config validation, dataset lookups, code hashes for rerun triggers.
import hashlib
import os
import sys
from pathlib import Path

from snakemake.utils import validate


validate(config, workflow.source_path("../schemas/config.schema.yaml"))

DATASETS = config["datasets"]
LIBRARY = Path(workflow.basedir) / "workflow" / "vidstill"
# The library is importable by the Snakefile and by every job (scripts, --sdm conda envs, cluster jobs) from the
# source tree, whether or not the package is installed in the environment that runs it.
sys.path.insert(0, str(LIBRARY.parent))
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(LIBRARY.parent), os.environ.get("PYTHONPATH")]))


def _check_datasets():
    """Config errors the schema cannot express, reported with the key's path before any job starts."""
    for name, ds in DATASETS.items():
        parent = ds.get("subset_of")
        if parent is not None and parent not in DATASETS:
            raise WorkflowError(f"config: datasets.{name}.subset_of names unknown dataset {parent!r}")
        if parent is not None and DATASETS[parent].get("subset_of"):
            raise WorkflowError(f"config: datasets.{name}.subset_of: {parent!r} is itself a subset; name its parent")


_check_datasets()
BASE_DATASETS = [n for n, d in DATASETS.items() if "subset_of" not in d]
SUBSET_DATASETS = [n for n, d in DATASETS.items() if "subset_of" in d]
SYNTHETIC_DATASETS = [n for n, d in DATASETS.items() if d.get("layout") == "synthetic"]


def alternation(names):
    """A wildcard constraint matching exactly these names (or nothing when there are none)."""
    return "|".join(names) if names else "(?!x)x"


def base_of(dataset):
    return DATASETS[dataset].get("subset_of", dataset)


def code_hash(*modules):
    """Hash of library source files (relative to workflow/vidstill): a params entry, so editing the code of a stage
    reruns that stage (Snakemake's own code trigger only sees the rule's script, not the library it calls)."""
    h = hashlib.sha256()
    for module in modules:
        for path in sorted((LIBRARY / module).rglob("*.py")) if (LIBRARY / module).is_dir() else [LIBRARY / module]:
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


def teacher_weights(dataset):
    return f"results/{dataset}/teacher/{config['teacher']['arch']}.safetensors"


def data_targets():
    targets = []
    for name in DATASETS:
        targets += expand("results/{dataset}/clips/{split}.parquet", dataset=name, split=["train", "test"])
    targets += expand("results/figures/{dataset}_classes.png", dataset=SYNTHETIC_DATASETS)
    return targets
