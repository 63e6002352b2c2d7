"""Planning a clip: every per-frame quantity (actor position, angle, size, flashes, camera, distractors) without
pixels. Cheap: the statistical tests of the single-frame blindness use it directly; the boxes come from it too."""

from __future__ import annotations

import colorsys
import math
import zlib
from dataclasses import dataclass, field

import numpy as np

from vidstill.data.synthetic.classes import CLASS_SPECS, FLASH_LEN, FLASH_PERIOD, REF_SIZE, ROAM, SCENE
from vidstill.data.synthetic.realism import DEFAULT_REALISM, Realism

# ----------------------------------------------------------------------------------------------------------------
# Shapes: unit bounding radius; rendering and the ground-truth boxes use the same vertices.


def _normalised(points: list[tuple[float, float]]) -> np.ndarray:
    p = np.asarray(points, dtype=np.float64)
    p -= p.mean(axis=0)
    return p / np.sqrt((p**2).sum(axis=1)).max()


def _star(k: int = 5, inner: float = 0.45) -> list[tuple[float, float]]:
    return [
        (
            (1.0 if i % 2 == 0 else inner) * math.cos(math.pi * i / k - math.pi / 2),
            (1.0 if i % 2 == 0 else inner) * math.sin(math.pi * i / k - math.pi / 2),
        )
        for i in range(2 * k)
    ]


# The motion actor: an L, so that a turn and its sense are visible (no rotational symmetry).
_ELL = _normalised([(-0.9, -0.9), (-0.3, -0.9), (-0.3, 0.4), (0.9, 0.4), (0.9, 0.9), (-0.9, 0.9)])
_SQUARE = np.array([(-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0)]) / math.sqrt(2.0)
_CROSS = _normalised(
    [
        (-0.3, -1),
        (0.3, -1),
        (0.3, -0.3),
        (1, -0.3),
        (1, 0.3),
        (0.3, 0.3),
        (0.3, 1),
        (-0.3, 1),
        (-0.3, 0.3),
        (-1, 0.3),
        (-1, -0.3),
        (-0.3, -0.3),
    ]
)
_CIRCLE = np.array([(math.cos(a), math.sin(a)) for a in np.linspace(0, 2 * math.pi, 24, endpoint=False)])
SHAPES: dict[str, np.ndarray] = {
    "ell": _ELL, "square": _SQUARE, "checker": _SQUARE, "star": _normalised(_star()), "cross": _CROSS,
    "disc": _CIRCLE, "ring": _CIRCLE,
}  # fmt: skip
DYNAMICS = ("still", "wander", "slide", "pingpong", "rotate", "scale", "pulse", "flash")


def _vertices(shape: str, cx: np.ndarray, cy: np.ndarray, r: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """(n, V, 2) vertices; positive angles turn clockwise on screen (image y points down)."""
    base = SHAPES[shape]
    c, s = np.cos(angle)[:, None], np.sin(angle)[:, None]
    x = (base[None, :, 0] * c - base[None, :, 1] * s) * r[:, None] + cx[:, None]
    y = (base[None, :, 0] * s + base[None, :, 1] * c) * r[:, None] + cy[:, None]
    return np.stack([x, y], axis=-1)


# ----------------------------------------------------------------------------------------------------------------
# Planning: every per-frame quantity of a clip, without pixels (cheap; the statistical tests use it directly).


@dataclass
class Distractor:
    shape: str  # ellipse | rect
    colour: tuple[float, float, float]
    rx: float
    ry: float
    angle: float  # degrees
    x: np.ndarray  # world coordinates per frame
    y: np.ndarray


@dataclass
class ClipPlan:
    """Per-frame state of one video. Actor positions are in world coordinates; the screen shows world - camera."""

    id: str
    class_name: str
    group: int
    clip: int
    width: int
    height: int
    shape: str
    colour: tuple[float, float, float]  # BGR base colour
    t0: int  # the frame at which the action starts (state frozen before)
    rate: float  # the drawn speed / period of the class's dynamics
    cx: np.ndarray
    cy: np.ndarray
    r: np.ndarray
    angle: np.ndarray
    flash: np.ndarray  # int8: 0 base colour, 1 white, 2 black
    camera: np.ndarray  # (n, 2) int: camera offset (shake + pan)
    distractors: list[Distractor] = field(default_factory=list)
    gain: float = 1.0
    offset: float = 0.0
    noise_std: float = 0.0
    noise_seed: int = 0
    checker_invert: bool = False

    @property
    def n_frames(self) -> int:
        return int(self.cx.shape[0])

    @property
    def screen_xy(self) -> tuple[np.ndarray, np.ndarray]:
        return self.cx - self.camera[:, 0], self.cy - self.camera[:, 1]

    def boxes(self) -> tuple[np.ndarray, np.ndarray]:
        """(n, 4) x1 y1 x2 y2 clipped to the frame, and `visible` (some of the actor is in the frame)."""
        sx, sy = self.screen_xy
        v = _vertices(self.shape, sx, sy, self.r, self.angle)
        raw = np.concatenate([v.min(axis=1), v.max(axis=1)], axis=1)
        lim = np.array([self.width, self.height, self.width, self.height], dtype=np.float64)
        box = np.clip(raw, 0.0, lim)
        visible = (box[:, 2] > box[:, 0]) & (box[:, 3] > box[:, 1])
        return box, visible


def _rng(seed: int, class_name: str, group: int, clip: int, purpose: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(class_name.encode()), group, clip, purpose]))


