"""The code a method's result depends on is found by parsing its imports, so editing a helper reruns exactly the
methods that import it."""

from pathlib import Path

from vidstill.workflow import library_modules

LIBRARY = Path(__file__).resolve().parents[1] / "workflow" / "vidstill"


def test_transitive_imports_are_found():
    dc = library_modules("methods/dc.py", LIBRARY)
    assert {"methods/dc.py", "augment.py", "methods/dm.py", "data/clips.py", "methods/__init__.py"} <= set(dc)
    assert "experts.py" not in dc and "methods/mtt.py" not in dc
    assert "experts.py" in library_modules("methods/mtt.py", LIBRARY)
    assert "augment.py" not in library_modules("methods/coresets.py", LIBRARY)


def test_a_synthetic_library(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("from vidstill.b import x\n")
    (tmp_path / "a.py").write_text("import os\nfrom vidstill.pkg import thing\n")
    (tmp_path / "b.py").write_text("import vidstill.a\n")  # a cycle ends
    assert library_modules("a.py", tmp_path) == ["a.py", "b.py", "pkg/__init__.py"]
