"""The embedded synthetic video benchmark: the default dataset of the pipeline, a stand-in for UCF101.

Video distillation papers are about *time*: whether a distilled set keeps the motion that separates classes, or only
the appearance a single frame already shows. A benchmark for them therefore needs classes whose single frames say
everything (appearance classes) and classes whose single frames say nothing (motion classes), so that
acc(full clip) - acc(single frame) spreads from about zero to large. This module generates such a dataset as real
MJPG `.avi` files in the official UCF101 on-disk layout, so the UCF101 indexer, the decoder and every later stage run
on it unchanged, on a laptop CPU, in seconds.

How the single-frame blindness of the motion classes is guaranteed (the property tests/test_synthetic.py checks):
every motion class draws its actor from one shared appearance distribution, and each class animates one attribute
(position, angle or size) with a *stationary* process: wrap-around slides and sawtooth size cycles from a uniform
start, triangle waves from a uniform phase, rotations from a uniform angle. The state of any one frame is then
distributed exactly like the static draw of every other class.

Why the default motion classes are fast translations (generator version 4, measured with benchmarks/motion.py): the
default student (a two-block ConvNet3D on 24x24 crops, 8 frames at stride 4) learnt slides at 1.8-2.4 px/frame
(7-10 px per sampled step at 48 px of height), slow slides less well (29-72 %) and in-place changes (turning,
pulsing size) hardly (2-14 %); and every 8-frame window of a translation shows its direction, where a size sawtooth restarts inside the
window and a flash cycle may show one phase only. The defaults are therefore six directions of translation, all
flip-invariant (vertical, a per-video left/right sense, or none), on a large high-contrast actor.

Everything is drawn from `numpy.random.SeedSequence([seed, crc32(class), group, clip, purpose])`: a video depends only
on the seed and its own (class, group, clip), so adding a class or a group leaves the other videos byte-identical.

Atomicity: the dataset is written into a sibling directory `<root>.tmp-XXXX`, the `DONE` marker (a JSON of the
arguments) is written last inside it, and the directory is renamed onto `<root>` only then. An interrupted run leaves
`<root>.tmp-*` behind and no `<root>` (or the previous complete one); a directory without `DONE` is incomplete.
See resources/synthetic_benchmark.md for the class catalogue and the knobs.
"""

from __future__ import annotations

import colorsys
import json
import math
import os
import shutil
import tempfile
import zlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

GENERATOR_VERSION = 4  # 3: actor drawn half a pixel up-left, onto its box; 4: learnable motion classes (issue 25)
KINDS = ("appearance", "motion", "mixed")

# Geometry is defined for a 48 px tall frame and scaled by height / 48, so other sizes keep the same look.
REF_SIZE = 48.0
# The shared motion actor (version 4): large and bright against the grey scenes, so that its displacement is salient
# to a small student (version 3: radius 0.10-0.20, saturation 0.6-1, value 0.7-1, and a white/black flash nuisance).
MOTION_SIZE = (0.18, 0.30)  # bounding radius of the motion actor, as a fraction of the frame height
MOTION_SATURATION = (0.7, 1.0)
MOTION_VALUE = (0.85, 1.0)
SLIDE_SPEED = (1.8, 2.4)  # px/frame per 48 px of height: 7-10 px per sampled step at stride 4, a third of the roam span
FAST_SPEED = (2.8, 3.2)
SPIN_SPEED = (8.0, 12.0)
ROAM = 0.30  # the actor centre stays within +-ROAM*height of the frame centre: inside the central height^2 square
FLASH_PERIOD = (18, 28)  # frames per flash cycle of an actor with `blinks` (no catalogue class blinks since version 4)
SCENE = "scene"  # the rng key of what a group shares across classes (background, camera shake)
FLASH_LEN = 4  # frames per flash: equal to the student's temporal stride, so every flash is sampled exactly once
WHITE = (250.0, 250.0, 250.0)
BLACK = (12.0, 12.0, 12.0)


