# The files `rule all` (in the Snakefile) asks for beyond the tables, every dataset's clips and the report's files.


def data_targets():
    targets = []
    for name in DATASETS:
        targets += expand("results/{dataset}/clips/{split}.parquet", dataset=name, split=["train", "test"])
    targets += expand("results/figures/{dataset}_classes.png", dataset=SYNTHETIC_DATASETS)
    targets += expand("results/{dataset}/ranking/delta.parquet", dataset=SYNTHETIC_DATASETS)
    return targets


def report_targets():
    """The report's figures, the cost table and table1's exported sets with their previews (none without tables)."""
    tables = config["tables"]
    targets = expand("results/figures/{table}_accuracy_{kind}.png", table=tables, kind=["ipc", "storage"])
    targets += [f"results/figures/strips/{t}/{d}.png" for t, spec in tables.items() for d in spec["datasets"]]
    targets += ["results/export/table1/index.html"] if "table1" in tables else []
    return targets + (["results/tables/cost.csv"] if tables else [])
