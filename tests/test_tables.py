"""Tables: mean ± std over runs, Full Dataset first, published numbers and differences where the names match."""

import numpy as np
import pandas as pd
import pytest

from vidstill.report.tables import build_table, render_markdown, summarize

PUBLISHED = pd.DataFrame(
    [
        dict(paper="IDTD", table=1, dataset="MiniUCF", ipc="1", method="Random", metric="top1", mean=9.9, std=0.8),
        dict(
            paper="IDTD",
            table=1,
            dataset="MiniUCF",
            ipc="full",
            method="Full Dataset",
            metric="top1",
            mean=57.22,
            std=0.14,
        ),
    ]
)


def runs(dataset="mini"):
    rows = []
    for method, ipc, accs in [
        ("full", 0, [0.5, 0.6, 0.7]),
        ("random", 1, [0.10, 0.12, 0.14]),
        ("random", 5, [0.2, 0.2, 0.2]),
    ]:
        for run, a in enumerate(accs):
            rows.append(
                dict(
                    dataset=dataset,
                    method=method,
                    ipc=ipc,
                    arch="convnet3d",
                    run=run,
                    top1=a,
                    top5=a,
                    selection="final",
                    soft_labels=False,
                    distill_seed=0,
                )
            )
    return pd.DataFrame(rows)


def test_summary_is_mean_and_population_std_in_percent():
    s = summarize(runs())
    r = s[(s.method == "random") & (s.ipc == 1)].iloc[0]
    assert (
        r["mean"] == pytest.approx(12.0)
        and r["std"] == pytest.approx(100 * np.std([0.10, 0.12, 0.14]))
        and r["runs"] == 3
    )


def test_wide_table_with_published_numbers():
    spec = {"datasets": ["mini"], "ipc": [1, 5], "methods": ["random"], "full": True}
    methods = {"random": {"label": "Random"}}
    wide, long = build_table(runs(), spec, methods, {"mini": "MiniUCF"}, PUBLISHED, "convnet3d")
    assert wide["method"].tolist() == ["Full Dataset", "Random"]
    assert wide["mini IPC 1"].tolist() == ["60.0 ± 8.2", "12.0 ± 1.6"]
    assert wide["mini IPC 1 published"].tolist() == ["57.2 ± 0.1", "9.9 ± 0.8"]
    assert wide["mini IPC 1 difference"].tolist() == ["+2.8", "+2.1"]
    assert wide["mini IPC 5 published"].tolist() == ["57.2 ± 0.1", ""]  # Random has nothing published at IPC 5
    md = render_markdown(wide, long, "table1", "note")
    assert "12.0 ± 1.6 †" in md and "60.0 ± 8.2 †" in md  # both differ by more than 2 published std


def test_missing_runs_are_an_error_not_a_blank():
    spec = {"datasets": ["mini"], "ipc": [10], "methods": ["random"], "full": False}
    with pytest.raises(ValueError, match="no evaluation runs"):
        build_table(runs(), spec, {}, {}, PUBLISHED, "convnet3d")


