from vidstill.warm import hand_over

hand_over(snakemake)  # a local run forks this job from a process that has imported torch (vidstill/warm.py)

from vidstill.data.clips import ClipStore
from vidstill.evaluate import evaluate_set
from vidstill.io import write_parquet
from vidstill.logs import job_log
from vidstill.runtime import gpu_peak_memory_bytes, job_device, reset_peak_memory
from vidstill.synthetic_set import SyntheticSet

with job_log(snakemake.log[0]):
    w, p = snakemake.wildcards, snakemake.params
    device = job_device(snakemake.config["device"], snakemake.threads)
    reset_peak_memory(device)
    synthetic = SyntheticSet.load(snakemake.input.synthetic)
    inputs = dict(snakemake.input.items())
    runs = evaluate_set(synthetic, ClipStore.open(inputs["test"]), p.protocol, p.student, int(w.seed), device,
                        labels=getattr(p, "labels", "native"), teacher=inputs.get("teacher"))
    runs = runs.assign(dataset=w.dataset, method=w.method, ipc=int(w.ipc), distill_seed=int(w.seed),
                       storage_bytes=synthetic.storage_bytes(), soft_labels=synthetic.soft_labels,
                       expansion=synthetic.expansion, distill_seconds=synthetic.meta.get("wall_time"),
                       distill_peak_memory_bytes=synthetic.meta.get("peak_memory_bytes"))
    write_parquet(runs, snakemake.output[0], metadata={"protocol": p.protocol, "synthetic": synthetic.meta,
                                                       "gpu_peak_memory_bytes": gpu_peak_memory_bytes(device)})
