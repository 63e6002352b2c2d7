"""Class subsets of an index: MiniUCF from a shipped class list, TR-UCF from the Δ-ranking.

A subset is a *restriction* of the parent dataset's index, never a re-indexing of the videos: the rows keep their
id, path, split and group, so a subset of UCF101 split 1 is exactly UCF101 split 1 restricted to those classes (the
VDSD MiniUCF definition). Only the labels change, to 0..K-1 in sorted class order (the order the papers' class lists
use), and the parent's label stays beside them so results can be mapped back.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd


def read_class_list(path: str | Path) -> list[str]:
    """Class names, one per line: whitespace and CR stripped, blank lines skipped, returned sorted (= label order).

    Sorted because the label of a class in a subset is its position in the sorted list; returning another order
    would invite callers to number classes differently from `restrict_to_classes`. Repeats are an error (a typo in a
    shipped list should not silently shrink the subset)."""
    path = Path(path)
    names = [line.strip() for line in path.read_text(encoding="utf-8-sig").splitlines()]
    names = [n for n in names if n]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"class list {path} names these classes more than once: {', '.join(repeated)}")
    return sorted(names)


def restrict_to_classes(index: pd.DataFrame, classes: Sequence[str], source: str = "") -> pd.DataFrame:
    """Rows of `index` whose class is in `classes`, labels renumbered 0..K-1 by position in sorted(classes).

    The original label is kept as `parent_label`. Class names unknown to the index raise ValueError listing them
    (and `source`, e.g. the class-list file), because a misspelt class would otherwise just vanish from the subset."""
    wanted = sorted(set(classes))
    if not wanted:
        raise ValueError(f"empty class list{_from(source)}")
    known = set(index["class"])
    unknown = [c for c in wanted if c not in known]
    if unknown:
        raise ValueError(f"{len(unknown)} class(es){_from(source)} not in the index: {', '.join(unknown)}")
    position = {c: i for i, c in enumerate(wanted)}
    out = index[index["class"].isin(position)].copy()
    out["parent_label"] = out["label"].astype("int64")
    out["label"] = out["class"].map(position).astype("int64")
    return out.reset_index(drop=True)


def _from(source: str) -> str:
    return f" from {source}" if source else ""
