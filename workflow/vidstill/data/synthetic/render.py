"""Rendering: a group's background scene and the frames of a planned clip (BGR uint8)."""

from __future__ import annotations

import math

import cv2
import numpy as np

from vidstill.data.synthetic.classes import BLACK, SCENE, WHITE
from vidstill.data.synthetic.plan import ClipPlan, Distractor, _hsv_bgr, _rng, _vertices
from vidstill.data.synthetic.realism import DEFAULT_REALISM, Realism


def _margins(width: int, height: int, realism: Realism) -> tuple[int, int]:
    j = math.ceil(realism.jitter_px) + 2
    return j + math.ceil(0.8 * width) + 2, j


def group_background(
    class_name: str, group: int, *, seed: int, width: int, height: int, realism: Realism = DEFAULT_REALISM
) -> np.ndarray:
    """The cluttered scene a group shares (BGR uint8, larger than the frame by the camera's reach).

    Low-saturation colours keep the saturated actors visible; the clutter (blobs, bars, rings, stripes) gives edges
    and textures that a model must learn to ignore. The scene depends on the group number only: group gNN of every
    class is filmed in the same scene. A scene drawn per (class, group) would identify the class in every training
    video (the student reached 99% train / chance test accuracy by memorising 7 backgrounds per class), so the scene
    must carry no class signal. Groups never straddle train/test, so test scenes are unseen.
    """
    del class_name  # kept in the signature: callers name the clip's class; the scene must not depend on it
    mx, my = _margins(width, height, realism)
    h, w = height + 2 * my, width + 2 * mx
    rng = _rng(seed, SCENE, group, 0, 3)
    base = np.array(_hsv_bgr(rng.uniform(0, 1), rng.uniform(0.05, 0.3), rng.uniform(0.35, 0.65)))
    img = np.empty((h, w, 3), np.float32)
    img[:] = base
    c = realism.clutter
    if c > 0:
        low = rng.normal(0.0, 1.0, (max(2, h // 12), max(2, w // 12), 3)).astype(np.float32)
        img += 28.0 * c * cv2.resize(low, (w, h), interpolation=cv2.INTER_CUBIC)
        lam, th = rng.uniform(3.0, 9.0), rng.uniform(0, math.pi)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        img += (9.0 * c * np.sin(2 * math.pi * (xx * math.cos(th) + yy * math.sin(th)) / lam))[..., None]
        for _ in range(int(round(c * 0.006 * h * w))):
            col = _hsv_bgr(rng.uniform(0, 1), rng.uniform(0.0, 0.35), rng.uniform(0.2, 0.85))
            x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
            size = int(rng.integers(2, max(3, height // 5)))
            kind = rng.integers(0, 3)
            if kind == 0:
                cv2.rectangle(img, (x, y), (x + size, y + int(rng.integers(1, size + 1))), col, -1)
            elif kind == 1:
                x2, y2 = x + int(rng.integers(-3 * size, 3 * size)), y + int(rng.integers(-3 * size, 3 * size))
                cv2.line(img, (x, y), (x2, y2), col, int(rng.integers(1, 3)), cv2.LINE_AA)
            else:
                cv2.circle(img, (x, y), size, col, int(rng.integers(1, 3)), cv2.LINE_AA)
    return np.clip(img, 0, 255).astype(np.uint8)


_SHIFT = 4  # sub-pixel drawing: coordinates in 1/16 px
_ONE = 1 << _SHIFT


def _fill(frame: np.ndarray, pts: np.ndarray, colour: tuple[float, float, float]) -> None:
    cv2.fillPoly(frame, [np.rint(pts * _ONE).astype(np.int32)], colour, cv2.LINE_AA, _SHIFT)


def _draw_actor(frame: np.ndarray, plan: ClipPlan, t: int, x: float, y: float) -> None:
    r, a = float(plan.r[t]), float(plan.angle[t])
    colour = plan.colour if plan.flash[t] == 0 else (WHITE if plan.flash[t] == 1 else BLACK)
    if plan.shape == "checker":  # samples pixel centres at i + 0.5 itself
        _draw_checker(frame, x, y, r, a, plan.checker_invert)
        return
    # Boxes use continuous coordinates (pixel i covers [i, i+1]); OpenCV puts pixel i's centre at i: shift by half a
    # pixel so the drawn actor sits exactly inside its ground-truth box.
    x, y = x - 0.5, y - 0.5
    if plan.shape == "disc":
        cv2.circle(
            frame, (int(round(x * _ONE)), int(round(y * _ONE))), int(round(r * _ONE)), colour, -1, cv2.LINE_AA, _SHIFT
        )
    elif plan.shape == "ring":
        th = max(1, int(round(0.35 * r)))
        cv2.circle(
            frame,
            (int(round(x * _ONE)), int(round(y * _ONE))),
            int(round((r - th / 2) * _ONE)),
            colour,
            th,
            cv2.LINE_AA,
            _SHIFT,
        )
    else:
        pts = _vertices(plan.shape, np.array([x]), np.array([y]), np.array([r]), np.array([a]))[0]
        _fill(frame, pts, colour)


def _draw_checker(frame: np.ndarray, x: float, y: float, r: float, a: float, invert: bool) -> None:
    """A 4x4 checkerboard square turning with the actor (texture, not colour, identifies the class)."""
    h, w = frame.shape[:2]
    x0, x1 = max(0, int(x - r) - 1), min(w, int(x + r) + 2)
    y0, y1 = max(0, int(y - r) - 1), min(h, int(y + r) + 2)
    if x0 >= x1 or y0 >= y1:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float64)
    dx, dy = xx + 0.5 - x, yy + 0.5 - y
    c, s = math.cos(a), math.sin(a)
    lu, lv = (dx * c + dy * s) / r, (-dx * s + dy * c) / r  # inverse rotation into the unit square frame
    side = 1.0 / math.sqrt(2.0)
    inside = (np.abs(lu) <= side) & (np.abs(lv) <= side)
    cells = (np.floor((lu + side) / (side / 2)) + np.floor((lv + side) / (side / 2))).astype(np.int64) % 2
    val = np.where(cells == (1 if invert else 0), 235, 20).astype(np.uint8)
    patch = frame[y0:y1, x0:x1]
    patch[inside] = val[inside][:, None]


def _draw_distractor(frame: np.ndarray, dis: Distractor, x: float, y: float) -> None:
    if dis.shape == "ellipse":
        cv2.ellipse(
            frame,
            (int(round(x * _ONE)), int(round(y * _ONE))),
            (int(round(dis.rx * _ONE)), int(round(dis.ry * _ONE))),
            dis.angle,
            0,
            360,
            dis.colour,
            -1,
            cv2.LINE_AA,
            _SHIFT,
        )
    else:
        c, s = math.cos(math.radians(dis.angle)), math.sin(math.radians(dis.angle))
        corners = np.array([(-dis.rx, -dis.ry), (dis.rx, -dis.ry), (dis.rx, dis.ry), (-dis.rx, dis.ry)])
        pts = np.stack([corners[:, 0] * c - corners[:, 1] * s + x, corners[:, 0] * s + corners[:, 1] * c + y], 1)
        _fill(frame, pts, dis.colour)


def render_clip(
    plan: ClipPlan, background: np.ndarray | None = None, *, seed: int = 0, realism: Realism = DEFAULT_REALISM
) -> np.ndarray:
    """(T, H, W, 3) BGR uint8 frames of a plan. Drawing reads only the per-frame state, never the class."""
    if background is None:
        background = group_background(
            plan.class_name, plan.group, seed=seed, width=plan.width, height=plan.height, realism=realism
        )
    h, w = plan.height, plan.width
    my = (background.shape[0] - h) // 2
    mx = (background.shape[1] - w) // 2
    noise_rng = np.random.default_rng(plan.noise_seed)
    out = np.empty((plan.n_frames, h, w, 3), np.uint8)
    sx, sy = plan.screen_xy
    for t in range(plan.n_frames):
        ox, oy = int(plan.camera[t, 0]), int(plan.camera[t, 1])
        frame = background[my + oy : my + oy + h, mx + ox : mx + ox + w].copy()
        for dis in plan.distractors:  # behind the actor: they never hide the labelled box
            _draw_distractor(frame, dis, float(dis.x[t] - ox), float(dis.y[t] - oy))
        _draw_actor(frame, plan, t, float(sx[t]), float(sy[t]))
        if plan.noise_std > 0 or plan.gain != 1.0 or plan.offset != 0.0:
            f = frame.astype(np.float32) * plan.gain + plan.offset
            if plan.noise_std > 0:
                f += noise_rng.standard_normal(f.shape, dtype=np.float32) * plan.noise_std
            frame = np.clip(f, 0, 255).astype(np.uint8)
        out[t] = frame
    return out
