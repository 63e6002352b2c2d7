# The config's datasets: checks the schema cannot express, the names by kind (for wildcard constraints) and the
# base dataset of a subset.


DATASETS = config["datasets"]


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


def base_of(dataset):
    return DATASETS[dataset].get("subset_of", dataset)