def test_published_names_and_the_reproduced_table():
    """A method found under any of its names (DAViD calls MTT+VDSD "VDSD"); a table naming its published source
    compares only with that table's rows, under that table's name for a method (DAViD Table 4: DM is row A)."""
    published = pd.DataFrame(
        [
            dict(paper="IDTD", table=1, dataset="TR", ipc="1", method="Random", metric="top1", mean=5.0, std=0.5),
            dict(paper="DAViD", table=1, dataset="TR", ipc="1", method="VDSD", metric="top1", mean=12.2, std=1.0),
            dict(paper="DAViD", table=1, dataset="TR", ipc="1", method="Random", metric="top1", mean=6.0, std=0.1),
            dict(
                paper="DAViD",
                table=4,
                dataset="TR",
                ipc="1",
                method="A: no RL partitioning",
                metric="top1",
                mean=15.4,
                std=0.2,
            ),
        ]
    )
    data = runs("tr").replace({"method": {"random": "mtt_vdsd"}})
    methods = {"mtt_vdsd": {"label": "MTT+VDSD", "published_as": ["MTT+VDSD", "VDSD"]}}
    spec = {"datasets": ["tr"], "ipc": [1], "methods": ["mtt_vdsd"], "full": False}
    _, long = build_table(data, spec, methods, {"tr": "TR"}, published, "convnet3d")
    assert long["published_mean"].tolist() == [12.2]
    data = runs("tr")
    spec_any = {"datasets": ["tr"], "ipc": [1], "methods": ["random"], "full": False}
    _, long = build_table(data, spec_any, {"random": {"label": "Random"}}, {"tr": "TR"}, published, "convnet3d")
    assert long["published_mean"].tolist() == [5.0]  # no source named: the first paper listing it
    spec_david = {**spec_any, "published": {"paper": "DAViD", "table": 1}}
    _, long = build_table(data, spec_david, {"random": {"label": "Random"}}, {"tr": "TR"}, published, "convnet3d")
    assert long["published_mean"].tolist() == [6.0]
    data = runs("tr").replace({"method": {"random": "dm"}})
    spec_t4 = {
        "datasets": ["tr"],
        "ipc": [1],
        "methods": ["dm"],
        "full": False,
        "published": {"paper": "DAViD", "table": 4, "names": {"dm": "A: no RL partitioning"}},
    }
    _, long = build_table(data, spec_t4, {"dm": {"label": "DM"}}, {"tr": "TR"}, published, "convnet3d")
    assert long["published_mean"].tolist() == [15.4]
    spec_t4_unnamed = {**spec_t4, "published": {"paper": "DAViD", "table": 4}}
    _, long = build_table(data, spec_t4_unnamed, {"dm": {"label": "DM"}}, {"tr": "TR"}, published, "convnet3d")
    assert long["published_mean"].isna().all()  # DM is not a row of Table 4 under its own name


def test_every_method_carries_its_difference_to_random_and_welch_p():
    """dm beats Random at IPC 1 by 8 points over 3 runs each: its difference and two-sided Welch p stand beside it, the
    markdown marks it with *; Random itself and the Full Dataset row (another recipe) have none."""
    from vidstill.report.stats import welch

    dm = runs().query("method == 'random'").assign(method="dm")
    dm["top1"] = dm["top1"] + 0.08
    data = pd.concat([runs(), dm], ignore_index=True)
    spec = {"datasets": ["mini"], "ipc": [1, 5], "methods": ["random", "dm"], "full": True}
    methods = {"random": {"label": "Random"}, "dm": {"label": "DM"}}
    wide, long = build_table(data, spec, methods, {}, PUBLISHED, "convnet3d")
    cell = long.set_index(["method", "ipc"])
    assert cell.loc[("dm", 1), "vs_random"] == pytest.approx(8.0)
    assert cell.loc[("dm", 1), "p_vs_random"] == pytest.approx(welch([18, 20, 22], [10, 12, 14]).p)
    assert np.isnan(cell.loc[("random", 1), "p_vs_random"]) and np.isnan(cell.loc[("full", 1), "vs_random"])
    assert np.isnan(cell.loc[("dm", 5), "p_vs_random"])  # no spread in either cell: undefined, not significant
    assert wide["mini IPC 1 vs_random"].tolist() == ["", "", "+8.0"]
    assert wide["mini IPC 1 p_vs_random"].tolist() == ["", "", f"{cell.loc[('dm', 1), 'p_vs_random']:.3g}"]
    md = render_markdown(wide, long, "t", "note", alpha=0.05)
    assert "| +8.0 * |" in md and "p_vs_random" not in md and "* differs from Random at p < 0.05" in md
    assert "| +8.0 |" in render_markdown(wide, long, "t", "note", alpha=0.001)


def test_per_kind_accuracy_from_per_class_runs():
    """Each run's mean over a kind's classes, then mean ± std over runs; the kinds come from the generator's classes.csv
    by class name, so a subset's own labels are matched to its parent's classes."""
    from vidstill.report.tables import class_kinds

    classes = pd.DataFrame(
        {"class": ["Red", "Slide", "Blue", "Spin"], "kind": ["appearance", "motion", "appearance", "motion"]}
    )
    test_clips = pd.DataFrame({"label": [0, 0, 1, 2], "class": ["Spin", "Spin", "Red", "Slide"]})  # a subset of three
    kinds = class_kinds(test_clips, classes)
    assert kinds == ["motion", "appearance", "motion"]
    data = runs()
    data["per_class"] = [[0.2, 1.0, 0.0], [0.4, 1.0, 0.2], [0.6, 0.8, 0.0]] * 3
    spec = {"datasets": ["mini"], "ipc": [1], "methods": ["random"], "full": True}
    wide, long = build_table(data, spec, {"random": {"label": "Random"}}, {}, PUBLISHED, "convnet3d", {"mini": kinds})
    motion_runs = 100 * np.array([0.1, 0.3, 0.3])
    assert long.loc[1, "motion_classes_mean"] == pytest.approx(motion_runs.mean())
    assert long.loc[1, "motion_classes_std"] == pytest.approx(motion_runs.std())
    assert long.loc[1, "appearance_classes_mean"] == pytest.approx(100 * (1.0 + 1.0 + 0.8) / 3)
    assert [c for c in wide.columns if c.endswith("classes")] == [
        "mini IPC 1 appearance classes",
        "mini IPC 1 motion classes",
    ]
    md = render_markdown(wide, long, "t", "note")
    assert "## Accuracy by class kind" in md and "| Random | 93.3 ± 9.4 | 23.3 ± 9.4 |" in md
    with pytest.raises(ValueError, match="no kind"):
        class_kinds(pd.DataFrame({"label": [0], "class": ["Other"]}), classes)


