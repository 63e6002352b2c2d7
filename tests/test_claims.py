"""The claims table: Welch's test against hand-computed values, and constructed runs that give each verdict (holds,
fails, inconclusive, not run) for each kind of claim (compare, gain, resolution, keyframes)."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from vidstill.report.claims import evaluate_claims, plan_claims, render_claims_markdown, source_table
from vidstill.report.stats import spearman_permutation, welch, welch_contrast

# --------------------------------------------------------------------------------------------------------------------
# the tests themselves


def test_welch_hand_computed_df_2():
    """a = [1, 3], b = [0, 2]: s² = 2 each, SE² = 2/2 + 2/2 = 2, t = 1/√2, df = 2² / (1 + 1) = 2, and for 2 degrees of
    freedom P(T > t) = 1/2 − t / (2√(t² + 2))."""
    r = welch([1, 3], [0, 2], "greater")
    t = 1 / math.sqrt(2)
    assert r.estimate == pytest.approx(1.0) and r.statistic == pytest.approx(t) and r.df == pytest.approx(2.0)
    assert r.p == pytest.approx(0.5 - t / (2 * math.sqrt(t * t + 2)))  # 0.27639
    assert welch([1, 3], [0, 2], "two-sided").p == pytest.approx(2 * r.p)
    assert welch([1, 3], [0, 2], "less").p == pytest.approx(1 - r.p)


def test_welch_hand_computed_unequal_variances():
    """a = [0, 2] (s²/n = 1) against a constant b: df = 1² / (1² / 1) = 1, a Cauchy tail: P(T > 1) = 1/2 − atan(1)/π.
    a = [10, 12, 14], b = [9, 10, 11, 12, 13]: SE² = 4/3 + 2.5/5, df by Welch–Satterthwaite, as scipy's own test."""
    r = welch([0, 2], [0, 0, 0], "greater")
    assert r.statistic == pytest.approx(1.0) and r.df == pytest.approx(1.0) and r.p == pytest.approx(0.25)
    a, b = [10, 12, 14], [9, 10, 11, 12, 13]
    r = welch(a, b, "greater")
    se2 = 4 / 3 + 2.5 / 5
    assert r.statistic == pytest.approx(1 / math.sqrt(se2))
    assert r.df == pytest.approx(se2**2 / ((4 / 3) ** 2 / 2 + (2.5 / 5) ** 2 / 4))
    ref = scipy_stats.ttest_ind(a, b, equal_var=False, alternative="greater")
    assert r.p == pytest.approx(ref.pvalue) and r.df == pytest.approx(ref.df)


def test_contrast_of_four_means():
    """(a − b) − (c − d) with four equal-size equal-variance samples: df = 4(n − 1), SE² = 4 s²/n."""
    a, b, c, d = [5, 6, 7], [1, 2, 3], [2, 3, 4], [1, 2, 3]
    r = welch_contrast([a, b, c, d], [1, -1, -1, 1], "greater")
    assert r.estimate == pytest.approx(3.0) and r.df == pytest.approx(8.0)
    assert r.statistic == pytest.approx(3 / math.sqrt(4 * 1 / 3))
    assert r.p == pytest.approx(scipy_stats.t.sf(r.statistic, 8))


def test_undefined_tests_are_nan_not_significant():
    assert math.isnan(welch([1.0], [0.0, 1.0]).p)  # one run: no variance
    assert math.isnan(welch([1.0, 1.0], [0.0, 0.0]).p)  # no spread at all
    assert math.isnan(spearman_permutation([1, 1, 1, 1], [1, 2, 3, 4]).p)  # constant resolution


def test_spearman_permutation_exact():
    """A monotone pair of 6: ρ = 1, and only the identity of the 720 pairings reaches it; ties: average ranks."""
    r = spearman_permutation([1, 2, 3, 4, 5, 6], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6], "greater")
    assert r.estimate == pytest.approx(1.0) and r.p == pytest.approx(1 / 720)
    x, y = [1, 1, 2, 4, 4, 8, 8, 8], [0.1, 0.3, 0.2, 0.5, 0.4, 0.9, 0.7, 0.8]
    assert spearman_permutation(x, y).estimate == pytest.approx(scipy_stats.spearmanr(x, y).statistic)


