"""DAViD: temporal partitioning round-trips through the stored set, the Q update is Eq. 2 on a hand example, the
early-stage search runs DM for round(β·N) iterations per action (N for the naive RL and the grid), case B gives
every class one resolution, and the two reports."""

import numpy as np
import pandas as pd
import pytest
import torch
from helpers import david_ctx

from vidstill.methods import david as david_module
from vidstill.methods import get_method
from vidstill.methods.david import (
    QAgents,
    default_resolutions,
    early_iterations,
    greedy,
    partition,
    partitioned_set,
    q_update,
    segment_centres,
    teacher_reward,
)
from vidstill.report.david import resolution_summary, resolution_table, search_cost_table
from vidstill.synthetic_set import SyntheticSet, resize_time


@pytest.mark.parametrize(
    "frames,resolution,centres",
    [
        (8, 1, [4]),
        (8, 2, [2, 6]),
        (8, 4, [1, 3, 5, 7]),
        (8, 8, list(range(8))),
        (16, 4, [2, 6, 10, 14]),
        (6, 4, [0, 2, 3, 5]),
    ],
)
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


def test_paper_learner_on_a_hand_computed_episode():
    """The paper's literal learner (state = last resolution, fixed α) over three steps, every value by hand."""
    agents = QAgents.start(1, 2, alpha=0.5, gamma=0.5, exploit=1.0, states="resolution", schedule="constant")
    # S0 = 1 (full resolution). A = 0, R = 0.8: Q[1,0] = 0 + 0.5 * (0.8 + 0.5 * max Q[0] - 0) = 0.4; S = 0
    assert agents.update(np.array([0]), np.array([0.8]))[0] == pytest.approx(0.4)
    # A = 0, R = 0.6: Q[0,0] = 0 + 0.5 * (0.6 + 0.5 * 0 - 0) = 0.3; S = 0
    agents.update(np.array([0]), np.array([0.6]))
    # A = 1, R = 1.0: Q[0,1] = 0 + 0.5 * (1.0 + 0.5 * max Q[1] = 0.4 - 0) = 0.6; S = 1
    agents.update(np.array([1]), np.array([1.0]))
    np.testing.assert_allclose(agents.q[0], [[0.3, 0.6], [0.4, 0.0]])
    assert agents.state.tolist() == [1]
    assert agents.best(np.random.default_rng(0)).tolist() == [0]  # argmax_a Q(S_T = 1, a)


def test_default_learner_on_a_hand_computed_episode():
    """One shared state and α = max(α, 1/n): the first visit sets Q to its target, later visits average."""
    agents = QAgents.start(1, 3, alpha=0.1, gamma=0.5, exploit=1.0, states="shared", schedule="visits")
    assert agents.q.shape == (1, 1, 3)
    agents.update(np.array([2]), np.array([0.4]))  # n = 1, α = 1: Q2 = 0.4 + 0.5 * max(0, 0, 0) = 0.4
    agents.update(np.array([0]), np.array([0.2]))  # n = 1: Q0 = 0.2 + 0.5 * 0.4 = 0.4
    change = agents.update(
        np.array([2]), np.array([0.6])
    )  # n = 2, α = 1/2: Q2 = 0.4 + 0.5 * (0.6 + 0.5 * 0.4 - 0.4) = 0.6
    np.testing.assert_allclose(agents.q[0, 0], [0.4, 0.0, 0.6])
    assert change[0] == pytest.approx(0.2) and agents.visits[0, 0].tolist() == [1, 0, 2]
    agents.update(np.array([1]), np.array([0.0]))  # n = 1: Q1 = 0 + 0.5 * 0.6 = 0.3
    assert agents.q[0, 0, 1] == pytest.approx(0.3)
    for n in range(2, 16):  # α = 1/n until the 10th visit, then the floor 0.1
        before, target = agents.q[0, 0, 1], 0.5 * agents.q[0, 0].max()
        agents.update(np.array([1]), np.array([0.0]))
        assert agents.q[0, 0, 1] == pytest.approx(before + (1 / n if n <= 10 else 0.1) * (target - before))
    agents.update(np.array([0]), np.array([0.2]))  # to state 0 of the one shared row
    assert agents.state.tolist() == [0]
    with pytest.raises(ValueError, match="states"):
        QAgents.start(1, 3, 0.1, 0.5, 0.2, states="last")


