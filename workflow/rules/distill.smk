# Distillation: every method instance of config `methods`, per dataset, IPC and seed, through one registry.


rule distill:
    input:
        unpack(distill_inputs),
    output:
        "results/{dataset}/distilled/{method}/ipc{ipc}/seed{seed}.safetensors",
    log:
        "results/logs/distill/{dataset}/{method}_ipc{ipc}_seed{seed}.log",
    benchmark:
        "results/benchmarks/distill/{dataset}/{method}_ipc{ipc}_seed{seed}.tsv"
    wildcard_constraints:
        ipc=r"\d+",
        seed=r"\d+",
    conda:
        "../../envs/vidstill.yaml"
    threads: config["threads"]["train"]
    resources:
        gpu=GPUS,
        cpus_per_gpu=config["threads"]["train"] if GPUS else 0,
        gpu_mem_mb=gpu_mem_mb(distill_estimate),
        mem_mb=job_mem_mb,
        runtime=job_runtime,
    params:
        method=lambda wc: method_impl(wc.method),
        settings=lambda wc: distill_settings(wc.method),
        student=canonical(config["student"]),
        runtime=distill_runtime(),
        code=method_code,
    script:
        "../scripts/distill.py"
