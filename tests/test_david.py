"""DAViD: temporal partitioning round-trips through the stored set, the Q update is Eq. 2 on a hand example, the
early-stage search runs DM for round(β·N) iterations per action (N for the naive RL and the grid), case B gives
every class one resolution, and the two reports."""

import numpy as np
import pandas as pd
import pytest
import torch

from test_coresets import ctx, store  # noqa: F401  (the tiny 3-class clip store fixture)
from vidstill.methods import david as david_module
from vidstill.methods import get_method
from vidstill.methods.david import (QAgents, default_resolutions, early_iterations, greedy, partition, partitioned_set,
                                    q_update, segment_centres, teacher_reward)
from vidstill.report.david import resolution_summary, resolution_table, search_cost_table
from vidstill.synthetic_set import SyntheticSet, resize_time
from vidstill.teacher import build_from_architecture, save_teacher, teacher_architecture


@pytest.fixture(scope="module")
def teacher(store, tmp_path_factory):
    path = tmp_path_factory.mktemp("teacher") / "convnet3d.safetensors"
    arch = teacher_architecture({"arch": "convnet3d", "widths": [4, 8, 8]}, store)
    torch.manual_seed(0)
    save_teacher(build_from_architecture(arch), arch, path)
    return path


def david_ctx(store, teacher, ipc=2, **params):
    c = ctx(store, "david", ipc=ipc, **{"iterations": 4, "batch_real": 2, "lr": 10.0, "rl_steps": 3, "reward_real": 2, **params})
    c.teacher = teacher
    return c


@pytest.mark.parametrize("frames,resolution,centres", [(8, 1, [4]), (8, 2, [2, 6]), (8, 4, [1, 3, 5, 7]), (8, 8, list(range(8))),
                                                       (16, 4, [2, 6, 10, 14]), (6, 4, [0, 2, 3, 5])])
def test_partition_round_trip_shapes(frames, resolution, centres):
    videos = torch.randn(3, frames, 3, 5, 5)
    kept = partition(videos, resolution)
    assert segment_centres(frames, resolution).tolist() == centres
    assert kept.shape == (3, resolution, 3, 5, 5)
    seen = resize_time(kept, frames)
    assert seen.shape == videos.shape
    # interleave-repeat: each kept frame fills its segment, in order
    slots = torch.div(torch.arange(frames) * resolution, frames, rounding_mode="floor")
    torch.testing.assert_close(seen, kept[:, slots])
    assert partition(seen, resolution).shape == kept.shape


def test_resolution_outside_the_clip_is_refused():
    with pytest.raises(ValueError, match="1..8"):
        segment_centres(8, 9)
    assert default_resolutions(8) == [1, 2, 4, 8] and default_resolutions(16) == [1, 2, 4, 8, 16]


def test_partitioned_set_stores_only_distinct_frames_and_expands_to_the_clip(tmp_path):
    class C:  # the two fields partitioned_set reads from a context
        num_classes = 2

        class train:
            class spec:
                frames = 8

    videos = {0: torch.randn(2, 1, 3, 4, 4), 1: torch.randn(2, 4, 3, 4, 4)}
    s = partitioned_set(C, videos, {"method": "david"})
    assert s.tensors["frames"].shape == (2 * 1 + 2 * 4, 3, 4, 4) and s.tensors["item_frames"].tolist() == [1, 1, 4, 4]
    dm_bytes = 4 * 8 * 3 * 4 * 4 * 4
    assert s.storage_bytes() < dm_bytes  # the static class costs 1/8 of a full video
    s.save(tmp_path / "s.safetensors")
    loaded = SyntheticSet.load(tmp_path / "s.safetensors")
    out = loaded.videos([3, 0])
    assert out.shape == (2, 8, 3, 4, 4)
    torch.testing.assert_close(out[0], resize_time(videos[1][1:2], 8)[0])
    torch.testing.assert_close(out[1], videos[0][0].expand(8, 3, 4, 4))


def test_q_update_is_eq_2_on_a_hand_example():
    q = np.zeros((3, 3))
    q[0, 1] = 0.5
    q[1] = [0.2, 0.4, 0.1]
    q_update(q, state=0, action=1, reward=1.0, alpha=0.1, gamma=0.5)
    # 0.5 + 0.1 * (1.0 + 0.5 * max(0.2, 0.4, 0.1) - 0.5) = 0.57
    assert q[0, 1] == pytest.approx(0.57)
    assert q.sum() == pytest.approx(0.57 + 0.7)  # nothing else moved

    agents = QAgents.start(2, 3, alpha=0.1, gamma=0.5, exploit=1.0)
    assert agents.state.tolist() == [2, 2]  # the full resolution
    agents.update(np.array([0, 1]), np.array([1.0, 2.0]))
    assert agents.q[0, 2, 0] == pytest.approx(0.1) and agents.q[1, 2, 1] == pytest.approx(0.2)
    assert agents.state.tolist() == [0, 1]


def test_action_choice_exploits_with_probability_p_and_breaks_ties_at_random():
    rng = np.random.default_rng(0)
    assert {greedy(np.zeros(4), rng) for _ in range(100)} == {0, 1, 2, 3}
    assert greedy(np.array([0.1, 0.3, 0.2]), rng) == 1
    agents = QAgents.start(1, 4, 0.1, 0.5, exploit=1.0)
    agents.q[0, 3] = [0.0, 0.0, 0.5, 0.1]
    assert all(agents.act(rng)[0] == 2 for _ in range(50))
    agents.exploit = 0.0
    assert {int(agents.act(rng)[0]) for _ in range(200)} == {0, 1, 2, 3}


