"""Probing: decord metadata of each video (frames, fps, size), with a specific reason for every video that cannot be
used; never raises for a bad video."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor, as_completed

import pandas as pd

from vidstill.data.indexers.common import log

PROBE_COLUMNS = ("frames", "fps", "width", "height", "error")

_DECORD_PREFIX = re.compile(r"\[\d{2}:\d{2}:\d{2}\] \S+?:\d+: ")
_SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (0, b"RIFF", "AVI"),
    (4, b"ftyp", "MP4/MOV"),
    (4, b"moov", "MP4/MOV"),
    (4, b"mdat", "MP4/MOV"),
    (4, b"free", "MP4/MOV"),
    (4, b"wide", "MP4/MOV"),
    (4, b"skip", "MP4/MOV"),
    (0, b"\x1a\x45\xdf\xa3", "Matroska/WebM"),
    (0, b"FLV", "FLV"),
    (0, b"\x00\x00\x01\xba", "MPEG-PS"),
    (0, b"\x00\x00\x01\xb3", "MPEG"),
    (0, b"OggS", "Ogg"),
    (0, b"\x30\x26\xb2\x75", "ASF/WMV"),
    (0, b"\x47", "MPEG-TS"),
)


def _decord_reason(exc: BaseException) -> str:
    """decord's message without its C++ timestamp/file prefixes, on one line and short enough for a table cell."""
    text = _DECORD_PREFIX.sub("", str(exc))
    text = " ".join(text.split())
    return text[:240] if text else type(exc).__name__


def _container(head: bytes) -> str | None:
    for offset, magic, name in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return name
    return None


def _diagnose_unopenable(path: str, head: bytes, exc: BaseException) -> tuple[int, float, int, int, str]:
    """Turn decord's failure to open a file into a specific reason. decord only says "Error reading <path>" (the real
    reason goes to its stderr log), so: a file with no video container signature is "not a video file"; a file
    whose container declares no frames (OpenCV reads the header) is "no frames"; the rest keep decord's words."""
    reason = _decord_reason(exc)
    kind = _container(head)
    if kind is None:
        return 0, 0.0, 0, 0, f"unreadable: not a video file (no known container signature; starts with {head[:16]!r})"
    if "cannot find video stream" in reason:
        return 0, 0.0, 0, 0, f"unreadable: no video stream found in this {kind} file (truncated, corrupt or audio only)"
    declared = _opencv_declared_frames(path)
    if declared == 0:
        return 0, 0.0, 0, 0, f"no frames ({kind} container declares 0 frames)"
    return 0, 0.0, 0, 0, f"unreadable: {reason} ({kind} file that decord cannot open: truncated or corrupt)"


def _opencv_declared_frames(path: str) -> int | None:
    """Frame count in the container header as OpenCV reads it, or None when OpenCV cannot open the file either."""
    try:
        import cv2

        cap = cv2.VideoCapture(path)
        try:
            if not cap.isOpened():
                return None
            n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
            return 0 if n <= 0 and not cap.read()[0] else n
        finally:
            cap.release()
    except Exception:  # a diagnostic only: never let it turn a bad video into a crash
        return None


def _probe_one(path: str) -> tuple[int, float, int, int, str]:
    """(frames, fps, width, height, error) of one video; never raises.

    Opening reads the container index (frame count, fps); decoding frame 0 gives the size; decoding the *last*
    frame catches files truncated after the header (their index promises frames whose bytes are gone), at the cost
    of decoding at most one GOP. decord's decoder thread reads packets ahead, so a bad packet near the end can make
    even frame 0 fail, at random: any decode failure is therefore one error, "truncated or corrupt", and the size
    then comes from the container header (OpenCV), so the row is the same on every run (checked by the tests)."""
    try:
        size = os.stat(path).st_size
        with open(path, "rb") as f:
            head = f.read(32)
    except FileNotFoundError:
        return 0, 0.0, 0, 0, f"missing file: {path}"
    except OSError as e:
        return 0, 0.0, 0, 0, f"unreadable: {e.strerror or e}"
    if size == 0:
        return 0, 0.0, 0, 0, "empty file (0 bytes)"
    try:
        import decord

        vr = decord.VideoReader(path, ctx=decord.cpu(0), num_threads=1)
    except Exception as e:  # decord raises RuntimeError or its DECORDError for unreadable input
        return _diagnose_unopenable(path, head, e)
    try:
        n = len(vr)
        fps = float(vr.get_avg_fps())
    except Exception as e:
        return 0, 0.0, 0, 0, f"unreadable: {_decord_reason(e)}"
    if n <= 0:
        return 0, fps, 0, 0, "no frames"
    try:
        h, w = (int(x) for x in vr[0].shape[:2])
        if n > 1:
            vr[n - 1]
    except Exception as e:
        # decord's words here depend on its thread timing ("Error sending packet" or "run_.load()"), so they go to
        # the debug log and the table gets a reason that is the same on every run
        log.debug("%s: decode failed: %s", path, _decord_reason(e))
        w, h = _opencv_header_size(path)
        return n, fps, w, h, f"truncated or corrupt: the container lists {n} frames but they do not all decode"
    finally:
        del vr
    return n, fps, w, h, ""


