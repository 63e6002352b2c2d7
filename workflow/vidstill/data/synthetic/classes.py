"""The class catalogue: what each class draws (shape, colour, dynamics) and whether a single frame shows it
(appearance), never shows it (motion) or partly (mixed); the default classes, the sizes and speeds the motion
actor is drawn with, and the generator's version."""

from __future__ import annotations

from dataclasses import dataclass

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
    _motion(
        "SlideLeft",
        "slides left at 1.8-2.4 px/frame, wrapping around",
        dynamics="slide",
        direction=(-1.0, 0.0),
        speed=SLIDE_SPEED,
    ),
    _motion(
        "SlideRight",
        "slides right at 1.8-2.4 px/frame, wrapping around",
        dynamics="slide",
        direction=(1.0, 0.0),
        speed=SLIDE_SPEED,
    ),
    _motion(
        "SlideRightFast",
        "slides right at 2.8-3.2 px/frame, wrapping around (speed pair of SlideRight)",
        dynamics="slide",
        direction=(1.0, 0.0),
        speed=FAST_SPEED,
    ),
    _motion(
        "PingPong",
        "bounces left-right between two walls at 1.2-1.8 px/frame (bounce vs slide)",
        dynamics="pingpong",
        direction=(1.0, 0.0),
        speed=(1.2, 1.8),
    ),
    _motion("RotateCW", "turns clockwise in place at 8-12 deg/frame", dynamics="rotate", sense=1, speed=SPIN_SPEED),
    _motion(
        "RotateCCW", "turns counter-clockwise in place at 8-12 deg/frame", dynamics="rotate", sense=-1, speed=SPIN_SPEED
    ),
    _motion(
        "SlideSideways",
        "slides left or right (drawn per video) at 1.8-2.4 px/frame, wrapping around (flip-invariant)",
        dynamics="slide",
        direction=(1.0, 0.0),
        sense=0,
        speed=SLIDE_SPEED,
    ),
    _motion(
        "RiseDiagonal",
        "slides up and to the left or right (drawn per video) at 1.8-2.4 px/frame, wrapping around (flip-invariant)",
        dynamics="slide",
        direction=(0.7071, -0.7071),
        sense=0,
        speed=SLIDE_SPEED,
    ),
    _motion(
        "FallDiagonal",
        "slides down and to the left or right (drawn per video) at 1.8-2.4 px/frame, wrapping around (flip-invariant)",
        dynamics="slide",
        direction=(0.7071, 0.7071),
        sense=0,
        speed=SLIDE_SPEED,
    ),
    _motion(
        "Spin",
        "turns in place at 8-12 deg/frame, either way (flip-invariant)",
        dynamics="rotate",
        sense=0,
        speed=SPIN_SPEED,
    ),
    _motion(
        "Pulse",
        "grows and shrinks in place between the smallest and largest size, cycles of 12-20 frames",
        dynamics="pulse",
        speed=(12.0, 20.0),
    ),
    _motion("Still", "stays where it is: no motion at all (only the camera shakes)", dynamics="still"),
    _motion(
        "Grow",
        "grows steadily in place and restarts small, cycles of 16-24 frames",
        dynamics="scale",
        sense=1,
        speed=(16.0, 24.0),
    ),
    _motion(
        "Shrink",
        "shrinks steadily in place and restarts large, cycles of 16-24 frames",
        dynamics="scale",
        sense=-1,
        speed=(16.0, 24.0),
    ),
    _motion(
        "SlideUp",
        "slides up at 1.8-2.4 px/frame, wrapping around",
        dynamics="slide",
        direction=(0.0, -1.0),
        speed=SLIDE_SPEED,
    ),
    _motion(
        "SlideDownFast",
        "slides down at 2.8-3.2 px/frame, wrapping around (speed pair of SlideDown)",
        dynamics="slide",
        direction=(0.0, 1.0),
        speed=FAST_SPEED,
    ),
    _motion(
        "SlideDown",
        "slides down at 1.8-2.4 px/frame, wrapping around",
        dynamics="slide",
        direction=(0.0, 1.0),
        speed=SLIDE_SPEED,
    ),
    # Mixed: a motion class whose actor is also partly recognisable (darker / smaller than the shared distribution).
    ClassSpec(
        "DimRise",
        "mixed",
        "a darker actor sliding up at 0.4-0.8 px/frame (colour partly gives it away)",
        dynamics="slide",
        direction=(0.0, -1.0),
        speed=(0.4, 0.8),
        value=(0.45, 0.8),
    ),
    ClassSpec(
        "TinySpin",
        "mixed",
        "a small actor turning either way at 6-10 deg/frame (size partly gives it away)",
        dynamics="rotate",
        sense=0,
        speed=(6.0, 10.0),
        size=(0.10, 0.14),
    ),
)

CLASS_SPECS: dict[str, ClassSpec] = {s.name: s for s in _SPECS}
DEFAULT_CLASSES: tuple[str, ...] = (
    "BlueRing", "CheckerBox", "GreenSquare", "PurpleCross", "RedDisc", "YellowStar",
    "FallDiagonal", "RiseDiagonal", "SlideDown", "SlideSideways", "SlideUp", "Still",
)  # fmt: skip
