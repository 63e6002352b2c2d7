"""DAViD, "Dynamic-Aware Video Distillation: Optimizing Temporal Resolution Based on Video Semantics" (Zhao et al.).

A class's *temporal resolution* r is the number of distinct frames its synthetic videos have. Temporal partitioning
P(V, r) = Temporal_Resize(Crop(V, r)) (Eq. 4) segments a T-frame video uniformly into r segments and repeats one
frame per segment in order back to T frames; only the r distinct frames are parameters and only they are stored, so
a class that needs no time costs r/T of a full video. Students see the partitioned videos in distillation and in
evaluation (the set's `partitioned` expansion).

Which r each class gets is learnt by Q-learning (§3.3, Alg. 1). One agent per class; its states and actions are the
configured resolutions (`resolutions`, default: the divisors of the clip length). Each RL step every agent takes an
action (greedy with probability `exploit`, ties broken at random, else uniform), the synthetic set is re-initialised,
partitioned by the actions and run for N_early = round(β·N) DM iterations, and each class's reward is Eq. 1,
R = 1 / (1 + ‖Φ_T(V_syn) − Φ_T(V_real)‖₂) with Φ_T the mean teacher embedding of the class's clips. The update is
Eq. 2, Q(S, A) ← Q(S, A) + α·[R + γ·max_a Q(A, a) − Q(S, A)], and the agent moves to state A. After `rl_steps`
steps, each class takes argmax_a Q(S_T, a) and the set is distilled for the full N iterations (Alg. 1's
"Synthesization"). The classes share the DM iterations: DM's loss is a sum over classes with a frozen network, so
every class's pixels get the gradient of its own term only, and all agents act in one batched run.

The learner (`states`, `schedule`, QAgents): the paper's literal one (state = the last resolution, Eq. 2's fixed α)
barely learns in the few dozen steps a search affords (docs/david.md: 40 % best-reward picks, 25 % at random);
the default shares one state and steps by max(α, 1/n), and with γ = 0 converges (97 %). A partitioned frame is
repeated T/r times, so its gradient is a sum of T/r copies' gradients; `repeats: mean` steps each resolution's frames
with lr·r/T so a coarse resolution does not move (and earn its early reward) faster for that sum alone.

Choices where the paper is silent (config/README.md lists them): agents start in the full-resolution state; each RL
step re-initialises the set from the same real clips (or noise) but draws its own networks and real batches (seeds
(seed, step)), so an action's reward is a fresh sample, as the paper's "randomness of the outcome" assumes; a
partitioned frame starts as the centre frame of its segment; both sides of the reward are standardised like the
teacher's training batches; N_early is at least one iteration.

`search` selects the temporal-policy learner whose cost Table 3 compares: `rl_early` (DAViD), `rl` (the same agent
waiting for N iterations per step) and `grid` (every resolution run for N iterations, the best reward per class
kept; its winning runs are the set). `adaptive: false` is Table 4's case B: one agent, rewarded with the mean over
classes, one resolution for all.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass

import numpy as np
import torch

from vidstill.data.clips import sample_clips
from vidstill.methods import register
from vidstill.methods.context import DistillContext
from vidstill.methods.dm import class_means, initial_videos, match_embeddings
from vidstill.methods.settings import DAViDSettings
from vidstill.optim import SGD
from vidstill.synthetic_set import SyntheticSet, resize_time
from vidstill.train import epoch_seed, standardize

log = logging.getLogger("vidstill.methods.david")

SEARCHES = ("rl_early", "rl", "grid")
REPEATS = ("mean", "sum")  # how a partitioned frame steps: by the mean or the sum of its copies' gradients
STEP_SEED = 10_000  # RL step t draws its networks and real batches from (seed, STEP_SEED + t)

PartitionedVideos = dict[int, torch.Tensor]  # class -> (ipc, r_c, C, H, W): the distinct frames of its videos


def segment_centres(frames: int, resolution: int) -> torch.Tensor:
    """The centre frame of each of `resolution` uniform segments of `frames` frames (Crop of Eq. 4)."""
    if not 1 <= resolution <= frames:
        raise ValueError(f"a temporal resolution must be in 1..{frames} (the clip length), got {resolution}")
    return torch.div((2 * torch.arange(resolution) + 1) * frames, 2 * resolution, rounding_mode="floor")


def partition(videos: torch.Tensor, resolution: int) -> torch.Tensor:
    """P(V, r): the r distinct frames a T-frame video keeps; `resize_time(P(V, r), T)` is what a student sees."""
    return videos[:, segment_centres(videos.shape[1], resolution)]


def default_resolutions(frames: int) -> list[int]:
    return [d for d in range(1, frames + 1) if frames % d == 0]


def q_update(
    q: np.ndarray, state: int, action: int, reward: float, alpha: float, gamma: float, next_state: int | None = None
) -> None:
    """Eq. 2 on one agent's (states, actions) table, in place; the next state is the action taken (or `next_state`)."""
    nxt = action if next_state is None else next_state
    q[state, action] += alpha * (reward + gamma * q[nxt].max() - q[state, action])


