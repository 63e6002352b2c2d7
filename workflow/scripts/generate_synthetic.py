from vidstill.warm import hand_over

hand_over(snakemake)  # a local run forks this job from a process that has imported torch (vidstill/warm.py)

from vidstill.data.synthetic import generate_synthetic, realism_from_config
from vidstill.logs import job_log

with job_log(snakemake.log[0]) as log:
    generator = dict(snakemake.params.generator)
    generator["realism"] = realism_from_config(generator.get("realism"))
    log.info("generating the synthetic benchmark into %s with %s", snakemake.output[0], generator)
    generate_synthetic(snakemake.output[0], **generator)
