from vidstill.warm import hand_over

hand_over(snakemake)  # a local run forks this job from a process that has imported torch (vidstill/warm.py)

from vidstill.data.synthetic import write_class_strip
from vidstill.logs import job_log

with job_log(snakemake.log[0]):
    write_class_strip(snakemake.input[0], snakemake.output[0])
