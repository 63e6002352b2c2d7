"""Fake dataset roots in the real on-disk layouts, for planning and running the paper configuration without the data.

Each root has what the official release has: the official split / annotation files (UCF101's `ucfTrainTestlist` and
HMDB51's `testTrainMulti_7030_splits` byte for byte from tests/data/real-splits; Kinetics-400's CSVs and SSv2's JSON
files written in their official formats with the real class lists), the real file names and folders, and real,
decodable videos. A few tiny videos are generated once and hard-linked to every name the split files list, so even
UCF101's 13,320 videos cost a few milliseconds and no disk. The layouts are those `vidstill.data.indexers` documents
(its *_LAYOUT strings) and resources/datasets/README.md describes.
"""

from __future__ import annotations

import csv
import json
import os
import random
import re
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
SPLITS = REPO / "tests" / "data" / "real-splits"

# The 400 labels of Kinetics-400's train.csv / validate.csv (spaces, parentheses, an apostrophe: as the CSVs spell
# them).
K400_LABELS = """\
abseiling|air drumming|answering questions|applauding|applying cream|archery|arm wrestling|arranging flowers|
assembling computer|auctioning|baby waking up|baking cookies|balloon blowing|bandaging|barbequing|bartending|
beatboxing|bee keeping|belly dancing|bench pressing|bending back|bending metal|biking through snow|blasting sand|
blowing glass|blowing leaves|blowing nose|blowing out candles|bobsledding|bookbinding|bouncing on trampoline|bowling|
braiding hair|breading or breadcrumbing|breakdancing|brush painting|brushing hair|brushing teeth|building cabinet|
building shed|bungee jumping|busking|canoeing or kayaking|capoeira|carrying baby|cartwheeling|carving pumpkin|
catching fish|catching or throwing baseball|catching or throwing frisbee|catching or throwing softball|celebrating|
changing oil|changing wheel|checking tires|cheerleading|chopping wood|clapping|clay pottery making|clean and jerk|
cleaning floor|cleaning gutters|cleaning pool|cleaning shoes|cleaning toilet|cleaning windows|climbing a rope|
climbing ladder|climbing tree|contact juggling|cooking chicken|cooking egg|cooking on campfire|cooking sausages|
counting money|country line dancing|cracking neck|crawling baby|crossing river|crying|curling hair|cutting nails|
cutting pineapple|cutting watermelon|dancing ballet|dancing charleston|dancing gangnam style|dancing macarena|
deadlifting|decorating the christmas tree|digging|dining|disc golfing|diving cliff|dodgeball|doing aerobics|
doing laundry|doing nails|drawing|dribbling basketball|drinking|drinking beer|drinking shots|driving car|
driving tractor|drop kicking|drumming fingers|dunking basketball|dying hair|eating burger|eating cake|eating carrots|
eating chips|eating doughnuts|eating hotdog|eating ice cream|eating spaghetti|eating watermelon|egg hunting|
exercising arm|exercising with an exercise ball|extinguishing fire|faceplanting|feeding birds|feeding fish|
feeding goats|filling eyebrows|finger snapping|fixing hair|flipping pancake|flying kite|folding clothes|
folding napkins|folding paper|front raises|frying vegetables|garbage collecting|gargling|getting a haircut|
getting a tattoo|giving or receiving award|golf chipping|golf driving|golf putting|grinding meat|grooming dog|
grooming horse|gymnastics tumbling|hammer throw|headbanging|headbutting|high jump|high kick|hitting baseball|
hockey stop|holding snake|hopscotch|hoverboarding|hugging|hula hooping|hurdling|hurling (sport)|ice climbing|
ice fishing|ice skating|ironing|javelin throw|jetskiing|jogging|juggling balls|juggling fire|juggling soccer ball|
jumping into pool|jumpstyle dancing|kicking field goal|kicking soccer ball|kissing|kitesurfing|knitting|krumping|
laughing|laying bricks|long jump|lunge|making a cake|making a sandwich|making bed|making jewelry|making pizza|
making snowman|making sushi|making tea|marching|massaging back|massaging feet|massaging legs|massaging person's head|
milking cow|mopping floor|motorcycling|moving furniture|mowing lawn|news anchoring|opening bottle|opening present|
paragliding|parasailing|parkour|passing American football (in game)|passing American football (not in game)|
peeling apples|peeling potatoes|petting animal (not cat)|petting cat|picking fruit|planting trees|plastering|
playing accordion|playing badminton|playing bagpipes|playing basketball|playing bass guitar|playing cards|
playing cello|playing chess|playing clarinet|playing controller|playing cricket|playing cymbals|playing didgeridoo|
playing drums|playing flute|playing guitar|playing harmonica|playing harp|playing ice hockey|playing keyboard|
playing kickball|playing monopoly|playing organ|playing paintball|playing piano|playing poker|playing recorder|
playing saxophone|playing squash or racquetball|playing tennis|playing trombone|playing trumpet|playing ukulele|
playing violin|playing volleyball|playing xylophone|pole vault|presenting weather forecast|pull ups|pumping fist|
pumping gas|punching bag|punching person (boxing)|push up|pushing car|pushing cart|pushing wheelchair|reading book|
reading newspaper|recording music|riding a bike|riding camel|riding elephant|riding mechanical bull|
riding mountain bike|riding mule|riding or walking with horse|riding scooter|riding unicycle|ripping paper|
robot dancing|rock climbing|rock scissors paper|roller skating|running on treadmill|sailing|salsa dancing|
sanding floor|scrambling eggs|scuba diving|setting table|shaking hands|shaking head|sharpening knives|
sharpening pencil|shaving head|shaving legs|shearing sheep|shining shoes|shooting basketball|shooting goal (soccer)|
shot put|shoveling snow|shredding paper|shuffling cards|side kick|sign language interpreting|singing|situp|
skateboarding|ski jumping|skiing (not slalom or crosscountry)|skiing crosscountry|skiing slalom|skipping rope|
skydiving|slacklining|slapping|sled dog racing|smoking|smoking hookah|snatch weight lifting|sneezing|sniffing|
snorkeling|snowboarding|snowkiting|snowmobiling|somersaulting|spinning poi|spray painting|spraying|
springboard diving|squat|sticking tongue out|stomping grapes|stretching arm|stretching leg|strumming guitar|
surfing crowd|surfing water|sweeping floor|swimming backstroke|swimming breast stroke|swimming butterfly stroke|
swing dancing|swinging legs|swinging on something|sword fighting|tai chi|taking a shower|tango dancing|tap dancing|
tapping guitar|tapping pen|tasting beer|tasting food|testifying|texting|throwing axe|throwing ball|throwing discus|
tickling|tobogganing|tossing coin|tossing salad|training dog|trapezing|trimming or shaving beard|trimming trees|
triple jump|tying bow tie|tying knot (not on a tie)|tying tie|unboxing|unloading truck|using computer|
using remote controller (not gaming)|using segway|vault|waiting in line|walking the dog|washing dishes|washing feet|
washing hair|washing hands|water skiing|water sliding|watering plants|waxing back|waxing chest|waxing eyebrows|
waxing legs|weaving basket|welding|whistling|windsurfing|wrapping present|wrestling|writing|yawning|yoga|zumba
""".replace("\n", "").split("|")