def greedy(values: np.ndarray, rng: np.random.Generator) -> int:
    """argmax with ties broken at random: an untried table is all zeros, and a fixed tie-break would always start
    every agent on the first resolution."""
    return int(rng.choice(np.flatnonzero(values == values.max())))


STATES = ("shared", "resolution")
SCHEDULES = ("visits", "constant")


@dataclass
class QAgents:
    """Independent Q-learners, one per class (or one for all): Q[agent, state, action].

    `states`: `resolution` is the paper's literal state, the resolution of the last step (|A| states). Every step
    re-initialises the synthetic set, so the reward never depends on that state, and the paper's table spreads a few
    dozen steps over |A|² cells that each learn alone (docs/david.md: 41 % best picks after 24 steps against 25 %
    at random). `shared`: one state; every step updates the one row that the final argmax reads.
    `schedule`: `constant` is Eq. 2's fixed α; `visits` uses max(α, 1/n) at the n-th visit of (state, action), so the
    first reward of an action sets its value instead of moving it 10 % of the way from zero (with a fixed α = 0.1 a
    zero-initialised Q measures how often an action was tried long before it measures its reward). Both schedules
    are Eq. 2; `visits` is the step-size sequence of Q-learning's convergence theorem, floored at the paper's α."""

    q: np.ndarray
    state: np.ndarray
    alpha: float
    gamma: float
    exploit: float
    states: str = "resolution"
    schedule: str = "constant"
    visits: np.ndarray | None = None

    @classmethod
    def start(
        cls,
        agents: int,
        actions: int,
        alpha: float,
        gamma: float,
        exploit: float,
        states: str = "resolution",
        schedule: str = "constant",
    ) -> QAgents:
        if states not in STATES:
            raise ValueError(f"david.states must be one of {STATES}, got {states!r}")
        if schedule not in SCHEDULES:
            raise ValueError(f"david.schedule must be one of {SCHEDULES}, got {schedule!r}")
        rows = actions if states == "resolution" else 1
        return cls(
            np.zeros((agents, rows, actions)),
            np.full(agents, rows - 1),
            alpha,
            gamma,
            exploit,
            states,
            schedule,
            np.zeros((agents, rows, actions), dtype=np.int64),
        )

    def act(self, rng: np.random.Generator) -> np.ndarray:
        """Eq. 3: the greedy action with probability `exploit`, else one drawn uniformly."""
        n = self.q.shape[2]
        return np.array(
            [
                greedy(self.q[i, s], rng) if rng.random() < self.exploit else int(rng.integers(n))
                for i, s in enumerate(self.state)
            ]
        )

    def update(self, actions: np.ndarray, rewards: np.ndarray) -> np.ndarray:
        """Eq. 2 for every agent; returns each agent's |ΔQ| (the convergence trace the set records)."""
        change = np.zeros(len(actions))
        nxt = np.asarray(actions).copy() if self.states == "resolution" else np.zeros(len(actions), dtype=np.int64)
        for i, (a, r) in enumerate(zip(actions, rewards, strict=True)):
            s, a = int(self.state[i]), int(a)
            self.visits[i, s, a] += 1
            alpha = max(self.alpha, 1.0 / self.visits[i, s, a]) if self.schedule == "visits" else self.alpha
            before = self.q[i, s, a]
            q_update(self.q[i], s, a, float(r), alpha, self.gamma, int(nxt[i]))
            change[i] = abs(self.q[i, s, a] - before)
        self.state = nxt
        return change

    def best(self, rng: np.random.Generator) -> np.ndarray:
        """A_T = argmax_a Q(S_T, a) per agent."""
        return np.array([greedy(self.q[i, s], rng) for i, s in enumerate(self.state)])


@torch.no_grad()
def class_embedding_means(
    teacher: torch.nn.Module, videos: torch.Tensor, labels: torch.Tensor, num_classes: int, batch_size: int = 64
) -> torch.Tensor:
    """Φ_T per class: the mean teacher embedding of the class's clips, each batch standardised as in training."""
    emb = torch.cat([teacher.embed(standardize(videos[k : k + batch_size])) for k in range(0, len(videos), batch_size)])
    return class_means(emb, labels, num_classes)[0]


