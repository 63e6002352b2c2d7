# Teacher: the configured network trained on the full real training split.


rule teacher:
    input:
        train="results/{dataset}/clips/train.parquet",
        test="results/{dataset}/clips/test.parquet",
    output:
        weights="results/{dataset}/teacher/{arch}.safetensors",
        curve="results/{dataset}/teacher/{arch}_curve.parquet",
        accuracy="results/{dataset}/teacher/{arch}_accuracy.parquet",
    params:
        teacher=canonical(config["teacher"]),
        test_passes=config["evaluation"]["test_passes"],
        checkpoint="results/checkpoints/teacher/{dataset}_{arch}.pt",
        code=code_hash("teacher.py", "train.py", "models.py", "data/clips.py"),
    threads: config["threads"]["train"]
    resources:
        gpu=1,
    conda:
        "../../envs/vidstill.yaml"
    log:
        "results/logs/teacher/{dataset}_{arch}.log",
    benchmark:
        "results/benchmarks/teacher/{dataset}_{arch}.tsv"
    script:
        "../scripts/teacher.py"
