"""The GPU path, checked on the CPU: rules reserve what they use, device and precision reach params and metadata,
chunked embeddings equal one forward, normalisation follows its input, peak memory is reset only by job set-up, the
memory estimate and its check."""

import ast
import re

import pytest
import torch
from code_closure import LIBRARY, SCRIPTS, python_imports, rule_blocks, rule_scripts
from conftest import REPO

from vidstill import memory, runtime
from vidstill.data.clips import normalize
from vidstill.gpus import planning_device, visible_gpus
from vidstill.methods.dm import class_means
from vidstill.models import ConvNet3D, build_model, embed_chunked

# Library modules that build or run a network.
NETWORK_MODULES = {"models.py", "train.py", "crops/detector.py"}


def uses_a_device(script: str) -> bool:
    """The script's code (not its strings) handles a torch device: it places a network or a batch somewhere."""
    tree = ast.parse((SCRIPTS / script).read_text())
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | {
        n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)
    }
    return "device" in names


def network_rules() -> dict[str, str]:
    """Rules whose script imports network code and hands it a device: every one of them can run on the GPU."""
    return {
        rule: script
        for rule, script in rule_scripts().items()
        if python_imports(SCRIPTS / script) & NETWORK_MODULES and uses_a_device(script)
    }


def test_the_network_rules_are_found():
    """The walk below is not vacuous: the rules that train, distil, evaluate and score are among them."""
    assert {
        "teacher",
        "expert",
        "class_accuracy",
        "distill",
        "evaluate",
        "evaluate_full",
        "crop_detector",
        "crop_tracks",
        "crop_scores",
        "idtd_redundancy",
    } <= set(network_rules())


@pytest.mark.parametrize("rule", sorted(network_rules()))
def test_every_network_rule_reserves_a_gpu_and_carries_the_runtime(rule):
    """Every rule whose script runs a network declares `gpu=GPUS` (1 when the device resolves to CUDA) and has the
    run's device / precision / determinism among its params, so a switch reruns it."""
    block = next(b for _, r, b in rule_blocks() if r == rule)
    resources = re.search(r"\n    resources:\n((?:        .*\n)+)", block)
    assert resources and re.search(r"^\s+gpu=GPUS,", resources.group(1), re.M), f"rule {rule} reserves no GPU"
    params = re.search(r"\n    params:\n((?:        .*\n)+)", block).group(1)
    assert re.search(r"^\s+runtime=(RUNTIME|distill_runtime\(\)),", params, re.M), (
        f"rule {rule} lacks the runtime param"
    )
    script = (SCRIPTS / network_rules()[rule]).read_text()
    assert "job_runtime(" in script and "write_record(" in script, (
        f"{rule}'s script neither sets up nor records its runtime"
    )


def test_gpus_follow_the_planning_device():
    common = (REPO / "workflow/rules/common/resources.smk").read_text()
    assert 'GPUS = 1 if DEVICE == "cuda" else 0' in common and 'DEVICE = planning_device(config["device"])' in common


def test_planning_device(monkeypatch):
    assert planning_device("cpu") == "cpu" and planning_device("cuda") == "cuda"
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert visible_gpus() == 0 and planning_device("auto") == "cpu"
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    assert visible_gpus() == 2 and planning_device("auto") == "cuda"
    with pytest.raises(ValueError, match="device must be"):
        planning_device("gpu")


def test_precision_flags_and_autocast():
    try:
        runtime.configure("tf32")
        assert torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.allow_tf32
        assert not torch.is_autocast_enabled("cpu") if hasattr(torch, "is_autocast_enabled") else True
        runtime.configure("fp32")
        assert not torch.backends.cuda.matmul.allow_tf32 and not torch.backends.cudnn.allow_tf32
        with runtime.autocast(torch.device("cpu")):
            assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.float32
        runtime.configure("bf16")
        with runtime.autocast(torch.device("cpu")):
            assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.bfloat16
        with runtime.autocast(torch.device("cpu"), enabled=False):  # a training that opted out (amp: false)
            assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.float32
        runtime.configure("fp32", deterministic=True)
        assert torch.backends.cudnn.deterministic and torch.are_deterministic_algorithms_enabled()
        with pytest.raises(ValueError, match="precision"):
            runtime.configure("fp16")
    finally:
        runtime.configure("fp32")
    assert not torch.are_deterministic_algorithms_enabled() and not torch.backends.cudnn.deterministic