def teacher_reward(syn_means: torch.Tensor, real_means: torch.Tensor) -> np.ndarray:
    """Eq. 1 per class."""
    return (1.0 / (1.0 + (syn_means - real_means).norm(dim=1))).cpu().numpy()


def real_class_means(ctx: DistillContext, teacher: torch.nn.Module, per_class: int) -> torch.Tensor:
    """Φ_T(V_real) per class from up to `per_class` training clips (centre clips), fixed for the whole search."""
    rng = np.random.default_rng(epoch_seed(ctx.seed, STEP_SEED - 1))
    idx = np.concatenate(
        [
            rng.choice(
                ctx.train.indices_of_class(c), size=min(per_class, len(ctx.train.indices_of_class(c))), replace=False
            )
            for c in range(ctx.num_classes)
        ]
    )
    return class_embedding_means(
        teacher, sample_clips(ctx.train, idx).to(ctx.device), ctx.train.labels[idx], ctx.num_classes
    )


def distil_partitioned(
    ctx: DistillContext,
    init: torch.Tensor,
    labels: torch.Tensor,
    resolution: np.ndarray,
    iterations: int,
    seed: int,
    resumable: bool = False,
) -> tuple[PartitionedVideos, dict]:
    """DM on the partitioned set: each class's videos start as P(init, r_c), one parameter tensor per resolution.
    `resumable`: the final distillation, which checkpoints (the seeded search before it is rerun identically)."""
    frames = init.shape[1]
    p = ctx.settings(DAViDSettings)
    repeats = p.repeats
    if repeats not in REPEATS:
        raise ValueError(f"david.repeats must be one of {REPEATS}, got {repeats!r}")
    lr, momentum = p.lr, p.momentum
    groups, optimizers = [], []
    for r in sorted(set(int(x) for x in resolution)):
        mask = torch.from_numpy(np.isin(labels.numpy(), np.flatnonzero(resolution == r)))
        groups.append((partition(init[mask], r).clone().to(ctx.device).requires_grad_(True), labels[mask]))
        # a distinct frame's gradient sums its frames / r copies; `mean` steps by their mean (lr x r / frames)
        optimizers.append(SGD([groups[-1][0]], lr=lr * (r / frames if repeats == "mean" else 1.0), momentum=momentum))
    meta = match_embeddings(
        dataclasses.replace(ctx, seed=seed),
        lambda rng: torch.cat([resize_time(g, frames) for g, _ in groups]),
        torch.cat([lab for _, lab in groups]),
        optimizers,
        iterations,
        resumable=resumable,
    )
    out: PartitionedVideos = {}
    for g, lab in groups:
        for c in lab.unique().tolist():
            out[c] = g.detach()[lab == c].cpu()
    return out, meta


def expanded(videos: PartitionedVideos, frames: int) -> tuple[torch.Tensor, torch.Tensor]:
    classes = sorted(videos)
    return (
        torch.cat([resize_time(videos[c], frames) for c in classes]),
        torch.cat([torch.full((len(videos[c]),), c, dtype=torch.long) for c in classes]),
    )


def rewards_of(
    ctx: DistillContext, teacher: torch.nn.Module, videos: PartitionedVideos, real_means: torch.Tensor
) -> np.ndarray:
    syn, labels = expanded(videos, ctx.train.spec.frames)
    return teacher_reward(class_embedding_means(teacher, syn.to(ctx.device), labels, ctx.num_classes), real_means)


def early_iterations(beta: float, iterations: int) -> int:
    """N_early = int(β·N) rounded to the nearest integer (Eq. 5), at least one iteration."""
    if not 0 < beta <= 1:
        raise ValueError(f"david.beta must be in (0, 1], got {beta}")
    return max(1, int(np.floor(beta * iterations + 0.5)))


def partitioned_set(ctx: DistillContext, videos: PartitionedVideos, meta: dict) -> SyntheticSet:
    """Only the distinct frames are stored: `frames` (Σ r_i, C, H, W) and each item's count in `item_frames`."""
    classes = sorted(videos)
    flat = torch.cat([videos[c].flatten(0, 1) for c in classes])
    counts = torch.cat([torch.full((len(videos[c]),), videos[c].shape[1], dtype=torch.int32) for c in classes])
    labels = torch.cat([torch.full((len(videos[c]),), c, dtype=torch.long) for c in classes])
    return SyntheticSet(
        {"frames": flat, "item_frames": counts},
        labels,
        ctx.num_classes,
        ctx.train.spec.frames,
        expansion="partitioned",
        meta=meta,
    )


