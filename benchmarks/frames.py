"""Decode + store throughput of the clip store against the raw decord decode of the same files, side by side.

    uv run python benchmarks/frames.py [--root DIR] [--threads 2] [--repeats 3]

Without --root it generates the default synthetic benchmark (config/config.yaml's generator settings) into
results/benchmarks/frames_videos. Three measurements over the same videos, each the best of --repeats:
- raw_all:    decord decodes every frame of every video (get_batch over all indices), one thread, nothing kept;
- raw_stored: decord decodes only the frames the store keeps, one thread, nothing kept;
- store_tN:   vidstill's extract_clips (decode the stored frames + resize/crop + write the .npy) with N threads, for
              each N in --threads.
Ratios are store throughput / raw throughput (videos/s, >1 = the store is faster); written to
results/benchmarks/frames.json and printed. On the 2-core machine decord's frame decoding does not scale with a second
concurrent reader (threads or processes): measure before raising threads.extract.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow"))

import yaml  # noqa: E402

from vidstill.data.clips import ClipSpec, extract_clips, stored_frame_indices  # noqa: E402
from vidstill.data.indexers import build_index  # noqa: E402


def best_of(repeats: int, fn) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", help="a dataset root in the UCF101 layout (default: generate the synthetic benchmark)")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=str(REPO / "results/benchmarks/frames.json"))
    args = ap.parse_args()

    config = yaml.safe_load((REPO / "config/config.yaml").read_text())["datasets"]["synthetic"]
    root = Path(args.root) if args.root else REPO / "results/benchmarks/frames_videos"
    if not args.root and not (root / "ucfTrainTestlist").exists():
        from vidstill.data.synthetic import generate_synthetic

        generate_synthetic(root, **config["generator"])
    spec = ClipSpec.from_config(config["clips"])
    index = build_index("ucf101", root, threads=1, min_frames=spec.frames, progress=False)
    index = index[index["error"] == ""]
    paths, counts = index["path"].tolist(), index["frames"].tolist()
    n_videos, n_frames = len(paths), int(sum(counts))
    n_stored = int(sum(len(stored_frame_indices(n, spec)) for n in counts))

    import decord

    def raw(all_frames: bool) -> None:
        for path, n in zip(paths, counts):
            vr = decord.VideoReader(path, num_threads=1)
            idx = list(range(n)) if all_frames else stored_frame_indices(n, spec).tolist()
            vr.get_batch(idx).asnumpy()

    t_all = best_of(args.repeats, lambda: raw(True))
    t_stored = best_of(args.repeats, lambda: raw(False))
    result = {
        "videos": n_videos,
        "decoded_frames_all": n_frames,
        "stored_frames": n_stored,
        "raw_all": {"seconds": t_all, "videos_per_s": n_videos / t_all, "frames_per_s": n_frames / t_all},
        "raw_stored": {"seconds": t_stored, "videos_per_s": n_videos / t_stored, "frames_per_s": n_stored / t_stored},
    }
    with tempfile.TemporaryDirectory() as tmp:
        for threads in args.threads:

            def store() -> None:
                extract_clips(
                    index,
                    ["train", "test"],
                    spec,
                    Path(tmp) / "s.npy",
                    Path(tmp) / "s.parquet",
                    threads=threads,
                    progress=False,
                )

            t = best_of(args.repeats, store)
            result[f"store_t{threads}"] = {
                "seconds": t,
                "videos_per_s": n_videos / t,
                "frames_per_s": n_stored / t,
                "ratio_vs_raw_all": t_all / t,
                "ratio_vs_raw_stored": t_stored / t,
            }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
