# vidstill: video dataset distillation, from raw videos to the papers' tables. See README.md and config/README.md.
from snakemake.utils import min_version

min_version("9.21")


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/teacher.smk"
include: "workflow/rules/distill.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/tables.smk"


rule all:
    input:
        data_targets(),
        expand("results/tables/{table}.csv", table=config["tables"]),
    default_target: True