@dataclass(frozen=True)
class ClassSpec:
    """One class of the benchmark: what the actor looks like and how it moves.

    `speed` is the class's rate range; its unit depends on `dynamics`: px/frame (per 48 px of height) for `slide`,
    `pingpong` and `wander`, degrees/frame for `rotate`, cycle length in frames for `scale`. `sense` is +1/-1 for
    rotate (clockwise on screen), scale (grow) and flash (white first), 0 for a random sense per video (for slide:
    a random sign of the horizontal component, so the class is its own mirror image under horizontal flips).
    """

    name: str
    kind: str
    description: str
    shape: str = "ell"  # ell | disc | square | star | ring | cross | checker
    dynamics: str = "still"  # still | wander | slide | pingpong | rotate | scale | pulse | flash
    direction: tuple[float, float] = (0.0, 0.0)  # slide direction / ping-pong axis, image coordinates (y down)
    sense: int = 1
    speed: tuple[float, float] = (0.0, 0.0)
    hue: tuple[float, float] | None = None  # None: any hue (the shared motion-actor distribution)
    saturation: tuple[float, float] = MOTION_SATURATION
    value: tuple[float, float] = MOTION_VALUE
    size: tuple[float, float] = MOTION_SIZE
    blinks: bool = False  # white/black flashes (the former flash-order classes' nuisance; off since version 4)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"ClassSpec {self.name!r}: kind must be one of {KINDS}, got {self.kind!r}")
        if not self.name.isalnum() or not self.name[:1].isupper():
            raise ValueError(f"ClassSpec name must be CamelCase letters/digits, got {self.name!r}")


def _motion(name: str, description: str, **kw: object) -> ClassSpec:
    return ClassSpec(name, "motion", description, **kw)  # type: ignore[arg-type]


def _appearance(name: str, description: str, **kw: object) -> ClassSpec:
    kw.setdefault("dynamics", "wander")
    kw.setdefault("speed", (0.2, 0.8))
    kw.setdefault("size", (0.12, 0.20))
    kw.setdefault("saturation", (0.75, 1.0))
    kw.setdefault("value", (0.75, 1.0))
    kw.setdefault("blinks", False)
    return ClassSpec(name, "appearance", description, **kw)  # type: ignore[arg-type]