# --------------------------------------------------------------------------------------------------------------------
# constructed runs for every verdict

TABLES = {
    "table1": {"datasets": ["syn", "tr"], "ipc": [1, 5], "methods": ["random", "dm", "good", "bad", "noisy", "david"]},
    "ablation": {"datasets": ["syn"], "ipc": [5], "methods": ["dm", "only_here"], "metric": "top5"},
}
METHODS = ["random", "dm", "good", "bad", "noisy", "david", "only_here", "nowhere"]
# per-run accuracies (fractions) of every cell: dataset -> method -> runs, the same at both IPCs
ACC = {
    "syn": {
        "random": [0.20, 0.21, 0.19, 0.20],
        "dm": [0.30, 0.31, 0.29, 0.30],
        "good": [0.40, 0.41, 0.39, 0.40],
        "bad": [0.10, 0.11, 0.09, 0.10],
        "noisy": [0.05, 0.45, 0.15, 0.40],
        "david": [0.32, 0.33, 0.31, 0.32],
    },
    "tr": {
        "random": [0.20, 0.21, 0.19, 0.20],
        "dm": [0.30, 0.31, 0.29, 0.30],
        "good": [0.40, 0.41, 0.39, 0.40],
        "bad": [0.10, 0.11, 0.09, 0.10],
        "noisy": [0.05, 0.45, 0.15, 0.40],
        "david": [0.40, 0.41, 0.39, 0.40],
    },
}


def table1_runs():
    rows = [
        dict(dataset=d, method=m, ipc=ipc, arch="convnet3d", run=r, top1=a, top5=a)
        for d, by_method in ACC.items()
        for m, accs in by_method.items()
        for ipc in (1, 5)
        for r, a in enumerate(accs)
    ]
    rows += [
        dict(dataset="syn", method="good", ipc=1, arch="r3d_18", run=0, top1=0.0, top5=0.0)
    ]  # another student: ignored
    return pd.DataFrame(rows)


def ablation_runs():
    return pd.DataFrame(
        [
            dict(dataset="syn", method=m, ipc=5, arch="convnet3d", run=r, top1=0.0, top5=a)
            for m, accs in {"dm": [0.5, 0.52, 0.48], "only_here": [0.7, 0.72, 0.68]}.items()
            for r, a in enumerate(accs)
        ]
    )


def resolution_table(dataset, ipc, resolutions, deltas):
    return pd.DataFrame(
        {
            "dataset": dataset,
            "ipc": ipc,
            "seed": 0,
            "class": [f"c{i}" for i in range(len(deltas))],
            "kind": ["appearance" if d < 0.2 else "motion" for d in deltas],
            "resolution": resolutions,
            "delta": deltas,
        }
    )


RESOLUTION = pd.concat(
    [
        resolution_table(
            "syn", 1, [1, 1, 2, 2, 4, 4, 8, 8], [0.0, 0.05, 0.1, 0.15, 0.3, 0.35, 0.5, 0.6]
        ),  # rises: holds
        resolution_table(
            "syn", 5, [8, 8, 4, 4, 2, 2, 1, 1], [0.0, 0.05, 0.1, 0.15, 0.3, 0.35, 0.5, 0.6]
        ),  # falls: fails
        resolution_table("tr", 1, [4, 4, 4, 4], [0.3, 0.35, 0.5, 0.6]),  # one resolution for all: inconclusive
    ],
    ignore_index=True,
)
RESOLUTION_CONFIG = {"datasets": ["syn", "tr"], "ipc": [1, 5], "method": "david"}


def claims(statements, resolution=RESOLUTION, resolution_config=RESOLUTION_CONFIG, tables=TABLES):
    plan = plan_claims(statements, tables, list(tables), resolution_config, METHODS, ["syn", "tr", "other"])
    runs = {"table1": table1_runs(), "ablation": ablation_runs()}
    out = evaluate_claims(plan, runs, resolution, "convnet3d", {"dm": "DM", "random": "Random"}, 0.05, 2000, 0)
    return plan, out


