# Analyses beyond the tables: IDTD's per-class redundancy (§4.5, Fig. 4).


rule idtd_redundancy:
    input:
        unpack(idtd_redundancy_inputs),
    output:
        csv=report("results/tables/idtd_redundancy.csv", caption="../report/idtd_redundancy.rst", category="Analyses"),
        figure=report("results/figures/idtd_redundancy.png", caption="../report/idtd_redundancy.rst", category="Analyses"),
    params:
        settings=lambda wc: canonical(config["idtd_redundancy"]),
        labels=lambda wc: {k: method_config(config["idtd_redundancy"][k]).get("label", config["idtd_redundancy"][k])
                           for k in ("method", "baseline")},
        code=code_hash("redundancy.py", "report/figures.py"),
    threads: config["threads"]["train"]
    conda:
        "../../envs/vidstill.yaml"
    log:
        "results/logs/analysis/idtd_redundancy.log",
    benchmark:
        "results/benchmarks/analysis/idtd_redundancy.tsv"
    script:
        "../scripts/idtd_redundancy.py"
