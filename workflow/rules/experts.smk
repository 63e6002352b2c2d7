# Expert trajectories for trajectory matching (MTT and methods built on it), and their check against the full data.


rule expert:
    input:
        train="results/{dataset}/clips/train.parquet",
        test="results/{dataset}/clips/test.parquet",
    output:
        "results/{dataset}/experts/expert{expert}.safetensors",
    log:
        "results/logs/expert/{dataset}/expert{expert}.log",
    benchmark:
        "results/benchmarks/expert/{dataset}/expert{expert}.tsv"
    wildcard_constraints:
        expert=r"\d+",
    conda:
        "../../envs/vidstill.yaml"
    threads: config["threads"]["train"]
    resources:
        gpu=GPUS,
        cpus_per_gpu=config["threads"]["train"] if GPUS else 0,
        gpu_mem_mb=gpu_mem_mb(expert_estimate),
        mem_mb=job_mem_mb,
        runtime=job_runtime,
    params:
        experts=expert_training(),
        student=canonical(config["student"]),
        runtime=RUNTIME,
        code=script_code("expert.py"),
    script:
        "../scripts/expert.py"


rule expert_check:
    input:
        experts=lambda wc: expert_files(wc.dataset),
        full=expand("results/{{dataset}}/eval/full/seed{seed}.parquet", seed=config["seeds"]),
    output:
        "results/{dataset}/experts/summary.parquet",
    log:
        "results/logs/expert_check/{dataset}.log",
    benchmark:
        "results/benchmarks/expert_check/{dataset}.tsv"
    conda:
        "../../envs/vidstill.yaml"
    params:
        min_ratio=config["experts"]["min_ratio"],
        strict=config["experts"]["strict"],
        code=script_code("expert_check.py"),
    script:
        "../scripts/expert_check.py"
