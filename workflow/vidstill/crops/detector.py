"""The actor detector (§5.1 step 1: YOLO on a video's first frame), through ultralytics.

Real datasets use a local YOLO weights file the user names (`crops.detector.weights`, e.g. a COCO model and class
`person`); nothing is downloaded. The synthetic benchmark has no such model, so a small YOLO is trained from its model
yaml (random initialisation, offline) on frames of the training videos with the generator's ground-truth actor boxes,
and its mAP is measured on frames of the held-out test videos. Our trained weights are saved as safetensors with the
model yaml and class names in the metadata: loading them never unpickles anything.
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from vidstill.data.clips import read_frames, resize_frame
from vidstill.io import load_tensors, save_tensors

log = logging.getLogger("vidstill.crops")
ACTOR = "actor"  # the synthetic benchmark's one detector class


def _ultralytics():
    """ultralytics, set up for machines without network: no downloads, no telemetry, settings in a temp dir unless
    the user set YOLO_CONFIG_DIR."""
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("YOLO_CONFIG_DIR", str(Path(tempfile.gettempdir()) / "vidstill-ultralytics"))
    import ultralytics

    return ultralytics


def write_yolo_dataset(
    index: pd.DataFrame,
    boxes: pd.DataFrame,
    out: Path,
    frames: dict[str, int],
    seed: int,
    resize: tuple[int, int] | None = None,
) -> Path:
    """`frames["train"]` frames of the training videos (train) and `frames["val"]` of the test videos (val, held out:
    unseen groups), each from a randomly drawn video, with the ground-truth actor box in YOLO's txt format. Returns
    the data yaml."""
    import cv2

    rng = np.random.default_rng(seed)
    gt = boxes.set_index(["id", "frame"]).sort_index()
    for split, part in (("train", "train"), ("val", "test")):
        (out / "images" / split).mkdir(parents=True, exist_ok=True)
        (out / "labels" / split).mkdir(parents=True, exist_ok=True)
        rows = index[(index["split"] == part) & (index["error"] == "")].sort_values("id").reset_index(drop=True)
        if rows.empty:
            raise ValueError(f"no usable {part} video to train or measure the detector on")
        drawn = rng.choice(len(rows), size=frames[split], replace=frames[split] > len(rows))
        for i, count in zip(*np.unique(drawn, return_counts=True)):
            row = rows.iloc[int(i)]
            got, idx = read_frames(
                row["path"], lambda n: np.sort(rng.choice(n, size=min(int(count), n), replace=False))
            )
            for frame, f in zip(got, idx.tolist()):
                h0, w0 = frame.shape[:2]
                frame = resize_frame(frame, resize)
                h, w = frame.shape[:2]
                name = f"{row['id']}_{f:05d}"
                cv2.imwrite(str(out / "images" / split / f"{name}.png"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
                lines = []
                if (row["id"], f) in gt.index and bool(gt.loc[(row["id"], f), "visible"]):
                    b = gt.loc[(row["id"], f), ["x1", "y1", "x2", "y2"]].to_numpy(float) * [
                        w / w0,
                        h / h0,
                        w / w0,
                        h / h0,
                    ]
                    lines.append(
                        f"0 {(b[0] + b[2]) / 2 / w:.6f} {(b[1] + b[3]) / 2 / h:.6f} "
                        f"{(b[2] - b[0]) / w:.6f} {(b[3] - b[1]) / h:.6f}"
                    )
                (out / "labels" / split / f"{name}.txt").write_text("\n".join(lines) + ("\n" if lines else ""))
    data = out / "data.yaml"
    data.write_text(f"path: {out}\ntrain: images/train\nval: images/val\nnames:\n  0: {ACTOR}\n")
    log.info("detector data: %d train / %d held-out frames under %s", frames["train"], frames["val"], out)
    return data


def train_detector(
    data_yaml: Path, cfg: dict[str, Any], workdir: Path, seed: int, device: str, threads: int
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Train `cfg.model` (a model yaml: random initialisation, no weights download) and measure it on the held-out
    frames. Returns the state dict and the metadata (model yaml, class names, mAP50, mAP50-95, precision, recall)."""
    ul = _ultralytics()
    torch.set_num_threads(max(threads, 1))
    model = ul.YOLO(cfg["model"], task="detect")
    imgsz = int(cfg["imgsz"])
    model.train(
        data=str(data_yaml),
        imgsz=imgsz,
        epochs=int(cfg["epochs"]),
        batch=int(cfg["batch"]),
        device=device,
        workers=0,
        seed=seed,
        deterministic=True,
        pretrained=False,
        amp=False,
        plots=False,
        val=False,
        mosaic=float(cfg.get("mosaic", 0.0)),
        project=str(workdir),
        name="train",
        exist_ok=True,
        verbose=False,
    )
    metrics = model.val(
        data=str(data_yaml),
        split="val",
        imgsz=imgsz,
        batch=int(cfg["batch"]),
        device=device,
        workers=0,
        plots=False,
        project=str(workdir),
        name="val",
        exist_ok=True,
        verbose=False,
    )
    net = model.model
    meta = {
        "model": cfg["model"],
        "names": {int(k): v for k, v in net.names.items()},
        "imgsz": imgsz,
        "map50": float(metrics.box.map50),
        "map50_95": float(metrics.box.map),
        "precision": float(metrics.box.mp),
        "recall": float(metrics.box.mr),
        "held_out_frames": len(list((data_yaml.parent / "images" / "val").iterdir())),
    }
    return {k: v.float() for k, v in net.state_dict().items()}, meta


