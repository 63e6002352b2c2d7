"""Student evaluation, the papers' protocol made honest (DESIGN.md, REFERENCE.md).

A fresh student trains on a SyntheticSet (or the full real training set) and is tested with `test_passes` passes of
fresh temporal starts and flips. The reported number is the final-epoch accuracy. `selection: best_on_test` (what the
reference code logs: the best test accuracy seen during training) is available only under that name and is written
into every row, so a table can never mix it up with the honest number.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from vidstill.data.clips import ClipStore, RealClips
from vidstill.models import build_model
from vidstill.settings import EvaluationSettings, StudentSettings, build
from vidstill.synthetic_set import SyntheticSet
from vidstill.teacher import load_teacher, teacher_softmax, teacher_standardizes
from vidstill.train import TrainConfig, TrainSource, epoch_seed, evaluate, train

log = logging.getLogger("vidstill.evaluate")
SELECTIONS = ("final", "best_on_test")


def evaluate_student(
    source: TrainSource,
    test_store: ClipStore,
    protocol: Mapping[str, Any] | EvaluationSettings,
    student: Mapping[str, Any] | StudentSettings,
    seed: int,
    device: torch.device,
    lr: float | None = None,
    epochs: int | None = None,
    label_loss: str = "ce",
) -> pd.DataFrame:
    """`protocol.runs` students (seeds derived from `seed`) per architecture in [student.arch] + protocol.cross_arch."""
    protocol = build(EvaluationSettings, protocol, "evaluation")
    student = build(StudentSettings, student, "student")
    selection = protocol.selection
    passes = protocol.test_passes
    if device.type == "cuda" and isinstance(source, SyntheticSet):
        source = source.to(device)  # expanded on the GPU, batch by batch (CPU runs keep the set where it is)
    test = RealClips(test_store).test_batches(protocol.test_batch_size)
    spec = test_store.spec
    rows = []
    for arch in [student.arch, *protocol.cross_arch]:
        for run in range(protocol.runs):
            run_seed = epoch_seed(seed, 1000 + run)
            cfg = TrainConfig.from_config(
                protocol,
                seed=run_seed,
                lr=lr if lr is not None else protocol.lr,
                epochs=epochs if epochs is not None else protocol.epochs,
                label_loss=label_loss,
            )
            torch.manual_seed(run_seed)
            model = build_model(arch, test_store.num_classes, spec.frames, spec.crop, widths=tuple(student.widths))
            best: dict[str, Any] = {"top1": -1.0}

            def track_best(epoch: int, m: torch.nn.Module) -> dict | None:
                if selection != "best_on_test" or epoch % protocol.eval_every and epoch != cfg.epochs:
                    return None
                acc = evaluate(
                    m,
                    test,
                    test_store.num_classes,
                    device,
                    passes=passes,
                    seed=run_seed,
                    standardize_inputs=cfg.standardize,
                )
                if acc.top1 > best["top1"]:
                    best.update(top1=acc.top1, top5=acc.top5, per_class=acc.per_class, epoch=epoch)
                return {"test_top1": acc.top1}

            result = train(model, source, cfg, device, on_epoch_end=track_best)
            if selection == "best_on_test":
                top1, top5, per_class, at = best["top1"], best["top5"], best["per_class"], best["epoch"]
            else:
                acc = evaluate(
                    model,
                    test,
                    test_store.num_classes,
                    device,
                    passes=passes,
                    seed=run_seed,
                    standardize_inputs=cfg.standardize,
                )
                top1, top5, per_class, at = acc.top1, acc.top5, acc.per_class, cfg.epochs
            log.info(
                "%s run %d: top1 %.4f top5 %.4f (%s, epoch %d, %.1fs)",
                arch,
                run,
                top1,
                top5,
                selection,
                at,
                result.wall_time,
            )
            rows.append(
                dict(
                    arch=arch,
                    run=run,
                    seed=run_seed,
                    top1=top1,
                    top5=top5,
                    per_class=per_class,
                    selection=selection,
                    label_loss=label_loss,
                    selected_epoch=at,
                    epochs=cfg.epochs,
                    lr=cfg.lr,
                    optimizer=cfg.optimizer,
                    schedule=cfg.schedule,
                    test_passes=passes,
                    train_seconds=result.wall_time,
                    final_loss=result.curve[-1]["loss"] if result.curve else float("nan"),
                )
            )
    return pd.DataFrame(rows)


PROTOCOLS = ("native", "hard", "soft")


@dataclass
class TeacherLabelled:
    """A training source whose labels are a teacher's softmax (at `temperature`) on exactly the clips the student sees
    in this batch, expansions and their per-epoch draws included: the soft protocol, the same for every method, so a
    method's gain under it is measured against Random given the same teacher (DD-Ranking's point)."""

    source: SyntheticSet
    teacher: torch.nn.Module
    device: torch.device
    standardize_inputs: bool
    temperature: float = 1.0

    def epoch(self, batch_size: int, rng: np.random.Generator) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for x, _ in self.source.epoch(batch_size, rng):
            yield x, teacher_softmax(self.teacher, [x], self.device, self.standardize_inputs, self.temperature)


def hard_labels(synthetic: SyntheticSet) -> torch.Tensor:
    """Each item's class as a hard label: the stored hard labels, or the arg-max of learned / soft label vectors."""
    return synthetic.labels if not synthetic.soft_labels else synthetic.labels.argmax(1)


def evaluate_set(
    synthetic: SyntheticSet,
    test_store: ClipStore,
    protocol: Mapping[str, Any] | EvaluationSettings,
    student: Mapping[str, Any] | StudentSettings,
    seed: int,
    device: torch.device,
    labels: str = "native",
    teacher: str | Path | None = None,
) -> pd.DataFrame:
    """Students trained on a distilled set under one label protocol, tested on `test_store`: the one implementation
    behind the workflow's `evaluate` rule and `vidstill evaluate`.

    native: the set's own labels, loss and learned learning rate (what each method's paper evaluates);
    hard: every item's class as a one-hot target with cross-entropy (DD-Ranking's hard-label protocol);
    soft: the teacher's softmax at `protocol.soft.temperature` on each batch as it is drawn, cross-entropy.
    The learned learning rate (MTT family) is part of the set and kept under every protocol."""
    if labels not in PROTOCOLS:
        raise ValueError(f"evaluation protocol must be one of {PROTOCOLS}, got {labels!r}")
    protocol = build(EvaluationSettings, protocol, "evaluation")
    if synthetic.num_classes != test_store.num_classes:
        raise ValueError(f"the set has {synthetic.num_classes} classes, the test split {test_store.num_classes}")
    source: TrainSource = synthetic
    label_loss = synthetic.label_loss
    if labels == "hard":
        source, label_loss = dataclasses.replace(synthetic, labels=hard_labels(synthetic)), "ce"
    elif labels == "soft":
        if teacher is None:
            raise ValueError("the soft protocol needs a teacher (results/{dataset}/teacher/<arch>.safetensors)")
        temperature = protocol.soft.temperature
        source = TeacherLabelled(
            synthetic, load_teacher(teacher, device), device, teacher_standardizes(teacher), temperature
        )
        label_loss = "ce"
    runs = evaluate_student(source, test_store, protocol, student, seed, device, lr=synthetic.lr, label_loss=label_loss)
    return runs.assign(protocol=labels)
