# Analyses beyond the tables: IDTD's per-class redundancy (§4.5, Fig. 4); DAViD's resolution per class beside Δ and its
# search cost (Table 3); PRISM's key frames per class beside Δ.


rule idtd_redundancy:
    input:
        unpack(idtd_redundancy_inputs),
    output:
        csv=report("results/tables/idtd_redundancy.csv", caption="../report/idtd_redundancy.rst", category="Analyses"),
        figure=report(
            "results/figures/idtd_redundancy.png", caption="../report/idtd_redundancy.rst", category="Analyses"
        ),
    log:
        "results/logs/analysis/idtd_redundancy.log",
    benchmark:
        "results/benchmarks/analysis/idtd_redundancy.tsv"
    conda:
        "../../envs/vidstill.yaml"
    threads: config["threads"]["train"]
    resources:
        gpu=GPUS,
        cpus_per_gpu=config["threads"]["train"] if GPUS else 0,
        mem_mb=job_mem_mb,
        runtime=job_runtime,
    params:
        settings=lambda wc: canonical(config["idtd_redundancy"]),
        labels=lambda wc: {
            k: method_config(config["idtd_redundancy"][k]).get("label", config["idtd_redundancy"][k])
            for k in ("method", "baseline")
        },
        runtime=RUNTIME,
        code=script_code("idtd_redundancy.py"),
    script:
        "../scripts/idtd_redundancy.py"


rule david_resolution:
    input:
        unpack(david_resolution_inputs),
    output:
        csv=report("results/tables/david_resolution.csv", caption="../report/david_resolution.rst", category="Analyses"),
        summary=report(
            "results/tables/david_resolution_summary.csv",
            caption="../report/david_resolution.rst",
            category="Analyses",
        ),
    log:
        "results/logs/analysis/david_resolution.log",
    benchmark:
        "results/benchmarks/analysis/david_resolution.tsv"
    conda:
        "../../envs/vidstill.yaml"
    params:
        datasets=lambda wc: config["david_resolution"]["datasets"],
        bases=lambda wc: [base_of(d) for d in config["david_resolution"]["datasets"]],
        synthetic=lambda wc: [
            DATASETS[base_of(d)].get("layout") == "synthetic" for d in config["david_resolution"]["datasets"]
        ],
        field="resolution_per_class",
        column="resolution",
        code=script_code("per_class_choice.py"),
    script:
        "../scripts/per_class_choice.py"


rule david_search_cost:
    input:
        unpack(david_search_cost_inputs),
    output:
        report("results/tables/david_search_cost.csv", caption="../report/david_search_cost.rst", category="Analyses"),
    log:
        "results/logs/analysis/david_search_cost.log",
    benchmark:
        "results/benchmarks/analysis/david_search_cost.tsv"
    conda:
        "../../envs/vidstill.yaml"
    params:
        searches=lambda wc: canonical(config["david_search_cost"]["searches"]),
        code=script_code("david_search_cost.py"),
    script:
        "../scripts/david_search_cost.py"


rule prism_keyframes:
    input:
        unpack(prism_keyframes_inputs),
    output:
        csv=report("results/tables/prism_keyframes.csv", caption="../report/prism_keyframes.rst", category="Analyses"),
        summary=report(
            "results/tables/prism_keyframes_summary.csv", caption="../report/prism_keyframes.rst", category="Analyses"
        ),
    log:
        "results/logs/analysis/prism_keyframes.log",
    benchmark:
        "results/benchmarks/analysis/prism_keyframes.tsv"
    conda:
        "../../envs/vidstill.yaml"
    params:
        datasets=lambda wc: config["prism_keyframes"]["datasets"],
        bases=lambda wc: [base_of(d) for d in config["prism_keyframes"]["datasets"]],
        synthetic=lambda wc: [
            DATASETS[base_of(d)].get("layout") == "synthetic" for d in config["prism_keyframes"]["datasets"]
        ],
        field="keyframes_per_class",
        column="keyframes",
        code=script_code("per_class_choice.py"),
    script:
        "../scripts/per_class_choice.py"
