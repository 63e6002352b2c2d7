"""Helpers the Snakefile needs before any job runs (kept free of torch imports: planning a DAG must stay fast)."""

from __future__ import annotations

import ast
import functools
import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

PACKAGE = "vidstill"


def export_library_path(library_root: str | Path) -> None:
    """Prepend the source tree's `workflow/` to PYTHONPATH so every job imports this checkout's `vidstill`, also in
    environments where the package is not installed (`--sdm conda`, cluster nodes)."""
    entries = [str(library_root), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(entries))


def _module_file(dotted: str, library: Path) -> str | None:
    """The library file (relative to the library root) that `import <dotted>` loads, or None when `dotted` is not a
    module of the library (a name imported from a module, or another package)."""
    if dotted != PACKAGE and not dotted.startswith(PACKAGE + "."):
        return None
    rel = dotted.removeprefix(PACKAGE).lstrip(".").replace(".", "/")
    for candidate in (f"{rel}/__init__.py" if rel else "__init__.py", f"{rel}.py"):
        if (library / candidate).is_file():
            return candidate
    return None


def _parents(rel: str) -> list[str]:
    """The `__init__.py` of every package above `rel`: importing `vidstill.data.clips` runs `vidstill/__init__.py`
    and `vidstill/data/__init__.py` first, so they are part of what the import executes."""
    parts = Path(rel).parts[:-1]
    return [str(Path(*parts[:i], "__init__.py")) for i in range(len(parts) + 1)]


def imported_names(source: str) -> list[str]:
    """Every dotted library name this source can import: `import vidstill.x`, `from vidstill.x import y` (both x and
    x.y, since y may be a module), at any depth (function-level imports too, so a lazy import still counts), and every
    string constant that is a dotted library name (`importlib.import_module("vidstill.saliency")`, a registry of
    module names): a dynamic import is a dependency like any other."""
    names: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names += [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith(PACKAGE + "."):
            names.append(node.value)
    return [n for n in names if n == PACKAGE or n.startswith(PACKAGE + ".")]


def library_modules(entry: str | Path, library: Path) -> list[str]:
    """The library files (relative to `library`, sorted) that running `entry` can execute: the vidstill modules it
    imports, transitively, with their packages' `__init__.py`. `entry` is a library file relative to `library`
    (e.g. 'methods/dc.py') or any Python file (a workflow script); it is itself listed only when it is a library file.
    Found by parsing, never by importing, so planning stays free of torch."""
    library = Path(library)
    entry_path = Path(entry) if Path(entry).is_absolute() else library / entry
    start = str(entry_path.resolve().relative_to(library.resolve())) if entry_path.resolve().is_relative_to(library.resolve()) else None
    seen: set[str] = set()
    todo = [start] if start else []
    todo += [p for p in map(lambda n: _module_file(n, library), imported_names(entry_path.read_text())) if p]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        todo += [p for p in _parents(current) if (library / p).is_file()]
        todo += [p for p in map(lambda n: _module_file(n, library), imported_names((library / current).read_text())) if p]
    return sorted(seen)


@functools.cache
def _closure(entries: tuple[str, ...], library: str) -> tuple[str, ...]:
    return tuple(sorted({m for e in entries for m in library_modules(e, Path(library))}))


def source_hash(entries: Iterable[str | Path], library: str | Path) -> str:
    """One hash of the entry files and every library module they can execute (names and bytes): the `code` param of
    every rule, so editing any module a job imports, however deep, reruns that job, and editing one it does not import
    never does. Entries are workflow scripts (absolute paths) or library files (relative to `library`)."""
    library = Path(library).resolve()
    entries = tuple(str(e) for e in entries)
    h = hashlib.sha256()
    scripts = sorted(e for e in entries if Path(e).is_absolute() and not Path(e).resolve().is_relative_to(library))
    for script in scripts:
        h.update(Path(script).name.encode() + b"\0" + Path(script).read_bytes() + b"\0")
    for rel in _closure(entries, str(library)):
        h.update(rel.encode() + b"\0" + (library / rel).read_bytes() + b"\0")
    return h.hexdigest()[:16]
