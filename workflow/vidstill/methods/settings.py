"""Each registered method's settings: a frozen dataclass per method, with every key its code reads, its type, default
and meaning. Torch-free, like the registry's catalogue: planning builds every `methods.<instance>` entry's settings
from here (an unknown key, a wrong type or an out-of-range value stops `snakemake -n` naming the key), and a distill
job builds its method's once where it starts (DistillContext). `SETTINGS` maps a registered method's name to its
class; tests check that every method of the catalogue has one.

Keys every instance accepts (`method`, `label`, `teacher`, `published_as`, `evaluation`) are in `MethodSettings`;
the loops shared by several methods (DM's embedding match, MTT's trajectory match, FRePo's feature regression, VDSD's
static-dynamic memory, DSA) declare theirs once in a mixin, so a method built on one accepts exactly what that loop
reads. A method that changes a shared default redeclares the field.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Literal

from vidstill.settings import OPTIMIZERS, SCHEDULES, Settings, build, setting

# The DSA default: every op (vidstill.augment.DEFAULT_STRATEGY, which imports torch; a test keeps the two equal).
DEFAULT_DSA_STRATEGY = "color_crop_cutout_flip_scale_rotate"
PerIPC = float | dict[int, float]  # one number, or one per IPC ({1: 1.0e-4, 5: 1000.0})


@dataclasses.dataclass(frozen=True)
class EvaluationOverride(Settings):
    """`methods.<instance>.evaluation`: this instance's own recipe, over `evaluation`'s training settings."""

    epochs: int | None = setting(None, "student epochs (null: evaluation.epochs)", ge=1)
    lr: float | None = setting(None, "student learning rate", gt=0)
    optimizer: OPTIMIZERS | None = setting(None, "sgd | adam | adamw")
    momentum: float | None = setting(None, "SGD momentum", ge=0)
    weight_decay: float | None = setting(None, "weight decay", ge=0)
    schedule: SCHEDULES | None = setting(None, "step | cosine | constant | warmup_cosine")
    batch_size: int | None = setting(None, "batch size", ge=1)


@dataclasses.dataclass(frozen=True)
class MethodSettings(Settings):
    """Keys of every method instance."""

    method: str | None = setting(None, "the registered method this instance runs (default: the instance's name)")
    label: str | None = setting(None, "the name shown in tables (default: the instance's name)")
    teacher: str | None = setting(None, "methods that need a teacher: the default teacher (null) or a teachers: name")
    published_as: str | tuple[str, ...] | None = setting(
        None, "its name(s) in resources/paper_results.csv (default: label)"
    )
    evaluation: EvaluationOverride | None = setting(
        None, "its own evaluation recipe (overrides of evaluation's training settings)"
    )


@dataclasses.dataclass(frozen=True)
class RealInit(MethodSettings):
    init: Literal["real", "noise"] = setting("real", "start from ipc real clips per class, or Gaussian noise")


@dataclasses.dataclass(frozen=True)
class DSAStrategy(MethodSettings):
    dsa_strategy: str = setting(
        DEFAULT_DSA_STRATEGY, "DSA ops joined by _ (color, crop, cutout, flip, scale, rotate; none)"
    )
    dsa_mode: Literal["single", "multiple"] = setting("single", "single: one op group per draw | multiple: every op")


@dataclasses.dataclass(frozen=True)
class DSA(DSAStrategy):
    dsa: bool = setting(False, "Siamese video DSA on real and synthetic clips")


@dataclasses.dataclass(frozen=True)
class EmbeddingMatch(DSA):
    """DM's loop (methods/dm.py match_embeddings)."""

    batch_real: int = setting(64, "real clips per class per iteration", ge=1)
    forward: Literal["batched", "per_class"] = setting(
        "batched", "batched: all classes in one forward | per_class: the reference's loop"
    )


