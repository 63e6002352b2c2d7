"""The clip store: every usable video decoded once into uint8 frames, and the sampler that draws training clips.

A split's store is two files: `{split}.npy`, all stored frames of all videos stacked as (N, H, W, 3) uint8 (memory
mapped on read, so UCF101-size stores need no RAM), and `{split}.parquet`, one row per video with its label and the
[offset, offset + length) range of its frames. A class subset (MiniUCF, TR-UCF) writes only its own parquet, naming the
parent's frames file: nothing is decoded twice.

What is stored depends on how clips are sampled (REFERENCE.md):
- `stride`  (UCF101, HMDB51): the video at temporal stride s, so any run of T stored frames is a reference clip of
  T frames at stride s. Videos shorter than T*s are stored as T frames at stride n // T (the reference's rule).
  At most `max_stored` frames are kept, centred in the video. The sampler draws a random start per clip.
- `middle`  (Kinetics-400): T frames at stride s around the temporal middle.
- `uniform` (SSv2): T frames spread uniformly over the video.
Every frame is resized to `resize` (width, height) and centre-cropped to `crop`² at store time; the reference does the
same crop deterministically, so nothing random is lost by doing it once.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from vidstill.io import atomic_path, read_parquet_metadata, write_parquet

log = logging.getLogger("vidstill.data")

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
SAMPLINGS = ("stride", "middle", "uniform")


@dataclass(frozen=True)
class ClipSpec:
    frames: int = 16
    stride: int = 4
    sampling: str = "stride"
    resize: tuple[int, int] | None = (160, 120)
    crop: int = 112
    max_stored: int = 64
    flip: bool = True  # random horizontal flip of whole clips (reference); off where left/right is the label (SSv2)

    def __post_init__(self) -> None:
        if self.sampling not in SAMPLINGS:
            raise ValueError(f"clips.sampling must be one of {SAMPLINGS}, got {self.sampling!r}")
        if self.frames < 1 or self.stride < 1 or self.crop < 1:
            raise ValueError(f"clips.frames/stride/crop must be >= 1, got {self.frames}/{self.stride}/{self.crop}")
        if self.max_stored < self.frames:
            raise ValueError(f"clips.max_stored ({self.max_stored}) must be >= clips.frames ({self.frames})")

    @classmethod
    def from_config(cls, cfg: dict) -> ClipSpec:
        resize = cfg.get("resize")
        return cls(
            frames=int(cfg["frames"]),
            stride=int(cfg.get("stride", 1)),
            sampling=str(cfg.get("sampling", "stride")),
            resize=(int(resize[0]), int(resize[1])) if resize else None,
            crop=int(cfg["crop"]),
            max_stored=int(cfg.get("max_stored", cfg["frames"])),
            flip=bool(cfg.get("flip", True)),
        )


def stored_frame_indices(n: int, spec: ClipSpec) -> np.ndarray:
    """Which decoded frames of an n-frame video the store keeps (see the module docstring)."""
    t, s = spec.frames, spec.stride
    if n < 1:
        raise ValueError("video has no frames")
    if spec.sampling == "uniform":
        return np.linspace(0, n - 1, t).round().astype(np.int64)
    if spec.sampling == "middle":
        s = min(s, max(n // t, 1))
        start = max((n - s * (t - 1) - 1) // 2, 0)
        return np.minimum(start + s * np.arange(t), n - 1)
    if n < t * s:
        s = max(n // t, 1)
        return np.minimum(s * np.arange(t), n - 1)
    idx = np.arange(0, n, s)
    if len(idx) > spec.max_stored:
        first = (len(idx) - spec.max_stored) // 2
        idx = idx[first : first + spec.max_stored]
    return idx


def resize_frame(frame: np.ndarray, size: tuple[int, int] | None) -> np.ndarray:
    """A frame at `size` (width, height; None: as it is), by area interpolation. Uncropped, it is what detection and
    tracking see (vidstill/crops)."""
    import cv2

    if size is None or (frame.shape[1], frame.shape[0]) == tuple(size):
        return frame
    return cv2.resize(frame, tuple(size), interpolation=cv2.INTER_AREA)


def _resize_crop(frames: np.ndarray, spec: ClipSpec) -> np.ndarray:
    out = []
    for frame in frames:
        frame = resize_frame(frame, spec.resize)
        h, w = frame.shape[:2]
        if h < spec.crop or w < spec.crop:
            raise ValueError(f"frame {w}x{h} is smaller than the crop {spec.crop}")
        y, x = (h - spec.crop) // 2, (w - spec.crop) // 2
        out.append(frame[y : y + spec.crop, x : x + spec.crop])
    return np.stack(out)


def decode_video(path: str, spec: ClipSpec) -> np.ndarray:
    """Decode the stored frames of one video as (L, crop, crop, 3) uint8 RGB."""
    return _resize_crop(read_frames(path, lambda n: stored_frame_indices(n, spec))[0], spec)


def read_frames(path: str, which: Callable[[int], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The frames `which(n)` of an n-frame video as (L, H, W, 3) uint8 RGB at the video's own size, and their indices.

    decord 0.6.0 fails to copy frames of some sizes (e.g. 48x48 and 72x48 MJPG: "DECORDArrayCopyFromTo: The size must
    exactly match"), so when its batch copy fails the same frames are read with OpenCV's decoder instead.
    """
    import decord

    vr = decord.VideoReader(path, num_threads=1)
    idx = which(len(vr))
    try:
        frames = vr.get_batch(idx.tolist()).asnumpy()
    except decord.DECORDError as exc:
        log.debug("%s: decord copy failed (%s); decoding with OpenCV", path, str(exc).splitlines()[-1])
        frames = _decode_with_opencv(path, idx)
    return frames, idx