def test_the_metric_the_architecture_and_the_dagger_where_due():
    """top5 differs from top1 in every run and a cross-architecture student (r3d_18) has its own numbers: a table of
    metric top5 for convnet3d shows only convnet3d's top-5 and compares with the published top-5 row. † marks only the
    cell outside the published mean ± 2 std (Random at IPC 1: 12.0 against 9.9 ± 0.8), not the one inside it (Full:
    60.0 ± 8.2 against a published 57.2 ± 2.0)."""
    data = runs()
    data["top5"] = data["top1"] + 0.3
    other = runs().assign(arch="r3d_18", top1=0.99, top5=0.99)
    published = pd.concat(
        [PUBLISHED.assign(metric="top5", mean=PUBLISHED["mean"] + 30), PUBLISHED.assign(std=[0.8, 2.0])],
        ignore_index=True,
    )
    spec = {"datasets": ["mini"], "ipc": [1], "methods": ["random"], "full": True}
    methods = {"random": {"label": "Random"}}
    wide, long = build_table(
        pd.concat([data, other], ignore_index=True),
        {**spec, "metric": "top5"},
        methods,
        {"mini": "MiniUCF"},
        published,
        "convnet3d",
    )
    assert wide["mini IPC 1"].tolist() == ["90.0 ± 8.2", "42.0 ± 1.6"]
    assert wide["mini IPC 1 published"].tolist() == ["87.2 ± 0.1", "39.9 ± 0.8"]
    wide, long = build_table(
        pd.concat([data, other], ignore_index=True), spec, methods, {"mini": "MiniUCF"}, published, "convnet3d"
    )
    assert wide["mini IPC 1"].tolist() == ["60.0 ± 8.2", "12.0 ± 1.6"]
    assert long["outside_2std"].tolist() == [False, True]
    md = render_markdown(wide, long, "table1", "note")
    assert "| 12.0 ± 1.6 † |" in md and "60.0 ± 8.2 †" not in md and "| 60.0 ± 8.2 |" in md
    wide, _ = build_table(
        pd.concat([data, other], ignore_index=True), spec, methods, {"mini": "MiniUCF"}, published, "r3d_18"
    )
    assert wide["mini IPC 1"].tolist() == ["99.0 ± 0.0", "99.0 ± 0.0"]


def test_the_note_names_methods_trained_by_their_own_recipe():
    from vidstill.report.tables import protocol_note

    data = runs().assign(epochs=40, optimizer="sgd", schedule="step", lr=0.01)
    frepo = (
        runs()
        .query("method == 'random'")
        .assign(method="frepo", epochs=1000, optimizer="adamw", schedule="warmup_cosine", lr=1e-4)
    )
    mtt = (
        runs().query("method == 'random'").assign(method="mtt", epochs=40, optimizer="sgd", schedule="step", lr=0.0123)
    )
    note = protocol_note(
        pd.concat([data, frepo, mtt], ignore_index=True), {"epochs": 40, "runs": 3, "test_passes": 3}, "top1"
    )
    assert (
        "students trained by their method's own recipe: frepo (adamw, lr 0.0001, 1000 epochs, warmup_cosine);" in note
    )
    assert "own recipe" not in protocol_note(data, {"epochs": 40, "runs": 3, "test_passes": 3}, "top1")


