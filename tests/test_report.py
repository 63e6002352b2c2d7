"""The report's parts: the cost table from Snakemake benchmark files, the distilled-video strips and the accuracy
figures."""

import numpy as np
import pandas as pd
import pytest
import torch

from vidstill.data.clips import normalize
from vidstill.io import save_tensors
from vidstill.report.cost import cost_summary, gather_costs, read_benchmark, render_cost_markdown
from vidstill.report.figures import nonempty_png, plot_accuracy_vs_ipc, plot_accuracy_vs_storage
from vidstill.report.strips import distilled_frames, item_classes, plot_strip, strip_classes
from vidstill.synthetic_set import SyntheticSet

BENCHMARK = (
    "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"
    "12.95\t0:00:12\t893.65\t4959.37\t588.70\t704.61\t7.90\t2.55\t88.82\t11.96\n"
)


def test_benchmark_file_is_read_and_a_broken_one_is_named(tmp_path):
    good = tmp_path / "good.tsv"
    good.write_text(BENCHMARK)
    assert read_benchmark(good) == {"wall_s": 12.95, "max_rss_mb": 893.65, "cpu_s": 11.96, "mean_load": 88.82}
    bad = tmp_path / "bad.tsv"
    bad.write_text("s\th:m:s\n")
    with pytest.raises(ValueError, match="bad.tsv"):
        read_benchmark(bad)


def test_costs_keep_unmeasured_jobs_and_read_the_gpu_peak(tmp_path):
    (tmp_path / "d.tsv").write_text(BENCHMARK)
    (tmp_path / "e.tsv").write_text(BENCHMARK.replace("12.95", "3.00"))
    save_tensors({"x": torch.zeros(1)}, tmp_path / "set.safetensors", {"meta": {"gpu_peak_memory_bytes": 3 * 2**20}})
    jobs = [
        dict(
            stage="evaluate",
            dataset="a",
            method="dm",
            ipc=1,
            seed=0,
            job="",
            benchmark=str(tmp_path / "e.tsv"),
            artifact=None,
        ),
        dict(
            stage="distill",
            dataset="a",
            method="dm",
            ipc=1,
            seed=0,
            job="",
            benchmark=str(tmp_path / "d.tsv"),
            artifact=str(tmp_path / "set.safetensors"),
        ),
        dict(
            stage="teacher",
            dataset="a",
            method="",
            ipc=None,
            seed=None,
            job="convnet3d",
            benchmark=str(tmp_path / "none.tsv"),
        ),
    ]
    costs = gather_costs(jobs)
    assert costs["stage"].tolist() == ["teacher", "distill", "evaluate"]  # pipeline order
    assert costs["measured"].tolist() == [False, True, True] and np.isnan(costs.loc[0, "wall_s"])
    assert costs.loc[1, "gpu_peak_mb"] == 3.0 and np.isnan(costs.loc[2, "gpu_peak_mb"])
    summary = cost_summary(costs).set_index("stage")
    assert summary.loc["distill", "wall_s"] == 12.95 and summary.loc["evaluate", "wall_s"] == 3.0
    md = render_cost_markdown(costs, {"dm": "DM"})
    assert "| distill | DM | 1 | 12.9 |" in md and "1 job(s) without a benchmark file" in md
    with pytest.raises(ValueError, match="unknown stage"):
        gather_costs([{**jobs[0], "stage": "painting"}])


def test_strip_classes_spread_over_the_labels():
    assert strip_classes(12, 3) == [0, 6, 11] and strip_classes(2, 5) == [0, 1] and strip_classes(1, 3) == [0]
    with pytest.raises(ValueError):
        strip_classes(0, 3)


def test_soft_labelled_items_belong_to_the_class_they_were_made_for():
    """OptDistill's regions and TSGF's teacher labels may peak elsewhere; the class-major order says the class."""
    soft = torch.full((6, 3), 0.1)
    soft[:, 2] = 0.8  # every item's label peaks at class 2
    s = SyntheticSet({"videos": torch.zeros(6, 4, 3, 8, 8)}, soft, 3, 4)
    assert item_classes(s).tolist() == [0, 0, 1, 1, 2, 2]
    hard = SyntheticSet({"videos": torch.zeros(3, 4, 3, 8, 8)}, torch.tensor([2, 0, 1]), 3, 4)
    assert item_classes(hard).tolist() == [2, 0, 1]


def test_distilled_frames_are_what_students_see_in_image_range(tmp_path):
    frames = torch.randint(0, 256, (2, 2, 8, 8, 3), dtype=torch.uint8)  # two stored key frames per item
    s = SyntheticSet({"videos": frames}, torch.tensor([0, 1]), 3, 8)
    strip = distilled_frames(s, 1, 4)
    assert strip.shape == (4, 8, 8, 3) and strip.min() >= 0 and strip.max() <= 1
    expected = frames[1].float().numpy() / 255  # the stored frames, de-normalised back to [0, 1]
    assert np.allclose(strip[0], expected[0], atol=1e-5) and np.allclose(strip[-1], expected[1], atol=1e-5)
    assert distilled_frames(s, 2, 4) is None  # no item of class 2
    opt = SyntheticSet({"videos": normalize(frames).clone()}, torch.tensor([0, 1]), 3, 8)
    assert np.allclose(distilled_frames(opt, 1, 4), strip, atol=1e-5)


