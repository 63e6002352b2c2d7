"""Indexers: read each real dataset's original on-disk layout into the one index table of DESIGN.md.

The pipeline promises that a user who symlinks UCF101 / HMDB51 / Kinetics-400 / SSv2 under `resources/datasets/`
*as the official releases unpack* gets the papers' tables. So every layout is read from its official split or
annotation files (never from a re-packed CSV of our own), with the releases' quirks handled here, once:

- UCF101: CRLF split files; the `HandstandPushups` folder whose files are named `v_HandStandPushups_*` (the class is
  taken from the folder, never from the file name); test lists without labels; groups `gNN` are per class.
- HMDB51: one split file per class and split number, `<video>.avi <0|1|2> ` with a trailing space; 0 = unused.
- Kinetics-400: clips named `<youtube_id>_<start:06d>_<end:06d>.mp4`, flat or in per-label folders depending on the
  copy; many clips of the CSVs are missing on disk (YouTube takedowns), which is an error row, not a failure.
- SSv2: the class is the *template* with its brackets removed, numbered by the labels JSON.

Three steps, each usable alone:
`check_layout` (cheap, no decoding; the Snakefile calls it at start-up so a bad root stops the run before any job),
`read_layout` (the split rows, with "missing file" errors), `probe_videos` (decord metadata, never raises) and
`build_index` (all of it, plus the min-frames rule, the skipped-video log and the per-class sanity checks).

Modules: `common` (what every layout shares), one per layout (`ucf101`, which also reads the synthetic dataset;
`hmdb51`; `kinetics400`; `ssv2`), `probe` (decord metadata) and `index` (the steps).
"""

from vidstill.data.indexers.common import LAYOUT_DOCS, LAYOUTS
from vidstill.data.indexers.index import build_index, check_layout, read_layout
from vidstill.data.indexers.probe import PROBE_COLUMNS, probe_videos

__all__ = ["LAYOUTS", "LAYOUT_DOCS", "PROBE_COLUMNS", "build_index", "check_layout", "probe_videos", "read_layout"]