def test_job_runtime_records_device_and_precision(tmp_path):
    try:
        rt = runtime.job_runtime({"device": "cpu", "precision": "bf16", "deterministic": False, "embed_chunk": 3}, 1)
        assert runtime.precision() == "bf16" and runtime.embed_chunk() == 3
        rec = rt.write_record(tmp_path / "job.log")
    finally:
        runtime.configure("fp32")
    assert rec == {"device": "cpu", "precision": "bf16", "deterministic": False, "gpu_peak_memory_bytes": None}
    import json

    assert json.loads((tmp_path / "job.log.device.json").read_text()) == rec


def test_peak_memory_is_reset_only_by_job_setup():
    """Methods and the rest of the library read the peak; only runtime.job_runtime resets it (once per job)."""
    offenders = [
        str(p.relative_to(LIBRARY))
        for p in LIBRARY.rglob("*.py")
        if p.name != "runtime.py"
        and re.search(r"reset_peak_memory|reset_peak_memory_stats|reset_max_memory", p.read_text())
    ]
    offenders += [p.name for p in SCRIPTS.glob("*.py") if "reset_peak_memory" in p.read_text()]
    assert offenders == []


def test_chunked_embedding_equals_one_forward():
    torch.manual_seed(0)
    net = build_model("convnet3d", 3, 8, 48, widths=(4, 8, 8)).eval()
    clips = torch.randn(10, 8, 3, 48, 48)
    labels = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1, 2, 0])
    whole = embed_chunked(net, clips, 0)
    with torch.no_grad():
        assert torch.equal(whole, net.embed(clips))  # chunk 0 on CPU: exactly the one forward
    for chunk in (1, 3, 4, 10, 64):
        parts = embed_chunked(net, clips, chunk)
        assert parts.shape == whole.shape and not parts.requires_grad
        torch.testing.assert_close(parts, whole, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(
            class_means(parts, labels, 3)[0], class_means(whole, labels, 3)[0], rtol=1e-5, atol=1e-6
        )


def test_chunked_embedding_reads_the_job_setting():
    net = build_model("convnet3d", 2, 8, 48, widths=(4, 8, 8)).eval()
    calls = []
    original = net.embed
    net.embed = lambda x: calls.append(len(x)) or original(x)
    try:
        runtime.configure("fp32", embed_chunk=4)
        embed_chunked(net, torch.randn(10, 8, 3, 48, 48))
    finally:
        runtime.configure("fp32")
    assert calls == [4, 4, 2]


def test_chunking_refuses_a_training_batchnorm():
    net = ConvNet3D(2, 8, 48, widths=(4, 8, 8), norm="batch").train()
    with pytest.raises(ValueError, match="BatchNorm"):
        embed_chunked(net, torch.randn(4, 8, 3, 48, 48), 2)


def test_normalize_follows_its_input_device_and_dtype():
    """A uint8 batch on the GPU is normalised there: a fake CUDA tensor stands in for one on a CPU machine (mean / std
    built on the CPU would fail with a device mismatch, as they did)."""
    from torch._subclasses.fake_tensor import FakeTensorMode

    with FakeTensorMode():
        out = normalize(torch.empty(2, 3, 8, 8, 3, dtype=torch.uint8, device="cuda"))
        assert out.device.type == "cuda" and out.shape == (2, 3, 3, 8, 8) and out.dtype == torch.float32
    x = torch.randint(0, 256, (2, 3, 8, 8, 3), dtype=torch.uint8)
    cpu = normalize(x)
    ref = (
        x.permute(0, 1, 4, 2, 3).float() / 255.0 - torch.tensor([0.485, 0.456, 0.406]).view(1, 1, 3, 1, 1)
    ) / torch.tensor([0.229, 0.224, 0.225]).view(1, 1, 3, 1, 1)
    torch.testing.assert_close(cpu, ref)


def test_memory_estimate_of_the_paper_shapes():
    """MiniUCF's DM at 16x112², 50 classes x 64 real clips: 7.7 GB of input, ~41 GB after the first convolution
    (the issue's arithmetic); chunking bounds the embedding's part, the rest is unchanged."""
    shape, widths = memory.ClipShape(16, 112), (64, 128, 128)
    assert memory.convnet_layers(shape, widths)[0][0] == 64 * 16 * 56 * 56
    whole = memory.distill_estimate("dm", {"batch_real": 64}, shape, widths, 50, 1, 0)
    chunked = memory.distill_estimate("dm", {"batch_real": 64}, shape, widths, 50, 1, 64)
    assert whole.parts["real batch"] == pytest.approx(7.7e9, rel=0.01)
    assert 45e9 < whole.parts["real embedding"] < 55e9 and chunked.parts["real embedding"] < 1.1e9
    assert 55e9 < whole.total < 65e9  # the "peak near 60 GB"
    assert whole.total - chunked.total == whole.parts["real embedding"] - chunked.parts["real embedding"]
    assert memory.distill_estimate("prism", {"batch_real": 64}, shape, widths, 50, 1, 0) == whole  # DM's loop


def test_memory_estimates_of_the_other_loops():
    """MTT's unrolled graph grows with its steps and the items per step; DC holds one class's graphs or one inner
    batch; IDTD's segment graph shrinks with class_chunk; loops without a model give None."""
    shape, widths = memory.ClipShape(16, 112), (64, 128, 128)
    clip = memory.graph_bytes_per_clip(shape, widths)

    def est(method, settings, ipc=1):
        return memory.distill_estimate(method, settings, shape, widths, 50, ipc, 64)

    mtt = est("mtt", {"syn_steps": 10})
    assert mtt.parts["unrolled graph"] == 10 * 50 * 2 * clip  # the whole set (batch_syn null) in each of 10 steps
    assert est("mtt", {"syn_steps": 20}).parts["unrolled graph"] == 2 * mtt.parts["unrolled graph"]
    assert est("mtt", {"syn_steps": 10, "batch_syn": 10}).parts["unrolled graph"] == mtt.parts["unrolled graph"] / 5
    assert est("sfvd", {"syn_steps": 10}).parts == mtt.parts  # same loop, same shapes
    dc = est("dc", {"batch_real": 256, "batch_train": 256})
    assert dc.parts["class gradients"] == 256 * (4 * shape.elements + clip) + 2 * clip
    assert est("static_dc", {"network": "image"}) is None
    idtd, chunked = est("idtd", {"segments": 8}), est("idtd", {"segments": 8, "class_chunk": 5})
    assert idtd.parts["segment graph"] == 50 * 9 * clip and chunked.parts["segment graph"] == 5 * 9 * clip
    assert est("idtd", {"segments": 8}, ipc=5).total > idtd.total
    assert est("random", {}) is None and est("keyframe", {}) is None


def test_a_job_that_cannot_fit_stops_with_its_name_estimate_and_card():
    with pytest.raises(
        MemoryError, match=r"distill miniucf dm ipc 10 seed 0: estimated peak GPU memory 60\.0 GiB .* 40\.0 GiB"
    ):
        runtime.check_card("distill miniucf dm ipc 10 seed 0", 60 * 1024, torch.device("cpu"), card_bytes=40 * 2**30)
    runtime.check_card("fits", 30 * 1024, torch.device("cpu"), card_bytes=40 * 2**30)
    runtime.check_card("cpu job", 60 * 1024, torch.device("cpu"))  # no card: nothing to check


def test_expert_rows_do_not_depend_on_where_the_metadata_ends(tmp_path):
    """MTT reads trajectory rows from the expert file; as views they sat wherever the header ended (its length moves
    with the expert's wall time), and oneDNN rounds by alignment: the rows are aligned copies."""
    from vidstill.experts import save_expert, trajectory_rows

    traj = torch.randn(3, 1000)
    for pad in range(0, 72, 8):
        path = tmp_path / f"expert{pad}.safetensors"
        save_expert(traj, {"epochs": 2, "pad": "x" * pad}, path)
        rows = trajectory_rows(path, [0, 2])
        assert all(r.data_ptr() % 64 == 0 for r in rows), pad
        assert torch.equal(rows[1], traj[2])


def test_prefetched_batches_come_in_order_and_errors_reach_the_consumer():
    from vidstill.train import prefetched

    batches = [(torch.full((2, 3), float(i)), torch.tensor([i, i])) for i in range(7)]
    got = list(prefetched(iter(batches)))
    assert len(got) == 7 and all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) for a, b in zip(got, batches))

    def broken():
        yield batches[0]
        raise OSError("clip store unreadable")

    with pytest.raises(OSError, match="unreadable"):
        list(prefetched(broken()))
    it = prefetched(iter(batches), depth=1)  # a consumer that stops early does not leave the producer blocked
    next(it)
    it.close()


