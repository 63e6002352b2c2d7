"""Coreset selection rules on hand-made features, and the coreset methods on a tiny clip store."""

import numpy as np
import pytest
import torch
from helpers import ctx

from vidstill.methods import get_method
from vidstill.methods.coresets import embed_videos, herding, k_center, medoid_keyframes, random_selection


def test_herding_follows_the_running_mean_not_the_distance_to_the_mean():
    """On [1, 1.2, -2, 5] (mean 1.3) herding picks 1.2, then 1 (running sum 2.2 against 2.6), then 5 (3.3 against 3.9
    leaves 1.7: 5 is 3.3 away, -2 is 3.7): [1, 0, 3]. Nearest-to-the-mean would take -2 third: [1, 0, 2]."""
    f = torch.tensor([[1.0], [1.2], [-2.0], [5.0]], dtype=torch.float64)
    assert herding(f, 3) == [1, 0, 3]
    assert herding(f, 4) == [1, 0, 3, 2]


def test_k_center_starts_at_the_mean_then_goes_far():
    f = torch.tensor([[0.0], [1.0], [2.0], [100.0], [-50.0]], dtype=torch.float64)
    assert k_center(f, 3) == [2, 3, 4]


def test_medoid_keyframes_pick_the_typical_frame_per_segment():
    video = np.zeros((6, 4, 4, 3), np.uint8)
    video[0] = 200  # an outlier frame in the first segment
    video[3:] = 100
    video[5] = 255
    picks = medoid_keyframes(video, 2)
    assert picks[0] in (1, 2) and picks[1] in (3, 4)


@pytest.mark.parametrize("name", ["random", "herding", "kcenter"])
def test_coresets_select_real_clips_per_class(store, name):
    s = get_method(name).fn(ctx(store, name, **({} if name == "random" else {"embedding": "random"})))
    assert s.labels.tolist() == [0, 0, 1, 1, 2, 2]
    assert s.tensors["videos"].dtype == torch.uint8 and s.tensors["videos"].shape == (6, 8, 48, 48, 3)
    ids = s.meta["ids"]
    assert len(set(ids)) == 6
    for label, vid in zip(s.labels.tolist(), ids):
        assert int(vid[1:]) % 3 == label
    assert s.videos([0]).shape == (1, 8, 3, 48, 48)


def test_random_depends_on_seed(store):
    a = get_method("random").fn(ctx(store, "random", seed=0)).meta["ids"]
    b = get_method("random").fn(ctx(store, "random", seed=1)).meta["ids"]
    c = get_method("random").fn(ctx(store, "random", seed=0)).meta["ids"]
    assert a == c and a != b


def test_keyframe_stores_the_medoid_frame_of_each_segment(store):
    """Each stored frame is the medoid of its segment of the video's stored frames: a bar moving over a flat background
    is most typical in the middle of its path, not at the first frames (which a "first k frames" rule would keep)."""
    s = get_method("keyframe").fn(ctx(store, "keyframe", ipc=1, keyframes=2))
    assert s.tensors["videos"].shape == (3, 2, 48, 48, 3)
    x = s.videos([0])
    assert x.shape == (1, 8, 3, 48, 48) and torch.equal(x[0, 0], x[0, 3])
    chosen = random_selection(ctx(store, "keyframe", ipc=1, keyframes=2))
    for item, c in enumerate(range(3)):
        video = store.video(int(chosen[c][0]))
        picks = medoid_keyframes(video, 2)
        assert picks.tolist() != [0, 1] and picks[0] > 0
        for k, frame in enumerate(picks):
            assert np.array_equal(s.tensors["videos"][item, k].numpy(), video[frame])


def test_too_few_videos_for_ipc_names_the_class(store):
    with pytest.raises(ValueError, match="class 0 has 4 training videos"):
        get_method("random").fn(ctx(store, "random", ipc=5))


def test_unknown_method():
    with pytest.raises(KeyError, match="unknown method"):
        get_method("nope")


@pytest.fixture(scope="module")
def teacher_file(store, tmp_path_factory):
    """A teacher trained a few epochs on the store (its embedding is not a fresh network's)."""
    from vidstill.teacher import save_teacher, train_teacher

    cfg = {"arch": "convnet3d", "widths": [4, 8, 8], "epochs": 3, "lr": 0.01, "batch_size": 6, "seed": 3}
    model, arch, _, _ = train_teacher(store, store, cfg, torch.device("cpu"), test_passes=1)
    path = tmp_path_factory.mktemp("teacher") / "teacher.safetensors"
    save_teacher(model, arch, path)
    return path


@pytest.mark.parametrize("name, rule", [("herding", herding), ("kcenter", k_center)])
def test_coresets_select_on_the_teachers_embedding(store, teacher_file, name, rule):
    """The default `embedding: teacher` ranks the class's clips by the teacher's features of their centre clips: the
    selection is the rule applied to those features, class by class (and a random network's features would rank them
    otherwise here, so a method ignoring the teacher fails)."""
    from vidstill.data.clips import sample_clips
    from vidstill.teacher import load_teacher

    c = ctx(store, name, ipc=2, embedding="teacher")
    c.teacher = teacher_file
    s = get_method(name).fn(c)
    teacher = load_teacher(teacher_file)
    expected, with_random = [], []
    for label in range(3):
        idx = store.indices_of_class(label)
        with torch.no_grad():
            feats = teacher.embed(sample_clips(store, idx)).double()
        expected += [f"v{idx[i]}" for i in rule(feats, 2)]
        with_random += [f"v{idx[i]}" for i in rule(embed_videos(ctx(store, name, embedding="random"), idx), 2)]
    assert s.meta["ids"] == expected
    assert with_random != expected
    c.teacher = None
    with pytest.raises(ValueError, match="needs a teacher"):
        get_method(name).fn(c)
