from vidstill.data.synthetic import write_class_strip
from vidstill.logs import job_log

with job_log(snakemake.log[0]):
    write_class_strip(snakemake.input[0], snakemake.output[0])
