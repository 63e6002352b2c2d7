# Tables: mean ± std over every evaluation run, the difference to Random with its significance, published numbers
# beside ours; the claims table turns the papers' claims into computed verdicts.


rule table:
    input:
        unpack(table_inputs),
    output:
        csv=report("results/tables/{table}.csv", caption="../report/table.rst", category="Tables"),
        markdown="results/tables/{table}.md",
        runs="results/tables/{table}_runs.parquet",
        label_runs="results/tables/{table}_label_runs.parquet",
    log:
        "results/logs/table/{table}.log",
    benchmark:
        "results/benchmarks/table/{table}.tsv"
    wildcard_constraints:
        table=alternation(list(config["tables"])),
    conda:
        "../../envs/vidstill.yaml"
    params:
        spec=lambda wc: canonical(table_spec(wc.table)),
        methods=lambda wc: canonical({m: config["methods"][m] for m in table_spec(wc.table)["methods"]}),
        published_as=canonical({name: ds.get("published_as") for name, ds in DATASETS.items()}),
        protocol=protocol(),
        arch=config["student"]["arch"],
        kind_datasets=lambda wc: table_kind_datasets(wc.table),
        alpha=config["claims"]["alpha"],
        dd_weight=config["evaluation"]["dd_ranking_weight"],
        soft=canonical({**config["evaluation"]["soft"], "teacher": soft_teacher()}),
        code=script_code("table.py"),
    script:
        "../scripts/table.py"


rule storage:
    input:
        runs="results/tables/table1_runs.parquet",
    output:
        report("results/tables/storage.csv", caption="../report/storage.rst", category="Tables"),
    log:
        "results/logs/table/storage.log",
    benchmark:
        "results/benchmarks/table/storage.tsv"
    conda:
        "../../envs/vidstill.yaml"
    params:
        spec=lambda wc: canonical(table_spec("table1")),
        methods=lambda wc: canonical({m: config["methods"][m] for m in table_spec("table1")["methods"]}),
        code=script_code("storage.py"),
    script:
        "../scripts/storage.py"


rule claims:
    input:
        unpack(claims_inputs),
    output:
        csv=report("results/tables/claims.csv", caption="../report/claims.rst", category="Tables"),
        markdown="results/tables/claims.md",
    log:
        "results/logs/table/claims.log",
    benchmark:
        "results/benchmarks/table/claims.tsv"
    conda:
        "../../envs/vidstill.yaml"
    params:
        plan=canonical(CLAIMS_PLAN),
        tables=CLAIMS_TABLES,
        settings=canonical({k: config["claims"][k] for k in ("alpha", "permutations", "seed")}),
        arch=config["student"]["arch"],
        labels=canonical(
            {m: method_config(m).get("label", m) for r in CLAIMS_PLAN for m in (r["method"], r["baseline"]) if m}
        ),
        code=script_code("claims.py"),
    script:
        "../scripts/claims.py"