PLANTED = np.array(
    [
        [0.50, 0.52, 0.70, 0.60],  # class 0: resolution 4 is best
        [0.90, 0.60, 0.55, 0.50],  # class 1: resolution 1
        [0.40, 0.45, 0.47, 0.49],
    ]
)  # class 2: resolution 8, by a small margin


def replay(agents: QAgents, steps: int, rng: np.random.Generator, noise: float = 0.005) -> np.ndarray:
    k = np.arange(len(PLANTED))
    for _ in range(steps):
        a = agents.act(rng)
        agents.update(a, PLANTED[k, a] + noise * rng.standard_normal(len(k)))
    return agents.best(rng)


def test_default_learner_finds_the_planted_best_resolution_on_a_replay_reward():
    """On noisy rewards with a planted best action per class, the default learner's 24 steps at p = 0.2 find every
    class's best in almost every run, and its Q settles (the paper's literal learner does not:
    benchmarks/david_policy.py)."""
    hits = []
    for seed in range(40):
        agents = QAgents.start(3, 4, alpha=0.1, gamma=0.0, exploit=0.2, states="shared", schedule="visits")
        hits.append(replay(agents, 24, np.random.default_rng(seed)) == PLANTED.argmax(1))
        assert agents.q[:, 0].argmax(1).tolist() == PLANTED.argmax(1).tolist() or not hits[-1].all()
    assert np.mean(hits) >= 0.95
    literal = [
        replay(QAgents.start(3, 4, 0.1, 0.5, 0.2, "resolution", "constant"), 24, np.random.default_rng(s))
        == PLANTED.argmax(1)
        for s in range(40)
    ]
    assert np.mean(literal) < np.mean(hits) - 0.2  # the reason the default is not the literal learner


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


@pytest.mark.parametrize(
    "search,beta,expected",
    [
        ("rl_early", 0.25, [1, 1, 1, 4]),
        ("rl_early", 0.5, [2, 2, 2, 4]),
        ("rl", 0.25, [4, 4, 4, 4]),
        ("grid", 0.25, [4, 4]),
    ],
)
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
    assert np.array(s.meta["q_table"]).shape == (3, 1, 4) and s.meta["classes"] == [
        "c0",
        "c1",
        "c2",
    ]  # one shared state
    assert s.videos([0, 5]).shape == (2, 8, 3, 48, 48)
    rewards = [h["reward"] for h in s.meta["reward_history"]]
    assert all(0 < r <= 1 for r in rewards)
    again = get_method("david").fn(david_ctx(store, teacher))  # seeded: the same policy and pixels
    assert again.meta["resolution_per_class"] == res
    torch.testing.assert_close(again.tensors["frames"], s.tensors["frames"])


def planted_rewards(monkeypatch, table: dict[int, list[float]], noise: float = 0.0):
    """Replace the teacher's reward by a planted one: class c at resolution r earns table[r][c] (+ noise)."""
    rng = np.random.default_rng(123)

    def reward(ctx, teacher, videos, real_means):
        return np.array([table[videos[c].shape[1]][c] for c in sorted(videos)]) + noise * rng.standard_normal(
            len(videos)
        )

    monkeypatch.setattr(david_module, "rewards_of", reward)


#                resolution: reward of classes 0, 1, 2
PLANTED_BY_RES = {1: [0.3, 0.9, 0.5], 2: [0.6, 0.5, 0.4], 4: [0.5, 0.4, 0.45], 8: [0.4, 0.3, 0.6]}


@pytest.mark.parametrize("adaptive", [True, False])
def test_grid_search_keeps_the_best_resolution(store, teacher, monkeypatch, adaptive):
    planted_rewards(monkeypatch, PLANTED_BY_RES)
    s = get_method("david").fn(david_ctx(store, teacher, search="grid", adaptive=adaptive, iterations=1))
    # per class the best is 2, 1, 8; for all classes the best mean is resolution 1 (0.567)
    expected = [2, 1, 8] if adaptive else [1, 1, 1]
    assert s.meta["resolution_per_class"] == expected
    assert s.tensors["item_frames"].tolist() == [r for r in expected for _ in range(2)]  # the winning runs are the set


def test_rl_early_search_finds_the_planted_best_resolution(store, teacher, monkeypatch):
    planted_rewards(monkeypatch, PLANTED_BY_RES, noise=0.01)
    # exploring only (p = 0): 24 steps try each of the 4 resolutions of every class (a miss has probability
    # 3 x 4 x 0.75^24)
    s = get_method("david").fn(david_ctx(store, teacher, rl_steps=24, iterations=1, exploit=0.0, gamma=0.0))
    assert s.meta["resolution_per_class"] == [2, 1, 8]
    history = pd.DataFrame(s.meta["reward_history"])
    assert history.groupby("label")["q_change"].last().max() < 0.05  # Q has settled by the last step
    assert (history[history["step"] == 23]["greedy"].tolist()) == [2, 1, 8]


