"""The nuisance knobs (background clutter, distractors, camera shake, pixel noise, illumination, exits, MJPG
quality) and the config's `generator.realism` mapping onto them."""

from __future__ import annotations

from dataclasses import asdict, dataclass


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
        return cls(
            clutter=0.0,
            distractors=(0, 0),
            jitter_px=0.0,
            noise_std=0.0,
            illumination=0.0,
            exit_prob=0.0,
            start_fraction=0.0,
            quality=95,
        )

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
