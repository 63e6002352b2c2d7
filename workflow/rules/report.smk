# The report's figures and the cost table: accuracy against IPC and against storage per table, a frame strip of every
# method's distilled videos per table and dataset, and the measured cost of every job the tables stand on.


rule accuracy_figures:
    input:
        runs="results/tables/{table}_runs.parquet",
    output:
        ipc=report(
            "results/figures/{table}_accuracy_ipc.png",
            caption="../report/accuracy_ipc.rst",
            category="Figures",
            subcategory="{table}",
        ),
        storage=report(
            "results/figures/{table}_accuracy_storage.png",
            caption="../report/accuracy_storage.rst",
            category="Figures",
            subcategory="{table}",
        ),
    log:
        "results/logs/figures/{table}_accuracy.log",
    benchmark:
        "results/benchmarks/figures/{table}_accuracy.tsv"
    wildcard_constraints:
        table=alternation(list(config["tables"])),
    conda:
        "../../envs/vidstill.yaml"
    params:
        spec=lambda wc: canonical(table_spec(wc.table)),
        methods=lambda wc: canonical({m: config["methods"][m] for m in table_spec(wc.table)["methods"]}),
        code=script_code("accuracy_figures.py"),
    script:
        "../scripts/accuracy_figures.py"


rule distilled_strip:
    input:
        unpack(strip_inputs),
    output:
        report(
            "results/figures/strips/{table}/{dataset}.png",
            caption="../report/distilled_strip.rst",
            category="Figures",
            subcategory="{table}",
        ),
    log:
        "results/logs/figures/strip_{table}_{dataset}.log",
    benchmark:
        "results/benchmarks/figures/strip_{table}_{dataset}.tsv"
    wildcard_constraints:
        table=alternation(list(config["tables"])),
        dataset=alternation(list(DATASETS)),
    conda:
        "../../envs/vidstill.yaml"
    params:
        ipc=lambda wc: min(table_spec(wc.table)["ipc"]),
        seed=config["seeds"][0],
        labels=lambda wc: [method_config(m).get("label", m) for m in table_spec(wc.table)["methods"]],
        strip=canonical(config["report"]["strip"]),
        code=script_code("distilled_strip.py"),
    script:
        "../scripts/distilled_strip.py"


rule cost:
    input:
        runs=expand("results/tables/{table}_runs.parquet", table=config["tables"]),
    output:
        csv=report("results/tables/cost.csv", caption="../report/cost.rst", category="Tables"),
        markdown="results/tables/cost.md",
    log:
        "results/logs/table/cost.log",
    benchmark:
        "results/benchmarks/table/cost.tsv"
    conda:
        "../../envs/vidstill.yaml"
    params:
        jobs=lambda wc: cost_jobs(),
        labels=lambda wc: canonical({m: c.get("label", m) for m, c in config["methods"].items()}),
        code=script_code("cost.py"),
    script:
        "../scripts/cost.py"


rule export:
    input:
        unpack(export_inputs),
    output:
        sets=directory("results/export/{table}/sets"),
        index=report("results/export/{table}/index.html", caption="../report/export.rst", category="Distilled sets"),
    log:
        "results/logs/export/{table}.log",
    benchmark:
        "results/benchmarks/export/{table}.tsv"
    wildcard_constraints:
        table=alternation(list(config["tables"])),
    conda:
        "../../envs/vidstill.yaml"
    params:
        cells=lambda wc: table_sets(wc.table),
        student=canonical(config["student"]),
        protocol=protocol(),
        code=script_code("export.py"),
    script:
        "../scripts/export.py"
