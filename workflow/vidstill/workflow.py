"""Helpers the Snakefile needs before any job runs (kept free of torch imports: planning a DAG must stay fast)."""

from __future__ import annotations

import os
from pathlib import Path


def export_library_path(library_root: str | Path) -> None:
    """Prepend the source tree's `workflow/` to PYTHONPATH so every job imports this checkout's `vidstill`, also in
    environments where the package is not installed (`--sdm conda`, cluster nodes)."""
    entries = [str(library_root), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(entries))


def library_modules(module: str, library: Path) -> list[str]:
    """`module` (a file relative to the library root, e.g. 'methods/dc.py') and every vidstill module it imports,
    transitively, sorted: what a result computed by `module` depends on. Found by parsing, so hashing these files
    (common.smk's code_hash) reruns a method when a helper it imports changes, and only then."""
    import ast

    def path_of(name: str) -> str | None:
        rel = name.removeprefix("vidstill").lstrip(".").replace(".", "/")
        for candidate in (f"{rel}/__init__.py" if rel else "__init__.py", f"{rel}.py"):
            if (library / candidate).is_file():
                return candidate
        return None

    seen: set[str] = set()
    todo = [module]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        for node in ast.walk(ast.parse((library / current).read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "vidstill":
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names if a.name.split(".")[0] == "vidstill"]
            todo += [p for p in map(path_of, names) if p is not None]
    return sorted(seen)
