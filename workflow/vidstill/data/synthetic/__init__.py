"""The embedded synthetic video benchmark: the default dataset of the pipeline, a stand-in for UCF101.

Video distillation papers are about *time*: whether a distilled set keeps the motion that separates classes, or only
the appearance a single frame already shows. A benchmark for them therefore needs classes whose single frames say
everything (appearance classes) and classes whose single frames say nothing (motion classes), so that
acc(full clip) - acc(single frame) spreads from about zero to large. This package generates such a dataset as real
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
pulsing size) hardly (2-14 %); and every 8-frame window of a translation shows its direction, where a size sawtooth
restarts inside the window and a flash cycle may show one phase only. The defaults are therefore six directions of
translation, all flip-invariant (vertical, a per-video left/right sense, or none), on a large high-contrast actor.

Everything is drawn from `numpy.random.SeedSequence([seed, crc32(class), group, clip, purpose])`: a video depends only
on the seed and its own (class, group, clip), so adding a class or a group leaves the other videos byte-identical.

Atomicity: the dataset is written into a sibling directory `<root>.tmp-XXXX`, the `DONE` marker (a JSON of the
arguments) is written last inside it, and the directory is renamed onto `<root>` only then. An interrupted run leaves
`<root>.tmp-*` behind and no `<root>` (or the previous complete one); a directory without `DONE` is incomplete.
See docs/synthetic_benchmark.md for the class catalogue and the knobs.

Modules, each using only those before it: `classes` (the catalogue), `realism` (the nuisance knobs), `plan` (every
per-frame quantity of a clip, no pixels), `render` (the pixels), `dataset` (the files and the atomic write) and
`strip` (a picture of the classes).
"""

from vidstill.data.synthetic.classes import CLASS_SPECS, DEFAULT_CLASSES, GENERATOR_VERSION, ClassSpec
from vidstill.data.synthetic.dataset import generate_synthetic, split_test_groups
from vidstill.data.synthetic.plan import ClipPlan, plan_clip, video_id
from vidstill.data.synthetic.realism import DEFAULT_REALISM, Realism, realism_from_config
from vidstill.data.synthetic.render import group_background, render_clip
from vidstill.data.synthetic.strip import write_class_strip

__all__ = [
    "CLASS_SPECS",
    "DEFAULT_CLASSES",
    "DEFAULT_REALISM",
    "GENERATOR_VERSION",
    "ClassSpec",
    "ClipPlan",
    "Realism",
    "generate_synthetic",
    "group_background",
    "plan_clip",
    "realism_from_config",
    "render_clip",
    "split_test_groups",
    "video_id",
    "write_class_strip",
]
