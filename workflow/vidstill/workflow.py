"""Helpers the Snakefile needs before any job runs (kept free of torch imports: planning a DAG must stay fast)."""

from __future__ import annotations

import os
from pathlib import Path


def export_library_path(library_root: str | Path) -> None:
    """Prepend the source tree's `workflow/` to PYTHONPATH so every job imports this checkout's `vidstill`, also in
    environments where the package is not installed (`--sdm conda`, cluster nodes)."""
    entries = [str(library_root), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(entries))
