# Crop stage of the crop-and-concatenate method (OptDistill): detector, detection + CSRT tracking sharded by video,
# the crops summary, and the teacher's scores of every cropped video.


rule crop_detector:
    input:
        videos="results/{dataset}/videos",
        index="results/{dataset}/index.parquet",
    output:
        weights="results/{dataset}/crops/detector.safetensors",
    log:
        "results/logs/crop_detector/{dataset}.log",
    benchmark:
        "results/benchmarks/crop_detector/{dataset}.tsv"
    wildcard_constraints:
        dataset=alternation(SYNTHETIC_DATASETS),
    conda:
        "../../envs/vidstill.yaml"
    threads: config["threads"]["train"]
    resources:
        gpu=GPUS,
        cpus_per_gpu=config["threads"]["train"] if GPUS else 0,
        mem_mb=job_mem_mb,
        runtime=job_runtime,
    params:
        train=lambda wc: canonical(config["crops"]["detector"]["train"]),
        resize=lambda wc: DATASETS[wc.dataset]["clips"].get("resize"),
        seed=config["crops"]["seed"],
        runtime=RUNTIME,
        code=script_code("crop_detector.py"),
    script:
        "../scripts/crop_detector.py"


rule crop_tracks:
    input:
        index="results/{dataset}/index.parquet",
        detector=lambda wc: detector_weights(wc.dataset),
    output:
        tracks="results/{dataset}/crops/tracks/shard{shard}.parquet",
        videos="results/{dataset}/crops/tracks/shard{shard}_videos.parquet",
    log:
        "results/logs/crop_tracks/{dataset}_shard{shard}.log",
    benchmark:
        "results/benchmarks/crop_tracks/{dataset}_shard{shard}.tsv"
    wildcard_constraints:
        dataset=alternation(BASE_DATASETS),
        shard=r"\d+",
    conda:
        "../../envs/vidstill.yaml"
    threads: config["threads"]["crops"]
    resources:
        gpu=GPUS,  # YOLO runs on the job's device
        cpus_per_gpu=config["threads"]["crops"] if GPUS else 0,
        mem_mb=job_mem_mb,
        runtime=job_runtime,
    params:
        crops=lambda wc: tracking_settings(),
        clips=lambda wc: canonical(DATASETS[wc.dataset]["clips"]),
        train_splits=lambda wc: list(DATASETS[wc.dataset]["train_splits"]),
        runtime=RUNTIME,
        code=script_code("crop_tracks.py"),
    script:
        "../scripts/crop_tracks.py"


rule crop_summary:
    input:
        unpack(crop_summary_inputs),
    output:
        tracks="results/{dataset}/crops/tracks.parquet",
        videos="results/{dataset}/crops/videos.parquet",
        summary=report("results/{dataset}/crops/summary.json", caption="../report/crops.rst", category="Crops"),
    log:
        "results/logs/crop_summary/{dataset}.log",
    benchmark:
        "results/benchmarks/crop_summary/{dataset}.tsv"
    wildcard_constraints:
        dataset=alternation(BASE_DATASETS),
    conda:
        "../../envs/vidstill.yaml"
    params:
        clips=lambda wc: canonical(DATASETS[wc.dataset]["clips"]),
        code=script_code("crop_summary.py"),
    script:
        "../scripts/crop_summary.py"


rule crop_scores:
    input:
        tracks=lambda wc: f"results/{base_of(wc.dataset)}/crops/tracks.parquet",
        index=lambda wc: f"results/{base_of(wc.dataset)}/index.parquet",
        train="results/{dataset}/clips/train.parquet",
        teacher=lambda wc: teacher_weights(wc.dataset),
    output:
        "results/{dataset}/crops/scores.parquet",
    log:
        "results/logs/crop_scores/{dataset}.log",
    benchmark:
        "results/benchmarks/crop_scores/{dataset}.tsv"
    conda:
        "../../envs/vidstill.yaml"
    threads: config["threads"]["train"]
    resources:
        gpu=GPUS,
        cpus_per_gpu=config["threads"]["train"] if GPUS else 0,
        mem_mb=job_mem_mb,
        runtime=job_runtime,
    params:
        grid=config["crops"]["grid"],
        runtime=RUNTIME,
        code=script_code("crop_scores.py"),
    script:
        "../scripts/crop_scores.py"
