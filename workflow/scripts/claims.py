from vidstill.warm import hand_over

hand_over(snakemake)  # a local run forks this job from a process that has imported torch (vidstill/warm.py)

import pandas as pd

from vidstill.io import atomic_path
from vidstill.logs import job_log
from vidstill.report.claims import evaluate_claims, render_claims_markdown

with job_log(snakemake.log[0]) as log:
    p = snakemake.params
    runs = dict(zip(p.tables, map(pd.read_parquet, snakemake.input.runs), strict=True))
    resolution = pd.read_csv(snakemake.input.resolution) if "resolution" in snakemake.input.keys() else None
    keyframes = pd.read_csv(snakemake.input.keyframes) if "keyframes" in snakemake.input.keys() else None
    claims = evaluate_claims(
        p.plan,
        runs,
        resolution,
        p.arch,
        p.labels,
        p.settings["alpha"],
        p.settings["permutations"],
        p.settings["seed"],
        keyframes=keyframes,
    )
    log.info("verdicts: %s", claims["verdict"].value_counts().to_dict() if len(claims) else {})
    with atomic_path(snakemake.output.csv) as tmp:
        claims.to_csv(tmp, index=False)
    with atomic_path(snakemake.output.markdown) as tmp:
        tmp.write_text(render_claims_markdown(claims, p.settings["alpha"]))