@register("david", needs=("teacher",))
def david(ctx: DistillContext) -> SyntheticSet:
    p = ctx.settings(DAViDSettings)
    frames = ctx.train.spec.frames
    actions = np.array(p.resolutions or default_resolutions(frames))
    for r in actions:
        segment_centres(frames, int(r))  # validates
    search = p.search
    if search not in SEARCHES:
        raise ValueError(f"david.search must be one of {SEARCHES}, got {search!r}")
    iterations = p.iterations
    adaptive = p.adaptive
    k = ctx.num_classes
    rng = np.random.default_rng(ctx.seed)
    init, labels = initial_videos(ctx, rng)
    teacher = ctx.teacher_network()
    real_means = real_class_means(ctx, teacher, p.reward_real)

    def per_class(agent_values: np.ndarray) -> np.ndarray:
        return agent_values if adaptive else np.full(k, agent_values[0])

    history: list[dict] = []
    start = time.perf_counter()
    if search == "grid":  # every resolution for N iterations; per class (or for all, by mean) the best reward wins
        best_reward, best = np.full(k if adaptive else 1, -np.inf), {}
        for j, r in enumerate(actions):
            videos, meta = distil_partitioned(ctx, init, labels, np.full(k, r), iterations, ctx.seed)
            reward = rewards_of(ctx, teacher, videos, real_means)
            history += [dict(step=j, label=c, action=int(r), reward=float(reward[c])) for c in range(k)]
            agent_reward = reward if adaptive else reward.mean(keepdims=True)
            for i in np.flatnonzero(agent_reward > best_reward):
                best_reward[i] = agent_reward[i]
                for c in [int(i)] if adaptive else range(k):
                    best[c] = (int(r), videos[c], meta)
        choice = np.array([best[c][0] for c in range(k)])
        searched_iterations, q_table = len(actions) * iterations, None
        final_videos = {c: best[c][1] for c in range(k)}
        final_meta = best[0][2]
        search_seconds = time.perf_counter() - start
    else:
        n_step = iterations if search == "rl" else early_iterations(p.beta, iterations)
        steps = p.rl_steps
        agents = QAgents.start(
            k if adaptive else 1, len(actions), p.alpha, p.gamma, p.exploit, states=p.states, schedule=p.schedule
        )
        for t in range(steps):
            state = agents.state.copy()
            act = agents.act(rng)
            videos, _ = distil_partitioned(
                ctx, init, labels, per_class(actions[act]), n_step, epoch_seed(ctx.seed, STEP_SEED + t)
            )
            reward = rewards_of(ctx, teacher, videos, real_means)
            change = per_class(agents.update(act, reward if adaptive else reward.mean(keepdims=True)))
            greedy_now = per_class(agents.q[np.arange(len(agents.state)), agents.state].argmax(1))
            history += [
                dict(
                    step=t,
                    label=c,
                    state=int(actions[per_class(state)[c]]) if agents.states == "resolution" else -1,
                    action=int(actions[per_class(act)[c]]),
                    reward=float(reward[c]),
                    q_change=float(change[c]),
                    greedy=int(actions[greedy_now[c]]),
                )
                for c in range(k)
            ]
            log.info(
                "RL step %d/%d: resolutions %s, mean reward %.4f",
                t + 1,
                steps,
                per_class(actions[act]).tolist(),
                reward.mean(),
            )
        choice = per_class(actions[agents.best(rng)])
        searched_iterations, q_table = steps * n_step, agents.q.tolist()
        search_seconds = time.perf_counter() - start
        final_videos, final_meta = distil_partitioned(ctx, init, labels, choice, iterations, ctx.seed, resumable=True)
    log.info(
        "%s search: %.1fs, %d DM iterations; resolution per class %s",
        search,
        search_seconds,
        searched_iterations,
        choice.tolist(),
    )
    meta = {
        **final_meta,
        "method": "david",
        "search": search,
        "adaptive": adaptive,
        "resolutions": actions.tolist(),
        "resolution_per_class": [int(x) for x in choice],
        "frames": frames,
        "classes": ctx.train.table.drop_duplicates("label").sort_values("label")["class"].tolist(),
        "q_table": q_table,
        "reward_history": history,
        "search_seconds": search_seconds,
        "search_dm_iterations": searched_iterations,
        "synthesis_dm_iterations": 0 if search == "grid" else iterations,
    }
    return partitioned_set(ctx, final_videos, meta)


__all__ = [
    "QAgents",
    "class_embedding_means",
    "david",
    "default_resolutions",
    "distil_partitioned",
    "early_iterations",
    "greedy",
    "partition",
    "partitioned_set",
    "q_update",
    "segment_centres",
    "teacher_reward",
]