def test_repeated_frames_step_by_the_mean_of_their_copies_gradients(store, teacher, monkeypatch):
    """With `repeats: mean` a class at resolution r steps with lr x r / T, so a frame repeated T / r times moves like
    one full-resolution frame; `sum` keeps the summed gradient (the coarse resolutions then move T / r times faster)."""
    seen = {}

    def capture(ctx, synthetic, labels, optimizers, iterations, resumable=False):
        seen[ctx.params.repeats] = sorted(o.param_groups[0]["lr"] for o in optimizers)
        return {}

    monkeypatch.setattr(david_module, "match_embeddings", capture)
    init, labels = torch.randn(3, 8, 3, 4, 4), torch.tensor([0, 1, 2])
    for mode in ("mean", "sum"):
        c = david_ctx(store, teacher, repeats=mode, lr=8.0)
        david_module.distil_partitioned(c, init, labels, np.array([1, 4, 8]), 1, 0)
    assert seen["mean"] == pytest.approx([1.0, 4.0, 8.0]) and seen["sum"] == pytest.approx([8.0, 8.0, 8.0])
    with pytest.raises(ValueError, match="repeats"):
        david_module.distil_partitioned(
            david_ctx(store, teacher, repeats="max"), init, labels, np.array([1, 4, 8]), 1, 0
        )


def test_one_resolution_for_all_classes(store, teacher):
    s = get_method("david").fn(david_ctx(store, teacher, adaptive=False, rl_steps=4))
    assert len(set(s.meta["resolution_per_class"])) == 1
    assert np.array(s.meta["q_table"]).shape == (1, 1, 4)


def test_reports():
    meta = dict(dataset="d", ipc=1, seed=0, frames=8, classes=["A", "B", "C"], resolution_per_class=[1, 8, 4])
    delta = pd.DataFrame(
        {
            "class": ["C", "B", "A"],
            "delta": [0.2, 0.5, 0.0],
            "delta_std": [0.0] * 3,
            "group": [1, 1, 0],
            "rank": [2, 1, 3],
        }
    )
    table = resolution_table([meta], delta, {"A": "appearance", "B": "motion"})
    assert table["resolution"].tolist() == [1, 8, 4] and table["delta"].tolist() == [0.0, 0.5, 0.2]
    assert table["kind"].tolist() == ["appearance", "motion", ""]
    summary = resolution_summary(table).iloc[0]
    assert summary["spearman_resolution_delta"] == pytest.approx(1.0)
    assert summary["mean_resolution_motion"] == 8 and summary["mean_resolution_appearance"] == 1
    with pytest.raises(ValueError, match="'Z'"):
        resolution_table([{**meta, "classes": ["A", "B", "Z"]}], delta, {})

    def cost(instance, seconds, res):
        return dict(
            dataset="d",
            ipc=1,
            seed=0,
            instance=instance,
            search_dm_iterations=10,
            synthesis_dm_iterations=5,
            search_seconds=seconds,
            wall_time=seconds + 1,
            resolution_per_class=res,
        )

    published = pd.DataFrame(
        {
            "paper": ["DAViD"] * 2,
            "table": [3, 3],
            "dataset": ["HMDB51"] * 2,
            "ipc": [1, 1],
            "method": ["Grid Search", "RL Search w. Early Stage DD"],
            "metric": ["gpu_hours"] * 2,
            "mean": [96.0, 0.9],
            "std": [np.nan] * 2,
        }
    )
    t = search_cost_table(
        [cost("e", 1.0, [1, 8]), cost("g", 10.0, [1, 4]), cost("r", 5.0, [1, 4])],
        {"grid": "g", "rl": "r", "rl_early": "e"},
        published,
    )
    assert t["search"].tolist() == ["grid", "rl", "rl_early"]
    assert t["search_to_grid"].tolist() == pytest.approx([1.0, 0.5, 0.1])
    assert t["total_to_grid"].tolist() == pytest.approx([1.0, 6 / 11, 2 / 11])
    assert t["agrees_with_grid"].tolist() == [1.0, 1.0, 0.5]
    assert t["published_to_grid"].iloc[2] == pytest.approx(0.9 / 96) and np.isnan(t["published_to_grid"].iloc[1])
