# Teachers: the configured network (or a named variant of it, `teachers:`) trained on the full real training split.


rule teacher:
    input:
        train="results/{dataset}/clips/train.parquet",
        test="results/{dataset}/clips/test.parquet",
    output:
        weights="results/{dataset}/teacher/{teacher}.safetensors",
        curve="results/{dataset}/teacher/{teacher}_curve.parquet",
        accuracy="results/{dataset}/teacher/{teacher}_accuracy.parquet",
    log:
        "results/logs/teacher/{dataset}_{teacher}.log",
    benchmark:
        "results/benchmarks/teacher/{dataset}_{teacher}.tsv"
    wildcard_constraints:
        teacher=alternation([DEFAULT_TEACHER, *config["teachers"]]),
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
        teacher=lambda wc: canonical(teacher_config(wc.teacher)),
        test_passes=config["evaluation"]["test_passes"],
        checkpoint="results/checkpoints/teacher/{dataset}_{teacher}.pt",
        runtime=RUNTIME,
        code=script_code("teacher.py"),
    script:
        "../scripts/teacher.py"