def test_uint8_epoch_is_the_float_epoch_before_normalisation(tmp_path):
    """The CUDA feed sends RealClips' uint8 batches and normalises them on the device: the same draws as the float
    batches the CPU path trains on."""
    import numpy as np
    import pandas as pd

    from vidstill.data.clips import ClipSpec, ClipStore, RealClips

    rng = np.random.default_rng(0)
    lengths = [12, 10, 14, 11, 9]
    frames = rng.integers(0, 256, (sum(lengths), 16, 16, 3), dtype=np.uint8)
    table = pd.DataFrame(
        {
            "id": [f"v{i}" for i in range(5)],
            "label": [0, 1, 0, 1, 0],
            "class": ["a", "b", "a", "b", "a"],
            "length": lengths,
            "offset": np.cumsum([0, *lengths[:-1]]),
        }
    )
    store = ClipStore(
        frames, table, ClipSpec(frames=4, stride=1, sampling="stride", resize=None, crop=16, max_stored=16), 2
    )
    source = RealClips(store)
    floats = list(source.epoch(2, np.random.default_rng(3)))
    raw = list(source.epoch_uint8(2, np.random.default_rng(3)))
    assert len(floats) == len(raw) == 3
    for (xf, yf), (xr, yr) in zip(floats, raw):
        assert xr.dtype == torch.uint8 and torch.equal(normalize(xr), xf) and torch.equal(yf, yr)


@pytest.mark.parametrize("expansion,args", [("stored", {}), ("temporal_interval", {"min_span": 0.5})])
def test_a_distilled_set_expands_on_the_device(expansion, args):
    """evaluate_student moves a set to the GPU and its expansions run there: fake CUDA tensors stand in for a GPU,
    and any CPU tensor mixed into an expansion would fail with a device mismatch."""
    import numpy as np
    from torch._subclasses.fake_tensor import FakeTensorMode

    from vidstill.synthetic_set import SyntheticSet

    s = SyntheticSet({"videos": torch.randn(4, 8, 3, 16, 16)}, torch.arange(4) % 2, 2, 8, expansion, args)
    with FakeTensorMode(allow_non_fake_inputs=True):
        x, y = next(s.to(torch.device("cuda")).epoch(3, np.random.default_rng(0)))
        assert x.device.type == "cuda" and y.device.type == "cuda" and x.shape == (3, 8, 3, 16, 16)
