"""The page that links a table's exported sets and their previews (results/export/{table}/index.html), and the class
names an export takes from a dataset's clip table (one implementation for the workflow and the `vidstill` command).

Each set's contact sheet is embedded (base64), so the page shows the sets inside the Snakemake HTML report too; the
per-class GIFs and the set files are linked by paths relative to the page, which work when it is opened from the
results directory.
"""

from __future__ import annotations

import base64
import html
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vidstill.io import atomic_path

CONTACT_SHEET = "preview/contact_sheet.png"


def class_names(store: Any) -> list[str]:
    """The class name of every label of a clip store, in label order."""
    names = store.table.drop_duplicates("label").set_index("label")["class"]
    return [str(names.get(k, f"class_{k}")) for k in range(store.num_classes)]


def write_index(entries: Sequence[dict[str, Any]], path: str | Path, table: str) -> None:
    """One row per exported set: its cell, what it stores, its embedded contact sheet, links to its GIFs and files."""
    path = Path(path)
    rows = []
    for e in entries:
        folder = Path(e["path"])
        rel = Path(os.path.relpath(folder, path.parent)).as_posix()
        info = e["info"]
        sheet = folder / CONTACT_SHEET
        img = (
            f'<img alt="contact sheet" style="max-width:640px" src="data:image/png;base64,'
            f'{base64.b64encode(sheet.read_bytes()).decode()}">'
            if sheet.is_file()
            else "no preview"
        )
        gifs = " ".join(
            f'<a href="{html.escape(rel)}/preview/{html.escape(g.name)}">{html.escape(g.stem.split("_", 1)[-1])}</a>'
            for g in sorted((folder / "preview").glob("*.gif"))
        )
        rows.append(
            f"<tr><td>{html.escape(str(e['dataset']))}</td><td>{html.escape(str(e['method']))}</td><td>{e['ipc']}</td>"
            f"<td>{e['seed']}</td><td>{info['items']} items, {info['labels']['kind']} labels, "
            f"{info['portable']['distinct_frames']} distinct frames, {info['storage_bytes'] / 2**20:.2f} MB stored; "
            f"expansion {html.escape(info['expansion'])}</td><td>{img}<br>GIF per class: {gifs}<br>"
            f'<a href="{html.escape(rel)}/set.safetensors">set.safetensors</a> · '
            f'<a href="{html.escape(rel)}/set.json">set.json</a></td></tr>'
        )
    page = (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(table)}: exported sets</title></head>"
        f"<body><h1>{html.escape(table)}: every distilled set, exported</h1>"
        "<p>Evaluate one anywhere: "
        "<code>vidstill evaluate SET_DIR --dataset NAME [--protocol native|hard|soft]</code>. "
        'Format: README, "Taking a distilled set away".</p>'
        "<table border='1' cellpadding='4'><tr><th>dataset</th><th>method</th><th>IPC</th><th>seed</th><th>set</th>"
        "<th>preview</th></tr>" + "\n".join(rows) + "</table></body></html>\n"
    )
    with atomic_path(path) as tmp:
        tmp.write_text(page)