# The 174 classes of something-something-v2-labels.json, in label-id order (ids 0..173 follow this sorted order).
SSV2_CLASSES = """\
Approaching something with your camera|Attaching something to something|Bending something so that it deforms|
Bending something until it breaks|Burying something in something|Closing something|Covering something with something|
Digging something out of something|Dropping something behind something|Dropping something in front of something|
Dropping something into something|Dropping something next to something|Dropping something onto something|
Failing to put something into something because something does not fit|Folding something|
Hitting something with something|Holding something|Holding something behind something|
Holding something in front of something|Holding something next to something|Holding something over something|
Laying something on the table on its side, not upright|Letting something roll along a flat surface|
Letting something roll down a slanted surface|Letting something roll up a slanted surface, so it rolls back down|
Lifting a surface with something on it but not enough for it to slide down|
Lifting a surface with something on it until it starts sliding down|
Lifting something up completely without letting it drop down|Lifting something up completely, then letting it drop down|
Lifting something with something on it|Lifting up one end of something without letting it drop down|
Lifting up one end of something, then letting it drop down|Moving away from something with your camera|
Moving part of something|Moving something across a surface until it falls down|
Moving something across a surface without it falling down|Moving something and something away from each other|
Moving something and something closer to each other|Moving something and something so they collide with each other|
Moving something and something so they pass each other|Moving something away from something|
Moving something away from the camera|Moving something closer to something|Moving something down|
Moving something towards the camera|Moving something up|Opening something|Picking something up|Piling something up|
Plugging something into something|Plugging something into something but pulling it right out as you remove your hand|
Poking a hole into some substance|Poking a hole into something soft|
Poking a stack of something so the stack collapses|Poking a stack of something without the stack collapsing|
Poking something so it slightly moves|Poking something so lightly that it doesn't or almost doesn't move|
Poking something so that it falls over|Poking something so that it spins around|Pouring something into something|
Pouring something into something until it overflows|Pouring something onto something|
Pouring something out of something|Pretending or failing to wipe something off of something|
Pretending or trying and failing to twist something|Pretending to be tearing something that is not tearable|
Pretending to close something without actually closing it|Pretending to open something without actually opening it|
Pretending to pick something up|Pretending to poke something|
Pretending to pour something out of something, but something is empty|Pretending to put something behind something|
Pretending to put something into something|Pretending to put something next to something|
Pretending to put something on a surface|Pretending to put something onto something|
Pretending to put something underneath something|Pretending to scoop something up with something|
Pretending to spread air onto something|Pretending to sprinkle air onto something|Pretending to squeeze something|
Pretending to take something from somewhere|Pretending to take something out of something|
Pretending to throw something|Pretending to turn something upside down|Pulling something from behind of something|
Pulling something from left to right|Pulling something from right to left|Pulling something onto something|
Pulling something out of something|Pulling two ends of something but nothing happens|
Pulling two ends of something so that it gets stretched|
Pulling two ends of something so that it separates into two pieces|Pushing something from left to right|
Pushing something from right to left|Pushing something off of something|Pushing something onto something|
Pushing something so it spins|Pushing something so that it almost falls off but doesn't|
Pushing something so that it falls off the table|Pushing something so that it slightly moves|
Pushing something with something|Putting number of something onto something|
Putting something and something on the table|
Putting something behind something|Putting something in front of something|Putting something into something|
Putting something next to something|Putting something on a flat surface without letting it roll|
Putting something on a surface|Putting something on the edge of something so it is not supported and falls down|
Putting something onto a slanted surface but it doesn't glide down|Putting something onto something|
Putting something onto something else that cannot support it so it falls down|
Putting something similar to other things that are already on the table|
Putting something that can't roll onto a slanted surface, so it slides down|
Putting something that can't roll onto a slanted surface, so it stays where it is|
Putting something that cannot actually stand upright upright on the table, so it falls on its side|
Putting something underneath something|Putting something upright on the table|
Putting something, something and something on the table|Removing something, revealing something behind|
Rolling something on a flat surface|Scooping something up with something|Showing a photo of something to the camera|
Showing something behind something|Showing something next to something|Showing something on top of something|
Showing something to the camera|Showing that something is empty|Showing that something is inside something|
Something being deflected from something|Something colliding with something and both are being deflected|
Something colliding with something and both come to a halt|Something falling like a feather or paper|
Something falling like a rock|Spilling something behind something|Spilling something next to something|
Spilling something onto something|Spinning something so it continues spinning|
Spinning something that quickly stops spinning|Spreading something onto something|Sprinkling something onto something|
Squeezing something|Stacking number of something|Stuffing something into something|
Taking one of many similar things on the table|Taking something from somewhere|Taking something out of something|
Tearing something into two pieces|Tearing something just a little bit|Throwing something|
Throwing something against something|Throwing something in the air and catching it|
Throwing something in the air and letting it fall|Throwing something onto a surface|
Tilting something with something on it slightly so it doesn't fall down|
Tilting something with something on it until it falls off|Tipping something over|
Tipping something with something in it over, so something in it falls out|Touching (without moving) part of something|
Trying but failing to attach something to something because it doesn't stick|
Trying to bend something unbendable so nothing happens|
Trying to pour something into something, but missing so it spills next to it|Turning something upside down|
Turning the camera downwards while filming something|Turning the camera left while filming something|
Turning the camera right while filming something|Turning the camera upwards while filming something|
Twisting (wringing) something wet until water comes out|Twisting something|Uncovering something|Unfolding something|
Wiping something off of something
""".replace("\n", "").split("|")