def test_compare_claims_give_each_verdict():
    statements = {
        "beats": {
            "kind": "compare",
            "methods": ["good", "bad", "noisy", "nowhere"],
            "baseline": "random",
            "datasets": ["syn"],
            "ipc": [1],
        }
    }
    _, out = claims(statements)
    verdicts = dict(zip(out["method"], out["verdict"]))
    assert verdicts == {"good": "holds", "bad": "fails", "noisy": "inconclusive", "nowhere": "not run"}
    good = out.set_index("method").loc["good"]
    assert good["mean_method"] == pytest.approx(40.0) and good["mean_baseline"] == pytest.approx(20.0)
    assert good["std_method"] == pytest.approx(100 * np.std([0.40, 0.41, 0.39, 0.40], ddof=0)) and good["n_method"] == 4
    assert good["n"] == 8 and good["estimate"] == pytest.approx(20.0) and good["source"] == "table1"
    assert good["p_value"] == pytest.approx(
        welch([40, 41, 39, 40], [20, 21, 19, 20], "greater").p
    )  # the r3d_18 run is not in
    assert "good on syn: 40.0 ± 0.7 (n=4)" in good["numbers"] and "Random on syn: 20.0" in good["numbers"]
    assert "(table1, ablation) has nowhere on syn at IPC 1" in out.set_index("method").loc["nowhere", "reason"]


def test_compare_cells_come_from_the_first_listed_table_that_has_them_with_its_metric():
    """DM and only_here at IPC 5 are only in the top-5 ablation table; DM vs good at IPC 5 is in table1 (listed first);
    rows are sorted by claim id; a table not listed is never read."""
    statements = {
        "b": {"kind": "compare", "methods": ["only_here"], "baseline": "dm", "datasets": ["syn"], "ipc": [5]},
        "a": {"kind": "compare", "methods": ["good"], "baseline": "dm", "datasets": ["syn"], "ipc": [5]},
    }
    plan, out = claims(statements)
    assert [r["claim"] for r in plan] == ["a", "b"]
    assert [r["table"] for r in plan] == ["table1", "ablation"] and [r["metric"] for r in plan] == ["top1", "top5"]
    assert out["verdict"].tolist() == ["holds", "holds"]
    assert out.loc[1, "mean_method"] == pytest.approx(70.0)  # top-5 of the ablation table
    assert source_table(TABLES, [("syn", 1, "only_here")]) is None
    only_table1 = plan_claims(statements, TABLES, ["table1"], None, METHODS, ["syn"])
    assert [r["table"] for r in only_table1] == ["table1", None]


def test_one_run_per_cell_is_inconclusive():
    runs = table1_runs().groupby(["dataset", "method", "ipc", "arch"]).head(1)
    plan = plan_claims(
        {"x": {"kind": "compare", "methods": ["good"], "baseline": "random", "datasets": ["syn"], "ipc": [1]}},
        TABLES,
        ["table1"],
        None,
        METHODS,
        ["syn", "tr"],
    )
    out = evaluate_claims(plan, {"table1": runs}, None, "convnet3d", {}, 0.05)
    assert out["verdict"].tolist() == ["inconclusive"] and math.isnan(out.loc[0, "p_value"])