@dataclasses.dataclass(frozen=True)
class TrajectoryMatch(MethodSettings):
    """MTT's loop (methods/mtt.py match_trajectories)."""

    iterations: int = setting(8000, "distillation iterations", ge=0)
    syn_steps: int = setting(10, "unrolled student steps per iteration", ge=1)
    expert_epochs: int = setting(1, "M: expert epochs the student's steps must cover", ge=1)
    max_start_epoch: int = setting(10, "the start epoch is drawn below it", ge=1)
    lr_init: float = setting(0.01, "initial learnable step size (the evaluation's lr)", gt=0)
    lr_floor: float = setting(1e-3, "the step size is clipped to at least this after every update", ge=0)
    lr_lr: float = setting(1e-5, "learning rate of the step size", ge=0)
    momentum: float = setting(0.5, "SGD momentum of the pixels and the step size", ge=0)
    batch_syn: int | None = setting(None, "synthetic items per unrolled step (null: the whole set)", ge=1)


@dataclasses.dataclass(frozen=True)
class FeatureRegression(MethodSettings):
    """FRePo's loop (methods/frepo.py regress_features)."""

    iterations: int = setting(1000, "distillation iterations", ge=0)
    batch_real: int = setting(32, "real clips per class per iteration", ge=1)
    reg: float = setting(1e-6, "kernel ridge regression's regulariser", ge=0)
    num_models: int = setting(10, "online models in the pool", ge=1)
    max_online_steps: int = setting(100, "training steps before a pool model is reset", ge=1)
    online_lr: float = setting(1e-4, "the pool models' learning rate", ge=0)
    learn_labels: bool = setting(True, "learn the label vectors")
    label_lr: float = setting(1e-2, "learning rate of the labels", ge=0)


@dataclasses.dataclass(frozen=True)
class StaticDynamic(MethodSettings):
    """VDSD's stage 2 (methods/vdsd.py StaticDynamicMemory)."""

    stills: str = setting("vdsd_stills", "the stage-1 instance (a stand-alone Static-DC), distilled at 2 x IPC")
    hallucinator_init: Literal["default", "identity"] = setting(
        "default", "default: PyTorch's | identity: copies the stills"
    )
    lr_dynamic: PerIPC = setting(1e-4, "learning rate of the dynamic maps (a number or one per IPC)")
    lr_hallucinator: PerIPC = setting(1e-5, "learning rate of the hallucinator (a number or one per IPC)")
    memory_momentum: float = setting(0.95, "SGD momentum of maps and hallucinator (DM, MTT)", ge=0)


# --- the methods ---


@dataclasses.dataclass(frozen=True)
class RandomSettings(MethodSettings):
    """random: ipc videos per class drawn uniformly."""


@dataclasses.dataclass(frozen=True)
class CoresetSettings(MethodSettings):
    """herding, kcenter: a coreset chosen on embeddings."""

    embedding: Literal["teacher", "random"] = setting(
        "teacher", "teacher: the trained teacher's | random: a fresh seeded student's"
    )


@dataclasses.dataclass(frozen=True)
class KeyFrameSettings(MethodSettings):
    """keyframe: Random's videos reduced to medoid frames."""

    keyframes: int = setting(1, "medoid frames per video (one per equal temporal segment)", ge=1)


@dataclasses.dataclass(frozen=True)
class DCSettings(DSA):
    """dc: gradient matching."""

    iterations: int = setting(1000, "distillation iterations (fresh networks)", ge=0)
    lr: float = setting(0.1, "SGD learning rate of the pixels", ge=0)
    momentum: float = setting(0.5, "SGD momentum of the pixels", ge=0)
    metric: Literal["ours", "mse", "cos"] = setting("ours", "gradient distance: ours (layer-wise 1 - cos) | mse | cos")
    outer_loop: int | None = setting(None, "outer steps per iteration (null: the original's table by IPC)", ge=1)
    inner_loop: int | None = setting(
        None, "network epochs between outer steps (null: the original's table by IPC)", ge=1
    )
    batch_real: int = setting(256, "real clips per class per outer step", ge=1)
    batch_train: int = setting(256, "batch of the network's inner training", ge=1)
    lr_net: float = setting(0.01, "learning rate of the network's inner training", ge=0)
    init: Literal["real", "noise"] = setting("real", "start from real clips (stills) or noise")
    network: Literal["video"] = setting("video", "video: match the student ConvNet3D's gradients")
    image_widths: tuple[int, ...] = setting((128, 128, 128), "widths of DC's image ConvNet (network: image)")


