"""`vidstill`: take a distilled set away, evaluate any set, import the reference code's sets.

    vidstill export SET --out DIR [--preview]
    vidstill evaluate SET --dataset NAME [--protocol native|hard|soft] [--runs N]
    vidstill import-vdsd FILE --out DIR (--num-classes K | --dataset NAME) [--labels FILE]

Thin over the library: the evaluation is `vidstill.evaluate.evaluate_set`, the function the workflow's `evaluate`
rule runs, with the protocol and student read from the same config file the workflow reads (validated and completed
by the same schema), so a set evaluated here with the workflow's seed gives the workflow's numbers. Paths are
relative to the working directory, like Snakemake's: run it from the repository root (or pass --results /
--configfile). Every failure is one line naming the file and the reason, exit status 2.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

import yaml

from vidstill.report.exports import class_names

LIBRARY = Path(__file__).resolve().parent
SCHEMA = LIBRARY.parent / "schemas" / "config.schema.yaml"


class CliError(Exception):
    """A user-facing failure: printed as one line, exit status 2."""


def load_config(path: str | Path) -> dict[str, Any]:
    """The workflow's config document, validated against its schema with defaults filled, as the Snakefile does."""
    path = Path(path)
    if not path.is_file():
        raise CliError(f"{path}: no such config file (run from the repository root, or pass --configfile)")
    config = yaml.safe_load(path.read_text())
    if not isinstance(config, dict):
        raise CliError(f"{path}: not a YAML mapping")
    if not SCHEMA.is_file():
        raise CliError(f"{SCHEMA}: the config schema is missing (vidstill must run from its source tree)")
    from snakemake.utils import validate

    try:
        validate(config, str(SCHEMA))
    except Exception as e:  # noqa: BLE001 - snakemake raises WorkflowError with the key path
        raise CliError(f"{path}: invalid config: {e}") from e
    return config


def eval_protocol(config: dict[str, Any], runs: int | None) -> dict[str, Any]:
    """The settings of a distilled-set evaluation: `evaluation` without the Full Dataset row's own `full` block and
    without what shapes only tables (workflow/rules/common/settings.smk's protocol())."""
    protocol = {
        k: v for k, v in config["evaluation"].items() if k not in ("full", "label_protocols", "dd_ranking_weight")
    }
    if runs is not None:
        if runs < 1:
            raise CliError(f"--runs must be at least 1, got {runs}")
        protocol["runs"] = runs
    return protocol


def clip_store(results: Path, dataset: str, split: str = "test"):
    from vidstill.data.clips import ClipStore

    table = results / dataset / "clips" / f"{split}.parquet"
    if not table.is_file():
        raise CliError(f"{table}: no {split} clips of dataset {dataset!r} (build them: snakemake --cores all {table})")
    return ClipStore.open(table)


def cmd_export(args: argparse.Namespace) -> int:
    from vidstill.export import load_any_set, write_export

    synthetic, info = load_any_set(args.set)
    dataset = args.dataset or info.get("dataset")
    names = info.get("class_names")
    if names is None and dataset and (Path(args.results) / dataset / "clips" / "test.parquet").is_file():
        names = class_names(clip_store(Path(args.results), dataset))
    student = evaluation = None
    if Path(args.configfile).is_file():
        config = load_config(args.configfile)
        student, evaluation = config["student"], eval_protocol(config, None)
    written = write_export(
        synthetic, args.out, names, student, preview=args.preview, overwrite=args.force, evaluation=evaluation
    )
    print(
        f"{args.out}: {written['items']} items of {written['num_classes']} classes, "
        f"{written['labels']['kind']} labels, "
        f"{written['portable']['distinct_frames']} distinct frames ({written['method'] or 'unknown method'})"
    )
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from vidstill.evaluate import evaluate_set
    from vidstill.export import check_against_dataset, load_any_set, set_file
    from vidstill.io import write_parquet
    from vidstill.runtime import job_device

    config = load_config(args.configfile)
    results = Path(args.results)
    synthetic, info = load_any_set(args.set)
    test = clip_store(results, args.dataset)
    check_against_dataset(args.set, synthetic, info, class_names(test), test.spec.frames, test.spec.crop)
    protocol = eval_protocol(config, args.runs)
    teacher = None
    if args.protocol == "soft":
        name = protocol.get("soft", {}).get("teacher") or config["teacher"]["arch"]
        teacher = results / args.dataset / "teacher" / f"{name}.safetensors"
        if not teacher.is_file():
            raise CliError(
                f"{teacher}: the soft protocol's teacher is missing (build it: snakemake --cores all {teacher})"
            )
    seed = args.seed if args.seed is not None else int(info.get("seed") or 0)
    device = job_device(args.device or config["device"], args.threads or config["threads"]["train"])
    runs = evaluate_set(
        synthetic, test, protocol, config["student"], seed, device, labels=args.protocol, teacher=teacher
    )
    runs = runs.assign(
        dataset=args.dataset, method=info.get("instance") or info.get("method"), set=str(set_file(args.set))
    )
    out = (
        Path(args.out)
        if args.out
        else set_file(args.set).with_name(f"{set_file(args.set).stem}.eval_{args.dataset}_{args.protocol}.parquet")
    )
    write_parquet(runs, out, metadata={"protocol": protocol, "labels": args.protocol, "seed": seed, "set": info})
    top1 = runs["top1"] * 100
    print(
        f"{args.set} on {args.dataset} ({args.protocol} labels, {len(runs)} runs, seed {seed}): "
        f"top-1 {top1.mean():.2f} ± {top1.std(ddof=0):.2f} % (mean ± population std, as the tables)  -> {out}"
    )
    return 0


