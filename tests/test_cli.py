"""`vidstill` export / evaluate / import-vdsd: an exported set evaluates exactly as the workflow's artifact, the
portable view is the set's frames, the reference code's tensor files convert and evaluate, malformed input is refused
naming the file and the reason with nothing written, and the label protocols train on what they claim."""

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
import torch
from conftest import REPO

from vidstill.cli import main
from vidstill.data.clips import ClipSpec, ClipStore, extract_clips
from vidstill.evaluate import TeacherLabelled, evaluate_set
from vidstill.export import SetFormatError, load_any_set, portable_frames, write_export
from vidstill.models import build_model
from vidstill.synthetic_set import SyntheticSet
from vidstill.teacher import save_teacher, teacher_softmax

CPU = torch.device("cpu")
PROTOCOL = dict(epochs=2, lr=0.01, batch_size=4, runs=2, test_passes=1)
STUDENT = {"arch": "convnet3d", "widths": [4, 8, 8]}
SMOKE = REPO / "config" / "smoke.yaml"


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """A results directory with one dataset, 'toy': 2 classes (c0 dark, c1 bright), 8-frame 48² test clips, and a
    small teacher."""
    root = tmp_path_factory.mktemp("results")
    videos = root / "videos"
    videos.mkdir()
    rows = []
    for i in range(4):
        path = videos / f"v{i}.avi"
        w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25, (64, 48))
        for _ in range(12):
            w.write(np.full((48, 64, 3), 40 + 150 * (i % 2), np.uint8))
        w.release()
        rows.append(
            dict(
                id=f"v{i}",
                path=str(path),
                **{"class": f"c{i % 2}"},
                label=i % 2,
                split="test",
                group=f"g{i}",
                frames=12,
                fps=25.0,
                width=64,
                height=48,
                error="",
            )
        )
    spec = ClipSpec(frames=8, stride=1, sampling="stride", resize=None, crop=48, max_stored=12)
    clips = root / "toy" / "clips"
    clips.mkdir(parents=True)
    extract_clips(pd.DataFrame(rows), ["test"], spec, clips / "test.npy", clips / "test.parquet", progress=False)
    torch.manual_seed(0)
    arch = {"arch": "convnet3d", "widths": [4, 8, 8], "norm": "none", "num_classes": 2, "frames": 8, "size": 48}
    save_teacher(
        build_model("convnet3d", 2, 8, 48, widths=(4, 8, 8)), arch, root / "toy" / "teacher" / "convnet3d.safetensors"
    )
    return root


def toy_sets() -> dict[str, SyntheticSet]:
    """One set of each storage layout the methods use (their expansions are those of synthetic_set.py)."""
    g = torch.Generator().manual_seed(0)
    labels = torch.tensor([0, 0, 1, 1])
    return {
        "float videos, hard labels (DM)": SyntheticSet(
            {"videos": torch.randn(4, 8, 3, 48, 48, generator=g)}, labels, 2, 8, meta={"method": "dm", "seed": 3}
        ),
        "uint8 key frames (KeyFrame)": SyntheticSet(
            {"videos": torch.randint(0, 256, (4, 2, 48, 48, 3), dtype=torch.uint8, generator=g)}, labels, 2, 8
        ),
        "partitioned frames (DAViD)": SyntheticSet(
            {"frames": torch.randn(7, 3, 48, 48, generator=g), "item_frames": torch.tensor([1, 2, 1, 3])},
            labels,
            2,
            8,
            "partitioned",
        ),
        "learned labels, mse (FRePo)": SyntheticSet(
            {"videos": torch.randn(4, 8, 3, 48, 48, generator=g)},
            torch.randn(4, 2, generator=g),
            2,
            8,
            label_loss="mse",
            lr=0.02,
        ),
        "temporal interval (IDTD)": SyntheticSet(
            {"videos": torch.randn(4, 8, 3, 48, 48, generator=g)}, labels, 2, 8, "temporal_interval", {"min_span": 0.5}
        ),
    }


