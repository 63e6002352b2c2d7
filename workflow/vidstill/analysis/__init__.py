"""Analyses of results that are no distillation method: the Δ = acc(full) − acc(static) class ranking and its grouping
(`ranking`), IDTD's §4.5 redundancy analysis (`redundancy`)."""
