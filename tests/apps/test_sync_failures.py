"""An app that raises at import, one that hangs at import, one in a venv without its
framework: ``appctl sync --app`` ends each with a clear error within its time limit and
writes nothing (no contract, or the committed one unchanged)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from tests import runner
from tests.apps.helpers import app_env, copied

LIMIT = 5  # --timeout for the hanging app


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copied("broken", tmp_path)


def _sync(
    project: Path, target: str, python: Path, *more: str, **env: str
) -> subprocess.CompletedProcess[str]:
    return runner.appctl(
        "sync",
        "--app",
        target,
        "--python",
        str(python),
        *more,
        cwd=project,
        code=1,
        env=app_env(**env),
    )


def test_an_app_that_raises_at_import(apps_python: Path, project: Path) -> None:
    failed = _sync(project, "raises:app", apps_python)
    assert "error: importing raises:app raised KeyError: 'database_url' (raises.py:7)" in (
        failed.stderr
    )
    assert "nothing was written" in failed.stderr
    assert not (project / ".appctl" / "schema.json").exists()


def test_an_app_that_hangs_at_import(apps_python: Path, project: Path, tmp_path: Path) -> None:
    started = time.monotonic()
    failed = _sync(
        project,
        "hangs:app",
        apps_python,
        "--timeout",
        str(LIMIT),
        HANG_PIDFILE=str(tmp_path / "helper.pid"),
    )
    assert time.monotonic() - started < LIMIT + 10  # appctl's own start included
    assert f"did not finish within {LIMIT} s; the process was stopped" in failed.stderr
    assert not (project / ".appctl" / "schema.json").exists()


def test_an_app_in_a_venv_without_its_framework(bare_python: Path, project: Path) -> None:
    failed = _sync(project, "lingers:app", bare_python)
    assert f"error: fastapi is not installed for {bare_python}" in failed.stderr
    assert "--python" in failed.stderr
    assert not (project / ".appctl" / "schema.json").exists()


def test_a_failed_sync_leaves_the_committed_contract_unchanged(
    apps_python: Path, bare_python: Path, project: Path
) -> None:
    runner.appctl(
        "sync", "--app", "lingers:app", "--python", str(apps_python), cwd=project, env=app_env()
    )
    schema = project / ".appctl" / "schema.json"
    committed = schema.read_bytes()
    _sync(project, "lingers:app", bare_python)
    _sync(project, "raises:app", apps_python, "--force")
    assert schema.read_bytes() == committed