@dataclasses.dataclass(frozen=True)
class StaticDCSettings(DCSettings):
    """static_dc: DC on single frames (VDSD's stage 1)."""

    network: Literal["video", "image"] = setting(
        "video", "video: the student ConvNet3D on the repeated frame | image: DC's image ConvNet"
    )


@dataclasses.dataclass(frozen=True)
class DMSettings(RealInit, EmbeddingMatch):
    """dm: distribution matching."""

    iterations: int = setting(5000, "distillation iterations", ge=0)
    lr: float = setting(30.0, "SGD learning rate of the pixels", ge=0)
    momentum: float = setting(0.5, "SGD momentum of the pixels", ge=0)


@dataclasses.dataclass(frozen=True)
class MTTSettings(RealInit, TrajectoryMatch):
    """mtt: trajectory matching."""

    lr: float = setting(1e5, "SGD learning rate of the pixels", ge=0)


@dataclasses.dataclass(frozen=True)
class FRePoSettings(RealInit, FeatureRegression):
    """frepo: feature regression with a model pool."""

    lr: float = setting(1e-2, "Adam learning rate of the pixels", ge=0)


@dataclasses.dataclass(frozen=True)
class DMVDSDSettings(StaticDynamic, EmbeddingMatch):
    """dm_vdsd: VDSD's stage 2 on DM's loss."""

    iterations: int = setting(5000, "distillation iterations", ge=0)


@dataclasses.dataclass(frozen=True)
class MTTVDSDSettings(StaticDynamic, TrajectoryMatch):
    """mtt_vdsd: VDSD's stage 2 on MTT's loss."""


@dataclasses.dataclass(frozen=True)
class FRePoVDSDSettings(StaticDynamic, FeatureRegression):
    """frepo_vdsd: VDSD's stage 2 on FRePo's loss."""


@dataclasses.dataclass(frozen=True)
class IDTDSettings(MethodSettings):
    """idtd: diverse segments, selectors and a fusor on DM's loss."""

    iterations: int = setting(5000, "distillation iterations", ge=0)
    batch_real: int = setting(64, "real clips per class per iteration", ge=1)
    segments: int = setting(8, "K: diverse segments per instance", ge=2)
    lr: float = setting(0.01, "Adam learning rate of everything learnt", ge=0)
    alpha_div: float = setting(0.05, "alpha1: weight of the diversity loss", ge=0)
    alpha_video: float = setting(1e-4, "alpha2: weight of the fused videos' matching loss", ge=0)
    segment_weight: float = setting(1.0, "weight of the segments' matching loss", ge=0)
    min_span: float = setting(0.5, "tau's shortest interval, a fraction of the clip", gt=0, le=1)
    init: Literal["random", "real"] = setting(
        "random", "random: Gaussian pool, PyTorch's selectors | real: K real clips"
    )
    pool_frames: int | None = setting(None, "pool frames with init random (null: K x T)", ge=1)
    fusor_init: Literal["default", "sample", "mean"] = setting(
        "default", "default: PyTorch's | sample: centre tap | mean"
    )
    fusor_kernel: int = setting(3, "the fusor's temporal kernel", ge=1)
    modules: Literal["idtd", "stitch_real", "segments_fusor", "pool_selectors"] = setting(
        "idtd", "idtd, or a Table 3 ablation"
    )
    class_chunk: int = setting(0, "classes per backward (0: all at once)", ge=0)