assert len(K400_LABELS) == len(set(K400_LABELS)) == 400
assert len(SSV2_CLASSES) == len(set(SSV2_CLASSES)) == 174


# ------------------------------------------------------------------------------------------------------------------
# videos


def write_video(
    path: Path, frames: int, size: tuple[int, int] = (80, 60), fps: float = 25.0, fourcc: str = "mp4v"
) -> Path:
    """A real video whose frame i is flat grey at level `frame_level(i)` with a moving square (so no codec collapses
    frames): which frames a sampler kept can be read back from the stored pixels."""
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, size)
    assert writer.isOpened(), f"OpenCV cannot write {fourcc} to {path.suffix}"
    w, h = size
    for i in range(frames):
        frame = np.full((h, w, 3), frame_level(i), np.uint8)
        x = (2 * i) % (w - 6)
        frame[:6, x : x + 6] = 255  # in the top rows only: the centre, where levels are read, stays flat
        writer.write(frame)
    writer.release()
    return path


def frame_level(i: int) -> int:
    """The grey level of frame i (16 + 2i, so up to 119 frames stay distinct and below white)."""
    return 16 + 2 * i


def link(src: Path, dests: Iterable[Path]) -> int:
    """Hard-link `src` to every path of `dests` (parents created); a copy where the file system refuses links."""
    n = 0
    made: set[Path] = set()
    for dest in dests:
        if dest.parent not in made:
            dest.parent.mkdir(parents=True, exist_ok=True)
            made.add(dest.parent)
        try:
            os.link(src, dest)
        except FileExistsError:
            continue
        except OSError:
            shutil.copyfile(src, dest)
        n += 1
    return n


