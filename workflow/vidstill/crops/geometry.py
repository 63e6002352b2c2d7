"""Boxes and crop windows. Boxes are (x1, y1, x2, y2) floats in frame pixels; windows are integer boxes inside the
frame."""

from __future__ import annotations

import cv2
import numpy as np


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise IoU of two (n, 4) box arrays; 0 where both are empty."""
    a, b = np.atleast_2d(np.asarray(a, float)), np.atleast_2d(np.asarray(b, float))
    iw = np.clip(np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0]), 0, None)
    ih = np.clip(np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1]), 0, None)
    inter = iw * ih
    area = lambda x: np.clip(x[:, 2] - x[:, 0], 0, None) * np.clip(x[:, 3] - x[:, 1], 0, None)
    union = area(a) + area(b) - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def leaves_frame(box: np.ndarray, width: int, height: int) -> bool:
    """Whether any part of the box lies outside the frame (the tracker follows a target past the border)."""
    x1, y1, x2, y2 = box
    return bool(x1 < 0 or y1 < 0 or x2 > width or y2 > height)


def cover_window(box: np.ndarray, aspect: float, width: int, height: int) -> tuple[np.ndarray, bool]:
    """The smallest window of aspect `aspect` (w / h) that covers the box, centred on it (§5.1 step 2: w × w/aspect or
    h·aspect × h, whichever covers), then moved inside the frame. A window larger than the frame shrinks to the largest
    one of that aspect that fits. Returns the integer window and whether it had to move or shrink (the box was cut by
    the frame border, or the window did not fit)."""
    x1, y1, x2, y2 = (float(v) for v in box)
    w, h = max(x2 - x1, 1.0), max(y2 - y1, 1.0)
    ww = max(w, h * aspect)
    wh = ww / aspect
    scale = min(1.0, width / ww, height / wh)
    ww, wh = max(round(ww * scale), 1), max(round(wh * scale), 1)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    left, top = round(cx - ww / 2), round(cy - wh / 2)
    nl, nt = min(max(left, 0), width - ww), min(max(top, 0), height - wh)
    adjusted = scale < 1.0 or nl != left or nt != top
    return np.array([nl, nt, nl + ww, nt + wh], dtype=np.int64), adjusted


def crop_resize(frame: np.ndarray, window: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The window's pixels scaled linearly to `size` (width, height)."""
    x1, y1, x2, y2 = (int(v) for v in window)
    return cv2.resize(frame[y1:y2, x1:x2], size, interpolation=cv2.INTER_LINEAR)
