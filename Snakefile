# vidstill: video dataset distillation, from raw videos to the papers' tables. See README.md and config/README.md.
from snakemake.utils import min_version

min_version("9.21")


# Each config file is a complete document: the embedded default applies only when no --configfile names another
# (Snakemake would otherwise deep-merge the two, leaking the default's datasets and methods into e.g. the smoke run).
if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


# Shared helpers (no rules), in this order: each file uses only what the files before it define at include time.
include: "workflow/rules/common/config.smk"
include: "workflow/rules/common/datasets.smk"
include: "workflow/rules/common/code.smk"
include: "workflow/rules/common/settings.smk"
include: "workflow/rules/common/resources.smk"
include: "workflow/rules/common/inputs.smk"
include: "workflow/rules/common/targets.smk"
include: "workflow/rules/common/cost.smk"
# The stages' rules.
include: "workflow/rules/data.smk"
include: "workflow/rules/teacher.smk"
include: "workflow/rules/ranking.smk"
include: "workflow/rules/experts.smk"
include: "workflow/rules/crops.smk"
include: "workflow/rules/distill.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/tables.smk"
include: "workflow/rules/analysis.smk"
include: "workflow/rules/report.smk"


# Warm start (workflow/vidstill/warm.py): a local run forks its jobs from one process that imported torch once, instead
# of paying ~2 s of imports in each of its ~150 job processes. Results are those of cold jobs; `warm_start: false`, a
# cluster executor, or a job in another environment (--sdm conda) runs every job cold.
WARM = {}


onstart:
    if config["warm_start"] and workflow.local_exec and workflow.is_main_process and not workflow.touch:
        import tempfile
        from vidstill.warm import SOCKET_ENV, start_server

        address = str(Path(tempfile.mkdtemp(prefix="vidstill-warm-")) / "socket")
        pid = start_server(address)
        if pid is not None:
            WARM.update(pid=pid, address=address)
            os.environ[SOCKET_ENV] = address


onsuccess:
    if WARM:
        from vidstill.warm import stop_server

        stop_server(WARM["pid"], WARM["address"])


onerror:
    if WARM:
        from vidstill.warm import stop_server

        stop_server(WARM["pid"], WARM["address"])


rule all:
    default_target: True
    input:
        data_targets(),
        expand("results/tables/{table}.csv", table=config["tables"]),
        expand("results/tables/{table}_groups.csv", table=config["tables"]),
        ["results/tables/storage.csv", "results/tables/claims.csv"] if "table1" in config["tables"] else [],
        ["results/tables/idtd_redundancy.csv"] if "idtd_redundancy" in config else [],
        ["results/tables/david_resolution.csv"] if "david_resolution" in config else [],
        ["results/tables/prism_keyframes.csv"] if "prism_keyframes" in config else [],
        ["results/tables/david_search_cost.csv"] if "david_search_cost" in config else [],
        report_targets(),