def save_detector(state: dict[str, torch.Tensor], meta: dict[str, Any], path: str | Path) -> None:
    save_tensors(state, path, metadata=meta)


@dataclass
class Detector:
    """Detections of one class: `detect(frames)` gives, per RGB frame, an (n, 5) array of x1, y1, x2, y2, confidence."""

    yolo: Any
    class_id: int
    conf: float
    imgsz: int | None
    device: str

    def detect(self, frames: list[np.ndarray]) -> list[np.ndarray]:
        if not frames:
            return []
        # ultralytics reads numpy images as BGR (OpenCV's order)
        results = self.yolo.predict(
            [f[..., ::-1] for f in frames],
            conf=self.conf,
            classes=[self.class_id],
            device=self.device,
            verbose=False,
            **({"imgsz": self.imgsz} if self.imgsz else {}),
        )
        out = []
        for r in results:
            b = r.boxes
            out.append(
                np.concatenate([b.xyxy.cpu().numpy(), b.conf.cpu().numpy()[:, None]], axis=1)
                if len(b)
                else np.zeros((0, 5))
            )
        return out


def load_detector(path: str | Path, cls: str, conf: float, device: str = "cpu", imgsz: int | None = None) -> Detector:
    """Our safetensors detector (model yaml + state dict) or a user's YOLO weights file (`.pt`, loaded by ultralytics).
    `cls` is a class name of the model; an unknown one is an error listing the model's classes."""
    ul = _ultralytics()
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"detector weights {path} do not exist (crops.detector.weights)")
    if path.suffix == ".safetensors":
        from ultralytics.nn.tasks import DetectionModel

        state, meta = load_tensors(path)
        names = {int(k): v for k, v in meta["names"].items()}
        net = DetectionModel(meta["model"], nc=len(names), verbose=False)
        net.load_state_dict(state)
        net.names = names
        yolo = ul.YOLO(meta["model"], task="detect")
        yolo.model = net
        imgsz = imgsz or int(meta["imgsz"])
    else:
        yolo = ul.YOLO(str(path))
        names = yolo.names
    ids = [k for k, v in names.items() if v == cls]
    if not ids:
        raise ValueError(
            f"{path}: class {cls!r} is not one of the detector's classes {sorted(names.values())} "
            "(crops.detector.class)"
        )
    return Detector(yolo, ids[0], conf, imgsz, device)


def first_frame_boxes(detections: np.ndarray, width: int, height: int) -> np.ndarray:
    """Detections clipped to the frame and with positive area (a detector may report boxes past the border)."""
    if len(detections) == 0:
        return detections.reshape(0, 5)
    d = detections.copy()
    d[:, [0, 2]] = d[:, [0, 2]].clip(0, width)
    d[:, [1, 3]] = d[:, [1, 3]].clip(0, height)
    keep = (d[:, 2] - d[:, 0] >= 1) & (d[:, 3] - d[:, 1] >= 1)
    return d[keep]
