"""The hot loops do not read the GPU's results on the host, checked on the CPU.

On CUDA every read of a device tensor's value (`.item()`, `float()`, `.tolist()`, `bool()`) makes the host wait
until the GPU has finished all it was given, so a loop that reads its loss every step leaves the GPU idle while
Python builds the next one. Here the loops run on the CPU under a torch function mode that counts reads of float32
values (losses, embeddings, logits: what lives on the device; the host's own draws are int64 picks, bool masks and
Adam's float64 step counts). Doubling a loop's length must not add a single read: the loops read at their logging
intervals (a tenth of the run), at checkpoints and at the end only.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch
from conftest import REPO
from helpers import ctx, mtt_ctx

from vidstill.data.clips import RealClips
from vidstill.loss_curve import LossCurve, curve_values
from vidstill.methods import get_method
from vidstill.models import ConvNet3D
from vidstill.resume import IterationCheckpoint
from vidstill.train import TrainConfig, epoch_seed, evaluate, standardize, train


def load_benchmark():
    """benchmarks/host_syncs.py, whose CPU stand-in for a device sync (HostReads) these tests use."""
    spec = importlib.util.spec_from_file_location("host_syncs", REPO / "benchmarks/host_syncs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


reads = load_benchmark().host_reads


def student(store) -> ConvNet3D:
    return ConvNet3D(store.num_classes, store.spec.frames, store.spec.crop, widths=(4, 8, 8))


@pytest.fixture(scope="module")
def stills(store, tmp_path_factory):
    """VDSD's stage 1 for IPC 1 (two stills a class)."""
    path = tmp_path_factory.mktemp("stills") / "stills.safetensors"
    get_method("static_dc").fn(ctx(store, "static_dc", ipc=2, iterations=1, batch_real=2, outer_loop=1)).save(path)
    return path


def distill(store, experts, bn_teacher, stills, method: str, iterations: int):
    if method == "mtt":
        c = mtt_ctx(store, experts[:1], iterations=iterations)
    elif method == "tsgf":
        c = ctx(store, "tsgf", ipc=1, iterations=iterations, lr=0.05)
        c.teacher = bn_teacher
    elif method == "dm_vdsd":
        c = ctx(store, method, ipc=1, iterations=iterations, batch_real=2, lr_dynamic=100.0, lr_hallucinator=1e-2)
        c.artifacts["stills"] = stills
    else:
        c = ctx(store, method, ipc=1, iterations=iterations, batch_real=2, **({"dsa": True} if method == "dm" else {}))
    return get_method(method).fn(c)


@pytest.mark.parametrize("method", ["dm", "dm_vdsd", "mtt", "dc", "frepo", "tsgf", "idtd", "prism"])
def test_a_distillation_loop_reads_no_more_when_it_runs_longer(store, experts, bn_teacher, stills, method):
    short = reads(lambda: distill(store, experts, bn_teacher, stills, method, 20))
    long = reads(lambda: distill(store, experts, bn_teacher, stills, method, 40))
    assert long == short, f"{method}: 20 more iterations added host reads {dict(long - short)}"


def test_the_probe_sees_a_per_iteration_read(store):
    """The counter is not blind: a loss read every step shows up as one read per step."""

    def loop(n: int) -> None:
        x = torch.ones(3, requires_grad=True)
        for _ in range(n):
            loss = (x**2).sum()
            loss.backward()
            loss.item()

    assert reads(lambda: loop(40))["item"] - reads(lambda: loop(20))["item"] == 20


def test_training_and_evaluation_read_per_epoch_and_pass_not_per_batch(store):
    """train() reads its loss once per epoch and evaluate() its hits once per pass, whatever the batch count."""
    data = RealClips(store)

    def fit(batch_size: int) -> None:
        torch.manual_seed(0)
        model = student(store)
        train(model, data, TrainConfig(epochs=2, lr=0.01, batch_size=batch_size), torch.device("cpu"))
        evaluate(model, lambda rng: data.test_batches(batch_size)(rng), store.num_classes, torch.device("cpu"))

    assert reads(lambda: fit(2)) == reads(lambda: fit(6))


def test_loss_curve_gives_the_values_item_gave_and_reads_them_in_one_transfer(tmp_path):
    losses = [torch.tensor(v, dtype=torch.float32) for v in (0.1, 1 / 3, 2.5e-8)] + [torch.tensor(1 / 7).double()]
    curve = LossCurve([4.0])
    for loss in losses:
        curve.append(loss)
    assert len(curve) == 5 and curve.reads == 0
    assert curve.tolist() == [4.0] + [v.item() for v in losses] and curve.reads == 1
    assert curve.last() == losses[-1].item() and curve.reads == 1  # nothing new: no transfer
    # a checkpoint holds plain floats, and a dict of curves (IDTD's terms) becomes a dict of lists
    IterationCheckpoint(tmp_path / "ckpt.pt").save(1, [], {"total": curve, "other": LossCurve([1.0])})
    saved = torch.load(tmp_path / "ckpt.pt", weights_only=True)["curve"]
    assert saved == {"total": curve.tolist(), "other": [1.0]} == curve_values({"total": curve, "other": [1.0]})


def test_the_hit_counts_are_those_of_a_per_batch_count(store):
    """evaluate()'s device-side counts give the per-class figures a per-batch count on the host gives."""
    torch.manual_seed(1)
    model = student(store).eval()
    data = RealClips(store)
    acc = evaluate(model, lambda rng: data.test_batches(3)(rng), store.num_classes, torch.device("cpu"), passes=2)
    correct, seen, top1 = np.zeros(store.num_classes), np.zeros(store.num_classes), []
    with torch.no_grad():
        for p in range(2):
            rng, hit, n = np.random.default_rng(epoch_seed(0, 10_000 + p)), 0, 0
            for x, y in data.test_batches(3)(rng):
                ok = model(standardize(x)).argmax(1) == y
                hit, n = hit + int(ok.sum()), n + len(y)
                np.add.at(correct, y.numpy(), ok.numpy())
                np.add.at(seen, y.numpy(), 1)
            top1.append(hit / n)
    assert acc.top1 == float(np.mean(top1)) and acc.per_class == (correct / seen).tolist()


@pytest.mark.gpu
@pytest.mark.parametrize("method", ["dm", "mtt", "dc", "frepo", "idtd", "prism"])
def test_on_cuda_a_longer_loop_does_not_sync_more_often(store, experts, method):
    """The real check where a GPU is at hand: PyTorch's sync debug mode counts every operation that makes the host
    wait for the device; 20 more iterations must add none."""
    syncs = load_benchmark().cuda_syncs

    def run(n: int):
        if method == "mtt":
            c = mtt_ctx(store, experts[:1], iterations=n)
        else:
            c = ctx(store, method, ipc=1, iterations=n, batch_real=2)
        c.device = torch.device("cuda")
        return get_method(method).fn(c)

    short, long = syncs(lambda: run(20)), syncs(lambda: run(40))
    assert sum(long.values()) == sum(short.values()), f"{method}: {dict(long - short)}"
