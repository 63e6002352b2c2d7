# Δ-ranking (DAViD §4.1.2): per-class accuracy of full-clip vs single-frame training, over several seeds.


rule class_accuracy:
    input:
        train="results/{dataset}/clips/train.parquet",
        test="results/{dataset}/clips/test.parquet",
    output:
        "results/{dataset}/ranking/{mode}/seed{seed}.parquet",
    log:
        "results/logs/class_accuracy/{dataset}_{mode}_seed{seed}.log",
    benchmark:
        "results/benchmarks/class_accuracy/{dataset}_{mode}_seed{seed}.tsv"
    wildcard_constraints:
        mode="full|static",
        seed=r"\d+",
    conda:
        "../../envs/vidstill.yaml"
    threads: config["threads"]["train"]
    resources:
        gpu=GPUS,
        cpus_per_gpu=config["threads"]["train"] if GPUS else 0,
        gpu_mem_mb=gpu_mem_mb(teacher_estimate),
        mem_mb=job_mem_mb,
        runtime=job_runtime,
    params:
        training=lambda wc: canonical({**config["teacher"], "seed": int(wc.seed)}),
        test_passes=config["evaluation"]["test_passes"],
        checkpoint="results/checkpoints/ranking/{dataset}_{mode}_{seed}.pt",
        runtime=RUNTIME,
        code=script_code("class_accuracy.py"),
    script:
        "../scripts/class_accuracy.py"


rule delta:
    input:
        unpack(ranking_inputs),
    output:
        table="results/{dataset}/ranking/delta.parquet",
        figure=report("results/figures/{dataset}_delta.png", caption="../report/delta.rst", category="Ranking"),
    log:
        "results/logs/delta/{dataset}.log",
    benchmark:
        "results/benchmarks/delta/{dataset}.tsv"
    wildcard_constraints:
        dataset=alternation(BASE_DATASETS),
    conda:
        "../../envs/vidstill.yaml"
    params:
        groups=config["ranking"]["groups"],
        code=script_code("delta.py"),
    script:
        "../scripts/delta.py"


rule table_groups:
    input:
        unpack(table_group_inputs),
    output:
        csv=report("results/tables/{table}_groups.csv", caption="../report/table_groups.rst", category="Tables"),
        figure=report("results/figures/{table}_groups.png", caption="../report/table_groups.rst", category="Ranking"),
    log:
        "results/logs/table_groups/{table}.log",
    benchmark:
        "results/benchmarks/table_groups/{table}.tsv"
    wildcard_constraints:
        table=alternation(list(config["tables"])),
    conda:
        "../../envs/vidstill.yaml"
    params:
        datasets=lambda wc: table_spec(wc.table)["datasets"],
        labels=lambda wc: {m: config["methods"].get(m, {}).get("label", m) for m in table_spec(wc.table)["methods"]},
        code=script_code("table_groups.py"),
    script:
        "../scripts/table_groups.py"
