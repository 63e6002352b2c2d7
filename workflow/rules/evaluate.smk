# Student evaluation: fresh students trained on each distilled set (or on the full real data), tested on real clips;
# evaluate_labels: the same under the hard / soft label protocols (evaluation.label_protocols).


rule evaluate:
    input:
        synthetic="results/{dataset}/distilled/{method}/ipc{ipc}/seed{seed}.safetensors",
        test="results/{dataset}/clips/test.parquet",
    output:
        "results/{dataset}/eval/{method}/ipc{ipc}/seed{seed}.parquet",
    log:
        "results/logs/evaluate/{dataset}/{method}_ipc{ipc}_seed{seed}.log",
    benchmark:
        "results/benchmarks/evaluate/{dataset}/{method}_ipc{ipc}_seed{seed}.tsv"
    wildcard_constraints:
        ipc=r"\d+",
        seed=r"\d+",
    conda:
        "../../envs/vidstill.yaml"
    threads: config["threads"]["train"]
    resources:
        gpu=GPUS,
        cpus_per_gpu=config["threads"]["train"] if GPUS else 0,
        gpu_mem_mb=gpu_mem_mb(evaluate_estimate),
        mem_mb=job_mem_mb,
        runtime=job_runtime,
    params:
        protocol=lambda wc: protocol(method=wc.method),
        student=canonical(config["student"]),
        runtime=RUNTIME,
        code=script_code("evaluate.py"),
    script:
        "../scripts/evaluate.py"


rule evaluate_labels:
    input:
        unpack(evaluate_labels_inputs),
    output:
        "results/{dataset}/eval_{labels}/{method}/ipc{ipc}/seed{seed}.parquet",
    log:
        "results/logs/evaluate/{dataset}/{method}_ipc{ipc}_seed{seed}_{labels}.log",
    benchmark:
        "results/benchmarks/evaluate/{dataset}/{method}_ipc{ipc}_seed{seed}_{labels}.tsv"
    wildcard_constraints:
        labels=alternation(LABEL_PROTOCOLS),
        ipc=r"\d+",
        seed=r"\d+",
    conda:
        "../../envs/vidstill.yaml"
    threads: config["threads"]["train"]
    resources:
        gpu=GPUS,
        cpus_per_gpu=config["threads"]["train"] if GPUS else 0,
        gpu_mem_mb=gpu_mem_mb(evaluate_estimate),
        mem_mb=job_mem_mb,
        runtime=job_runtime,
    params:
        protocol=lambda wc: protocol(labels=wc.labels),
        labels="{labels}",
        student=canonical(config["student"]),
        runtime=RUNTIME,
        code=script_code("evaluate.py"),
    script:
        "../scripts/evaluate.py"


rule evaluate_full:
    input:
        train="results/{dataset}/clips/train.parquet",
        test="results/{dataset}/clips/test.parquet",
    output:
        "results/{dataset}/eval/full/seed{seed}.parquet",
    log:
        "results/logs/evaluate_full/{dataset}_seed{seed}.log",
    benchmark:
        "results/benchmarks/evaluate_full/{dataset}_seed{seed}.tsv"
    wildcard_constraints:
        seed=r"\d+",
    conda:
        "../../envs/vidstill.yaml"
    threads: config["threads"]["train"]
    resources:
        gpu=GPUS,
        cpus_per_gpu=config["threads"]["train"] if GPUS else 0,
        gpu_mem_mb=gpu_mem_mb(lambda wc: evaluate_estimate(wc, full=True)),
        mem_mb=job_mem_mb,
        runtime=job_runtime,
    params:
        protocol=protocol(full=True),
        student=canonical(config["student"]),
        runtime=RUNTIME,
        code=script_code("evaluate_full.py"),
    script:
        "../scripts/evaluate_full.py"
