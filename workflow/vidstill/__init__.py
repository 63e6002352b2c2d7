"""vidstill: video dataset distillation, as a library behind a Snakemake workflow."""
