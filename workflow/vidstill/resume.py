"""Resuming an optimisation loop after preemption. A SLURM requeue (or any kill) restarts the job from scratch; with
this, a distillation loop (or the one training loop, train.py, per epoch) picks up at its last checkpoint and loses
minutes, not hours.

The checkpoint holds what the loop carries between iterations: the optimised tensors (every optimizer's parameters,
in order), the optimizers' states and the loss curve. It suffices for loops whose iteration draws are seeded from
(seed, iteration), like DM's (`methods/dm.iteration_draw`): a resumed run then draws exactly what an uninterrupted
one would, and ends with the same set. The file lives outside the job's declared outputs (Snakemake deletes those
when a job fails), is written atomically at most every `every_s` seconds, and is removed when the loop ends.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from vidstill.io import atomic_path
from vidstill.loss_curve import curve_values

log = logging.getLogger("vidstill")


def saved_buffers(modules: Sequence[torch.nn.Module]) -> list[torch.Tensor]:
    """The modules' buffers (BatchNorm running statistics): state a checkpoint needs besides optimizer parameters."""
    return [b.detach().cpu() for m in modules for b in m.buffers()]


def load_buffers(modules: Sequence[torch.nn.Module], saved: Sequence[torch.Tensor]) -> None:
    with torch.no_grad():
        for b, value in zip([b for m in modules for b in m.buffers()], saved):
            b.copy_(value.to(b.device))


class IterationCheckpoint:
    def __init__(self, path: str | Path | None, every_s: float = 300.0) -> None:
        self.path = Path(path) if path else None
        self.every_s = float(every_s)
        self._last = time.monotonic()
        self.extra: dict[str, Any] = {}  # a loop's other state (FRePo: its model pool's counters), as last restored

    @staticmethod
    def _params(optimizers: Sequence) -> list[torch.Tensor]:
        return [p for opt in optimizers for group in opt.param_groups for p in group["params"]]

    def restore(self, optimizers: Sequence) -> tuple[int, Any]:
        """Load the last checkpoint into the optimizers' parameters and states: (iterations done, loss curve as saved);
        (0, []) when there is none. A checkpoint of another shape (settings changed since) is an error naming the
        file."""
        if self.path is None or not self.path.exists():
            return 0, []
        state = torch.load(self.path, map_location="cpu", weights_only=True)
        params = self._params(optimizers)
        if len(state["params"]) != len(params) or any(a.shape != b.shape for a, b in zip(state["params"], params)):
            raise ValueError(
                f"{self.path}: checkpoint does not match this run's tensors (settings changed?); delete it"
            )
        with torch.no_grad():
            for p, saved in zip(params, state["params"]):
                p.copy_(saved.to(p.device))
        for opt, saved in zip(optimizers, state["optimizers"]):
            opt.load_state_dict(saved)
            own = self._params([opt])
            for i, buffers in opt.state.items():  # momentum buffers back on their parameter's device
                for k, v in buffers.items():
                    if isinstance(v, torch.Tensor):
                        buffers[k] = v.to(own[i].device)
        self.extra = state.get("extra", {})
        log.info("resumed from %s at iteration %d", self.path, state["iteration"])
        return int(state["iteration"]), state["curve"]

    def maybe_save(
        self, done: int, optimizers: Sequence, curve: Any, extra: Callable[[], dict[str, Any]] | None = None
    ) -> None:
        """`save` when `every_s` seconds have passed since the last write."""
        if self.path is not None and time.monotonic() - self._last >= self.every_s:
            self.save(done, optimizers, curve, extra)

    def save(
        self, done: int, optimizers: Sequence, curve: Any, extra: Callable[[], dict[str, Any]] | None = None
    ) -> None:
        """Write the state after `done` iterations (or epochs); `extra()` (tensors, numbers, lists; called only when
        writing) travels with it and comes back as `self.extra`."""
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        state = {
            "iteration": done,
            "curve": curve_values(curve),  # a LossCurve is read here, when a checkpoint is written
            "params": [p.detach().cpu() for p in self._params(optimizers)],
            "optimizers": [opt.state_dict() for opt in optimizers],
            "extra": extra() if extra else {},
        }
        with atomic_path(self.path) as tmp:
            torch.save(state, tmp)
        self._last = time.monotonic()

    def finish(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)