def cells():
    rows = []
    for dataset in ("d1", "d2"):
        rows.append(
            dict(
                dataset=dataset,
                ipc=1,
                method="full",
                label="Full Dataset",
                mean=50.0,
                std=1.0,
                published_mean=55.0,
                published_std=0.5,
                storage_mb=100.0,
            )
        )
        for method, label, base in (("dm", "DM", 10.0), ("david", "DAViD", 14.0)):
            for ipc in (1, 5):
                rows.append(
                    dict(
                        dataset=dataset,
                        ipc=ipc,
                        method=method,
                        label=label,
                        mean=base + ipc,
                        std=0.5,
                        published_mean=base + ipc + 1 if method == "dm" else np.nan,
                        published_std=0.2,
                        storage_mb=ipc * (1.0 if method == "dm" else 0.3),
                    )
                )
    return pd.DataFrame(rows)


def capture_figures(monkeypatch, module):
    """Keep every figure `module` saves (it is still written), to read the plotted data from its axes."""
    figures = []
    save = module.save_figure

    def keep(fig, path, *args, **kwargs):
        figures.append(fig)
        save(fig, path, *args, **kwargs)

    monkeypatch.setattr(module, "save_figure", keep)
    return figures


def test_strip_shows_each_methods_frames_per_class_and_marks_the_missing(tmp_path, monkeypatch):
    from vidstill.report import strips

    figures = capture_figures(monkeypatch, strips)
    g = np.random.default_rng(0)
    a, b = g.random((2, 4, 4, 3)), g.random((2, 4, 4, 3))
    plot_strip([("real", [a, None]), ("m", [b, a])], ["x", "y"], tmp_path / "strip.png")
    assert nonempty_png(tmp_path / "strip.png")
    axes = np.array(figures[0].axes).reshape(2, 4)  # 2 rows x (2 classes x 2 frames)
    shown = {(r, k): ax.images[0].get_array() if ax.images else None for (r, k), ax in np.ndenumerate(axes)}
    for (r, k), expected in {
        (0, 0): a[0],
        (0, 1): a[1],
        (1, 0): b[0],
        (1, 1): b[1],
        (1, 2): a[0],
        (1, 3): a[1],
    }.items():
        assert np.allclose(shown[r, k], expected)
    assert shown[0, 2] is None and axes[0, 2].texts[0].get_text() == "none"
    assert [axes[0, 0].get_title(loc="left"), axes[0, 2].get_title(loc="left")] == ["x", "y"]
    assert [axes[r, 0].get_ylabel() for r in range(2)] == ["real", "m"]


def plotted(ax):
    """The (x, y) of every line of one panel with more than one point (horizontal lines included)."""

    def values(v):
        return tuple(round(float(a), 6) for a in np.asarray(v, dtype=float))

    lines = {(values(line.get_xdata()), values(line.get_ydata())) for line in ax.lines}
    return {xy for xy in lines if len(xy[0]) > 1}


def test_accuracy_figures_plot_the_cells(tmp_path, monkeypatch):
    """Per dataset panel: each method's mean against IPC (equally spaced x), its published numbers, the Full Dataset
    row and its published number as horizontal lines; against storage, each cell at (MB, mean) on a log x axis."""
    from vidstill.report import figures as fig_module

    figures = capture_figures(monkeypatch, fig_module)
    data = cells()
    data.loc[data["dataset"] == "d2", "mean"] += 20  # the second panel has its own numbers
    plot_accuracy_vs_ipc(data, tmp_path / "ipc.png")
    plot_accuracy_vs_storage(data, tmp_path / "storage.png")
    assert nonempty_png(tmp_path / "ipc.png") and nonempty_png(tmp_path / "storage.png")
    ipc_fig, storage_fig = figures
    for ax, shift in zip(ipc_fig.axes[:2], (0, 20)):
        lines = plotted(ax)
        assert ((0, 1), (11 + shift, 15 + shift)) in lines and ((0, 1), (15 + shift, 19 + shift)) in lines  # DM, DAViD
        assert ((0, 1), (12, 16)) in lines  # DM's published numbers
        flat = {y[0] for x, y in lines if len(set(y)) == 1}
        assert {50 + shift, 55} <= flat  # Full Dataset, ours and published
    assert [t.get_text() for t in ipc_fig.axes[0].get_xticklabels()] == ["1", "5"]
    for ax, shift in zip(storage_fig.axes[:2], (0, 20)):
        assert ax.get_xscale() == "log"
        points = {
            (round(float(line.get_xdata()[0]), 6), round(float(line.get_ydata()[0]), 6))
            for line in ax.lines
            if len(line.get_xdata()) == 1 and line.get_marker() not in ("_", "|", "None", None, "")
        }
        assert {
            (1.0, 11 + shift),
            (5.0, 15 + shift),
            (0.3, 15 + shift),
            (1.5, 19 + shift),
            (100.0, 50 + shift),
        } <= points
