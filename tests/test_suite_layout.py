"""The test suite's own rules: no test module imports another (shared fixtures are in conftest.py, shared helpers in
helpers.py), so any module runs alone and the modules run in any order. (Markers: pyproject's --strict-markers
fails a run that uses one it does not register.)"""

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
MODULES = sorted(TESTS.glob("test_*.py"))


def imported_modules(path: Path) -> set[str]:
    """The top-level names of every module `path` imports, anywhere in it (also inside functions)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_no_test_module_imports_another(path):
    others = {p.stem for p in MODULES}
    assert not imported_modules(path) & others, (
        f"{path.name} imports a test module: move what it shares to "
        "conftest.py (fixtures) or helpers.py (plain functions)"
    )


def test_the_check_sees_imports(tmp_path):
    bad = tmp_path / "test_bad.py"
    bad.write_text("import test_x.sub\nfrom test_y import z\n\ndef f():\n    from test_w import v\n")
    assert {"test_x", "test_y", "test_w"} <= imported_modules(bad)