def test_console_script_runs():
    exe = Path(sys.executable).parent / "vidstill"
    if not exe.exists():
        pytest.skip(f"{exe}: the package is not installed in this interpreter's environment (uv sync installs it)")
    proc = subprocess.run([str(exe), "--help"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert all(c in proc.stdout for c in ("export", "evaluate", "import-vdsd"))


@pytest.mark.parametrize("name", list(toy_sets()))
def test_export_round_trip_is_exact_and_evaluates_the_same(name, results, tmp_path):
    s = toy_sets()[name]
    write_export(s, tmp_path / "out", ["c0", "c1"], STUDENT)
    back, info = load_any_set(tmp_path / "out")
    assert info["class_names"] == ["c0", "c1"] and info["labels"]["kind"] == ("soft" if s.soft_labels else "hard")
    assert json.loads((tmp_path / "out" / "set.json").read_text()) == info
    assert back.tensors.keys() == s.tensors.keys() and all(
        torch.equal(back.tensors[k], s.tensors[k]) for k in s.tensors
    )
    assert torch.equal(back.labels, s.labels) and (back.expansion, back.lr, back.label_loss) == (
        s.expansion,
        s.lr,
        s.label_loss,
    )
    test = ClipStore.open(results / "toy" / "clips" / "test.parquet")
    ours = evaluate_set(s, test, PROTOCOL, STUDENT, 7, CPU)
    theirs = evaluate_set(back, test, PROTOCOL, STUDENT, 7, CPU)
    pd.testing.assert_frame_equal(ours.drop(columns="train_seconds"), theirs.drop(columns="train_seconds"))


@pytest.mark.parametrize("name", list(toy_sets()))
def test_portable_view_is_the_sets_frames(name, tmp_path):
    """A reader without vidstill rebuilds every clip from `frames` + `item_frames` (to 8-bit rounding)."""
    s = toy_sets()[name]
    frames, counts = portable_frames(s)
    assert frames.dtype == torch.uint8 and frames.shape[1:] == (48, 48, 3) and int(counts.sum()) == frames.shape[0]
    write_export(s, tmp_path / "out", None, None)
    from safetensors.torch import load_file

    raw = load_file(str(tmp_path / "out" / "set.safetensors"))
    offsets = torch.cumsum(raw["item_frames"], 0) - raw["item_frames"]
    for i in range(len(s)):
        n = int(raw["item_frames"][i])
        clip = raw["frames"][offsets[i] : offsets[i] + n][torch.arange(8) * n // 8]  # the rule the sidecar states
        expected = s.videos([i])[0]  # as a student sees it, deterministic draw
        from vidstill.export import to_uint8_frames

        assert (clip.int() - to_uint8_frames(expected).int()).abs().max() <= 1


def test_previews_one_gif_per_class_and_a_contact_sheet(tmp_path):
    from PIL import Image

    write_export(toy_sets()["float videos, hard labels (DM)"], tmp_path / "out", ["c0", "c1"], None, preview=True)
    preview = tmp_path / "out" / "preview"
    gifs = sorted(preview.glob("*.gif"))
    assert [g.name for g in gifs] == ["000_c0.gif", "001_c1.gif"]
    with Image.open(gifs[0]) as im:
        assert im.n_frames == 8 and im.size == (2 * 48 * 2 + 2 * 2, 48 * 2)  # two items side by side, 2x, a 2 px gap
    assert (preview / "contact_sheet.png").stat().st_size > 1000


def test_cli_export_then_evaluate_prints_and_writes_the_runs(results, tmp_path, capsys):
    artifact = tmp_path / "seed3.safetensors"
    toy_sets()["float videos, hard labels (DM)"].save(artifact)
    assert (
        main(
            [
                "export",
                str(artifact),
                "--out",
                str(tmp_path / "exp"),
                "--dataset",
                "toy",
                "--results",
                str(results),
                "--configfile",
                str(SMOKE),
            ]
        )
        == 0
    )
    assert json.loads((tmp_path / "exp" / "set.json").read_text())["class_names"] == ["c0", "c1"]
    out = tmp_path / "runs.parquet"
    assert (
        main(
            [
                "evaluate",
                str(tmp_path / "exp"),
                "--dataset",
                "toy",
                "--runs",
                "1",
                "--results",
                str(results),
                "--configfile",
                str(SMOKE),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    runs = pd.read_parquet(out)
    assert len(runs) == 1 and runs["protocol"].tolist() == ["native"] and runs["top1"].between(0, 1).all()
    assert "top-1" in capsys.readouterr().out
    # the seed defaults to the set's distillation seed, as in the workflow's evaluate rule
    direct = evaluate_set(
        toy_sets()["float videos, hard labels (DM)"],
        ClipStore.open(results / "toy/clips/test.parquet"),
        {**smoke_protocol(), "runs": 1},
        smoke_student(),
        3,
        CPU,
    )
    assert runs["top1"].tolist() == direct["top1"].tolist() and runs["seed"].tolist() == direct["seed"].tolist()


def smoke_protocol():
    from vidstill.cli import eval_protocol, load_config

    return eval_protocol(load_config(SMOKE), None)


def smoke_student():
    from vidstill.cli import load_config

    return load_config(SMOKE)["student"]


def reference_file(path: Path, n: int = 4, frames: int = 8) -> Path:
    """A set as VDSD's reference code saves one: torch.save of float (N, T, C, H, W), class-major, no labels."""
    torch.save(torch.randn(n, frames, 3, 48, 48, generator=torch.Generator().manual_seed(1)), path)
    return path


def test_reference_tensor_file_converts_and_evaluates(results, tmp_path):
    ref = reference_file(tmp_path / "images_best.pt")
    assert (
        main(["import-vdsd", str(ref), "--out", str(tmp_path / "imp"), "--dataset", "toy", "--results", str(results)])
        == 0
    )
    s, info = load_any_set(tmp_path / "imp")
    assert torch.equal(s.tensors["videos"], torch.load(ref, weights_only=True)) and s.labels.tolist() == [0, 0, 1, 1]
    assert info["class_names"] == ["c0", "c1"] and info["method"] == "reference" and info["ipc"] == 2
    out = tmp_path / "runs.parquet"
    assert (
        main(
            [
                "evaluate",
                str(tmp_path / "imp"),
                "--dataset",
                "toy",
                "--runs",
                "1",
                "--results",
                str(results),
                "--configfile",
                str(SMOKE),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert pd.read_parquet(out)["top1"].between(0, 1).all()


@pytest.mark.parametrize(
    "make, reason",
    [
        (lambda p: p.write_bytes(b"not a tensor file"), "not a torch tensor file"),
        (lambda p: torch.save({"videos": torch.zeros(2), "labels": torch.zeros(2)}, p), "expected one tensor"),
        (lambda p: torch.save(torch.randn(4, 3, 48, 48), p), "stills"),
        (lambda p: torch.save(torch.randn(4, 8, 1, 48, 48), p), "expected float videos"),
        (lambda p: torch.save(torch.randn(5, 8, 3, 48, 48), p), "do not split into 2 classes"),
        (lambda p: torch.save(torch.full((4, 8, 3, 48, 48), float("nan")), p), "NaN"),
    ],
)
def test_malformed_reference_file_is_refused_naming_file_and_reason(make, reason, results, tmp_path, capsys):
    bad = tmp_path / "images_0.pt"
    make(bad)
    assert main(["import-vdsd", str(bad), "--out", str(tmp_path / "imp"), "--num-classes", "2"]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and reason in err
    assert not (tmp_path / "imp").exists() and not list(tmp_path.glob(".imp*"))  # nothing written, not even half


def test_code_in_a_pickle_is_never_executed(tmp_path, capsys):
    bad = tmp_path / "images_0.pt"
    target = tmp_path / "pwned"
    torch.save({"x": _Touch(target)}, bad)
    assert main(["import-vdsd", str(bad), "--out", str(tmp_path / "imp"), "--num-classes", "2"]) == 2
    assert not target.exists() and "readable without executing code" in capsys.readouterr().err


class _Touch:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (Path.touch, (self.path,))


def test_malformed_sets_and_mismatched_datasets_are_refused(results, tmp_path, capsys):
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x00" * 64)
    with pytest.raises(SetFormatError, match=f"{junk}: not a"):
        load_any_set(junk)
    # labels that do not match the items
    s = toy_sets()["float videos, hard labels (DM)"]
    write_export(s, tmp_path / "ok", ["c0", "c1"], None)
    from safetensors.torch import load_file, save_file

    raw = load_file(str(tmp_path / "ok" / "set.safetensors"))
    meta = json.loads((tmp_path / "ok" / "set.json").read_text())
    save_file(
        {**raw, "labels": torch.tensor([0, 1, 1])}, str(tmp_path / "short.safetensors"), {"vidstill": json.dumps(meta)}
    )
    with pytest.raises(SetFormatError, match="3 labels for 4 items"):
        load_any_set(tmp_path / "short.safetensors")
    save_file(
        {**raw, "labels": torch.tensor([0, 1, 2, 1])},
        str(tmp_path / "range.safetensors"),
        {"vidstill": json.dumps(meta)},
    )
    with pytest.raises(SetFormatError, match=r"one class index in \[0, 2\)"):
        load_any_set(tmp_path / "range.safetensors")
    portable = {k: v for k, v in raw.items() if not k.startswith("stored.")}
    save_file(
        {**portable, "item_frames": torch.tensor([8, 8, 8, 7])},
        str(tmp_path / "counts.safetensors"),
        {"vidstill": json.dumps(meta)},
    )
    with pytest.raises(SetFormatError, match="summing to the 32 frames"):
        load_any_set(tmp_path / "counts.safetensors")
    # a set of other classes, or of another clip shape, than the dataset's
    write_export(s, tmp_path / "other", ["c0", "zebra"], None)
    assert (
        main(
            [
                "evaluate",
                str(tmp_path / "other"),
                "--dataset",
                "toy",
                "--results",
                str(results),
                "--configfile",
                str(SMOKE),
            ]
        )
        == 2
    )
    assert "classes not in the dataset: zebra" in capsys.readouterr().err
    write_export(SyntheticSet({"videos": torch.randn(4, 8, 3, 32, 32)}, s.labels, 2, 8), tmp_path / "small", None, None)
    assert (
        main(
            [
                "evaluate",
                str(tmp_path / "small"),
                "--dataset",
                "toy",
                "--results",
                str(results),
                "--configfile",
                str(SMOKE),
            ]
        )
        == 2
    )
    assert "8 frames of 32x32, the dataset's test clips 8 frames of 48x48" in capsys.readouterr().err
    assert (
        main(
            [
                "evaluate",
                str(tmp_path / "ok"),
                "--dataset",
                "nope",
                "--results",
                str(results),
                "--configfile",
                str(SMOKE),
            ]
        )
        == 2
    )
    assert "no test clips of dataset 'nope'" in capsys.readouterr().err


def test_set_made_elsewhere_from_the_portable_view_alone_evaluates(results, tmp_path):
    frames = torch.randint(0, 256, (4 * 2, 48, 48, 3), dtype=torch.uint8)
    from safetensors.torch import save_file

    meta = {"format": "vidstill.distilled_set", "format_version": 1, "num_classes": 2, "frames": 8}
    save_file(
        {"frames": frames, "item_frames": torch.tensor([2, 2, 2, 2]), "labels": torch.tensor([0, 0, 1, 1])},
        str(tmp_path / "mine.safetensors"),
        {"vidstill": json.dumps(meta)},
    )
    s, _ = load_any_set(tmp_path / "mine.safetensors")
    assert s.videos([1]).shape == (1, 8, 3, 48, 48)
    runs = evaluate_set(s, ClipStore.open(results / "toy/clips/test.parquet"), {**PROTOCOL, "runs": 1}, STUDENT, 0, CPU)
    assert runs["top1"].between(0, 1).all()


def test_soft_protocol_trains_on_the_teachers_softmax_of_each_drawn_batch(results):
    from vidstill.teacher import load_teacher

    teacher_path = results / "toy" / "teacher" / "convnet3d.safetensors"
    teacher = load_teacher(teacher_path)
    s = toy_sets()["temporal interval (IDTD)"]  # a fresh temporal draw each epoch: labels must follow the drawn clips
    source = TeacherLabelled(s, teacher, CPU, True, temperature=2.0)
    for (x, y), (x0, _) in zip(source.epoch(2, np.random.default_rng(5)), s.epoch(2, np.random.default_rng(5))):
        assert torch.equal(x, x0) and torch.allclose(y, teacher_softmax(teacher, [x0], CPU, True, 2.0))
        assert y.shape == (2, 2) and torch.allclose(y.sum(1), torch.ones(2))
    test = ClipStore.open(results / "toy/clips/test.parquet")
    soft = evaluate_set(
        s, test, {**PROTOCOL, "soft": {"temperature": 2.0}}, STUDENT, 0, CPU, labels="soft", teacher=teacher_path
    )
    native = evaluate_set(s, test, PROTOCOL, STUDENT, 0, CPU)
    assert (soft["protocol"] == "soft").all() and (soft["label_loss"] == "ce").all()
    assert not np.allclose(soft["final_loss"], native["final_loss"])  # other targets, other training
    with pytest.raises(ValueError, match="needs a teacher"):
        evaluate_set(s, test, PROTOCOL, STUDENT, 0, CPU, labels="soft")


def test_hard_protocol_uses_each_items_class_with_cross_entropy(results):
    s = toy_sets()["learned labels, mse (FRePo)"]
    test = ClipStore.open(results / "toy/clips/test.parquet")
    hard = evaluate_set(s, test, PROTOCOL, STUDENT, 0, CPU, labels="hard")
    as_hard = SyntheticSet(s.tensors, s.labels.argmax(1), 2, 8, lr=s.lr)
    expected = evaluate_set(as_hard, test, PROTOCOL, STUDENT, 0, CPU)
    assert (hard["label_loss"] == "ce").all() and (hard["lr"] == 0.02).all()
    assert (
        hard["top1"].tolist() == expected["top1"].tolist()
        and hard["final_loss"].tolist() == expected["final_loss"].tolist()
    )


def test_existing_output_is_not_replaced_without_force(tmp_path, capsys):
    ref = reference_file(tmp_path / "images_best.pt")
    (tmp_path / "imp").mkdir()
    (tmp_path / "imp" / "keep.txt").write_text("mine")
    assert main(["import-vdsd", str(ref), "--out", str(tmp_path / "imp"), "--num-classes", "2"]) == 2
    assert "exists" in capsys.readouterr().err and (tmp_path / "imp" / "keep.txt").read_text() == "mine"
    assert main(["import-vdsd", str(ref), "--out", str(tmp_path / "imp"), "--num-classes", "2", "--force"]) == 0
    assert not (tmp_path / "imp" / "keep.txt").exists() and (tmp_path / "imp" / "set.json").is_file()
