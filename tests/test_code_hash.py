"""Every rule's `code` param is one hash of its script's whole vidstill import closure (vidstill.workflow.source_hash),
so editing any module a job can execute reruns it. Checked against Python's own import scanner (modulefinder), not
against the parser that computes the hash."""

import re
import shutil

import pytest
from code_closure import LIBRARY, RULE_FILES, SCRIPTS, python_imports, rule_blocks

from vidstill.methods import catalogue
from vidstill.workflow import library_modules, source_hash


def test_no_hand_written_module_list_is_left():
    for path in RULE_FILES:
        assert "code_hash(" not in path.read_text(), path


@pytest.mark.parametrize(
    "rule_file,rule,block", list(rule_blocks()), ids=lambda v: v if isinstance(v, str) and "\n" not in v else ""
)
def test_every_script_rule_hashes_its_own_script(rule_file, rule, block):
    script = re.search(r'script:\n\s+"\.\./scripts/(\w+\.py)"', block)
    if script is None:
        return  # no script, no library code (a rule that only collects inputs)
    code = re.search(r"^\s+code=(.+),$", block, re.M)
    assert code, f"{rule_file}: rule {rule} runs {script.group(1)} but has no code param"
    expected = {f'script_code("{script.group(1)}")'} | ({"method_code"} if rule == "distill" else set())
    assert code.group(1) in expected, f"{rule_file}: rule {rule}: code={code.group(1)}, expected one of {expected}"


@pytest.mark.parametrize("script", sorted(p.name for p in SCRIPTS.glob("*.py")))
def test_script_closure_holds_every_module_python_imports(script):
    closure = set(library_modules(SCRIPTS / script, LIBRARY))
    missing = python_imports(SCRIPTS / script) - closure
    assert not missing, f"{script}: imported but not hashed: {sorted(missing)}"


@pytest.mark.parametrize("method", sorted(catalogue()))
def test_method_closure_holds_every_module_python_imports(method):
    module = catalogue()[method].module
    missing = python_imports(LIBRARY / module) - set(library_modules(module, LIBRARY))
    assert not missing, f"{method} ({module}): imported but not hashed: {sorted(missing)}"


def test_the_catalogue_is_what_importing_registers():
    """Planning reads names and needs from the decorators' source; importing every module must agree."""
    from vidstill.methods import METHODS, get_method

    for name in catalogue():
        get_method(name)
    assert {n: (s.module, s.needs) for n, s in METHODS.items()} == {
        n: (i.module, i.needs) for n, i in catalogue().items()
    }


def test_the_hash_moves_with_every_module_of_the_closure_and_no_other(tmp_path):
    lib = tmp_path / "vidstill"
    shutil.copytree(LIBRARY, lib, ignore=shutil.ignore_patterns("__pycache__"))
    script = tmp_path / "teacher.py"
    shutil.copy(SCRIPTS / "teacher.py", script)
    closure = library_modules(script, lib)
    assert {"train.py", "optim.py", "resume.py", "runtime.py", "teacher.py", "__init__.py", "data/__init__.py"} <= set(
        closure
    )
    base = source_hash([script], lib)
    for rel in sorted(p.relative_to(lib).as_posix() for p in lib.rglob("*.py")):
        original = (lib / rel).read_text()
        (lib / rel).write_text(original + "\n# edited\n")
        changed = source_hash([script], lib) != base
        (lib / rel).write_text(original)
        assert changed == (rel in closure), f"{rel}: in closure {rel in closure}, hash changed {changed}"
    script.write_text(script.read_text() + "\n# edited\n")
    assert source_hash([script], lib) != base
