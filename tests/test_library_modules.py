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
    coresets = library_modules("methods/coresets.py", LIBRARY)
    assert "experts.py" not in coresets and "methods/dm.py" not in coresets
    # a module named by its dotted path (synthetic_set's EXTERNAL_EXPANSIONS) is imported at run time: it counts
    assert "methods/tsgf_saliency.py" in coresets


def test_a_synthetic_library(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("from vidstill.b import x\n")
    (tmp_path / "a.py").write_text("import os\nfrom vidstill.pkg import thing\n")
    (tmp_path / "b.py").write_text("import vidstill.a\n")  # a cycle ends
    assert library_modules("a.py", tmp_path) == ["a.py", "b.py", "pkg/__init__.py"]


def test_lazy_dynamic_and_parent_package_imports_count(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "__init__.py").write_text("")
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "deep.py").write_text("")
    (tmp_path / "lazy.py").write_text("")
    (tmp_path / "named.py").write_text("")
    (tmp_path / "a.py").write_text(
        "import importlib\nfrom vidstill.pkg.deep import x\n"
        "def f():\n    import vidstill.lazy\n    importlib.import_module('vidstill.named')\n"
    )
    assert library_modules("a.py", tmp_path) == [
        "__init__.py",
        "a.py",
        "lazy.py",
        "named.py",
        "pkg/__init__.py",
        "pkg/deep.py",
    ]
    script = tmp_path.parent / "script.py"  # a workflow script outside the library: not listed itself
    script.write_text("from vidstill.lazy import y\n")
    assert library_modules(script, tmp_path) == ["__init__.py", "lazy.py"]