def test_gain_claims_give_each_verdict():
    """DAViD − DM is +10 on tr and +2 on syn: larger on tr holds, larger on syn fails; good − noisy's gain is noise;
    against a method that no table has, not run."""
    statements = {
        "tr_most": {
            "kind": "gain",
            "method": "david",
            "baseline": "dm",
            "larger_on": "tr",
            "than_on": "syn",
            "ipc": [1],
        },
        "syn_most": {
            "kind": "gain",
            "method": "david",
            "baseline": "dm",
            "larger_on": "syn",
            "than_on": "tr",
            "ipc": [1],
        },
        "noise": {
            "kind": "gain",
            "method": "good",
            "baseline": "noisy",
            "larger_on": "tr",
            "than_on": "syn",
            "ipc": [5],
        },
        "absent": {
            "kind": "gain",
            "method": "nowhere",
            "baseline": "dm",
            "larger_on": "tr",
            "than_on": "syn",
            "ipc": [1],
        },
    }
    _, out = claims(statements)
    out = out.set_index("claim")
    assert out["verdict"].to_dict() == {
        "tr_most": "holds",
        "syn_most": "fails",
        "noise": "inconclusive",
        "absent": "not run",
    }
    assert out.loc["tr_most", "estimate"] == pytest.approx(8.0) and out.loc["tr_most", "df"] == pytest.approx(12.0)
    assert out.loc["tr_most", "dataset"] == "tr vs syn" and out.loc["tr_most", "n"] == 16


def test_two_sided_gain_takes_its_direction_from_the_estimate():
    statements = {
        "tr": {
            "kind": "gain",
            "method": "david",
            "baseline": "dm",
            "larger_on": "tr",
            "than_on": "syn",
            "ipc": [1],
            "sided": "two",
        },
        "syn": {
            "kind": "gain",
            "method": "david",
            "baseline": "dm",
            "larger_on": "syn",
            "than_on": "tr",
            "ipc": [1],
            "sided": "two",
        },
    }
    _, out = claims(statements)
    assert out["claim"].tolist() == ["syn", "tr"] and out["verdict"].tolist() == ["fails", "holds"]
    assert out["alternative"].tolist() == ["two-sided"] * 2
    assert out.loc[0, "p_value"] == pytest.approx(out.loc[1, "p_value"])  # the same two-sided test


def test_resolution_claims_give_each_verdict():
    statements = {"res": {"kind": "resolution", "datasets": ["syn", "tr"], "ipc": [1, 5]}}
    plan, out = claims(statements)
    assert [(r["datasets"][0], r["ipc"]) for r in plan] == [("syn", 1), ("syn", 5), ("tr", 1), ("tr", 5)]
    assert out["verdict"].tolist() == ["holds", "fails", "inconclusive", "not run"]
    assert out.loc[0, "estimate"] > 0.9 and out.loc[0, "p_value"] < 0.01 and "Spearman" in out.loc[0, "test"]
    assert "motion: mean resolution 6.00 over 4" in out.loc[0, "numbers"]
    _, out = claims(
        {"res": {"kind": "resolution", "datasets": ["syn"], "ipc": [1]}}, resolution=None, resolution_config=None
    )
    assert out["verdict"].tolist() == ["not run"] and "david_resolution does not cover" in out.loc[0, "reason"]
    _, out = claims({"res": {"kind": "resolution", "method": "good", "datasets": ["syn"], "ipc": [1]}})
    assert out["verdict"].tolist() == ["not run"]  # the report is about david's sets, not good's


def keyframes_table(dataset, ipc, keyframes, deltas):
    return resolution_table(dataset, ipc, keyframes, deltas).rename(columns={"resolution": "keyframes"})


KEYFRAMES = pd.concat(
    [
        keyframes_table(
            "syn", 1, [2.0, 2.0, 2.5, 3.0, 4.0, 5.5, 6.0, 7.0], [0.0, 0.05, 0.1, 0.15, 0.3, 0.35, 0.5, 0.6]
        ),  # rises
        keyframes_table(
            "syn", 5, [7.0, 6.0, 5.5, 4.0, 3.0, 2.5, 2.0, 2.0], [0.0, 0.05, 0.1, 0.15, 0.3, 0.35, 0.5, 0.6]
        ),  # falls
        keyframes_table("tr", 1, [2.0, 2.0, 2.0, 2.0], [0.3, 0.35, 0.5, 0.6]),  # no insertion at all: inconclusive
    ],
    ignore_index=True,
)
KEYFRAMES_CONFIG = {"datasets": ["syn", "tr"], "ipc": [1, 5], "method": "prism"}