def _opencv_header_size(path: str) -> tuple[int, int]:
    """(width, height) from the container header as OpenCV reads it, (0, 0) when it cannot."""
    try:
        import cv2

        cap = cv2.VideoCapture(path)
        try:
            return int(cap.get(cv2.CAP_PROP_FRAME_WIDTH) or 0), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT) or 0)
        finally:
            cap.release()
    except Exception:  # a diagnostic only
        return 0, 0


def _probe_chunk(paths: Sequence[str]) -> list[tuple[int, float, int, int, str]]:
    """Worker entry: probe a chunk with decord's own logging silenced (the reasons land in the table instead)."""
    _quiet_decord()
    return [_probe_one(p) for p in paths]


def _quiet_decord() -> None:
    try:
        import decord

        decord.logging.set_level(decord.logging.QUIET)
    except Exception:
        pass


def _executor(kind: str, threads: int) -> Executor:
    """Threads by default: decord's calls go through ctypes, which releases the GIL, and threads start instantly.
    "process" forks (forkserver/spawn would re-run an unguarded __main__, which Snakemake's script files are, and
    cost ~1 s of imports per worker); it isolates the parent from a decoder crash on a hostile file."""
    if kind == "thread":
        return ThreadPoolExecutor(max_workers=threads)
    import multiprocessing as mp

    return ProcessPoolExecutor(max_workers=threads, mp_context=mp.get_context("fork"))


def probe_videos(paths: Sequence[str], threads: int = 1, progress: bool = True, pool: str = "thread") -> pd.DataFrame:
    """decord metadata of each path, in the same order: frames, fps, width, height, error. Never raises for a bad
    video: the reason goes to `error` ("missing file: ...", "empty file (0 bytes)", "unreadable: ...", "no frames",
    "truncated or corrupt: ...").

    With threads > 1 the paths are probed in chunks by a pool of `threads` workers: "thread" (default) or "process".
    Measured on 2 cores, 120 videos of 150 frames at 320x240 (MJPG / mp4v / XVID, page cache warm): serial
    ~330 videos/s, 2 threads ~730/s, 2 forked processes ~640/s, forkserver/spawn ~100/s (worker start-up)."""
    paths = [str(p) for p in paths]
    results: list[tuple[int, float, int, int, str]] = []
    from tqdm import tqdm

    bar = tqdm(total=len(paths), desc="probe videos", unit="video", file=sys.stderr, disable=not progress)
    try:
        if threads <= 1 or len(paths) < 2:
            _quiet_decord()
            for p in paths:
                results.append(_probe_one(p))
                bar.update(1)
        else:
            results = _probe_parallel(paths, threads, pool, bar.update)
    finally:
        bar.close()
    df = pd.DataFrame.from_records(results, columns=list(PROBE_COLUMNS))
    return _probe_dtypes(df)


def _probe_parallel(
    paths: list[str], threads: int, pool: str, advance: Callable[[int], object]
) -> list[tuple[int, float, int, int, str]]:
    """Chunks of ~32 paths (small enough for a live progress bar, large enough to amortise the pool's overhead)."""
    if pool not in ("process", "thread"):
        raise ValueError(f"pool must be 'process' or 'thread', got {pool!r}")
    size = max(1, min(32, len(paths) // (threads * 4) or 1))
    chunks = [paths[i : i + size] for i in range(0, len(paths), size)]
    out: list[list[tuple[int, float, int, int, str]]] = [[] for _ in chunks]
    with _executor(pool, threads) as ex:
        futures = {ex.submit(_probe_chunk, c): k for k, c in enumerate(chunks)}
        for fut in as_completed(futures):
            k = futures[fut]
            try:
                out[k] = fut.result()
            except Exception as e:  # a crashed worker (e.g. a decoder segfault): report the chunk, don't die
                out[k] = [(0, 0.0, 0, 0, f"unreadable: probe worker failed ({type(e).__name__}: {e})")] * len(chunks[k])
            advance(len(chunks[k]))
    return [r for chunk in out for r in chunk]


def _probe_dtypes(df: pd.DataFrame) -> pd.DataFrame:
    for c in ("frames", "width", "height"):
        df[c] = df[c].astype("int64")
    df["fps"] = df["fps"].astype("float64")
    df["error"] = df["error"].astype(str)
    return df
