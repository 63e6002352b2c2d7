"""Artifact I/O with the contract of DESIGN.md: single files, written atomically, no pickle.

Every writer goes through `atomic_path`, so an interrupted job never leaves a complete-looking half file: the data
lands under a temporary name in the same directory and is renamed into place only after it was fully written.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:  # torch is imported by the jobs that load tensors, never by planning (which reads metadata only)
    import torch


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it onto `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp" + path.suffix, dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        tmp_path.unlink(missing_ok=True)


def write_parquet(df: pd.DataFrame, path: str | Path, metadata: Mapping[str, Any] | None = None) -> None:
    """Parquet with optional JSON metadata stored in the file's schema (read back by `read_parquet_metadata`)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df, preserve_index=False)
    if metadata:
        meta = dict(table.schema.metadata or {})
        meta[b"vidstill"] = json.dumps(metadata, sort_keys=True).encode()
        table = table.replace_schema_metadata(meta)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)


def read_parquet_metadata(path: str | Path) -> dict[str, Any]:
    import pyarrow.parquet as pq

    meta = pq.read_schema(path).metadata or {}
    raw = meta.get(b"vidstill")
    return json.loads(raw) if raw else {}


def write_json(obj: Any, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=_json_default) + "\n")


def _json_default(o: Any) -> Any:
    if hasattr(o, "item"):
        return o.item()
    if hasattr(o, "tolist"):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def save_tensors(
    tensors: Mapping[str, torch.Tensor], path: str | Path, metadata: Mapping[str, Any] | None = None
) -> None:
    """safetensors with a JSON metadata blob under the key 'vidstill' (safetensors metadata is str -> str)."""
    from safetensors.torch import save_file

    meta = {"vidstill": json.dumps(metadata or {}, sort_keys=True, default=_json_default)}
    with atomic_path(path) as tmp:
        save_file({k: v.detach().contiguous().cpu() for k, v in tensors.items()}, str(tmp), metadata=meta)


def read_tensors_metadata(path: str | Path) -> dict[str, Any]:
    """The JSON metadata of a safetensors file written by `save_tensors`, without reading its tensors or importing
    torch: the format's header is an 8-byte little-endian length, then a JSON object whose `__metadata__` is ours."""
    with open(path, "rb") as f:
        head = f.read(8)
        size = int.from_bytes(head, "little") if len(head) == 8 else -1
        if size <= 0 or size > 100_000_000:
            raise ValueError(f"{path}: not a safetensors file (bad header length)")
        header = json.loads(f.read(size))
    return json.loads((header.get("__metadata__") or {}).get("vidstill", "{}"))


def load_tensors(
    path: str | Path, device: str | torch.device = "cpu"
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    from safetensors import safe_open

    tensors: dict[str, torch.Tensor] = {}
    with safe_open(str(path), framework="pt", device=str(device)) as f:
        meta = json.loads((f.metadata() or {}).get("vidstill", "{}"))
        for key in f.keys():
            tensors[key] = f.get_tensor(key)
    return tensors, meta
