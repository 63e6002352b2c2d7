# Data stage: generate the synthetic benchmark, index every dataset layout, decode clips once per split.


rule generate_synthetic:
    output:
        directory("results/{dataset}/videos"),
    log:
        "results/logs/generate_synthetic/{dataset}.log",
    benchmark:
        "results/benchmarks/generate_synthetic/{dataset}.tsv"
    wildcard_constraints:
        dataset=alternation(SYNTHETIC_DATASETS),
    conda:
        "../../envs/vidstill.yaml"
    params:
        generator=lambda wc: canonical(DATASETS[wc.dataset].get("generator", {})),
        code=script_code("generate_synthetic.py"),
    script:
        "../scripts/generate_synthetic.py"


rule index:
    input:
        index_input,
    output:
        "results/{dataset}/index.parquet",
    log:
        "results/logs/index/{dataset}.log",
    benchmark:
        "results/benchmarks/index/{dataset}.tsv"
    wildcard_constraints:
        dataset=alternation(BASE_DATASETS),
    conda:
        "../../envs/vidstill.yaml"
    threads: config["threads"]["index"]
    params:
        layout=lambda wc: DATASETS[wc.dataset]["layout"],
        root=lambda wc: DATASETS[wc.dataset].get("root", f"results/{wc.dataset}/videos"),
        split=lambda wc: DATASETS[wc.dataset].get("split", 1),
        min_frames=lambda wc: DATASETS[wc.dataset]["clips"]["frames"],
        code=script_code("index.py"),
    script:
        "../scripts/index.py"


rule subset_index:
    input:
        parent=lambda wc: f"results/{base_of(wc.dataset)}/index.parquet",
        classes=subset_classes_input,
    output:
        "results/{dataset}/index.parquet",
    log:
        "results/logs/subset_index/{dataset}.log",
    benchmark:
        "results/benchmarks/subset_index/{dataset}.tsv"
    wildcard_constraints:
        dataset=alternation(SUBSET_DATASETS),
    conda:
        "../../envs/vidstill.yaml"
    params:
        top_k=lambda wc: DATASETS[wc.dataset].get("top_k_by_delta"),
        code=script_code("subset_index.py"),
    script:
        "../scripts/subset_index.py"


rule extract_clips:
    input:
        "results/{dataset}/index.parquet",
    output:
        frames="results/{dataset}/clips/{split}.npy",
        table="results/{dataset}/clips/{split}.parquet",
    log:
        "results/logs/extract_clips/{dataset}_{split}.log",
    benchmark:
        "results/benchmarks/extract_clips/{dataset}_{split}.tsv"
    wildcard_constraints:
        dataset=alternation(BASE_DATASETS),
        split="train|test",
    conda:
        "../../envs/vidstill.yaml"
    threads: config["threads"]["extract"]
    params:
        clips=lambda wc: canonical(DATASETS[wc.dataset]["clips"]),
        splits=lambda wc: DATASETS[wc.dataset]["train_splits"] if wc.split == "train" else ["test"],
        code=script_code("extract_clips.py"),
    script:
        "../scripts/extract_clips.py"


rule subset_clips:
    input:
        parent=lambda wc: f"results/{base_of(wc.dataset)}/clips/{wc.split}.parquet",
        index="results/{dataset}/index.parquet",
    output:
        "results/{dataset}/clips/{split}.parquet",
    log:
        "results/logs/subset_clips/{dataset}_{split}.log",
    benchmark:
        "results/benchmarks/subset_clips/{dataset}_{split}.tsv"
    wildcard_constraints:
        dataset=alternation(SUBSET_DATASETS),
        split="train|test",
    conda:
        "../../envs/vidstill.yaml"
    params:
        code=script_code("subset_clips.py"),
    script:
        "../scripts/subset_clips.py"


rule class_strip:
    input:
        "results/{dataset}/videos",
    output:
        report("results/figures/{dataset}_classes.png", caption="../report/class_strip.rst", category="Data"),
    log:
        "results/logs/class_strip/{dataset}.log",
    benchmark:
        "results/benchmarks/class_strip/{dataset}.tsv"
    wildcard_constraints:
        dataset=alternation(SYNTHETIC_DATASETS),
    conda:
        "../../envs/vidstill.yaml"
    params:
        code=script_code("class_strip.py"),
    script:
        "../scripts/class_strip.py"
