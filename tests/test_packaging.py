"""The install paths agree: pyproject (the locked uv env), the conda env file, the README and CI."""

import re
import tomllib

import yaml
from conftest import REPO

# PyPI name → conda-forge name where they differ.
CONDA_NAME = {"torch": "pytorch", "opencv-contrib-python-headless": "opencv"}


def _split(req: str) -> tuple[str, str]:
    m = re.match(r"^([A-Za-z0-9_.\-]+)\s*(.*)$", req.strip())
    return m.group(1).lower(), m.group(2).replace(" ", "")


def test_conda_env_matches_pyproject():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    pypi = dict(_split(r) for r in project["project"]["dependencies"] + project["dependency-groups"]["test"])
    env = yaml.safe_load((REPO / "envs/vidstill.yaml").read_text())
    conda = dict(_split(d) for d in env["dependencies"] if isinstance(d, str) and not d.startswith("python "))
    assert {CONDA_NAME.get(k, k): v for k, v in pypi.items()} == conda


def test_ci_runs_the_readme_test_command():
    readme = (REPO / "README.md").read_text()
    commands = re.findall(r"^```sh\n(.+?)\n```", readme, flags=re.M | re.S)
    assert len(commands) == 2, "README keeps exactly two set-up commands (main job, tests)"
    ci = (REPO / ".ci/run").read_text()
    assert commands[1] in ci
    assert "snakemake --cores all results/tables/table1.csv" in commands[0]


def test_csrt_is_not_shadowed():
    """ultralytics pulls opencv-python, which hides the contrib build's CSRT tracker; the lock overrides it away."""
    import cv2

    assert hasattr(cv2, "TrackerCSRT"), f"cv2 at {cv2.__file__} has no TrackerCSRT (opencv-python shadows contrib?)"
    cv2.TrackerCSRT.create()
