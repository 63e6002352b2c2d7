# The `code` param of every script-running rule is one hash of the script's whole vidstill import closure.
from vidstill.workflow import source_hash

SCRIPTS = Path(workflow.basedir) / "workflow" / "scripts"


def script_code(script, *modules):
    """The `code` param of every rule: one hash of its script (under workflow/scripts) and of every library module the
    script can execute, found by following its imports (vidstill.workflow.source_hash). Never a hand-written list:
    editing any helper a job imports, however deep, reruns the job (Snakemake's own code trigger sees only the
    script). `modules` adds library files a script loads by name at run time (the distill rule's method)."""
    return source_hash([SCRIPTS / script, *modules], LIBRARY)


def method_code(wildcards):
    """The distill rule's code: its script and the method's module (found without importing it, like every closure)."""
    return script_code("distill.py", method_module(method_impl(wildcards.method)))
