"""The frameworks venv the app tests import real apps with (scripts/setup makes it from
scripts/apps/requirements.txt), and a bare venv without any framework.

``apps_python`` is that venv's interpreter; the tests skip when it is missing, unless
APPCTL_REQUIRE_APPS=1 (scripts/test sets it), when a missing venv is an error, never a skip.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

APPS_VENV = REPO / ".cache" / "apps-venv"
APPS = REPO / "fixtures" / "apps"  # the small apps, one folder per framework
REQUIRE_VAR = "APPCTL_REQUIRE_APPS"


def required() -> bool:
    return os.environ.get(REQUIRE_VAR, "") not in ("", "0")


@pytest.fixture(scope="session")
def apps_python() -> Path:
    """The frameworks venv's python (FastAPI, Flask, Django, ... pinned)."""
    python = APPS_VENV / "bin" / "python"
    stamp = APPS_VENV / "requirements.txt"  # written last: the install finished
    if python.is_file() and stamp.is_file():
        return python
    why = f"no frameworks venv at {APPS_VENV}: run scripts/setup"
    if required():
        pytest.fail(f"{REQUIRE_VAR}=1 but {why}")
    pytest.skip(why)


@pytest.fixture(scope="session")
def bare_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv's python with no framework installed (and no pip: nothing to install with)."""
    venv = tmp_path_factory.mktemp("bare-venv")
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return venv / "bin" / "python"
