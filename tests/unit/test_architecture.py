"""The architecture as code: the types check (mypy, disallow_untyped_defs) and the stages' import layers hold
(import-linter contracts in pyproject.toml); a type error or an import that backs up a stage fails here."""

import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

BIN = Path(sys.executable).parent


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)


def test_mypy_is_clean_on_the_package() -> None:
    checked = run(sys.executable, "-m", "mypy")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_import_layers_hold() -> None:
    lint = shutil.which("lint-imports", path=str(BIN)) or "lint-imports"
    checked = run(lint, "--no-cache")
    assert checked.returncode == 0 and "0 broken" in checked.stdout, checked.stdout + checked.stderr
