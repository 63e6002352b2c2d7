# Tables: mean ± std over every evaluation run, published numbers beside ours.


def table_spec(name):
    if name not in config["tables"]:
        raise WorkflowError(f"config: tables.{name} is not defined; defined: {', '.join(config['tables'])}")
    return config["tables"][name]


def table_inputs(wildcards):
    spec = table_spec(wildcards.table)
    runs = []
    for dataset in spec["datasets"]:
        if spec.get("full", True):
            runs += expand("results/{dataset}/eval/full/seed{seed}.parquet", dataset=dataset, seed=config["seeds"])
        runs += expand(
            "results/{dataset}/eval/{method}/ipc{ipc}/seed{seed}.parquet",
            dataset=dataset, method=spec["methods"], ipc=spec["ipc"], seed=config["seeds"],
        )
    return {"runs": runs, "published": "resources/paper_results.csv"}


rule table:
    input:
        unpack(table_inputs),
    output:
        csv=report("results/tables/{table}.csv", caption="../report/table.rst", category="Tables"),
        markdown="results/tables/{table}.md",
        runs="results/tables/{table}_runs.parquet",
    params:
        spec=lambda wc: table_spec(wc.table),
        methods=lambda wc: {m: config["methods"][m] for m in table_spec(wc.table)["methods"]},
        published_as={name: ds.get("published_as") for name, ds in DATASETS.items()},
        protocol=protocol(),
        arch=config["student"]["arch"],
        code=code_hash("report/tables.py"),
    log:
        "results/logs/table/{table}.log",
    benchmark:
        "results/benchmarks/table/{table}.tsv"
    script:
        "../scripts/table.py"
