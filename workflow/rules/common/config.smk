# The config, checked before any job starts: the JSON schema (fills defaults), then the typed settings. Also makes the
# library (workflow/vidstill) importable by the Snakefile and by every job, and imports its planning helpers.
import sys
from pathlib import Path

from snakemake.utils import validate

validate(config, workflow.source_path("../../schemas/config.schema.yaml"))


LIBRARY = Path(workflow.basedir) / "workflow" / "vidstill"
# The library is importable by the Snakefile and by every job (scripts, --sdm conda envs, cluster jobs) from the
# source tree, whether or not the package is installed in the environment that runs it.
sys.path.insert(0, str(LIBRARY.parent))
from vidstill.planning import alternation, canonical  # noqa: E402  (pure helpers of planning, unit tested)
from vidstill.settings import SettingsError, check_config  # noqa: E402  (torch-free dataclasses)
from vidstill.workflow import export_library_path  # noqa: E402

export_library_path(LIBRARY.parent)


# The typed settings (vidstill/settings.py, vidstill/methods/settings.py): each section and every method instance
# built once from the config, so an unknown key, a wrong type or an out-of-range value stops planning with the key's
# full path and the keys accepted there (the schema above leaves a method instance's keys to its settings class).
try:
    METHOD_SETTINGS = check_config(config)
except SettingsError as e:
    raise WorkflowError(f"config: {e}")
