"""Datasets: the synthetic generator, the indexers of each on-disk layout, the clip store and the clip sampler."""

# Columns of results/{dataset}/index.parquet, in order. `error` is "" for a usable video, else the reason it is
# skipped (the video stays listed). `split` is "train", "test" or "unused" (HMDB51's 0 lines).
INDEX_COLUMNS = (
    "id",  # unique video id within the dataset (file stem, or SSv2 numeric id)
    "path",  # absolute path of the video file
    "class",  # class name as the dataset spells it
    "label",  # int, 0-based index of `class` in the dataset's sorted/official class list
    "split",  # "train" | "test" | "unused"
    "group",  # UCF101 gNN, HMDB51/K400/SSv2: the video id (no grouping); never straddles train/test
    "frames",  # int, decoded frame count (0 when unreadable)
    "fps",  # float
    "width",  # int
    "height",  # int
    "error",  # str, "" when usable
)


class DatasetLayoutError(Exception):
    """The dataset root or a split/annotation file is missing or malformed: the run must stop before any job."""
