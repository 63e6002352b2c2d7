"""Helpers the Snakefile needs before any job runs (kept free of torch imports: planning a DAG must stay fast)."""

from __future__ import annotations

import functools
import hashlib
import os
import re
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


_FROM_IMPORT = re.compile(r"^[ \t]*from[ \t]+(vidstill(?:\.\w+)*)[ \t]+import[ \t]*(\([^)]*\)|[^\n]*)", re.MULTILINE)
_IMPORT = re.compile(r"^[ \t]*import[ \t]+([^\n]*)", re.MULTILINE)
_DOTTED_STRING = re.compile(r"""["'](vidstill(?:\.\w+)+)["']""")


def imported_names(source: str) -> list[str]:
    """Every dotted library name this source can import: `import vidstill.x`, `from vidstill.x import y` (both x and
    x.y, since y may be a module), at any depth (function-level imports too, so a lazy import still counts), and every
    string constant that is a dotted library name (the argument of `importlib.import_module`, a registry of
    module names): a dynamic import is a dependency like any other. Read with patterns rather than a parse (the
    planner reads ~80 files; ast.parse of each was a quarter of `snakemake -n`): a match inside a docstring or a
    comment can only add a module to a hash, never leave one out."""
    names: list[str] = []
    for module, imported in _FROM_IMPORT.findall(source):
        imported = imported.split("#")[0] if not imported.startswith("(") else imported
        words = [w.split("#")[0].strip() for w in imported.strip("()").replace("\n", ",").split(",")]
        names += [module] + [f"{module}.{w.split()[0]}" for w in words if w and w.split()[0].isidentifier()]
    for clause in _IMPORT.findall(source):
        names += [w.split()[0] for w in clause.split("#")[0].split(",") if w.strip()]
    names += _DOTTED_STRING.findall(source)
    return [n for n in names if n == PACKAGE or n.startswith(PACKAGE + ".")]


def library_modules(entry: str | Path, library: Path) -> list[str]:
    """The library files (relative to `library`, sorted) that running `entry` can execute: the vidstill modules it
    imports, transitively, with their packages' `__init__.py`. `entry` is a library file relative to `library`
    (e.g. 'methods/dc.py') or any Python file (a workflow script); it is itself listed only when it is a library file.
    Found by parsing, never by importing, so planning stays free of torch."""
    library = Path(library).resolve()
    entry_path = (Path(entry) if Path(entry).is_absolute() else library / entry).resolve()
    start = str(entry_path.relative_to(library)) if entry_path.is_relative_to(library) else None
    seen: set[str] = set()
    todo = [start] if start else []
    todo += list(_direct_imports(entry_path, library))
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        todo += [p for p in _parents(current) if (library / p).is_file()]
        todo += list(_direct_imports(library / current, library))
    return sorted(seen)


def _direct_imports(path: Path, library: Path) -> tuple[str, ...]:
    """The library files `path` names in its imports. Each file is parsed once per version (path, mtime, size): the
    ~90 rules of a workflow share ~40 modules, and parsing them again for every rule was most of `snakemake -n`."""
    stat = path.stat()
    return _parsed_imports(path, library, stat.st_mtime_ns, stat.st_size)


@functools.cache
def _parsed_imports(path: Path, library: Path, mtime_ns: int, size: int) -> tuple[str, ...]:
    return tuple(p for p in map(lambda n: _module_file(n, library), imported_names(path.read_text())) if p)


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
        h.update(rel.encode() + b"\0" + _file_bytes(library / rel) + b"\0")
    return h.hexdigest()[:16]


def _file_bytes(path: Path) -> bytes:
    stat = path.stat()
    return _read_bytes(path, stat.st_mtime_ns, stat.st_size)


@functools.cache
def _read_bytes(path: Path, mtime_ns: int, size: int) -> bytes:
    return path.read_bytes()