def _decode_with_opencv(path: str, idx: np.ndarray) -> np.ndarray:
    import cv2

    cap = cv2.VideoCapture(path)
    wanted, frames, i = set(idx.tolist()), {}, 0
    try:
        while i <= idx.max():
            ok, frame = cap.read()
            if not ok:
                break
            if i in wanted:
                frames[i] = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
            i += 1
    finally:
        cap.release()
    missing = sorted(wanted - frames.keys())
    if missing:
        raise RuntimeError(f"{path}: OpenCV could not read frames {missing[:5]}")
    return np.stack([frames[j] for j in idx.tolist()])


def extract_clips(
    index: pd.DataFrame,
    splits: Sequence[str],
    spec: ClipSpec,
    frames_path: str | Path,
    table_path: str | Path,
    threads: int = 1,
    progress: bool = True,
) -> pd.DataFrame:
    """Decode every usable video of `splits` into one store; returns the store's row table.

    The frame count of each video is known from the index, so the output array is allocated once and filled in place
    by `threads` decoders (decord releases the GIL while decoding). A video that fails here although the index probed
    it fine stops the job with the file named: the index and the files disagree, and silently dropping it would change
    the dataset behind the user's back.
    """
    from tqdm import tqdm

    rows = index[(index["error"] == "") & index["split"].isin(list(splits))].reset_index(drop=True)
    if rows.empty:
        raise ValueError(f"no usable videos in splits {list(splits)}")
    lengths = np.array([len(stored_frame_indices(int(n), spec)) for n in rows["frames"]], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    shape = (int(lengths.sum()), spec.crop, spec.crop, 3)
    log.info(
        "extracting %d videos (%d frames, %.1f MiB) with %d threads",
        len(rows),
        shape[0],
        np.prod(shape) / 2**20,
        threads,
    )

    with atomic_path(frames_path) as tmp:
        store = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=shape)

        def work(i: int) -> int:
            path = rows.at[i, "path"]
            try:
                frames = decode_video(path, spec)
            except Exception as exc:  # decord raises RuntimeError/DECORDError; name the file either way
                raise RuntimeError(f"{path}: decoding failed after a successful probe: {exc}") from exc
            if len(frames) != lengths[i]:
                raise RuntimeError(f"{path}: decoded {len(frames)} frames, expected {lengths[i]}")
            store[offsets[i] : offsets[i] + lengths[i]] = frames  # noqa: F821 (deleted only after the pool ends)
            return i

        with ThreadPoolExecutor(max_workers=max(threads, 1)) as pool:
            for _ in tqdm(
                pool.map(work, range(len(rows))), total=len(rows), disable=not progress, desc="decode", mininterval=2
            ):
                pass
        store.flush()
        del store

    table = pd.DataFrame(
        {
            "id": rows["id"].astype(str),
            "class": rows["class"].astype(str),
            "label": rows["label"].astype(np.int64),
            "split": rows["split"].astype(str),
            "offset": offsets,
            "length": lengths,
        }
    )
    meta = {"spec": asdict(spec), "frames_file": Path(frames_path).name, "num_classes": int(index["label"].max()) + 1}
    write_parquet(table, table_path, metadata=meta)
    return table


