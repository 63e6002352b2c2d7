"""The significance tests behind the tables and the claims table.

A cell of a table is a handful of evaluation runs (distillation seeds × evaluation runs); two cells are compared with
Welch's t-test, which does not assume equal variances (a coreset's runs spread differently from a learned set's). A
claim about a difference of gains ("DAViD gains more over DM on TR-UCF than on UCF101") is a linear contrast of four
independent cell means; its Welch–Satterthwaite degrees of freedom generalise the two-sample test, which is the
contrast (1, −1). A rank correlation over classes (DAViD's resolution against Δ) is tested by permutation, because
its values are heavily tied (four resolutions over dozens of classes) where the t-approximation is poor.

The p-values come from scipy's Student-t distribution and permutation test; the statistics are written out here so
that the contrast, the zero-spread case and the direction of a one-sided test are explicit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

Alternative = Literal["greater", "less", "two-sided"]


@dataclass(frozen=True)
class TestResult:
    """A test's estimate (the contrast: a difference of means, or a correlation), its statistic, degrees of freedom
    (NaN for a permutation test) and p-value. p is NaN when the test is undefined (a cell with fewer than two runs,
    or no spread at all), which a verdict reads as inconclusive rather than as proof."""

    estimate: float
    statistic: float
    df: float
    p: float
    test: str


def welch_contrast(
    samples: Sequence[Sequence[float]], weights: Sequence[float], alternative: Alternative = "two-sided"
) -> TestResult:
    """Welch's test of H0: Σ w_i μ_i = 0 for independent samples (sample variances with ddof=1).

    t = Σ w_i x̄_i / √(Σ w_i² s_i² / n_i), df = (Σ w_i² s_i² / n_i)² / Σ (w_i² s_i² / n_i)² / (n_i − 1).
    "greater" tests Σ w_i μ_i > 0."""
    if len(samples) != len(weights) or not samples:
        raise ValueError(f"need one weight per sample, got {len(samples)} samples and {len(weights)} weights")
    arrays = [np.asarray(s, dtype=float) for s in samples]
    estimate = (
        float(sum(w * a.mean() for w, a in zip(weights, arrays, strict=True)))
        if all(len(a) for a in arrays)
        else math.nan
    )
    name = "Welch t-test" if len(arrays) == 2 else f"Welch t-test of a {len(arrays)}-mean contrast"
    if any(len(a) < 2 for a in arrays):
        return TestResult(estimate, math.nan, math.nan, math.nan, name)
    terms = [w * w * a.var(ddof=1) / len(a) for w, a in zip(weights, arrays, strict=True)]
    variance = sum(terms)
    if variance <= 0:
        return TestResult(estimate, math.nan, math.nan, math.nan, name)
    df = variance**2 / sum(t * t / (len(a) - 1) for t, a in zip(terms, arrays, strict=True))
    t = estimate / math.sqrt(variance)
    return TestResult(estimate, t, df, _t_p_value(t, df, alternative), name)


def welch(a: Sequence[float], b: Sequence[float], alternative: Alternative = "two-sided") -> TestResult:
    """Welch's two-sample t-test of mean(a) − mean(b); "greater" tests mean(a) > mean(b)."""
    return welch_contrast([a, b], [1.0, -1.0], alternative)


def _t_p_value(t: float, df: float, alternative: Alternative) -> float:
    from scipy import stats  # 0.7 s to import: the planner imports this module (claims), only jobs test

    if alternative == "greater":
        return float(stats.t.sf(t, df))
    if alternative == "less":
        return float(stats.t.cdf(t, df))
    if alternative == "two-sided":
        return float(min(1.0, 2 * stats.t.sf(abs(t), df)))
    raise ValueError(f"alternative must be greater, less or two-sided, got {alternative!r}")


def spearman_permutation(
    x: Sequence[float],
    y: Sequence[float],
    alternative: Alternative = "two-sided",
    permutations: int = 10000,
    seed: int = 0,
) -> TestResult:
    """Spearman's ρ (Pearson's r of average ranks, so ties count as ties) and its permutation p-value: y's ranks are
    shuffled against x's (exactly, over every pairing, when there are no more pairings than `permutations`).
    Constant x or y has no correlation to test: NaN."""
    from scipy import stats

    rx, ry = stats.rankdata(np.asarray(x, dtype=float)), stats.rankdata(np.asarray(y, dtype=float))
    if len(rx) != len(ry):
        raise ValueError(f"x and y differ in length: {len(rx)} and {len(ry)}")
    name = "Spearman rank correlation, permutation test"
    if len(rx) < 3 or np.ptp(rx) == 0 or np.ptp(ry) == 0:
        return TestResult(math.nan, math.nan, math.nan, math.nan, name)
    cx = rx - rx.mean()

    def rho(r: np.ndarray, axis: int = -1) -> np.ndarray:
        c = r - r.mean(axis=axis, keepdims=True)
        return (c * cx).sum(axis=axis) / np.sqrt((c * c).sum(axis=axis) * (cx * cx).sum())

    result = stats.permutation_test(
        (ry,),
        rho,
        permutation_type="pairings",
        vectorized=True,
        n_resamples=permutations,
        alternative=alternative,
        rng=np.random.default_rng(seed),
    )
    return TestResult(float(result.statistic), float(result.statistic), math.nan, float(result.pvalue), name)