_SPECS = (
    # Appearance: shape, colour or texture identify the class in any frame; the motion is a random walk.
    _appearance("RedDisc", "a red disc wandering at random", shape="disc", hue=(-0.03, 0.03)),
    _appearance("GreenSquare", "a green square wandering and turning at random", shape="square", hue=(0.30, 0.36)),
    _appearance("YellowStar", "a yellow five-pointed star wandering at random", shape="star", hue=(0.13, 0.17)),
    _appearance("CheckerBox", "a black-and-white checkered square wandering at random", shape="checker"),
    _appearance("BlueRing", "a blue ring wandering at random", shape="ring", hue=(0.58, 0.64)),
    _appearance("PurpleCross", "a purple plus sign wandering at random", shape="cross", hue=(0.78, 0.84)),
    # Motion: the same L-shaped actor for all; only one attribute moves, by a stationary process.
    _motion("SlideLeft", "slides left at 1.8-2.4 px/frame, wrapping around", dynamics="slide",
            direction=(-1.0, 0.0), speed=SLIDE_SPEED),
    _motion("SlideRight", "slides right at 1.8-2.4 px/frame, wrapping around", dynamics="slide",
            direction=(1.0, 0.0), speed=SLIDE_SPEED),
    _motion("SlideRightFast", "slides right at 2.8-3.2 px/frame, wrapping around (speed pair of SlideRight)",
            dynamics="slide", direction=(1.0, 0.0), speed=FAST_SPEED),
    _motion("PingPong", "bounces left-right between two walls at 1.2-1.8 px/frame (bounce vs slide)",
            dynamics="pingpong", direction=(1.0, 0.0), speed=(1.2, 1.8)),
    _motion("RotateCW", "turns clockwise in place at 8-12 deg/frame", dynamics="rotate", sense=1, speed=SPIN_SPEED),
    _motion("RotateCCW", "turns counter-clockwise in place at 8-12 deg/frame", dynamics="rotate", sense=-1,
            speed=SPIN_SPEED),
    _motion("SlideSideways", "slides left or right (drawn per video) at 1.8-2.4 px/frame, wrapping around "
            "(flip-invariant)", dynamics="slide", direction=(1.0, 0.0), sense=0, speed=SLIDE_SPEED),
    _motion("RiseDiagonal", "slides up and to the left or right (drawn per video) at 1.8-2.4 px/frame, wrapping "
            "around (flip-invariant)", dynamics="slide", direction=(0.7071, -0.7071), sense=0, speed=SLIDE_SPEED),
    _motion("FallDiagonal", "slides down and to the left or right (drawn per video) at 1.8-2.4 px/frame, wrapping "
            "around (flip-invariant)", dynamics="slide", direction=(0.7071, 0.7071), sense=0, speed=SLIDE_SPEED),
    _motion("Spin", "turns in place at 8-12 deg/frame, either way (flip-invariant)", dynamics="rotate", sense=0,
            speed=SPIN_SPEED),
    _motion("Pulse", "grows and shrinks in place between the smallest and largest size, cycles of 12-20 frames",
            dynamics="pulse", speed=(12.0, 20.0)),
    _motion("Still", "stays where it is: no motion at all (only the camera shakes)", dynamics="still"),
    _motion("Grow", "grows steadily in place and restarts small, cycles of 16-24 frames", dynamics="scale", sense=1,
            speed=(16.0, 24.0)),
    _motion("Shrink", "shrinks steadily in place and restarts large, cycles of 16-24 frames", dynamics="scale",
            sense=-1, speed=(16.0, 24.0)),
    _motion("SlideUp", "slides up at 1.8-2.4 px/frame, wrapping around", dynamics="slide", direction=(0.0, -1.0),
            speed=SLIDE_SPEED),
    _motion("SlideDownFast", "slides down at 2.8-3.2 px/frame, wrapping around (speed pair of SlideDown)",
            dynamics="slide", direction=(0.0, 1.0), speed=FAST_SPEED),
    _motion("SlideDown", "slides down at 1.8-2.4 px/frame, wrapping around", dynamics="slide", direction=(0.0, 1.0),
            speed=SLIDE_SPEED),
    # Mixed: a motion class whose actor is also partly recognisable (darker / smaller than the shared distribution).
    ClassSpec("DimRise", "mixed", "a darker actor sliding up at 0.4-0.8 px/frame (colour partly gives it away)",
              dynamics="slide", direction=(0.0, -1.0), speed=(0.4, 0.8), value=(0.45, 0.8)),
    ClassSpec("TinySpin", "mixed", "a small actor turning either way at 6-10 deg/frame (size partly gives it away)",
              dynamics="rotate", sense=0, speed=(6.0, 10.0), size=(0.10, 0.14)),
)

CLASS_SPECS: dict[str, ClassSpec] = {s.name: s for s in _SPECS}
DEFAULT_CLASSES: tuple[str, ...] = (
    "BlueRing", "CheckerBox", "GreenSquare", "PurpleCross", "RedDisc", "YellowStar",
    "FallDiagonal", "RiseDiagonal", "SlideDown", "SlideSideways", "SlideUp", "Still",
)  # fmt: skip


@dataclass(frozen=True)
class Realism:
    """The nuisance knobs; each is class-independent, so it makes the task harder without adding a class signal."""

    clutter: float = 0.3  # strength of the per-group background texture (0: flat grey)
    distractors: tuple[int, int] = (0, 1)  # min/max randomly moving non-actor objects per video
    jitter_px: float = 1.0  # max camera shake per frame (whole-frame integer shift)
    noise_std: float = 3.0  # Gaussian pixel noise (uint8 units)
    illumination: float = 0.12  # per-video gain 1 +- x and offset +- 100 x
    exit_prob: float = 0.1  # fraction of videos where the camera pans and the actor may leave the frame
    start_fraction: float = 0.15  # the action starts at a random frame in [0, start_fraction * length]
    quality: int = 90  # MJPG quality

    @classmethod
    def clean(cls) -> Realism:
        """No nuisance at all: flat background, no distractors, no shake, no noise, no pan (debug renders, tests)."""
        return cls(clutter=0.0, distractors=(0, 0), jitter_px=0.0, noise_std=0.0, illumination=0.0, exit_prob=0.0,
                   start_fraction=0.0, quality=95)

    def validate(self) -> None:
        for key in ("clutter", "jitter_px", "noise_std", "illumination", "exit_prob", "start_fraction"):
            if not getattr(self, key) >= 0:
                raise ValueError(f"realism.{key} must be >= 0, got {getattr(self, key)!r}")
        if self.exit_prob > 1 or self.start_fraction > 1 or self.illumination >= 1:
            raise ValueError(f"realism.exit_prob/start_fraction must be <= 1 and illumination < 1, got {self}")
        lo, hi = self.distractors
        if not 0 <= lo <= hi:
            raise ValueError(f"realism.distractors must be (min, max) with 0 <= min <= max, got {self.distractors!r}")
        if not 1 <= self.quality <= 100:
            raise ValueError(f"realism.quality must be in 1..100, got {self.quality!r}")