def write_subset_store(parent_table: str | Path, subset_index: pd.DataFrame, table_path: str | Path) -> pd.DataFrame:
    """A class subset's store: the parent's rows of the subset's videos, relabelled, pointing at the parent's frames."""
    parent = pd.read_parquet(parent_table)
    meta = read_parquet_metadata(parent_table)
    labels = subset_index.set_index("id")["label"]
    rows = parent[parent["id"].isin(labels.index)].copy()
    rows["label"] = rows["id"].map(labels).astype(np.int64)
    rows["class"] = rows["id"].map(subset_index.set_index("id")["class"])
    frames_file = os.path.relpath(Path(parent_table).parent / meta["frames_file"], Path(table_path).parent)
    meta = {**meta, "frames_file": frames_file, "num_classes": int(subset_index["label"].max()) + 1}
    write_parquet(rows.reset_index(drop=True), table_path, metadata=meta)
    return rows


@dataclass
class ClipStore:
    """A split of decoded videos: frames (memory mapped) and the per-video rows."""

    frames: np.ndarray
    table: pd.DataFrame
    spec: ClipSpec
    num_classes: int
    labels: torch.Tensor = field(init=False)

    def __post_init__(self) -> None:
        self.labels = torch.tensor(self.table["label"].to_numpy(), dtype=torch.long)
        self._offsets = self.table["offset"].to_numpy()
        self._lengths = self.table["length"].to_numpy()

    @classmethod
    def open(cls, table_path: str | Path, in_memory: bool = False) -> ClipStore:
        meta = read_parquet_metadata(table_path)
        frames_path = Path(table_path).parent / meta["frames_file"]
        frames = np.load(frames_path, mmap_mode=None if in_memory else "r", allow_pickle=False)
        spec_cfg = dict(meta["spec"])
        spec_cfg["resize"] = tuple(spec_cfg["resize"]) if spec_cfg.get("resize") else None
        return cls(frames, pd.read_parquet(table_path), ClipSpec(**spec_cfg), int(meta["num_classes"]))

    def __len__(self) -> int:
        return len(self.table)

    def indices_of_class(self, label: int) -> np.ndarray:
        return np.flatnonzero(self.labels.numpy() == label)

    def video(self, i: int) -> np.ndarray:
        """All stored frames of video i, (L, H, W, 3) uint8."""
        return self.frames[self._offsets[i] : self._offsets[i] + self._lengths[i]]

    def clip_uint8(self, i: int, start: int | None = None, rng: np.random.Generator | None = None) -> np.ndarray:
        """T consecutive stored frames of video i from `start` (random from `rng`, else the centre), (T, H, W, 3)."""
        t, n = self.spec.frames, int(self._lengths[i])
        if start is None:
            start = int(rng.integers(0, n - t + 1)) if rng is not None else (n - t) // 2
        return self.video(i)[start : start + t]


def normalize(clips_uint8: torch.Tensor) -> torch.Tensor:
    """(B, T, H, W, 3) uint8 → (B, T, 3, H, W) float, ImageNet mean/std (the reference normalisation). Runs where
    its input lives: a uint8 batch sent to the GPU (a quarter of float32's bytes) is normalised there."""
    x = clips_uint8.permute(0, 1, 4, 2, 3).float().div_(255.0)
    # built on the host and queued to the device (runtime.to_device's copy, written out: importing the runtime here
    # would tie the data jobs' code hash to every method): torch.tensor(..., device="cuda") would make the host wait
    mean = torch.tensor(IMAGENET_MEAN, dtype=x.dtype).to(x.device, non_blocking=True).view(1, 1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=x.dtype).to(x.device, non_blocking=True).view(1, 1, 3, 1, 1)
    return x.sub_(mean).div_(
        std
    )  # in place: the same roundings as (x - mean) / std without two fresh batch-sized buffers