def keyframe_claims(statements, keyframes=KEYFRAMES, config=KEYFRAMES_CONFIG):
    plan = plan_claims(statements, TABLES, list(TABLES), RESOLUTION_CONFIG, [*METHODS, "prism"], ["syn", "tr"], config)
    return plan, evaluate_claims(
        plan, {"table1": table1_runs()}, RESOLUTION, "convnet3d", {"prism": "PRISM"}, 0.05, 2000, 0, keyframes=keyframes
    )


def test_keyframe_claims_read_prisms_report_and_give_each_verdict():
    """PRISM's key frames per class against Δ: the same Spearman test as DAViD's resolution, on PRISM's own report
    (negating its key frames flips the verdicts while DAViD's resolution table stays as it was)."""
    statements = {"kf": {"kind": "keyframes", "datasets": ["syn", "tr"], "ipc": [1, 5]}}
    plan, out = keyframe_claims(statements)
    assert [r["table"] for r in plan] == ["prism_keyframes"] * 4 and {r["method"] for r in plan} == {"prism"}
    assert out["verdict"].tolist() == ["holds", "fails", "inconclusive", "not run"]
    assert out.loc[0, "estimate"] > 0.9 and out.loc[0, "p_value"] < 0.01 and "Spearman" in out.loc[0, "test"]
    assert "motion: mean keyframes 5.62 over 4" in out.loc[0, "numbers"]
    assert out.loc[0, "statement"] == "PRISM's key frames per class rise with Δ on syn at IPC 1"
    assert "no classes of tr at IPC 5 in prism_keyframes" in out.loc[3, "reason"]
    flipped = KEYFRAMES.assign(keyframes=lambda t: -t["keyframes"])
    _, out = keyframe_claims(statements, keyframes=flipped)
    assert out["verdict"].tolist()[:2] == ["fails", "holds"]
    _, out = keyframe_claims(statements, keyframes=None, config=None)
    assert set(out["verdict"]) == {"not run"} and "prism_keyframes does not cover prism" in out.loc[0, "reason"]
    _, out = keyframe_claims({"kf": {"kind": "keyframes", "method": "good", "datasets": ["syn"], "ipc": [1]}})
    assert out["verdict"].tolist() == ["not run"]  # the report is about prism's sets


def test_unknown_methods_and_datasets_are_config_errors():
    with pytest.raises(ValueError, match=r"claims.statements.x names method 'typo'"):
        plan_claims(
            {"x": {"kind": "compare", "methods": ["typo"], "baseline": "dm", "datasets": ["syn"], "ipc": [1]}},
            TABLES,
            ["table1"],
            None,
            METHODS,
            ["syn"],
        )
    with pytest.raises(ValueError, match=r"claims.statements.x names dataset 'nope'"):
        plan_claims(
            {
                "x": {
                    "kind": "gain",
                    "method": "dm",
                    "baseline": "random",
                    "larger_on": "nope",
                    "than_on": "syn",
                    "ipc": [1],
                }
            },
            TABLES,
            ["table1"],
            None,
            METHODS,
            ["syn"],
        )
    statement = {"x": {"kind": "compare", "methods": ["good"], "baseline": "dm", "datasets": ["syn"], "ipc": [1]}}
    unconfigured = plan_claims(statement, TABLES, ["table9"], None, METHODS, ["syn"])  # e.g. a config without table1
    assert (
        unconfigured[0]["table"] is None
        and "no table of claims.tables (none configured) has" in unconfigured[0]["reason"]
    )


def test_markdown_lists_every_row_and_counts_verdicts():
    statements = {
        "beats": {
            "kind": "compare",
            "methods": ["good", "bad", "noisy", "nowhere"],
            "baseline": "random",
            "datasets": ["syn"],
            "ipc": [1],
        }
    }
    _, out = claims(statements)
    md = render_claims_markdown(out, 0.05)
    assert "1 holds, 1 fails, 1 inconclusive, 1 not run" in md and md.count("| beats |") == 4
    assert "**not run**" in md and "has nowhere on syn" in md
    assert "Level α = 0.05" in render_claims_markdown(out.iloc[:0], 0.05)