DEFAULT_REALISM = Realism()


def realism_from_config(cfg: dict | None) -> Realism:
    """The config's `generator.realism` mapping over the defaults (lists become the tuples Realism holds)."""
    cfg = dict(cfg or {})
    if "distractors" in cfg:
        cfg["distractors"] = tuple(cfg["distractors"])
    unknown = set(cfg) - set(Realism.__dataclass_fields__)
    if unknown:
        raise ValueError(f"generator.realism: unknown keys {sorted(unknown)}")
    realism = Realism(**{**asdict(DEFAULT_REALISM), **cfg})
    realism.validate()
    return realism

# ----------------------------------------------------------------------------------------------------------------
# Shapes: unit bounding radius; rendering and the ground-truth boxes use the same vertices.


def _normalised(points: list[tuple[float, float]]) -> np.ndarray:
    p = np.asarray(points, dtype=np.float64)
    p -= p.mean(axis=0)
    return p / np.sqrt((p**2).sum(axis=1)).max()


def _star(k: int = 5, inner: float = 0.45) -> list[tuple[float, float]]:
    return [((1.0 if i % 2 == 0 else inner) * math.cos(math.pi * i / k - math.pi / 2),
             (1.0 if i % 2 == 0 else inner) * math.sin(math.pi * i / k - math.pi / 2)) for i in range(2 * k)]


# The motion actor: an L, so that a turn and its sense are visible (no rotational symmetry).
_ELL = _normalised([(-0.9, -0.9), (-0.3, -0.9), (-0.3, 0.4), (0.9, 0.4), (0.9, 0.9), (-0.9, 0.9)])
_SQUARE = np.array([(-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0)]) / math.sqrt(2.0)
_CROSS = _normalised([(-0.3, -1), (0.3, -1), (0.3, -0.3), (1, -0.3), (1, 0.3), (0.3, 0.3), (0.3, 1), (-0.3, 1),
                      (-0.3, 0.3), (-1, 0.3), (-1, -0.3), (-0.3, -0.3)])
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


