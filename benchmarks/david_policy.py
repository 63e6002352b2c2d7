"""How often DAViD's Q-learner picks each class's best resolution, for a grid of RL steps T and exploit probabilities p.

    uv run python benchmarks/david_policy.py results/synthetic/distilled/david/ipc1/seed0.safetensors \\
        [--steps 16 24 32 64 128] [--exploit 0 0.2 0.5 0.8] [--learners shared/visits resolution/constant]
        [--repeats 200]

The paper gives neither T nor p. This replays the agent of methods/david.py (same QAgents, α and γ from the set)
against the rewards a real search measured: each (class, resolution) draws its reward from a normal distribution
with the mean and spread that resolution's rewards had in the set's reward history. Every resolution must have been
tried for every class: pass a long RL search's set, or a grid search's (one reward each, so no spread). Reports, per (T,
p): the share of classes whose chosen resolution has the highest mean reward, the mean relative reward lost ("regret"),
and how settled Q is at the end: the mean |ΔQ| of the last step's update and the share of agents whose greedy action did
not change over the last quarter of the steps. A learner is `states/schedule[/gamma]` (QAgents; γ defaults to the
set's): `resolution/constant` is the paper's literal Eq. 2 (state = last resolution, fixed α), `shared/visits` the
default (one state, α = max(α, 1/n)). Writes results/benchmarks/david_policy.csv.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow"))

from vidstill.io import load_tensors  # noqa: E402
from vidstill.methods.david import QAgents  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("synthetic_set")
    ap.add_argument("--steps", type=int, nargs="+", default=[16, 24, 32, 64, 128])
    ap.add_argument("--exploit", type=float, nargs="+", default=[0.0, 0.2, 0.5, 0.8])
    ap.add_argument("--learners", nargs="+", default=["shared/visits", "resolution/constant"])
    ap.add_argument("--repeats", type=int, default=200)
    ap.add_argument("--out", default=str(REPO / "results/benchmarks/david_policy.csv"))
    args = ap.parse_args()
    meta = load_tensors(args.synthetic_set)[1]["meta"]
    history = pd.DataFrame(meta["reward_history"])
    stats = history.groupby(["label", "action"])["reward"].agg(["mean", "std"]).fillna(0.0)
    actions = sorted(history["action"].unique())
    classes = sorted(history["label"].unique())
    mean = np.array([[stats["mean"].get((c, a), np.nan) for a in actions] for c in classes])
    std = np.array([[stats["std"].get((c, a), 0.0) for a in actions] for c in classes])
    if np.isnan(mean).any():
        sys.exit("the source search did not try every resolution for every class; pass a grid search's set")
    best, top = mean.argmax(1), mean.max(1)
    settings = meta.get("settings", {})
    alpha, gamma_set = float(settings.get("alpha", 0.1)), float(settings.get("gamma", 0.5))
    rows = []
    k = np.arange(len(classes))
    for learner in args.learners:
        states, schedule, *g = learner.split("/")
        gamma = float(g[0]) if g else gamma_set
        for steps in args.steps:
            for exploit in args.exploit:
                hits, regret, last_change, stable = [], [], [], []
                for rep in range(args.repeats):
                    rng = np.random.default_rng(rep)
                    agents = QAgents.start(len(classes), len(actions), alpha, gamma, exploit, states, schedule)
                    greedy_trace = []
                    for _ in range(steps):
                        a = agents.act(rng)
                        change = agents.update(a, mean[k, a] + std[k, a] * rng.standard_normal(len(classes)))
                        greedy_trace.append(agents.q[k, agents.state].argmax(1))
                    choice = agents.best(rng)
                    hits.append((choice == best).mean())
                    regret.append(((top - mean[k, choice]) / top).mean())
                    last_change.append(change.mean())
                    tail = np.array(greedy_trace[-max(1, steps // 4) :])
                    stable.append((tail == tail[-1]).all(0).mean())
                rows.append(
                    dict(
                        learner=learner,
                        rl_steps=steps,
                        exploit=exploit,
                        best_share=np.mean(hits),
                        regret=np.mean(regret),
                        last_q_change=np.mean(last_change),
                        greedy_stable=np.mean(stable),
                    )
                )
    uniform = float(((top[:, None] - mean) / top[:, None]).mean())
    table = pd.DataFrame(rows)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False)
    print(table.to_string(index=False, float_format="%.3f"))
    print(f"a uniformly random resolution: regret {uniform:.3f}, best share {1 / len(actions):.3f}")


if __name__ == "__main__":
    main()
