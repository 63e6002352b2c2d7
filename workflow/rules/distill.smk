# Distillation: every method instance of config `methods`, per dataset, IPC and seed, through one registry.


def method_config(name):
    if name not in config["methods"]:
        raise WorkflowError(f"config: methods.{name} is not defined (tables name it)")
    return config["methods"][name]


def method_impl(name):
    return method_config(name).get("method", name)


def method_needs(name):
    from vidstill.methods import get_method

    return get_method(method_impl(name)).needs


def distill_inputs(wildcards):
    inputs = {"train": f"results/{wildcards.dataset}/clips/train.parquet"}
    if "teacher" in method_needs(wildcards.method):
        inputs["teacher"] = teacher_weights(wildcards.dataset)
    return inputs


def method_code(wildcards):
    from vidstill.methods import get_method

    return code_hash(get_method(method_impl(wildcards.method)).module, "methods/__init__.py", "synthetic_set.py", "models.py")


rule distill:
    input:
        unpack(distill_inputs),
    output:
        "results/{dataset}/distilled/{method}/ipc{ipc}/seed{seed}.safetensors",
    params:
        method=lambda wc: method_impl(wc.method),
        settings=lambda wc: method_config(wc.method),
        student=config["student"],
        code=method_code,
    threads: config["threads"]["train"]
    resources:
        gpu=1,
    log:
        "results/logs/distill/{dataset}/{method}_ipc{ipc}_seed{seed}.log",
    benchmark:
        "results/benchmarks/distill/{dataset}/{method}_ipc{ipc}_seed{seed}.tsv"
    wildcard_constraints:
        ipc=r"\d+",
        seed=r"\d+",
    script:
        "../scripts/distill.py"