def labelled_runs():
    """Full 60 %, Random 12 % (native = hard) and 20 % under soft labels; FRePo (learned labels) 30 % native, 16 % hard,
    34 % soft; DM (hard labels) 14 % native, 18 % soft."""
    rows = []
    spec = [
        ("full", 0, "native", False, [0.6, 0.6]),
        ("random", 1, "native", False, [0.11, 0.13]),
        ("random", 1, "soft", False, [0.2, 0.2]),
        ("frepo", 1, "native", True, [0.3, 0.3]),
        ("frepo", 1, "hard", True, [0.15, 0.17]),
        ("frepo", 1, "soft", True, [0.34, 0.34]),
        ("dm", 1, "native", False, [0.14, 0.14]),
        ("dm", 1, "soft", False, [0.18, 0.18]),
    ]
    for method, ipc, protocol, soft, accs in spec:
        for run, a in enumerate(accs):
            rows.append(
                dict(
                    dataset="mini",
                    method=method,
                    ipc=ipc,
                    arch="convnet3d",
                    run=run,
                    top1=a,
                    top5=a,
                    protocol=protocol,
                    selection="final",
                    soft_labels=soft,
                    distill_seed=0,
                )
            )
    return pd.DataFrame(rows)


def test_label_protocol_columns_and_dd_ranking_scores():
    from vidstill.report.tables import label_robust_score

    spec = {"datasets": ["mini"], "ipc": [1], "methods": ["random", "frepo", "dm"], "full": True}
    methods = {"random": {"label": "Random"}, "frepo": {"label": "FRePo"}, "dm": {"label": "DM"}}
    wide, long = build_table(labelled_runs(), spec, methods, {}, PUBLISHED.iloc[:0], "convnet3d")
    # the main cells stay each method's own labels; hard / soft beside them (a hard-label set's hard = its native)
    assert wide["mini IPC 1"].tolist() == ["60.0 ± 0.0", "12.0 ± 1.0", "30.0 ± 0.0", "14.0 ± 0.0"]
    assert wide["mini IPC 1 hard"].tolist() == ["", "12.0 ± 1.0", "16.0 ± 1.0", "14.0 ± 0.0"]
    assert wide["mini IPC 1 soft"].tolist() == ["", "20.0 ± 0.0", "34.0 ± 0.0", "18.0 ± 0.0"]
    by = long.set_index("method")
    # HLR = full - syn under hard labels; IOR = syn under its own labels - Random under the same kind of labels
    assert by.loc["frepo", "HLR"] == pytest.approx(60 - 16) and by.loc["frepo", "IOR"] == pytest.approx(30 - 20)
    assert by.loc["dm", "HLR"] == pytest.approx(60 - 14) and by.loc["dm", "IOR"] == pytest.approx(14 - 12)
    assert by.loc["random", "HLR"] == pytest.approx(48) and np.isnan(by.loc["random", "IOR"])
    assert by.loc["frepo", "LRS"] == pytest.approx(label_robust_score(44, 10))
    assert wide["mini IPC 1 LRS"].tolist()[2] == f"{label_robust_score(44, 10):.1f}"
    md = render_markdown(wide, long, "table1", "note")
    assert (
        "## Label protocols and DD-Ranking scores" in md
        and "| FRePo | 30.0 ± 0.0 | 16.0 ± 1.0 | 34.0 ± 0.0 | +44.0 | +10.0 |" in md
    )
    main_header = md.split("\n")[4]
    assert " hard" not in main_header and "LRS" not in main_header  # the main table keeps its columns


def test_label_robust_score_matches_dd_rankings_normalisation():
    """LRS = 100 (e^a - e^-1) / (e - e^-1), a = w IOR - (1 - w) HLR on fractions: 0 at a = -1, 100 at a = 1."""
    from vidstill.report.tables import label_robust_score

    assert label_robust_score(100, -100) == pytest.approx(0.0)
    assert label_robust_score(-100, 100) == pytest.approx(100.0)
    assert label_robust_score(0, 0) == pytest.approx(100 * (1 - np.exp(-1)) / (np.e - np.exp(-1)))
    assert label_robust_score(40, 10, weight=1.0) == pytest.approx(label_robust_score(0, 10, weight=1.0))


def test_tables_without_label_protocols_keep_their_columns():
    spec = {"datasets": ["mini"], "ipc": [1, 5], "methods": ["random"], "full": True}
    wide, long = build_table(runs(), spec, {"random": {"label": "Random"}}, {}, PUBLISHED.iloc[:0], "convnet3d")
    assert not [c for c in wide.columns if c.endswith((" hard", " soft", " HLR", " IOR", " LRS"))]
    assert "Label protocols" not in render_markdown(wide, long, "table1", "note")