@dataclasses.dataclass(frozen=True)
class DAViDSettings(RealInit, EmbeddingMatch):
    """david: Q-learnt temporal resolution per class on DM's loss."""

    iterations: int = setting(5000, "N: DM iterations of the final distillation", ge=0)
    lr: float = setting(10.0, "SGD learning rate of the pixels", ge=0)
    momentum: float = setting(0.95, "SGD momentum of the pixels", ge=0)
    resolutions: tuple[int, ...] | None = setting(None, "the action set (null: the divisors of the clip length)")
    search: Literal["rl_early", "rl", "grid"] = setting(
        "rl_early", "rl_early: DAViD | rl: N iterations per step | grid"
    )
    rl_steps: int = setting(24, "T: RL steps", ge=1)
    exploit: float = setting(0.2, "p: probability of the greedy action", ge=0, le=1)
    alpha: float = setting(0.1, "Q-learning rate (with schedule visits: the floor of max(alpha, 1/n))", ge=0, le=1)
    gamma: float = setting(0.5, "discount", ge=0, le=1)
    beta: float = setting(0.02, "N_early = round(beta N), at least 1", gt=0, le=1)
    states: Literal["shared", "resolution"] = setting(
        "shared", "shared: one state | resolution: the last resolution (the paper's)"
    )
    schedule: Literal["visits", "constant"] = setting("visits", "visits: alpha = max(alpha, 1/n) | constant")
    repeats: Literal["mean", "sum"] = setting(
        "mean", "a partitioned frame steps by the mean or the sum of its copies' gradients"
    )
    adaptive: bool = setting(True, "one Q-learner per class (false: one for all, Table 4's case B)")
    reward_real: int = setting(32, "real training clips per class behind the reward's real embedding", ge=1)


@dataclasses.dataclass(frozen=True)
class OptDistillSettings(MethodSettings):
    """optdistill: crop-and-concatenate mosaics of the teacher's best crops."""

    top_k: int = setting(24, "best crops per class by score (at least N^2)", ge=1)
    score: Literal["top_probability", "realism"] = setting(
        "top_probability", "top_probability | realism (log-probability of the true label)"
    )
    labels: Literal["soft", "hard"] = setting("soft", "soft: the teacher's softmax per region | hard: the class")
    temperature: float = setting(1.0, "temperature of the soft labels", gt=0)
    per_video: Literal["best", "all"] = setting("best", "best: each video's best track | all: every track")
    tau: float | None = setting(None, "drop segments scoring below it (null: no threshold)")


@dataclasses.dataclass(frozen=True)
class TSGFSettings(RealInit, DSAStrategy):
    """tsgf: videos optimised against a BatchNorm teacher, saliency-guided."""

    iterations: int = setting(100, "optimisation steps per IPC slot", ge=0)
    optimizer: Literal["adam", "sgd"] = setting("adam", "adam: SRe2L's (betas 0.5, 0.9) | sgd (with momentum)")
    lr: float = setting(0.05, "learning rate of the pixels", ge=0)
    momentum: float = setting(0.9, "SGD momentum (optimizer sgd)", ge=0)
    bn_weight: float = setting(1.0, "weight of the BN-statistics term", ge=0)
    labels: Literal["hard", "soft"] = setting("hard", "hard | soft: the teacher's softmax on the final videos")
    temperature: float = setting(1.0, "temperature of the soft labels", gt=0)
    saliency_optimization: bool = setting(True, "TSGF_O: updates scaled by floor + (1 - floor) x saliency")
    saliency_augmentation: bool = setting(True, "TSGF_A: saliency-guided DSA while students train")
    window: int = setting(3, "k: the saliency's temporal window (odd)", ge=1)
    alpha: tuple[float, ...] | None = setting(
        None, "the window's k weights (null: [0.25, 0.5, 0.25] at k 3, else uniform)"
    )
    eps: float = setting(0.05, "added to the clip's maximum saliency", gt=0)
    floor: float = setting(0.1, "a static pixel's update factor", ge=0, le=1)