def _hsv_bgr(h: float, s: float, v: float) -> tuple[float, float, float]:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, min(max(s, 0.0), 1.0), min(max(v, 0.0), 1.0))
    return (255.0 * b, 255.0 * g, 255.0 * r)


def _triangle(z: np.ndarray) -> np.ndarray:
    """Triangle wave of period 2 in [0, 1]; a uniform phase gives a uniform value (bounces keep the marginal)."""
    return 1.0 - np.abs(np.mod(z, 2.0) - 1.0)


def _ou_walk(
    rng: np.random.Generator, n: int, start: np.ndarray, speed: float, lo: np.ndarray, hi: np.ndarray
) -> np.ndarray:
    """A smooth random walk (Ornstein-Uhlenbeck velocity) reflected into [lo, hi]: motion with no class signal."""
    pos = np.empty((n, 2))
    p = start.astype(np.float64).copy()
    vel = rng.normal(0.0, speed, 2)
    kicks = rng.normal(0.0, speed * 0.45, (n, 2))
    for t in range(n):
        pos[t] = p
        vel = 0.9 * vel + kicks[t]
        p = p + vel
        for k in range(2):
            if p[k] < lo[k]:
                p[k], vel[k] = 2 * lo[k] - p[k], -vel[k]
            elif p[k] > hi[k]:
                p[k], vel[k] = 2 * hi[k] - p[k], -vel[k]
            p[k] = min(max(p[k], lo[k]), hi[k])
    return pos


def video_id(class_name: str, group: int, clip: int) -> str:
    return f"v_{class_name}_g{group:02d}_c{clip:02d}"