def test_reward_is_eq_1():
    syn, real = torch.tensor([[3.0, 4.0], [1.0, 1.0]]), torch.zeros(2, 2)
    np.testing.assert_allclose(teacher_reward(syn, real), [1 / 6, 1 / (1 + 2**0.5)], rtol=1e-6)


def test_early_iterations_round_beta_n():
    assert early_iterations(0.02, 5000) == 100
    assert early_iterations(0.02, 30) == 1 and early_iterations(0.02, 20) == 1  # at least one
    assert early_iterations(0.1, 25) == 3  # 2.5 rounds up
    with pytest.raises(ValueError, match="beta"):
        early_iterations(0.0, 100)


@pytest.mark.parametrize("search,beta,expected", [("rl_early", 0.25, [1, 1, 1, 4]), ("rl_early", 0.5, [2, 2, 2, 4]),
                                                  ("rl", 0.25, [4, 4, 4, 4]), ("grid", 0.25, [4, 4])])
def test_search_runs_dm_for_beta_n_iterations_per_action(store, teacher, monkeypatch, search, beta, expected):
    calls = []
    real = david_module.match_embeddings

    def counting(ctx, synthetic, labels, optimizers, iterations, resumable=False):
        calls.append(iterations)
        return real(ctx, synthetic, labels, optimizers, iterations, resumable)

    monkeypatch.setattr(david_module, "match_embeddings", counting)
    s = get_method("david").fn(david_ctx(store, teacher, search=search, beta=beta, resolutions=[2, 8]))
    assert calls == expected  # rl: rl_steps searches + the synthesis; grid: one full run per resolution
    assert s.meta["search_dm_iterations"] == (sum(expected) if search == "grid" else sum(expected[:-1]))
    assert len(s.meta["reward_history"]) == (3 if search != "grid" else 2) * 3  # one row per step (or action) and class


def test_david_end_to_end_records_its_policy(store, teacher):
    s = get_method("david").fn(david_ctx(store, teacher))
    assert s.expansion == "partitioned" and s.labels.tolist() == [0, 0, 1, 1, 2, 2]
    res = s.meta["resolution_per_class"]
    assert len(res) == 3 and set(res) <= {1, 2, 4, 8}
    assert s.tensors["item_frames"].tolist() == [r for r in res for _ in range(2)]
    assert np.array(s.meta["q_table"]).shape == (3, 4, 4) and s.meta["classes"] == ["c0", "c1", "c2"]
    assert s.videos([0, 5]).shape == (2, 8, 3, 48, 48)
    rewards = [h["reward"] for h in s.meta["reward_history"]]
    assert all(0 < r <= 1 for r in rewards)
    again = get_method("david").fn(david_ctx(store, teacher))  # seeded: the same policy and pixels
    assert again.meta["resolution_per_class"] == res
    torch.testing.assert_close(again.tensors["frames"], s.tensors["frames"])


def test_one_resolution_for_all_classes(store, teacher):
    s = get_method("david").fn(david_ctx(store, teacher, adaptive=False, rl_steps=4))
    assert len(set(s.meta["resolution_per_class"])) == 1
    assert np.array(s.meta["q_table"]).shape == (1, 4, 4)


def test_reports():
    meta = dict(dataset="d", ipc=1, seed=0, frames=8, classes=["A", "B", "C"], resolution_per_class=[1, 8, 4])
    delta = pd.DataFrame({"class": ["C", "B", "A"], "delta": [0.2, 0.5, 0.0], "delta_std": [0.0] * 3, "group": [1, 1, 0],
                          "rank": [2, 1, 3]})
    table = resolution_table([meta], delta, {"A": "appearance", "B": "motion"})
    assert table["resolution"].tolist() == [1, 8, 4] and table["delta"].tolist() == [0.0, 0.5, 0.2]
    assert table["kind"].tolist() == ["appearance", "motion", ""]
    summary = resolution_summary(table).iloc[0]
    assert summary["spearman_resolution_delta"] == pytest.approx(1.0)
    assert summary["mean_resolution_motion"] == 8 and summary["mean_resolution_appearance"] == 1
    with pytest.raises(ValueError, match="'Z'"):
        resolution_table([{**meta, "classes": ["A", "B", "Z"]}], delta, {})

    def cost(instance, seconds, res):
        return dict(dataset="d", ipc=1, seed=0, instance=instance, search_dm_iterations=10, synthesis_dm_iterations=5,
                    search_seconds=seconds, wall_time=seconds + 1, resolution_per_class=res)

    published = pd.DataFrame({"paper": ["DAViD"] * 2, "table": [3, 3], "dataset": ["HMDB51"] * 2, "ipc": [1, 1],
                              "method": ["Grid Search", "RL Search w. Early Stage DD"], "metric": ["gpu_hours"] * 2,
                              "mean": [96.0, 0.9], "std": [np.nan] * 2})
    t = search_cost_table([cost("e", 1.0, [1, 8]), cost("g", 10.0, [1, 4]), cost("r", 5.0, [1, 4])],
                          {"grid": "g", "rl": "r", "rl_early": "e"}, published)
    assert t["search"].tolist() == ["grid", "rl", "rl_early"]
    assert t["search_to_grid"].tolist() == pytest.approx([1.0, 0.5, 0.1])
    assert t["total_to_grid"].tolist() == pytest.approx([1.0, 6 / 11, 2 / 11])
    assert t["agrees_with_grid"].tolist() == [1.0, 1.0, 0.5]
    assert t["published_to_grid"].iloc[2] == pytest.approx(0.9 / 96) and np.isnan(t["published_to_grid"].iloc[1])