def denormalize(clips: torch.Tensor) -> torch.Tensor:
    """Inverse of `normalize` back to [0, 1] floats (B, T, 3, H, W): for pictures of distilled videos."""
    mean = torch.tensor(IMAGENET_MEAN, device=clips.device).view(1, 1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=clips.device).view(1, 1, 3, 1, 1)
    return (clips * std + mean).clamp(0, 1)


def sample_clips(
    store: ClipStore,
    indices: Sequence[int],
    rng: np.random.Generator | None = None,
    static: bool = False,
) -> torch.Tensor:
    """Normalised (B, T, C, H, W) clips: `sample_clips_uint8`'s draws, normalised (`normalize`)."""
    return normalize(sample_clips_uint8(store, indices, rng, static))


def sample_clips_on(
    device: torch.device,
    store: ClipStore,
    indices: Sequence[int],
    rng: np.random.Generator | None = None,
    static: bool = False,
) -> torch.Tensor:
    """`sample_clips`' clips on `device`. On CUDA the uint8 clips travel (a quarter of float32's bytes, pinned, the
    copy queued without the host waiting) and are normalised there; on the CPU this is `sample_clips`, so CPU results
    do not depend on this path."""
    if device.type != "cuda":
        return sample_clips(store, indices, rng, static)
    return normalize(sample_clips_uint8(store, indices, rng, static).pin_memory().to(device, non_blocking=True))


def sample_clips_uint8(
    store: ClipStore,
    indices: Sequence[int],
    rng: np.random.Generator | None = None,
    static: bool = False,
) -> torch.Tensor:
    """Stored-pixel (B, T, H, W, 3) uint8 clips: random temporal start and horizontal flip of the whole clip from `rng`.

    The reference flips at test time too; the store's `spec.flip` turns flipping off for data whose labels a mirror
    changes (SSv2's "left to right", the synthetic benchmark's direction classes). `rng=None` gives the deterministic
    centre clip without flip (embeddings for coresets). `static=True` repeats one stored frame T times: the single-frame
    input of the Δ-ranking.
    """
    t = store.spec.frames
    # one copy of each clip, straight into the batch (the random draws are made in the same order as before)
    out = np.empty((len(indices), t, *store.frames.shape[1:]), dtype=np.uint8)
    for k, i in enumerate(indices):
        i = int(i)
        if static:
            n = int(store._lengths[i])
            j = int(rng.integers(0, n)) if rng is not None else n // 2
            clip = store.video(i)[j : j + 1]  # broadcast over the T frames by the assignment below
        else:
            clip = store.clip_uint8(i, rng=rng)
        if rng is not None and store.spec.flip and rng.random() < 0.5:
            clip = clip[:, :, ::-1]
        out[k] = clip
    return torch.from_numpy(out)


class RealClips:
    """A clip store as a training source (shuffled batches, fresh starts and flips) and as a test set."""

    def __init__(self, store: ClipStore, static: bool = False, indices: Sequence[int] | None = None) -> None:
        self.store = store
        self.static = static
        self.indices = np.arange(len(store)) if indices is None else np.asarray(indices)

    def epoch(self, batch_size: int, rng: np.random.Generator) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for x, y in self.epoch_uint8(batch_size, rng):
            yield normalize(x), y

    def epoch_uint8(self, batch_size: int, rng: np.random.Generator) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """`epoch`'s batches (the same draws) as stored uint8 pixels: a quarter of float32's bytes to send to a GPU,
        normalised there (train.py). Uses only `rng` (numpy), so it may run in a prefetch thread."""
        order = rng.permutation(self.indices)
        for k in range(0, len(order), batch_size):
            chunk = order[k : k + batch_size]
            yield sample_clips_uint8(self.store, chunk, rng, static=self.static), self.store.labels[chunk]

    def test_batches(
        self, batch_size: int = 64
    ) -> Callable[[np.random.Generator], Iterator[tuple[torch.Tensor, torch.Tensor]]]:
        def batches(rng: np.random.Generator) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
            for k in range(0, len(self.indices), batch_size):
                chunk = self.indices[k : k + batch_size]
                yield sample_clips(self.store, chunk, rng, static=self.static), self.store.labels[chunk]

        return batches
