"""Dataset indexers against the official split files (placeholder videos) and against real tiny videos.

The official UCF101 / HMDB51 / MiniUCF split files under tests/data/real-splits/ are byte-for-byte copies of the
releases (CRLF, trailing spaces, the HandstandPushups quirk), so the counts checked here are the ones a user with the
real datasets gets. Probing uses small real videos written with OpenCV plus the kinds of bad file real datasets hold.
"""

from __future__ import annotations

import csv
import json
import logging
import shutil
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from vidstill.data import INDEX_COLUMNS, DatasetLayoutError
from vidstill.data.indexers import LAYOUTS, build_index, check_layout, probe_videos, read_layout
from vidstill.data.subsets import read_class_list, restrict_to_classes

REPO = Path(__file__).resolve().parents[1]
SPLITS = REPO / "tests" / "data" / "real-splits"
MINIUCF_LIST = REPO / "resources" / "classes" / "miniucf.txt"

UCF_COUNTS = {1: (9537, 3783), 2: (9586, 3734), 3: (9624, 3696)}  # real-splits/README.md
UCF_TEST_GROUPS = {1: range(1, 8), 2: range(8, 15), 3: range(15, 22)}


# ------------------------------------------------------------------------------------------------------------------
# helpers


def write_video(path: Path, n: int, size: tuple[int, int] = (64, 48), fps: float = 25.0, fourcc: str = "MJPG") -> Path:
    """A real video of n frames (a moving square, so codecs cannot collapse frames)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, size)
    assert writer.isOpened(), f"OpenCV cannot write {fourcc} to {path.suffix}"
    w, h = size
    for i in range(n):
        frame = np.full((h, w, 3), 30, np.uint8)
        x = (3 * i) % (w - 8)
        frame[h // 4 : h // 4 + 8, x : x + 8] = (0, 200, 255)
        writer.write(frame)
    writer.release()
    return path


def write_bad_videos(folder: Path, good: Path) -> dict[str, Path]:
    """The bad files real datasets hold: zero bytes, a truncated download, a non-video, a container with 0 frames."""
    folder.mkdir(parents=True, exist_ok=True)
    empty = folder / "empty.avi"
    empty.write_bytes(b"")
    truncated = folder / "truncated.avi"
    data = good.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    text = folder / "text.avi"
    text.write_text("this is a text file, not a video\n")
    zero = folder / "zero_frames.avi"
    cv2.VideoWriter(str(zero), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (64, 48)).release()  # header, no frames
    return {"empty": empty, "truncated": truncated, "text": text, "zero": zero}


def touch(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()


def write_crlf(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes("".join(f"{line}\r\n" for line in lines).encode())


# ------------------------------------------------------------------------------------------------------------------
# UCF101 with the official split files and 13,320 placeholder videos


@pytest.fixture(scope="module")
def ucf_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("ucf101")
    shutil.copytree(SPLITS / "ucf101", root / "ucfTrainTestlist")
    for name in ("trainlist01.txt", "testlist01.txt"):  # each split lists the same 13,320 videos
        for line in (SPLITS / "ucf101" / name).read_text().splitlines():
            if line.strip():
                touch(root / "UCF-101" / line.split()[0])
    return root


def test_split_files_are_the_official_copies():
    raw = (SPLITS / "ucf101" / "trainlist01.txt").read_bytes()
    assert raw.count(b"\r\n") == 9537, "CRLF endings lost: the split files must stay byte-for-byte copies"
    assert b"HandstandPushups/v_HandStandPushups_g08_c01.avi 37\r\n" in raw
    assert (SPLITS / "hmdb51" / "brush_hair_test_split1.txt").read_text().splitlines()[0].endswith(" 1 ")
    assert len(list((SPLITS / "hmdb51").glob("*_test_split*.txt"))) == 153


@pytest.mark.parametrize("split", [1, 2, 3])
def test_ucf101_official_split_counts(ucf_root, split):
    check_layout("ucf101", ucf_root, split)
    df = read_layout("ucf101", ucf_root, split)
    n_train, n_test = UCF_COUNTS[split]
    assert (df["split"] == "train").sum() == n_train
    assert (df["split"] == "test").sum() == n_test
    assert len(df) == df["id"].nunique() == 13320
    assert df["class"].nunique() == 101 and sorted(df["label"].unique()) == list(range(101))
    assert (df["error"] == "").all()
    # the official class order (classInd id - 1), not some re-sorting
    first = df.drop_duplicates("class").set_index("class")["label"]
    assert first["ApplyEyeMakeup"] == 0 and first["YoYo"] == 100 and first["HandstandWalking"] == 37
    # no person/scene group on both sides, and the test groups are the documented ones
    groups = df.groupby("group")["split"].nunique()
    assert (groups == 1).all()
    test_gnn = df.loc[df["split"] == "test", "group"].str.extract(r"_g(\d+)$")[0].astype(int)
    assert set(test_gnn) == set(UCF_TEST_GROUPS[split])
    assert all(g.startswith(f"{c}_g") for g, c in zip(df["group"], df["class"]))  # groups are per class
    assert all(Path(p).is_absolute() and Path(p).is_file() for p in df["path"].iloc[::500])


def test_ucf101_handstand_pushups_quirk(ucf_root):
    df = read_layout("ucf101", ucf_root, 1)
    rows = df[df["id"].str.startswith("v_HandStandPushups_")]
    assert len(rows) > 0
    assert set(rows["class"]) == {"HandstandPushups"}
    assert set(rows["label"]) == {36}  # classInd "37 HandstandPushups"
    assert rows["group"].str.startswith("HandstandPushups_g").all()
    assert all(Path(p).parent.name == "HandstandPushups" and Path(p).is_file() for p in rows["path"])
    assert "HandStandPushups" not in set(df["class"])


def test_ucf101_ignores_videos_in_neither_list(tmp_path, caplog):
    root = tmp_path / "ucf"
    shutil.copytree(SPLITS / "ucf101", root / "ucfTrainTestlist")
    for line in (SPLITS / "ucf101" / "trainlist01.txt").read_text().splitlines()[:5]:
        touch(root / "UCF-101" / line.split()[0])
    touch(root / "UCF-101" / "ApplyEyeMakeup" / "v_ApplyEyeMakeup_g99_c01.avi")
    with caplog.at_level(logging.DEBUG, logger="vidstill.data"):
        df = read_layout("ucf101", root, 1)
    assert "v_ApplyEyeMakeup_g99_c01" not in set(df["id"])
    assert (df["error"] != "").sum() == 13320 - 5  # listed but absent: error rows, not failures
    assert df.loc[df["error"] != "", "error"].str.startswith("missing file: ").all()
    assert any("1 in neither list" in r.getMessage() for r in caplog.records)


def test_miniucf_is_ucf101_split1_restricted(ucf_root):
    classes = read_class_list(MINIUCF_LIST)
    assert len(classes) == 50 and classes == sorted(classes)
    sub = restrict_to_classes(read_layout("ucf101", ucf_root, 1), classes, source=str(MINIUCF_LIST))
    assert (sub["split"] == "train").sum() == 4662
    assert (sub["split"] == "test").sum() == 1861
    assert sorted(sub["label"].unique()) == list(range(50))
    assert (sub["class"].map(classes.index) == sub["label"]).all()
    full_label = read_layout("ucf101", ucf_root, 1).drop_duplicates("class").set_index("class")["label"]
    assert (sub["class"].map(full_label) == sub["parent_label"]).all()
    vdsd = pd.read_csv(SPLITS / "miniucf_splits1.csv", dtype=str)
    assert set(zip(sub["id"], sub["class"], sub["split"])) == set(
        zip(vdsd["folder_name"], vdsd["label"], vdsd["split"])
    )
    assert len(sub) == len(vdsd) == 6523


# ------------------------------------------------------------------------------------------------------------------
# HMDB51 with the official split files


def make_hmdb_tree(base: Path, splits_inside: bool) -> Path:
    """Videos in <root>/<class>/; the split folder inside the root or beside it (both documented)."""
    root = base / "hmdb51_org"
    split_dir = (root if splits_inside else base) / "testTrainMulti_7030_splits"
    shutil.copytree(SPLITS / "hmdb51", split_dir)
    for f in (SPLITS / "hmdb51").glob("*_test_split1.txt"):
        cls = f.name[: -len("_test_split1.txt")]
        (root / cls).mkdir(parents=True, exist_ok=True)
        for line in f.read_text().splitlines():
            if line.strip():
                (root / cls / line.split()[0]).touch()
    return root


@pytest.fixture(scope="module")
def hmdb_roots(tmp_path_factory) -> dict[bool, Path]:
    """The same 6,766 placeholder videos with the split folder inside (True) and beside (False) the root."""
    return {inside: make_hmdb_tree(tmp_path_factory.mktemp("hmdb51"), inside) for inside in (True, False)}


@pytest.mark.parametrize("splits_inside", [True, False], ids=["splits-inside-root", "splits-beside-root"])
def test_hmdb51_official_split1(hmdb_roots, splits_inside):
    root = hmdb_roots[splits_inside]
    check_layout("hmdb51", root, 1)
    df = read_layout("hmdb51", root, 1)
    counts = df["split"].value_counts()
    assert (counts["train"], counts["test"], counts["unused"]) == (3570, 1530, 1666)
    assert len(df) == df["id"].nunique() == 6766
    assert df["class"].nunique() == 51 and "testTrainMulti_7030_splits" not in set(df["class"])
    classes = sorted(df["class"].unique())
    assert (df["class"].map(classes.index) == df["label"]).all()
    assert (df["group"] == df["id"]).all() and (df["error"] == "").all()
    assert (df.groupby("class")["split"].value_counts().unstack()[["train", "test"]] == [70, 30]).all().all()
    odd = df[df["id"].str.startswith("Brushing_Her_Hair__[_NEW_AUDIO_]_UPDATED!!!!")]
    assert len(odd) > 0 and all(Path(p).is_file() for p in odd["path"])


@pytest.mark.parametrize("split", [2, 3])
def test_hmdb51_other_splits(hmdb_roots, split):
    counts = read_layout("hmdb51", hmdb_roots[True], split)["split"].value_counts()
    assert (counts["train"], counts["test"], counts["unused"]) == (3570, 1530, 1666)


# ------------------------------------------------------------------------------------------------------------------
# probing real tiny videos and bad files


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("videos")
    good = {
        "avi": write_video(d / "good.avi", 20, (64, 48), 25.0, "MJPG"),
        "mp4": write_video(d / "good.mp4", 12, (80, 60), 15.0, "mp4v"),
        # OpenCV's FFmpeg backend writes VP8 into WebM here (it warns that the 'VP80' *tag* is unusual for WebM,
        # but the stream is VP8, which is what SSv2's .webm files hold)
        "webm": write_video(d / "good.webm", 10, (32, 32), 12.0, "VP80"),
        "short": write_video(d / "short.avi", 3, (64, 48), 25.0, "MJPG"),
    }
    truncated_mp4 = d / "bad" / "truncated.mp4"  # OpenCV writes the moov index last: half a file has none
    data = good["mp4"].read_bytes()
    bad = write_bad_videos(d / "bad", good["avi"])
    truncated_mp4.write_bytes(data[: len(data) // 2])
    return {**good, **bad, "truncated_mp4": truncated_mp4, "missing": d / "bad" / "not_there.avi", "folder": d / "bad"}


def test_probe_videos_good_and_bad(videos):
    keys = ["avi", "mp4", "webm", "short", "empty", "truncated", "truncated_mp4", "text", "zero", "missing", "folder"]
    df = probe_videos([str(videos[k]) for k in keys], threads=1, progress=False)
    df.index = keys
    assert list(df.columns) == ["frames", "fps", "width", "height", "error"]
    assert df.loc["avi"].tolist() == [20, 25.0, 64, 48, ""]
    assert df.loc["mp4"].tolist() == [12, 15.0, 80, 60, ""]
    assert df.loc["webm"].tolist() == [10, 12.0, 32, 32, ""]
    assert df.loc["short"].tolist() == [3, 25.0, 64, 48, ""]  # too short is build_index's rule, not the probe's
    assert df.loc["empty", "error"] == "empty file (0 bytes)"
    assert df.loc["truncated", "error"].startswith("truncated or corrupt: the container lists ")
    assert df.loc["truncated", ["width", "height"]].tolist() == [64, 48]
    assert df.loc["truncated_mp4", "error"].startswith("unreadable: ")
    assert "MP4/MOV file" in df.loc["truncated_mp4", "error"] and "truncated" in df.loc["truncated_mp4", "error"]
    assert df.loc["text", "error"].startswith("unreadable: not a video file")
    assert df.loc["folder", "error"] == "unreadable: Is a directory"
    assert df.loc["zero", "error"].startswith("no frames")
    assert df.loc["missing", "error"] == f"missing file: {videos['missing']}"
    bad = ["empty", "truncated_mp4", "text", "zero", "missing", "folder"]
    assert (df.loc[bad, ["frames", "width", "height"]] == 0).all().all()
    assert df["frames"].dtype == "int64" and df["fps"].dtype == "float64"


@pytest.mark.parametrize("pool", ["thread", "process"])
def test_probe_videos_parallel_matches_serial(videos, pool):
    paths = [str(p) for p in videos.values()] * 3
    serial = probe_videos(paths, threads=1, progress=False)
    parallel = probe_videos(paths, threads=2, progress=False, pool=pool)
    pd.testing.assert_frame_equal(serial, parallel)


# ------------------------------------------------------------------------------------------------------------------
# build_index on a small UCF101-layout tree of real videos


def make_small_ucf(root: Path, videos: dict[str, Path]) -> dict[str, Path]:
    """Three classes; train/test lines naming good, bad, short and missing videos; one unlisted video on disk."""
    write_crlf(root / "ucfTrainTestlist" / "classInd.txt", ["1 Alpha", "2 Beta", "3 Gamma"])
    plan = {  # (class, gNN, cNN, split, source)
        ("Alpha", 2, 1, "train", "avi"),
        ("Alpha", 2, 2, "train", "truncated"),
        ("Alpha", 1, 1, "test", "avi"),
        ("Beta", 2, 1, "train", "avi"),
        ("Beta", 2, 2, "train", "empty"),
        ("Beta", 2, 3, "train", "text"),
        ("Beta", 1, 1, "test", "short"),
        ("Beta", 1, 2, "test", None),
        ("Gamma", 3, 1, "train", "avi"),
        ("Gamma", 3, 2, "train", "zero"),
        ("Gamma", 1, 1, "test", "avi"),
    }
    ids = {"Alpha": 1, "Beta": 2, "Gamma": 3}
    train, test, paths = [], [], {}
    for cls, g, c, split, src in sorted(plan):
        rel = f"{cls}/v_{cls}_g{g:02d}_c{c:02d}.avi"
        path = root / "UCF-101" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if src is not None:
            shutil.copyfile(videos[src], path)
        paths[f"{cls}-{src}-{split}"] = path
        (train if split == "train" else test).append(f"{rel} {ids[cls]}" if split == "train" else rel)
    shutil.copyfile(videos["avi"], root / "UCF-101" / "Alpha" / "v_Alpha_g09_c01.avi")  # in neither list
    write_crlf(root / "ucfTrainTestlist" / "trainlist01.txt", train)
    write_crlf(root / "ucfTrainTestlist" / "testlist01.txt", test)
    return paths


def test_build_index_errors_and_logging(tmp_path, videos, caplog):
    root = tmp_path / "synthetic"
    paths = make_small_ucf(root, videos)
    with caplog.at_level(logging.INFO, logger="vidstill.data"):
        df = build_index("synthetic", root, split=1, threads=2, min_frames=8)
    assert tuple(df.columns) == INDEX_COLUMNS
    assert {c: str(t) for c, t in df.dtypes.items() if c in ("label", "frames", "fps", "width", "height")} == {
        "label": "int64",
        "frames": "int64",
        "fps": "float64",
        "width": "int64",
        "height": "int64",
    }
    assert all(pd.api.types.is_string_dtype(df[c]) for c in ("id", "path", "class", "split", "group", "error"))
    assert len(df) == 11 and "v_Alpha_g09_c01" not in set(df["id"])
    err = dict(zip(df["path"], df["error"]))
    assert err[str(paths["Alpha-avi-train"])] == ""
    assert err[str(paths["Alpha-truncated-train"])].startswith("truncated or corrupt")
    assert err[str(paths["Beta-empty-train"])] == "empty file (0 bytes)"
    assert err[str(paths["Beta-text-train"])].startswith("unreadable: not a video file")
    assert err[str(paths["Beta-short-test"])] == "too short: 3 frames < min_frames 8"
    assert err[str(paths["Beta-None-test"])] == f"missing file: {paths['Beta-None-test']}"
    assert err[str(paths["Gamma-zero-train"])].startswith("no frames")
    good = df[df["error"] == ""]
    assert len(good) == 5
    assert (good[["frames", "width", "height"]].to_numpy() == [20, 64, 48]).all() and (good["fps"] == 25.0).all()
    assert dict(zip(df["id"], df["group"]))["v_Beta_g01_c02"] == "Beta_g01"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    for path, reason in zip(df.loc[df["error"] != "", "path"], df.loc[df["error"] != "", "error"]):
        assert any(path in m and reason in m for m in warnings), f"no warning naming {path}"
    assert any("'Beta' has no usable test video" in m for m in warnings)
    assert any(
        "train 3 usable / 4 skipped" in r.getMessage() and "test 2 usable / 2 skipped" in r.getMessage()
        for r in caplog.records
    )


def test_min_frames_is_inclusive(tmp_path, videos):
    root = tmp_path / "ucf"
    make_small_ucf(root, videos)
    df = build_index("ucf101", root, min_frames=20, progress=False)  # the good videos have exactly 20 frames
    assert (df.loc[df["frames"] == 20, "error"] == "").sum() == 5
    assert dict(zip(df["id"], df["error"]))["v_Beta_g01_c01"] == "too short: 3 frames < min_frames 20"


def test_class_without_usable_train_video_stops_the_build(tmp_path, videos):
    root = tmp_path / "ucf"
    make_small_ucf(root, videos)
    # Gamma's only good train video becomes unreadable: Gamma can no longer be learnt
    (root / "UCF-101" / "Gamma" / "v_Gamma_g03_c01.avi").write_bytes(b"")
    with pytest.raises(DatasetLayoutError) as e:
        build_index("ucf101", root, min_frames=1, threads=1)
    msg = str(e.value)
    assert "'Gamma'" in msg and str(root / "ucfTrainTestlist" / "trainlist01.txt") in msg
    assert "'Alpha'" not in msg and "'Beta'" not in msg


# ------------------------------------------------------------------------------------------------------------------
# Kinetics-400 and SSv2 in their official annotation formats

K400_CLIPS = [  # label, youtube_id, start, end, split, on disk?
    ("abseiling", "aaa111bbb22", 14, 24, "train", True),
    ("abseiling", "ccc333ddd44", 0, 10, "train", True),
    ("air drumming", "eee555fff66", 125, 135, "train", True),
    ("massaging person's head", "ggg777hhh88", 3, 13, "train", True),
    ("massaging person's head", "gone0000000", 1, 11, "train", False),
    ("abseiling", "iii999jjj00", 5, 15, "val", True),
    ("air drumming", "kkk111lll22", 30, 40, "val", True),
    ("massaging person's head", "mmm333nnn44", 7, 17, "val", False),
]


def make_k400(root: Path, clip: Path) -> None:
    """Annotations under annotations/ (with is_cc); train clips flat, validation clips in per-label folders."""
    for csv_name, split in (("train.csv", "train"), ("validate.csv", "val")):
        path = root / "annotations" / csv_name
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["label", "youtube_id", "time_start", "time_end", "split", "is_cc"])
            for label, yid, start, end, s, _ in K400_CLIPS:
                if s == split:
                    w.writerow([label, yid, start, end, "train" if s == "train" else "validate", 0])
    for label, yid, start, end, s, present in K400_CLIPS:
        if present:
            folder = root / "train" if s == "train" else root / "val" / label.replace(" ", "_")
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(clip, folder / f"{yid}_{start:06d}_{end:06d}.mp4")


def test_kinetics400_layout(tmp_path, videos):
    root = tmp_path / "k400"
    make_k400(root, videos["mp4"])
    check_layout("kinetics400", root)
    df = build_index("kinetics400", root, threads=1, min_frames=4)
    by_id = df.set_index("id")
    classes = ["abseiling", "air drumming", "massaging person's head"]
    assert len(df) == len(K400_CLIPS)
    for label, yid, start, end, s, present in K400_CLIPS:
        row = by_id.loc[f"{yid}_{start:06d}_{end:06d}"]
        assert row["class"] == label and row["label"] == classes.index(label)
        assert row["split"] == ("train" if s == "train" else "test")
        assert row["group"] == f"{yid}_{start:06d}_{end:06d}"
        if present:
            assert row["error"] == "" and Path(row["path"]).is_file() and row["frames"] == 12
        else:
            assert row["error"].startswith("missing file: ") and row["frames"] == 0
    assert Path(by_id.loc["kkk111lll22_000030_000040", "path"]).parent.name == "air_drumming"


SSV2_LABELS = {
    "Pushing something from left to right": "0",
    "Putting something on a surface": "1",
    "Holding something next to something": "2",
}
SSV2_ENTRIES = {  # id: (template, split, on disk?)
    "78687": ("Holding [something] next to [something]", "train", True),
    "42326": ("Pushing [something] from left to right", "train", True),
    "100": ("Putting [something] on a surface", "train", True),
    "7": ("Holding [something] next to [something]", "validation", True),
    "74225": ("Putting [something] on a surface", "validation", False),
}


def make_ssv2(root: Path, clip: Path, labels_dir: str = "") -> None:
    ann = root / labels_dir if labels_dir else root
    ann.mkdir(parents=True, exist_ok=True)
    (ann / "something-something-v2-labels.json").write_text(json.dumps(SSV2_LABELS, indent=1))
    for split in ("train", "validation"):
        items = [
            {"id": vid, "label": "a bottle", "template": t, "placeholders": ["a bottle"]}
            for vid, (t, s, _) in SSV2_ENTRIES.items()
            if s == split
        ]
        (ann / f"something-something-v2-{split}.json").write_text(json.dumps(items))
    videos = root / "20bn-something-something-v2"
    videos.mkdir(parents=True, exist_ok=True)
    for vid, (_, _, present) in SSV2_ENTRIES.items():
        if present:
            shutil.copyfile(clip, videos / f"{vid}.webm")


@pytest.mark.parametrize("labels_dir", ["", "annotations"])
def test_ssv2_layout(tmp_path, videos, labels_dir):
    root = tmp_path / "ssv2"
    make_ssv2(root, videos["webm"], labels_dir)
    check_layout("ssv2", root)
    df = build_index("ssv2", root, threads=1)
    by_id = df.set_index("id")
    assert len(df) == len(SSV2_ENTRIES)
    for vid, (template, split, present) in SSV2_ENTRIES.items():
        row = by_id.loc[vid]
        cls = template.replace("[", "").replace("]", "")
        assert row["class"] == cls and row["label"] == int(SSV2_LABELS[cls])  # the labels file, not sorted order
        assert row["split"] == ("train" if split == "train" else "test") and row["group"] == vid
        assert row["path"] == str(root / "20bn-something-something-v2" / f"{vid}.webm")
        assert (row["error"] == "") == present
    assert by_id.loc["7", "frames"] == 10 and by_id.loc["7", "width"] == 32


def test_ssv2_unknown_template_names_the_file(tmp_path, videos):
    root = tmp_path / "ssv2"
    make_ssv2(root, videos["webm"])
    ann = root / "something-something-v2-train.json"
    items = json.loads(ann.read_text()) + [{"id": "9", "template": "Juggling [something]", "placeholders": []}]
    ann.write_text(json.dumps(items))
    with pytest.raises(DatasetLayoutError, match=r"Juggling \[something\]") as e:
        check_layout("ssv2", root)
    assert str(ann) in str(e.value)


# ------------------------------------------------------------------------------------------------------------------
# check_layout: a bad root stops the run at start-up, naming the path and the expected layout


def test_check_layout_missing_root(tmp_path):
    for layout in LAYOUTS:
        with pytest.raises(DatasetLayoutError) as e:
            check_layout(layout, tmp_path / "nowhere")
        assert str(tmp_path / "nowhere") in str(e.value) and "Expected layout" in str(e.value)


def test_check_layout_missing_split_file(tmp_path):
    root = tmp_path / "ucf"
    shutil.copytree(SPLITS / "ucf101", root / "ucfTrainTestlist")
    (root / "UCF-101").mkdir()
    check_layout("ucf101", root, 2)
    (root / "ucfTrainTestlist" / "trainlist02.txt").unlink()
    with pytest.raises(DatasetLayoutError) as e:
        check_layout("ucf101", root, 2)
    msg = str(e.value)
    assert str(root / "ucfTrainTestlist" / "trainlist02.txt") in msg
    assert "<root>/ucfTrainTestlist/classInd.txt" in msg  # the expected layout is described
    check_layout("ucf101", root, 1)  # the other splits are still fine


def test_check_layout_malformed_class_index(tmp_path):
    root = tmp_path / "ucf"
    shutil.copytree(SPLITS / "ucf101", root / "ucfTrainTestlist")
    (root / "UCF-101").mkdir()
    class_ind = root / "ucfTrainTestlist" / "classInd.txt"
    raw = class_ind.read_bytes().replace(b"3 Archery\r\n", b"3Archery\r\n")
    class_ind.write_bytes(raw)
    with pytest.raises(DatasetLayoutError, match="line 3") as e:
        check_layout("ucf101", root, 1)
    assert str(class_ind) in str(e.value)


def test_check_layout_train_label_disagreeing_with_class_index(tmp_path):
    root = tmp_path / "ucf"
    shutil.copytree(SPLITS / "ucf101", root / "ucfTrainTestlist")
    (root / "UCF-101").mkdir()
    train = root / "ucfTrainTestlist" / "trainlist01.txt"
    line = b"ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi "
    train.write_bytes(train.read_bytes().replace(line + b"1\r\n", line + b"2\r\n"))
    with pytest.raises(DatasetLayoutError, match="disagrees") as e:
        check_layout("ucf101", root, 1)
    assert str(train) in str(e.value)


def test_check_layout_hmdb51_and_k400_errors(tmp_path, videos):
    hmdb = tmp_path / "hmdb51"  # check_layout reads only the split files: no videos needed
    shutil.copytree(SPLITS / "hmdb51", hmdb / "testTrainMulti_7030_splits")
    split_file = hmdb / "testTrainMulti_7030_splits" / "climb_test_split2.txt"
    split_file.unlink()
    check_layout("hmdb51", hmdb, 1)
    with pytest.raises(DatasetLayoutError) as e:
        check_layout("hmdb51", hmdb, 2)
    assert str(split_file) in str(e.value)
    bad = hmdb / "testTrainMulti_7030_splits" / "chew_test_split1.txt"
    bad.write_text(bad.read_text() + "oops.avi 7 \n")
    with pytest.raises(DatasetLayoutError, match="oops.avi") as e:
        check_layout("hmdb51", hmdb, 1)
    assert str(bad) in str(e.value)

    k400 = tmp_path / "k400"
    make_k400(k400, videos["mp4"])
    (k400 / "annotations" / "validate.csv").unlink()
    with pytest.raises(DatasetLayoutError, match="validate.csv"):
        check_layout("kinetics400", k400)


# ------------------------------------------------------------------------------------------------------------------
# subsets


def test_read_class_list_strips_and_sorts(tmp_path):
    path = tmp_path / "classes.txt"
    path.write_bytes(b"  Zeta\r\n\r\nAlpha \r\n\n Mu\r\n")
    assert read_class_list(path) == ["Alpha", "Mu", "Zeta"]
    path.write_bytes(b"Alpha\nAlpha\n")
    with pytest.raises(ValueError, match="Alpha"):
        read_class_list(path)


def test_restrict_to_classes_unknown_names_and_relabelling():
    index = pd.DataFrame({"id": list("abcde"), "class": ["C", "A", "B", "A", "D"], "label": [2, 0, 1, 0, 3]})
    with pytest.raises(ValueError, match=r"Nope.*|.*Nope") as e:
        restrict_to_classes(index, ["A", "Nope", "Zilch"], source="list.txt")
    assert "Zilch" in str(e.value) and "list.txt" in str(e.value)
    sub = restrict_to_classes(index, ["D", "A"])
    assert sub["id"].tolist() == ["b", "d", "e"]
    assert sub["label"].tolist() == [0, 0, 1] and sub["parent_label"].tolist() == [0, 0, 3]
