"""Test setup: the library is importable from the source tree (also without an installed env), and the workflow
tests can find the repository root and the smoke config."""

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow"))