def _ou_walk(rng: np.random.Generator, n: int, start: np.ndarray, speed: float, lo: np.ndarray, hi: np.ndarray
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
        walk = _ou_walk(rng, n, rng.uniform([0, 0], [width, height]), rng.uniform(0.3, 1.2) * scale,
                        np.array([0.0, 0.0]), np.array([float(width), float(height)]))
        distractors.append(Distractor(
            shape=str(rng.choice(["ellipse", "rect"])),
            colour=_hsv_bgr(rng.uniform(0, 1), rng.uniform(0.0, 0.35), rng.uniform(0.2, 0.9)),
            rx=dr, ry=dr * rng.uniform(0.4, 1.0), angle=rng.uniform(0, 180), x=walk[:, 0], y=walk[:, 1]))

    ill = realism.illumination
    return ClipPlan(
        id=video_id(class_name, group, clip), class_name=class_name, group=group, clip=clip, width=width,
        height=height, shape=spec.shape, colour=colour, t0=t0, rate=rate, cx=cx, cy=cy, r=r, angle=angle,
        flash=flash, camera=camera, distractors=distractors, gain=float(1.0 + rng.uniform(-ill, ill)),
        offset=float(rng.uniform(-100 * ill, 100 * ill)), noise_std=realism.noise_std,
        noise_seed=int(rng.integers(0, 2**63 - 1)), checker_invert=bool(rng.random() < 0.5),
    )


# ----------------------------------------------------------------------------------------------------------------
# Rendering.


def _margins(width: int, height: int, realism: Realism) -> tuple[int, int]:
    j = math.ceil(realism.jitter_px) + 2
    return j + math.ceil(0.8 * width) + 2, j


def group_background(class_name: str, group: int, *, seed: int, width: int, height: int,
                     realism: Realism = DEFAULT_REALISM) -> np.ndarray:
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
        cv2.circle(frame, (int(round(x * _ONE)), int(round(y * _ONE))), int(round(r * _ONE)), colour, -1,
                   cv2.LINE_AA, _SHIFT)
    elif plan.shape == "ring":
        th = max(1, int(round(0.35 * r)))
        cv2.circle(frame, (int(round(x * _ONE)), int(round(y * _ONE))), int(round((r - th / 2) * _ONE)), colour, th,
                   cv2.LINE_AA, _SHIFT)
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
        cv2.ellipse(frame, (int(round(x * _ONE)), int(round(y * _ONE))),
                    (int(round(dis.rx * _ONE)), int(round(dis.ry * _ONE))), dis.angle, 0, 360, dis.colour, -1,
                    cv2.LINE_AA, _SHIFT)
    else:
        c, s = math.cos(math.radians(dis.angle)), math.sin(math.radians(dis.angle))
        corners = np.array([(-dis.rx, -dis.ry), (dis.rx, -dis.ry), (dis.rx, dis.ry), (-dis.rx, dis.ry)])
        pts = np.stack([corners[:, 0] * c - corners[:, 1] * s + x, corners[:, 0] * s + corners[:, 1] * c + y], 1)
        _fill(frame, pts, dis.colour)


def render_clip(plan: ClipPlan, background: np.ndarray | None = None, *, seed: int = 0,
                realism: Realism = DEFAULT_REALISM) -> np.ndarray:
    """(T, H, W, 3) BGR uint8 frames of a plan. Drawing reads only the per-frame state, never the class."""
    if background is None:
        background = group_background(plan.class_name, plan.group, seed=seed, width=plan.width, height=plan.height,
                                      realism=realism)
    h, w = plan.height, plan.width
    my = (background.shape[0] - h) // 2
    mx = (background.shape[1] - w) // 2
    noise_rng = np.random.default_rng(plan.noise_seed)
    out = np.empty((plan.n_frames, h, w, 3), np.uint8)
    sx, sy = plan.screen_xy
    for t in range(plan.n_frames):
        ox, oy = int(plan.camera[t, 0]), int(plan.camera[t, 1])
        frame = background[my + oy: my + oy + h, mx + ox: mx + ox + w].copy()
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


def _write_avi(path: Path, frames: np.ndarray, fps: float, quality: int) -> None:
    h, w = frames.shape[1:3]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    if not writer.isOpened():
        raise OSError(f"cv2.VideoWriter cannot write MJPG to {path}")
    writer.set(cv2.VIDEOWRITER_PROP_QUALITY, quality)
    for frame in frames:
        writer.write(frame)
    writer.release()


# ----------------------------------------------------------------------------------------------------------------
# The dataset.


def split_test_groups(groups: int, test_groups: int, splits: int = 3) -> list[list[int]]:
    """Test groups (1-based) of each split: split k tests the k-th block of `test_groups` groups, like UCF101
    (g01-g07, g08-g14, g15-g21). Blocks wrap around when 3 * test_groups > groups."""
    return [[(k * test_groups + i) % groups + 1 for i in range(test_groups)] for k in range(splits)]


def _check_args(classes: Sequence[str], groups: int, clips_per_group: int, test_groups: int, min_frames: int,
                max_frames: int, width: int, height: int, fps: float, seed: int) -> list[str]:
    if isinstance(classes, str):
        raise ValueError(f"classes must be a sequence of class names, not the string {classes!r}")
    names = list(classes)
    if not names:
        raise ValueError("classes is empty")
    unknown = [c for c in names if c not in CLASS_SPECS]
    if unknown:
        raise ValueError(f"classes: unknown class name(s) {unknown}; known: {sorted(CLASS_SPECS)}")
    dup = sorted({c for c in names if names.count(c) > 1})
    if dup:
        raise ValueError(f"classes: duplicated class name(s) {dup}")
    for key, value, low, high in (("groups", groups, 2, 99), ("clips_per_group", clips_per_group, 1, 99),
                                  ("test_groups", test_groups, 1, 98), ("min_frames", min_frames, 2, None),
                                  ("width", width, 16, None), ("height", height, 16, None), ("seed", seed, 0, None)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
            raise ValueError(f"{key} must be an integer, got {value!r}")
        if value < low or (high is not None and value > high):
            raise ValueError(f"{key} must be in [{low}, {high if high is not None else 'inf'}], got {value!r}")
    if test_groups >= groups:
        raise ValueError(f"test_groups ({test_groups}) must be < groups ({groups}): no train group would be left")
    if not isinstance(max_frames, (int, np.integer)) or max_frames < min_frames:
        raise ValueError(f"max_frames ({max_frames!r}) must be an integer >= min_frames ({min_frames})")
    if width < height:
        raise ValueError(f"width ({width}) must be >= height ({height}): the actor lives in the central square")
    if not (isinstance(fps, (int, float)) and math.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be a positive number, got {fps!r}")
    return names


def generate_synthetic(
    root: str | Path,
    *,
    classes: Sequence[str] = DEFAULT_CLASSES,
    groups: int = 10,
    clips_per_group: int = 3,
    test_groups: int = 3,
    min_frames: int = 32,
    max_frames: int = 96,
    width: int = 64,
    height: int = 48,
    fps: float = 25.0,
    seed: int = 0,
    realism: Realism = DEFAULT_REALISM,
) -> None:
    """Write the benchmark under `root` in the UCF101 layout (plus boxes.parquet, classes.csv and DONE).

    The whole tree is built in `<root>.tmp-*` and renamed onto `root` after `DONE` is written, so `root` is either
    absent, complete, or the previous complete version. An existing `root` is replaced only if it holds no files or
    is a previous output of this generator (has `DONE`); anything else is refused rather than deleted.
    """
    names = _check_args(classes, groups, clips_per_group, test_groups, min_frames, max_frames, width, height, fps,
                        seed)
    realism.validate()
    root = Path(root)
    _check_replaceable(root)
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"{root.name}.tmp-", dir=root.parent))
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)
        _build(tmp, sorted(names), groups, clips_per_group, test_groups, min_frames, max_frames, width, height, fps,
               seed, realism)
        done = {"generator": "vidstill.data.synthetic", "version": GENERATOR_VERSION, "classes": sorted(names),
                "groups": groups, "clips_per_group": clips_per_group, "test_groups": test_groups,
                "min_frames": min_frames, "max_frames": max_frames, "width": width, "height": height, "fps": fps,
                "seed": seed, "realism": asdict(realism)}
        (tmp / "DONE").write_text(json.dumps(done, indent=2, sort_keys=True) + "\n")
        _replace_dir(tmp, root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _build(out: Path, classes: list[str], groups: int, clips_per_group: int, test_groups: int, min_frames: int,
           max_frames: int, width: int, height: int, fps: float, seed: int, realism: Realism) -> None:
    video_root = out / "UCF-101"
    rows: list[pd.DataFrame] = []
    for name in classes:
        (video_root / name).mkdir(parents=True)
        for g in range(1, groups + 1):
            bg = group_background(name, g, seed=seed, width=width, height=height, realism=realism)
            for c in range(1, clips_per_group + 1):
                plan = plan_clip(name, g, c, seed=seed, min_frames=min_frames, max_frames=max_frames, width=width,
                                 height=height, realism=realism)
                _write_avi(video_root / name / f"{plan.id}.avi", render_clip(plan, bg), fps, realism.quality)
                box, visible = plan.boxes()
                rows.append(pd.DataFrame({
                    "id": plan.id, "frame": np.arange(plan.n_frames, dtype=np.int32),
                    "x1": box[:, 0].astype(np.float32), "y1": box[:, 1].astype(np.float32),
                    "x2": box[:, 2].astype(np.float32), "y2": box[:, 3].astype(np.float32), "visible": visible,
                }))
    pd.concat(rows, ignore_index=True).to_parquet(out / "boxes.parquet", index=False)
    pd.DataFrame({"class": classes, "kind": [CLASS_SPECS[c].kind for c in classes],
                  "description": [CLASS_SPECS[c].description for c in classes]}).to_csv(out / "classes.csv",
                                                                                       index=False)
    lists = out / "ucfTrainTestlist"
    lists.mkdir()
    crlf = "\r\n"
    (lists / "classInd.txt").write_bytes("".join(f"{i} {c}{crlf}" for i, c in enumerate(classes, 1)).encode())
    for k, tests in enumerate(split_test_groups(groups, test_groups), 1):
        train, test = [], []
        for label, name in enumerate(classes, 1):
            for g in range(1, groups + 1):
                for c in range(1, clips_per_group + 1):
                    rel = f"{name}/{video_id(name, g, c)}.avi"
                    (test.append(f"{rel}{crlf}") if g in tests else train.append(f"{rel} {label}{crlf}"))
        (lists / f"trainlist{k:02d}.txt").write_bytes("".join(train).encode())
        (lists / f"testlist{k:02d}.txt").write_bytes("".join(test).encode())


def _is_ours_or_empty(root: Path) -> bool:
    if (root / "DONE").is_file() and (root / "UCF-101").is_dir():
        try:
            return json.loads((root / "DONE").read_text()).get("generator") == "vidstill.data.synthetic"
        except (OSError, ValueError):
            return False
    return not any(p.is_file() or p.is_symlink() for p in root.rglob("*"))


def _check_replaceable(root: Path) -> None:
    if root.is_symlink() or (root.exists() and not root.is_dir()):
        raise FileExistsError(f"{root} exists and is not a directory this generator wrote; refusing to replace it")
    if root.is_dir() and not _is_ours_or_empty(root):
        raise FileExistsError(f"{root} holds files that this generator did not write (no DONE); refusing to delete")


def _replace_dir(tmp: Path, root: Path) -> None:
    _check_replaceable(root)
    if not root.exists():
        os.rename(tmp, root)
        return
    old = Path(tempfile.mkdtemp(prefix=f"{root.name}.old-", dir=root.parent))
    os.rename(root, old / "x")
    os.rename(tmp, root)
    shutil.rmtree(old, ignore_errors=True)


# ----------------------------------------------------------------------------------------------------------------
# A picture of the classes.


def write_class_strip(root: str | Path, out_png: str | Path, *, frames: int = 8,
                      classes: Sequence[str] | None = None) -> None:
    """One row per class: `frames` frames spread over the class's first video, labelled with name and kind, so a
    person sees at a glance what separates the classes (and that the motion classes look alike frame by frame)."""
    import decord
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    root = Path(root)
    if frames < 1:
        raise ValueError(f"frames must be >= 1, got {frames!r}")
    table = pd.read_csv(root / "classes.csv")
    kinds = dict(zip(table["class"], table["kind"], strict=True))
    names = list(table["class"]) if classes is None else list(classes)
    unknown = [c for c in names if c not in kinds]
    if unknown:
        raise ValueError(f"classes: {unknown} not in {root / 'classes.csv'}")
    fig, axes = plt.subplots(len(names), frames, figsize=(1.1 * frames + 1.6, 0.95 * len(names) + 0.3),
                             squeeze=False)
    for row, name in enumerate(names):
        video = sorted((root / "UCF-101" / name).glob(f"v_{name}_g*_c*.avi"))[0]
        vr = decord.VideoReader(str(video))
        idx = np.linspace(0, len(vr) - 1, frames).round().astype(int)
        imgs = vr.get_batch(list(idx)).asnumpy()  # RGB
        for col in range(frames):
            ax = axes[row, col]
            ax.imshow(imgs[col], interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(f"t={idx[col]}", fontsize=7)
        axes[row, 0].set_ylabel(f"{name}\n({kinds[name]})", rotation=0, ha="right", va="center", fontsize=7)
    fig.tight_layout()
    out_png = Path(out_png)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out_png.name}.", suffix=".png", dir=out_png.parent)
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=110)
        os.replace(tmp, out_png)
    finally:
        plt.close(fig)
        Path(tmp).unlink(missing_ok=True)


__all__ = [
    "CLASS_SPECS", "DEFAULT_CLASSES", "DEFAULT_REALISM", "ClassSpec", "ClipPlan", "Realism", "generate_synthetic",
    "realism_from_config",
    "group_background", "plan_clip", "render_clip", "split_test_groups", "video_id", "write_class_strip",
]  # fmt: skip