def plan_clip(
    class_name: str,
    group: int,
    clip: int,
    *,
    seed: int = 0,
    min_frames: int = 32,
    max_frames: int = 96,
    width: int = 64,
    height: int = 48,
    realism: Realism = DEFAULT_REALISM,
) -> ClipPlan:
    """Draw everything about one video (the generator renders exactly this plan)."""
    spec = CLASS_SPECS[class_name]
    grng = _rng(seed, class_name, group, 0, 1)  # shared by the clips of a group: actor colour, shake strength
    rng = _rng(seed, class_name, group, clip, 2)
    scale = height / REF_SIZE
    n = int(rng.integers(min_frames, max_frames + 1))
    t = np.arange(n, dtype=np.float64)
    t0 = int(rng.integers(0, int(realism.start_fraction * n) + 1))
    u = np.maximum(t - t0, 0.0)  # action time: the state is frozen before the action starts

    # Appearance: a group shares its scene (background, shake) like UCF101's groups. An appearance class's actor
    # colour is shared by the group too; a motion actor's colour is drawn per clip from the whole range, because a
    # per-group colour drawn from the whole range is a shortcut a small student memorises instead of the motion
    # (7 training groups per class: colour -> class fits the training set and fails on the test groups).
    crng = grng if spec.hue is not None else rng
    hue = crng.uniform(*spec.hue) if spec.hue is not None else crng.uniform(0.0, 1.0)
    sat, val = crng.uniform(*spec.saturation), crng.uniform(*spec.value)
    colour = _hsv_bgr(hue + rng.normal(0, 0.01), sat + rng.normal(0, 0.03), val + rng.normal(0, 0.03))

    # The stationary draw shared by every class: centre uniform in the roam box, size and angle uniform.
    half = ROAM * height
    lo = np.array([width / 2 - half, height / 2 - half])
    hi = np.array([width / 2 + half, height / 2 + half])
    pos0 = rng.uniform(lo, hi)
    rlo, rhi = spec.size[0] * height, spec.size[1] * height
    r0 = rng.uniform(rlo, rhi)
    a0 = rng.uniform(0.0, 2 * math.pi)
    rate = float(rng.uniform(*spec.speed)) if spec.speed[1] > 0 else 0.0
    sense = spec.sense if spec.sense != 0 else int(rng.choice([-1, 1]))
    cx, cy = np.full(n, pos0[0]), np.full(n, pos0[1])
    r, angle = np.full(n, r0), np.full(n, a0)

    d = spec.dynamics
    if d == "slide":
        # sense 0: the horizontal component's sign is drawn per video, so the class is its own mirror image
        mirror = np.array([sense if spec.sense == 0 else 1.0, 1.0])
        step = np.asarray(spec.direction, dtype=np.float64) * mirror * rate * scale
        span = hi - lo
        cx = lo[0] + np.mod(pos0[0] - lo[0] + step[0] * u, span[0])
        cy = lo[1] + np.mod(pos0[1] - lo[1] + step[1] * u, span[1])
    elif d == "pingpong":
        axis = 0 if abs(spec.direction[0]) >= abs(spec.direction[1]) else 1
        span = hi[axis] - lo[axis]
        phase = rng.uniform(0.0, 2.0)
        coord = lo[axis] + span * _triangle(phase + rate * scale * u / span)
        cx, cy = (coord, cy) if axis == 0 else (cx, coord)
    elif d == "rotate":
        angle = a0 + sense * math.radians(rate) * u
    elif d == "scale":
        r = rlo + np.mod(r0 - rlo + sense * (rhi - rlo) * u / rate, rhi - rlo)
    elif d == "pulse":
        r = rlo + (rhi - rlo) * _triangle(rng.uniform(0.0, 2.0) + 2.0 * u / rate)
    elif d == "wander":
        walk = _ou_walk(rng, n, pos0, rate * scale, lo, hi)
        cx, cy = walk[:, 0], walk[:, 1]
        angle = a0 + math.radians(rng.uniform(-3.0, 3.0)) * t
    elif d not in ("still", "flash"):
        raise ValueError(f"class {class_name!r}: unknown dynamics {d!r}")
    angle = np.mod(angle, 2 * math.pi)

    # Flashes: cycles of FLASH_PERIOD frames, the first 2*FLASH_LEN of which flash one colour then the other.
    flash = np.zeros(n, dtype=np.int8)
    if spec.blinks:
        period = int(rng.integers(FLASH_PERIOD[0], FLASH_PERIOD[1] + 1))
        phase_f = int(rng.integers(0, period))
        pos_in = phase_f + u.astype(np.int64)
        cycle, within = pos_in // period, pos_in % period
        if d == "flash":
            first_white = np.full(cycle.max() + 1, sense > 0)
        else:  # the nuisance: a random order per cycle, so no single frame and no order carries a class signal
            first_white = rng.random(cycle.max() + 1) < 0.5
        fw = first_white[cycle]
        in_first, in_second = within < FLASH_LEN, (within >= FLASH_LEN) & (within < 2 * FLASH_LEN)
        flash[in_first] = np.where(fw[in_first], 1, 2)
        flash[in_second] = np.where(fw[in_second], 2, 1)

    # Camera: per-group shake strength, per-frame integer shake; some videos pan so the actor may leave the frame.
    scene = _rng(seed, SCENE, group, 0, 4)  # the shake strength belongs to the scene, like the background
    shake = scene.uniform(0.0, realism.jitter_px + 0.5) if realism.jitter_px > 0 else 0.0
    camera = np.rint(rng.uniform(-shake, shake, (n, 2))).astype(np.int64)
    camera = np.clip(camera, -math.ceil(realism.jitter_px), math.ceil(realism.jitter_px))
    if rng.random() < realism.exit_prob:
        speed = rng.uniform(0.5, 1.0) * scale
        total = rng.uniform(0.4, 0.8) * width
        start = rng.integers(0, max(1, n // 2))
        pan = np.minimum(speed * np.maximum(t - start, 0.0), total) * rng.choice([-1.0, 1.0])
        camera[:, 0] += np.rint(pan).astype(np.int64)

    distractors = []
    n_d = int(rng.integers(realism.distractors[0], realism.distractors[1] + 1))
    for _ in range(n_d):
        dr = rng.uniform(0.05, 0.11) * height
        walk = _ou_walk(
            rng,
            n,
            rng.uniform([0, 0], [width, height]),
            rng.uniform(0.3, 1.2) * scale,
            np.array([0.0, 0.0]),
            np.array([float(width), float(height)]),
        )
        distractors.append(
            Distractor(
                shape=str(rng.choice(["ellipse", "rect"])),
                colour=_hsv_bgr(rng.uniform(0, 1), rng.uniform(0.0, 0.35), rng.uniform(0.2, 0.9)),
                rx=dr,
                ry=dr * rng.uniform(0.4, 1.0),
                angle=rng.uniform(0, 180),
                x=walk[:, 0],
                y=walk[:, 1],
            )
        )

    ill = realism.illumination
    return ClipPlan(
        id=video_id(class_name, group, clip),
        class_name=class_name,
        group=group,
        clip=clip,
        width=width,
        height=height,
        shape=spec.shape,
        colour=colour,
        t0=t0,
        rate=rate,
        cx=cx,
        cy=cy,
        r=r,
        angle=angle,
        flash=flash,
        camera=camera,
        distractors=distractors,
        gain=float(1.0 + rng.uniform(-ill, ill)),
        offset=float(rng.uniform(-100 * ill, 100 * ill)),
        noise_std=realism.noise_std,
        noise_seed=int(rng.integers(0, 2**63 - 1)),
        checker_invert=bool(rng.random() < 0.5),
    )
