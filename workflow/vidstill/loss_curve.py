"""A loop's loss per iteration, kept where it was computed and read in batches.

Reading a CUDA scalar (`loss.item()`, `float(loss)`) makes the host wait until the GPU has drained its queue, so a
loop that reads its loss every iteration leaves the GPU idle while Python prepares the next one. The distillation
loops append the loss tensor here and read the values only where they are needed: at a logging interval, when a
checkpoint is written and at the end. The values are the floats `.item()` gave (a float32 or float64 scalar becomes
the same Python float either way), so CPU results do not change.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch


class LossCurve:
    def __init__(self, values: Iterable[float] = ()) -> None:
        self._values = [float(v) for v in values]
        self._pending: list[torch.Tensor] = []
        self.reads = 0  # how often the host waited for pending values: the tests check that loops batch them

    def append(self, loss: torch.Tensor) -> None:
        self._pending.append(loss.detach().reshape(()))

    def __len__(self) -> int:
        return len(self._values) + len(self._pending)

    def tolist(self) -> list[float]:
        """Every value so far, as Python floats; the pending ones are read in one transfer."""
        if self._pending:
            self._values += torch.stack(self._pending).tolist()
            self._pending.clear()
            self.reads += 1
        return list(self._values)

    def last(self) -> float:
        return self.tolist()[-1]


def curve_values(curve: object) -> object:
    """A curve (or a dict / list of curves) as plain lists of floats, for checkpoints and metadata."""
    if isinstance(curve, LossCurve):
        return curve.tolist()
    if isinstance(curve, dict):
        return {k: curve_values(v) for k, v in curve.items()}
    return curve


__all__ = ["LossCurve", "curve_values"]