def cmd_import_vdsd(args: argparse.Namespace) -> int:
    from vidstill.export import write_export
    from vidstill.import_vdsd import reference_set

    names = None
    if args.dataset:
        names = class_names(clip_store(Path(args.results), args.dataset))
    num_classes = args.num_classes or (len(names) if names else None)
    if not num_classes:
        raise CliError("import-vdsd needs --num-classes K or --dataset NAME (the reference does not save its labels)")
    if names and args.num_classes and args.num_classes != len(names):
        raise CliError(f"--num-classes {args.num_classes} but dataset {args.dataset!r} has {len(names)} classes")
    synthetic = reference_set(args.file, num_classes, args.labels)
    if args.dataset:
        synthetic.meta["dataset"] = args.dataset
    written = write_export(synthetic, args.out, names, None, preview=args.preview, overwrite=args.force)
    print(
        f"{args.out}: {written['items']} reference videos of {written['num_classes']} classes "
        f"({written['frames']} frames of {written['clip']['height']}x{written['clip']['width']})"
    )
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="vidstill", description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--configfile", default="config/config.yaml", help="the workflow's config (default: %(default)s)"
    )
    common.add_argument("--results", default="results", help="the workflow's results directory (default: %(default)s)")
    sub = p.add_subparsers(dest="command", required=True)

    e = sub.add_parser("export", parents=[common], help="write a distilled set as portable safetensors + JSON")
    e.add_argument(
        "set", help="a distilled set: results/{dataset}/distilled/{method}/ipc{ipc}/seed{seed}.safetensors or an export"
    )
    e.add_argument("--out", required=True, help="the directory to write (set.safetensors, set.json, preview/)")
    e.add_argument("--dataset", help="name the classes from this dataset's test split (default: the set's own dataset)")
    e.add_argument("--preview", action="store_true", help="also write one GIF per class and a contact sheet PNG")
    e.add_argument("--force", action="store_true", help="replace --out if it exists")
    e.set_defaults(fn=cmd_export)

    v = sub.add_parser("evaluate", parents=[common], help="train students on a set and test them on a dataset")
    v.add_argument("set", help="an exported set (directory or set.safetensors) or a workflow artifact")
    v.add_argument(
        "--dataset", required=True, help="the dataset whose test split is used (results/{dataset}/clips/test.*)"
    )
    v.add_argument(
        "--protocol",
        choices=("native", "hard", "soft"),
        default="native",
        help="labels: the set's own (native, the workflow's table), one-hot classes (hard), or the teacher's "
        "softmax at evaluation.soft.temperature (soft). Default: %(default)s",
    )
    v.add_argument("--runs", type=int, help="students to train (default: evaluation.runs of the config)")
    v.add_argument(
        "--seed", type=int, help="base seed of the runs (default: the set's distillation seed, as the workflow)"
    )
    v.add_argument("--device", help="cpu, cuda or auto (default: the config's device)")
    v.add_argument("--threads", type=int, help="torch threads (default: threads.train of the config)")
    v.add_argument("--out", help="the runs' parquet (default: beside the set)")
    v.set_defaults(fn=cmd_evaluate)

    i = sub.add_parser("import-vdsd", parents=[common], help="convert a set saved by VDSD's reference code")
    i.add_argument("file", help="the reference's images_<it>.pt / images_best.pt: float videos (N, T, C, H, W)")
    i.add_argument("--out", required=True, help="the export directory to write")
    i.add_argument("--num-classes", type=int, help="classes of the set (N = classes x IPC, class-major)")
    i.add_argument("--dataset", help="take the class count and names from this dataset's test split")
    i.add_argument("--labels", help="a saved label tensor (e.g. FRePo's y_syn_<it>.pt) instead of class-major order")
    i.add_argument("--preview", action="store_true", help="also write one GIF per class and a contact sheet PNG")
    i.add_argument("--force", action="store_true", help="replace --out if it exists")
    i.set_defaults(fn=cmd_import_vdsd)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from vidstill.export import SetFormatError  # after parsing: `vidstill --help` imports no torch

    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    try:
        return args.fn(args)
    except (CliError, SetFormatError, FileExistsError) as e:
        print(f"vidstill {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