@dataclasses.dataclass(frozen=True)
class PRISMSettings(RealInit, EmbeddingMatch):
    """prism: key frames with interpolation between them, on DM's loss."""

    iterations: int = setting(5000, "distillation iterations", ge=0)
    lr: float = setting(30.0, "SGD learning rate of the key frames", ge=0)
    momentum: float = setting(0.95, "SGD momentum", ge=0)
    eps: float = setting(0.0, "a frame becomes a key when its gradient's cosine with both neighbours' is below it")
    warmup: float = setting(0.2, "fraction of the iterations before insertion starts", ge=0, le=1)
    insertion: float = setting(0.6, "fraction of the iterations in which keys are inserted", ge=0, le=1)
    insert_every: int = setting(1, "updates between tests of the insertion rule", ge=1)


@dataclasses.dataclass(frozen=True)
class SFVDSettings(RealInit, TrajectoryMatch):
    """sfvd: one learnable frame per video on MTT's loss."""

    lr: float = setting(1e5, "SGD learning rate of the stills", ge=0)
    frame: Literal["middle", "first"] = setting("middle", "the frame of the initial clip a still starts from")


@dataclasses.dataclass(frozen=True)
class SFVDTSettings(SFVDSettings):
    """sfvd_t: SFVD with a learnt 1x1x1 fusion with real clips while matching."""

    lr_reshape: float = setting(1e-3, "learning rate of the channel reshaping layer", ge=0)


SETTINGS: dict[str, type[MethodSettings]] = {
    "random": RandomSettings,
    "herding": CoresetSettings,
    "kcenter": CoresetSettings,
    "keyframe": KeyFrameSettings,
    "dc": DCSettings,
    "static_dc": StaticDCSettings,
    "dm": DMSettings,
    "mtt": MTTSettings,
    "frepo": FRePoSettings,
    "dm_vdsd": DMVDSDSettings,
    "mtt_vdsd": MTTVDSDSettings,
    "frepo_vdsd": FRePoVDSDSettings,
    "idtd": IDTDSettings,
    "david": DAViDSettings,
    "optdistill": OptDistillSettings,
    "tsgf": TSGFSettings,
    "prism": PRISMSettings,
    "sfvd": SFVDSettings,
    "sfvd_t": SFVDTSettings,
}


def settings_class(method: str) -> type[MethodSettings]:
    if method not in SETTINGS:
        raise KeyError(f"method {method!r} declares no settings class (vidstill/methods/settings.py SETTINGS)")
    return SETTINGS[method]


def instance_settings(name: str, values: Mapping[str, Any] | None) -> MethodSettings:
    """`methods.<name>` as its method's settings: `method` (default: the instance's name) picks the class."""
    values = values or {}
    method = values.get("method", name)
    from vidstill.settings import SettingsError

    if not isinstance(method, str) or method not in SETTINGS:
        raise SettingsError(
            f"methods.{name}.method: unknown method {method!r}; registered: {', '.join(sorted(SETTINGS))}"
        )
    return build(SETTINGS[method], values, f"methods.{name}")


def method_settings(values: Mapping[str, Any] | MethodSettings) -> MethodSettings:
    """A distill job's settings (`method` names the registered method), built once where the method starts."""
    if isinstance(values, MethodSettings):
        return values
    method = values.get("method")
    if not isinstance(method, str):
        raise ValueError(f"a method's settings must name it (method:), got {dict(values)!r}")
    return build(settings_class(method), values, f"methods.{method}")


__all__ = [
    "DEFAULT_DSA_STRATEGY",
    "SETTINGS",
    "EvaluationOverride",
    "MethodSettings",
    "instance_settings",
    "method_settings",
    "settings_class",
]
