"""SGD and Adam with exactly torch.optim's update rules, minus its per-step import of torch._dynamo.

torch.optim's `step()` imports torch._dynamo on first use (3.4 s on our 2-core CPU). The default pipeline runs over a
hundred short training jobs, each a fresh process, so that import alone would cost minutes of the 20-minute budget.
These classes reproduce torch's updates (tests/test_optim.py checks them step for step against torch.optim) and
expose the parts of its interface vidstill uses: `param_groups[i]["lr"]`, `step`, `zero_grad`, `state_dict`,
`load_state_dict`. They work for pixels as well as weights: any tensors with `.grad`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch


class Optimizer:
    def __init__(self, params: Iterable[torch.Tensor], defaults: dict[str, Any]) -> None:
        params = list(params)
        if not params:
            raise ValueError("optimizer got an empty parameter list")
        self.param_groups: list[dict[str, Any]] = [{"params": params, **defaults}]
        self.state: dict[int, dict[str, torch.Tensor]] = {}  # keyed by position in the flattened parameter list

    def _params(self) -> Iterable[tuple[int, dict[str, Any], torch.Tensor]]:
        i = 0
        for group in self.param_groups:
            for p in group["params"]:
                yield i, group, p
                i += 1

    def zero_grad(self, set_to_none: bool = True) -> None:
        for _, _, p in self._params():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.zero_()

    def state_dict(self) -> dict[str, Any]:
        return {
            "state": {str(i): dict(s) for i, s in self.state.items()},
            "groups": [{k: v for k, v in g.items() if k != "params"} for g in self.param_groups],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.state = {int(i): dict(s) for i, s in state["state"].items()}
        for group, saved in zip(self.param_groups, state["groups"]):
            group.update(saved)


class SGD(Optimizer):
    """torch.optim.SGD: d = g + wd·p; buf = d at the first step, then momentum·buf + d; p -= lr·buf."""

    def __init__(
        self, params: Iterable[torch.Tensor], lr: float, momentum: float = 0.0, weight_decay: float = 0.0
    ) -> None:
        super().__init__(params, {"lr": lr, "momentum": momentum, "weight_decay": weight_decay})

    @torch.no_grad()
    def step(self) -> None:
        for i, group, p in self._params():
            if p.grad is None:
                continue
            d = p.grad.add(p, alpha=group["weight_decay"]) if group["weight_decay"] else p.grad
            if group["momentum"]:
                state = self.state.setdefault(i, {})
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = d.detach().clone()
                else:
                    state["momentum_buffer"].mul_(group["momentum"]).add_(d)
                d = state["momentum_buffer"]
            p.add_(d, alpha=-group["lr"])


class Adam(Optimizer):
    """torch.optim.Adam (L2 weight decay added to the gradient, bias-corrected moments, eps outside the sqrt)."""

    def __init__(
        self,
        params: Iterable[torch.Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay})

    @torch.no_grad()
    def step(self) -> None:
        for i, group, p in self._params():
            if p.grad is None:
                continue
            g = p.grad.add(p, alpha=group["weight_decay"]) if group["weight_decay"] else p.grad
            b1, b2 = group["betas"]
            state = self.state.setdefault(i, {})
            if not state:
                state["step"] = torch.zeros((), dtype=torch.float64)
                state["exp_avg"] = torch.zeros_like(p)
                state["exp_avg_sq"] = torch.zeros_like(p)
            state["step"] += 1
            t = float(state["step"])
            state["exp_avg"].lerp_(g, 1 - b1)
            state["exp_avg_sq"].mul_(b2).addcmul_(g, g, value=1 - b2)
            denom = (state["exp_avg_sq"].sqrt() / (1 - b2**t) ** 0.5).add_(group["eps"])
            p.addcdiv_(state["exp_avg"], denom, value=-group["lr"] / (1 - b1**t))


class AdamW(Adam):
    """torch.optim.AdamW: decoupled weight decay (p ← p·(1 − lr·wd) before the step), then Adam's step with no L2
    term in the gradient. FRePo's evaluation trains its students with it (REFERENCE.md; the reference's
    FRePo/lib_torch/utils.py evaluate_synset)."""

    def __init__(
        self,
        params: Iterable[torch.Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=0.0)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = weight_decay

    @torch.no_grad()
    def step(self) -> None:
        for _, group, p in self._params():
            if p.grad is not None and group["decoupled_weight_decay"]:
                p.mul_(1 - group["lr"] * group["decoupled_weight_decay"])
        super().step()


def descend(loss: torch.Tensor, optimizers: list[Optimizer]) -> torch.Tensor:
    """One step of every optimiser on `loss` (a synthetic set's parts may each have their own): clear, backward,
    step. Returns the detached loss, not its value: reading it would make the host wait for the GPU (loss_curve.py)."""
    for opt in optimizers:
        opt.zero_grad()
    loss.backward()
    for opt in optimizers:
        opt.step()
    return loss.detach()
