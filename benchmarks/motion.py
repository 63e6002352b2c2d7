"""Does the protocol learn the synthetic benchmark's motion? Full clips vs single frames vs the Full Dataset row.

    .venv/bin/python benchmarks/motion.py [--config config/config.yaml] [--seeds 0 1] [--set KEY=VALUE ...]
                                          [--arms full static fullrow tr budget] [--name NAME]

Runs the pipeline's own code paths on one synthetic dataset of the config (default `synthetic`), so what it measures
is what `snakemake` would produce for the same settings:
- generation (`vidstill.data.synthetic.generate_synthetic`, the config's `generator:` and `realism:`), indexing
  (`build_index`) and clip extraction (`extract_clips`) as rules generate_synthetic / index / extract_clips do;
- `full` / `static`: the Δ-ranking's trainings (`train_teacher` with the `teacher:` settings and each seed of --seeds,
  `static=True` for single frames), i.e. rules teacher and class_accuracy;
- `fullrow`: the Full Dataset row (`evaluate_student` on every training clip with `evaluation:` overlaid by
  `evaluation.full:` and the `student:`), i.e. rule evaluate_full, with the config's first distillation seed;
- `tr`: the Δ table of the seeds (`delta_table`), its top_k_by_delta classes (`top_k_classes`, the subset rules'
  code) and the subset's Full Dataset row, like results/tr_synthetic/eval/full;
- `budget`: the remaining jobs of the default table's time budget: the named teacher variants (`teachers:`) and the
  expert trainings (`experts:` count, on the dataset and its subset), timed.
Prints per-class accuracy and the mean per kind (appearance / motion, from the generator's classes.csv) with the wall
time of every job, and writes everything to results/benchmarks/motion/<name>.json. Every training process uses one
CPU thread (torch.set_num_threads(1)) like the pipeline's `threads.train: 1`; job seconds are single-thread seconds.

`--set` overrides a config value by its dotted path, the value parsed as YAML; `generator.*` and `clips.*` are
short for `datasets.<dataset>.generator.*` / `.clips.*` (e.g. --set generator.seed=1 teacher.epochs=8).
Generated videos and clip stores are cached under results/benchmarks/motion/data/<hash of their settings>, with the
seconds they took, so reruns at other training settings reuse them (--fresh regenerates).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow"))

import pandas as pd  # noqa: E402
import torch  # noqa: E402
import yaml  # noqa: E402

from vidstill.analysis.ranking import delta_table, top_k_classes  # noqa: E402
from vidstill.data import synthetic  # noqa: E402
from vidstill.data.clips import ClipSpec, ClipStore, RealClips, extract_clips, write_subset_store  # noqa: E402
from vidstill.data.indexers import build_index  # noqa: E402
from vidstill.data.subsets import restrict_to_classes  # noqa: E402
from vidstill.data.synthetic import GENERATOR_VERSION, generate_synthetic, realism_from_config  # noqa: E402
from vidstill.evaluate import evaluate_student  # noqa: E402
from vidstill.experts import train_expert  # noqa: E402
from vidstill.teacher import per_class_table, train_teacher  # noqa: E402

ARMS = ("full", "static", "fullrow", "tr", "budget")
OUT = REPO / "results/benchmarks/motion"


class Timer:
    """Wall and CPU seconds of a block. On a shared machine the wall time of a one-thread job depends on the
    neighbours; its process CPU time is the single-thread job time the budget counts, so both are reported."""

    def __enter__(self) -> Timer:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


def load_config(path: Path, overrides: list[str], dataset: str) -> dict[str, Any]:
    """The config as the workflow sees it: the YAML, the --set overrides, then the schema's validation and defaults."""
    from snakemake.utils import validate

    cfg = yaml.safe_load(path.read_text())
    for item in overrides:
        key, _, raw = item.partition("=")
        if not _:
            raise SystemExit(f"--set wants KEY=VALUE, got {item!r}")
        parts = key.split(".")
        if parts[0] in ("generator", "clips"):
            parts = ["datasets", dataset, *parts]
        node = cfg
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = yaml.safe_load(raw)
    validate(cfg, str(REPO / "workflow/schemas/config.schema.yaml"))
    return cfg


def digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:12]


def package_digest(folder: Path) -> str:
    """One hash of a package's sources (names and bytes): the generator is the package vidstill/data/synthetic/."""
    h = hashlib.sha256()
    for path in sorted(folder.glob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def prepare_data(ds: dict[str, Any], fresh: bool) -> tuple[Path, dict[str, dict[str, float]]]:
    """Generate, index and extract (cached by settings, GENERATOR_VERSION and the generator's source); returns the
    folder and the seconds (wall, cpu) of each step."""
    key = digest(
        {
            "generator": ds.get("generator", {}),
            "clips": ds["clips"],
            "split": ds.get("split", 1),
            "train_splits": ds["train_splits"],
            "version": GENERATOR_VERSION,
            "code": package_digest(Path(synthetic.__file__).parent),
        }
    )
    folder = OUT / "data" / key
    done = folder / "timings.json"
    if done.is_file() and not fresh:
        cached = json.loads(done.read_text())
        return folder, {k: v if isinstance(v, dict) else {"wall": v, "cpu": v} for k, v in cached.items()}
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    generator = dict(ds.get("generator", {}))
    generator["realism"] = realism_from_config(generator.get("realism"))
    seconds: dict[str, dict[str, float]] = {}
    with Timer() as t:
        generate_synthetic(folder / "videos", **generator)
    seconds["generate"] = {"wall": t.wall, "cpu": t.cpu}
    with Timer() as t:
        index = build_index(
            "synthetic",
            folder / "videos",
            split=ds.get("split", 1),
            threads=1,
            min_frames=ds["clips"]["frames"],
            progress=False,
        )
        index.to_parquet(folder / "index.parquet")
    seconds["index"] = {"wall": t.wall, "cpu": t.cpu}
    spec = ClipSpec.from_config(ds["clips"])
    for split, splits in (("train", ds["train_splits"]), ("test", ["test"])):
        with Timer() as t:
            extract_clips(
                index,
                splits,
                spec,
                folder / f"clips/{split}.npy",
                folder / f"clips/{split}.parquet",
                threads=1,
                progress=False,
            )
        seconds[f"extract_{split}"] = {"wall": t.wall, "cpu": t.cpu}
    done.write_text(json.dumps(seconds, indent=1))
    return folder, seconds


def kinds_of(folder: Path) -> dict[str, str]:
    table = pd.read_csv(folder / "videos/classes.csv")
    return dict(zip(table["class"], table["kind"], strict=True))


def summarise(per_class: pd.DataFrame, kinds: dict[str, str]) -> dict[str, Any]:
    """Per-class accuracy (a mean over the given runs) and the mean of the per-class accuracies within each kind."""
    acc = per_class.groupby("class", sort=True)["accuracy"].mean()
    by_kind = {
        k: float(acc[[c for c in acc.index if kinds[c] == k]].mean()) for k in sorted(set(kinds[c] for c in acc.index))
    }
    return {"per_class": {c: float(a) for c, a in acc.items()}, "per_kind": by_kind, "all": float(acc.mean())}


def print_arm(title: str, summary: dict[str, Any], seconds: list[float], kinds: dict[str, str]) -> None:
    kind_txt = "  ".join(f"{k} {100 * v:5.1f}%" for k, v in summary["per_kind"].items())
    print(
        f"\n== {title}: all {100 * summary['all']:5.1f}%  {kind_txt}  (jobs: {', '.join(f'{s:.0f}s' for s in seconds)})"
    )
    for c, a in summary["per_class"].items():
        print(f"   {c:16s} {kinds[c]:10s} {100 * a:5.1f}%")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", type=Path, default=REPO / "config/config.yaml")
    ap.add_argument("--dataset", default="synthetic")
    ap.add_argument("--seeds", type=int, nargs="+", default=None, help="ranking seeds (default: the config's)")
    ap.add_argument("--set", dest="overrides", nargs="*", default=[], metavar="KEY=VALUE")
    ap.add_argument("--arms", nargs="+", choices=ARMS, default=list(ARMS))
    ap.add_argument("--subset", default="tr_synthetic", help="the config's top_k_by_delta subset of --dataset")
    ap.add_argument("--name", default=None, help="JSON name under results/benchmarks/motion (default: a hash)")
    ap.add_argument("--fresh", action="store_true", help="regenerate the videos and clips even when cached")
    args = ap.parse_args()

    torch.set_num_threads(1)
    cfg = load_config(args.config, args.overrides, args.dataset)
    ds = cfg["datasets"][args.dataset]
    if ds.get("layout") != "synthetic":
        raise SystemExit(f"datasets.{args.dataset} is not a synthetic dataset")
    seeds = args.seeds if args.seeds is not None else list(cfg["ranking"]["seeds"])
    device = torch.device("cpu")
    folder, data_seconds = prepare_data(ds, args.fresh)
    kinds = kinds_of(folder)
    train, test = ClipStore.open(folder / "clips/train.parquet"), ClipStore.open(folder / "clips/test.parquet")
    print(
        f"data {folder.name}: {len(train)} train / {len(test)} test clips, {train.num_classes} classes; "
        + ", ".join(f"{k} {v['cpu']:.1f}s cpu" for k, v in data_seconds.items())
    )
    report: dict[str, Any] = {
        "config": str(args.config),
        "overrides": args.overrides,
        "seeds": seeds,
        "generator_version": GENERATOR_VERSION,
        "data": folder.name,
        "data_seconds": data_seconds,
        "train_clips": len(train),
        "arms": {},
    }
    jobs: dict[str, dict[str, float]] = dict(data_seconds)

    def ranking_arm(mode: str) -> list[pd.DataFrame]:
        tables, seconds = [], []
        for seed in seeds:
            with Timer() as t:
                _, _, result, acc = train_teacher(
                    train,
                    test,
                    {**cfg["teacher"], "seed": seed},
                    device,
                    static=mode == "static",
                    test_passes=cfg["evaluation"]["test_passes"],
                )
            seconds.append(t.cpu)
            jobs[f"{mode}_seed{seed}"] = {"wall": t.wall, "cpu": t.cpu}
            tables.append(per_class_table(acc, test).assign(seed=seed))
            print(
                f"{mode} seed {seed}: top1 {acc.top1:.3f}, final loss {result.curve[-1]['loss']:.3f}, "
                f"{t.cpu:.0f}s cpu ({t.wall:.0f}s wall)",
                flush=True,
            )
        summary = summarise(pd.concat(tables), kinds)
        report["arms"][mode] = {**summary, "seconds": seconds, "per_seed": [summarise(t, kinds) for t in tables]}
        print_arm(f"{mode} ({len(seeds)} seeds)", summary, seconds, kinds)
        return tables

    def full_row(name: str, store: ClipStore, test_store: ClipStore) -> None:
        protocol = {**{k: v for k, v in cfg["evaluation"].items() if k != "full"}, **cfg["evaluation"]["full"]}
        with Timer() as t:
            runs = evaluate_student(
                RealClips(store), test_store, protocol, cfg["student"], int(cfg["seeds"][0]), device
            )
        jobs[name] = {"wall": t.wall, "cpu": t.cpu}
        names = store.table.drop_duplicates("label").set_index("label")["class"]
        per_class = pd.concat(
            [
                pd.DataFrame({"class": [names[i] for i in range(store.num_classes)], "accuracy": pc})
                for pc in runs["per_class"]
            ]
        )
        summary = summarise(per_class, kinds)
        report["arms"][name] = {
            **summary,
            "seconds": [t.cpu],
            "runs": len(runs),
            "top1": runs["top1"].tolist(),
            "per_run": [
                summarise(pd.DataFrame({"class": [names[i] for i in range(len(pc))], "accuracy": pc}), kinds)
                for pc in runs["per_class"]
            ],
        }
        print_arm(f"{name} ({len(runs)} runs)", summary, [t.cpu], kinds)

    full = ranking_arm("full") if "full" in args.arms or "tr" in args.arms else None
    static = ranking_arm("static") if "static" in args.arms or "tr" in args.arms else None
    if "fullrow" in args.arms:
        full_row("fullrow", train, test)
    sub_train = sub_test = None
    if "tr" in args.arms:
        delta = delta_table(full, static, groups=cfg["ranking"]["groups"])
        k = int(cfg["datasets"][args.subset]["top_k_by_delta"])
        classes = top_k_classes(delta, k)
        report["delta"] = delta.to_dict(orient="list")
        report["tr_classes"] = classes
        print(
            "\nΔ ranking:\n"
            + delta[["rank", "class", "acc_full", "acc_static", "delta", "delta_std"]]
            .assign(kind=lambda d: d["class"].map(kinds))
            .to_string(index=False)
        )
        print(f"TR ({k}): {classes}; kinds {sorted(set(kinds[c] for c in classes))}")
        index = pd.read_parquet(folder / "index.parquet")
        subset = restrict_to_classes(index, classes)
        tmp = Path(tempfile.mkdtemp(prefix="tr-", dir=folder / "clips"))
        sub_train = (
            ClipStore.open(tmp / "train.parquet")
            if write_subset_store(folder / "clips/train.parquet", subset, tmp / "train.parquet") is not None
            else None
        )
        write_subset_store(folder / "clips/test.parquet", subset, tmp / "test.parquet")
        sub_test = ClipStore.open(tmp / "test.parquet")
        full_row("tr_fullrow", sub_train, sub_test)
    if "budget" in args.arms:
        for name, overrides in cfg.get("teachers", {}).items():
            with Timer() as t:
                _, _, _, acc = train_teacher(
                    train, test, {**cfg["teacher"], **overrides}, device, test_passes=cfg["evaluation"]["test_passes"]
                )
            jobs[f"teacher_{name}"] = {"wall": t.wall, "cpu": t.cpu}
            print(f"teacher {name}: top1 {acc.top1:.3f}, {t.cpu:.0f}s cpu", flush=True)
        experts = cfg["experts"]
        for label, (tr_store, te_store) in {"": (train, test), "tr_": (sub_train, sub_test)}.items():
            if tr_store is None:
                continue
            for e in range(int(experts["count"])):
                with Timer() as t:
                    _, info = train_expert(
                        tr_store,
                        te_store,
                        {k: v for k, v in experts.items() if k not in ("count", "min_ratio", "strict")},
                        cfg["student"],
                        e,
                        device,
                        test_passes=int(experts.get("test_passes", 1)),
                    )
                jobs[f"{label}expert{e}"] = {"wall": t.wall, "cpu": t.cpu}
                print(f"{label}expert {e}: top1 {info['top1']:.3f}, {t.cpu:.0f}s cpu", flush=True)
    report["job_seconds"] = jobs
    # The pipeline trains the teacher once: the full arm of the teacher's seed is the teacher (ranking_inputs), so
    # every job here is one job of the default table.
    report["budget_cpu_seconds"] = float(sum(v["cpu"] for v in jobs.values()))
    report["budget_wall_seconds"] = float(sum(v["wall"] for v in jobs.values()))
    print(
        "\njob CPU seconds: "
        + ", ".join(f"{k} {v['cpu']:.0f}" for k, v in jobs.items())
        + f"; total {report['budget_cpu_seconds']:.0f}s cpu ({report['budget_wall_seconds']:.0f}s wall)"
    )
    name = args.name or digest({"config": str(args.config), "set": args.overrides, "seeds": seeds, "arms": args.arms})
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{name}.json").write_text(json.dumps(report, indent=1, default=float) + "\n")
    print(f"wrote {OUT / f'{name}.json'}")


if __name__ == "__main__":
    main()