# ------------------------------------------------------------------------------------------------------------------
# UCF101 and HMDB51: the official split files byte for byte, every listed video


def ucf101(root: Path, video: Path) -> Path:
    """<root>/ucfTrainTestlist (the official files) and <root>/UCF-101/<Class>/<name>.avi for every video the three
    splits list (13,320; HandstandPushups/v_HandStandPushups_* included)."""
    lists = root / "ucfTrainTestlist"
    shutil.copytree(SPLITS / "ucf101", lists)
    names = set()
    for path in sorted(lists.glob("*list0[123].txt")):
        names |= {line.split()[0] for line in path.read_text().splitlines() if line.strip()}
    link(video, (root / "UCF-101" / name for name in sorted(names)))
    return root


def hmdb51(root: Path, video: Path) -> Path:
    """<root>/testTrainMulti_7030_splits (the official files) and <root>/<class>/<video>.avi for every listed video."""
    split_dir = root / "testTrainMulti_7030_splits"
    shutil.copytree(SPLITS / "hmdb51", split_dir)
    dests = []
    for path in sorted(split_dir.glob("*_test_split1.txt")):
        cls = path.name[: -len("_test_split1.txt")]
        dests += [root / cls / line.split()[0] for line in path.read_text().splitlines() if line.strip()]
    link(video, dests)
    return root


# ------------------------------------------------------------------------------------------------------------------
# Kinetics-400: train.csv / validate.csv, <youtube_id>_<start:06d>_<end:06d>.mp4

_YT_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def youtube_ids(n: int, seed: int = 0) -> list[str]:
    """n distinct 11-character YouTube ids (some start with '-' or contain '_', as real ones do)."""
    rng = random.Random(seed)
    out: dict[str, None] = {}
    while len(out) < n:
        out["".join(rng.choice(_YT_CHARS) for _ in range(11))] = None
    return list(out)


