"""What Python itself sees a workflow script or library module import (modulefinder), and which script each rule runs:
the independent side of the code-hash tests (the hash itself is computed by vidstill.workflow's parser)."""

import modulefinder
import re
from pathlib import Path

from conftest import REPO

LIBRARY = REPO / "workflow" / "vidstill"
SCRIPTS = REPO / "workflow" / "scripts"
RULE_FILES = sorted((REPO / "workflow" / "rules").glob("**/*.smk"))  # the stages and the shared helpers (common/)


def rule_blocks():
    """(file name, rule name, block text) of every rule of the workflow."""
    for path in [*RULE_FILES, REPO / "Snakefile"]:
        for block in re.split(r"(?m)^(?=rule \w+:)", path.read_text())[1:]:
            yield path.name, block.split(":", 1)[0].removeprefix("rule "), block


def rule_scripts() -> dict[str, str]:
    """Rule name -> the script (file name under workflow/scripts) it runs."""
    out = {}
    for _, rule, block in rule_blocks():
        m = re.search(r'script:\n\s+"\.\./scripts/(\w+\.py)"', block)
        if m:
            out[rule] = m.group(1)
    return out


def python_imports(path: Path) -> set[str]:
    """The vidstill modules Python's modulefinder sees `path` import (at any depth), as files under vidstill/."""
    finder = modulefinder.ModuleFinder(path=[str(REPO / "workflow")])
    finder.run_script(str(path))
    return {
        str(Path(m.__file__).relative_to(LIBRARY))
        for name, m in finder.modules.items()
        if name.split(".")[0] == "vidstill" and m.__file__
    }