def kinetics400(
    root: Path,
    videos: Sequence[Path],
    labels: Sequence[str] = K400_LABELS,
    train_per_class: int = 2,
    val_per_class: int = 1,
    missing: int = 1,
    seed: int = 0,
) -> dict[str, list[dict[str, str]]]:
    """train.csv / validate.csv in the official columns (label,youtube_id,time_start,time_end,split,is_cc), the train
    clips in per-label folders (train/<label>/..., the older crawler's copy) and the validation clips flat in val/ (the
    CVDF copy's), each clip a hard link to one of `videos` in turn. The last `missing` rows of each CSV have no clip on
    disk (YouTube takedowns). Returns the CSV rows per split ("train", "test")."""
    ids = iter(youtube_ids(len(labels) * (train_per_class + val_per_class) + 2 * missing, seed))
    rng = random.Random(seed)
    rows: dict[str, list[dict[str, str]]] = {"train": [], "test": []}
    links: dict[Path, list[Path]] = {v: [] for v in videos}
    k = 0
    for split, csv_split, per_class in (("train", "train", train_per_class), ("test", "val", val_per_class)):
        for label in labels:
            for _ in range(per_class):
                start = rng.randrange(0, 300)
                row = {
                    "label": label,
                    "youtube_id": next(ids),
                    "time_start": str(start),
                    "time_end": str(start + 10),
                    "split": "train" if split == "train" else "val",
                    "is_cc": "0",
                }
                rows[split].append(row)
                name = f"{row['youtube_id']}_{start:06d}_{start + 10:06d}.mp4"
                folder = root / csv_split / label if split == "train" else root / csv_split
                links[videos[k % len(videos)]].append(folder / name)
                k += 1
        for _ in range(missing):  # listed, never downloaded
            rows[split].append(
                {
                    "label": labels[0],
                    "youtube_id": next(ids),
                    "time_start": "0",
                    "time_end": "10",
                    "split": "train" if split == "train" else "val",
                    "is_cc": "0",
                }
            )
    root.mkdir(parents=True, exist_ok=True)
    for split, name in (("train", "train.csv"), ("test", "validate.csv")):
        with open(root / name, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=["label", "youtube_id", "time_start", "time_end", "split", "is_cc"])
            writer.writeheader()
            writer.writerows(rows[split])
    for video, dests in links.items():
        link(video, dests)
    return rows


def k400_stem(row: dict[str, str]) -> str:
    return f"{row['youtube_id']}_{int(row['time_start']):06d}_{int(row['time_end']):06d}"


# ------------------------------------------------------------------------------------------------------------------
# SSv2: something-something-v2-{train,validation,labels}.json, 20bn-something-something-v2/<id>.webm

_PLACEHOLDERS = re.compile(r"\b(number of something|something|somewhere|part)\b")


def ssv2_template(cls: str) -> str:
    """The annotation's template for a class: its placeholders in brackets ("Putting [something] onto [something]")."""
    return _PLACEHOLDERS.sub(
        lambda m: "[number of] [something]" if m.group(1) == "number of something" else f"[{m.group(1)}]", cls
    )


def ssv2(
    root: Path,
    videos: Sequence[Path],
    classes: Sequence[str] = SSV2_CLASSES,
    train_per_class: int = 2,
    val_per_class: int = 1,
    missing: int = 1,
    seed: int = 0,
) -> dict[str, list[dict[str, object]]]:
    """The three official JSON files in <root> (labels: {class: "id"}, ids in the sorted order of `classes`; entries
    {"id", "label", "template", "placeholders"}) and <root>/20bn-something-something-v2/<id>.webm, each a hard link to
    one of `videos` in turn; the last `missing` entries of each split have no video. Returns the entries per split."""
    classes = sorted(classes)
    rng = random.Random(seed)
    ids = iter(
        str(i) for i in rng.sample(range(1, 220_848), len(classes) * (train_per_class + val_per_class) + 2 * missing)
    )
    entries: dict[str, list[dict[str, object]]] = {"train": [], "test": []}
    links: dict[Path, list[Path]] = {v: [] for v in videos}
    video_dir = root / "20bn-something-something-v2"
    k = 0
    for split, per_class in (("train", train_per_class), ("test", val_per_class)):
        order = [c for c in classes for _ in range(per_class)]
        rng.shuffle(order)  # the official files are not grouped by class
        for cls in order + [classes[0]] * missing:
            template = ssv2_template(cls)
            holes = template.count("[") - template.count("[number of]")
            objects = [rng.choice(["cup", "pen", "phone", "book", "spoon"]) for _ in range(holes)]
            entries[split].append(
                {"id": next(ids), "label": cls.lower(), "template": template, "placeholders": objects}
            )
        for item in entries[split][: len(order)]:
            links[videos[k % len(videos)]].append(video_dir / f"{item['id']}.webm")
            k += 1
    root.mkdir(parents=True, exist_ok=True)
    (root / "something-something-v2-labels.json").write_text(
        json.dumps({c: str(i) for i, c in enumerate(classes)}, indent=1)
    )
    (root / "something-something-v2-train.json").write_text(json.dumps(entries["train"]))
    (root / "something-something-v2-validation.json").write_text(json.dumps(entries["test"]))
    for video, dests in links.items():
        link(video, dests)
    return entries
