"""The suite never reads the developer's APPCTL_* variables or provider keys, and never writes
outside its tmp dirs (scripts/test checks the same for the whole suite)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import runner
from tests.conftest import REPO

LEAKS = {
    "APPCTL_APP_DIR": "/nonexistent/app-dir",
    "APPCTL_SESSION": "from-the-shell",
    "APPCTL_BEARER_TOKEN": "shell-token",
    "OPENAI_API_KEY": "sk-shell",
    "ANTHROPIC_API_KEY": "sk-ant-shell",
    "GEMINI_API_KEY": "shell-gemini",
}


def test_the_autouse_fixture_took_the_shell_variables_out() -> None:
    assert runner.shell_leaks(os.environ) == []


def test_a_child_gets_path_and_what_the_test_passes_only(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in LEAKS.items():
        monkeypatch.setenv(name, value)
    env = runner.child_env({"APPCTL_SESSION": "mine"})
    assert env == {"PATH": os.environ["PATH"], "APPCTL_SESSION": "mine"}
    printed = runner.appctl("--help", cwd=REPO).stdout  # the child starts and works
    assert "sync" in printed


def test_the_suites_own_settings_are_not_leaks() -> None:
    suite = {"APPCTL_TEST_POSTGRES_URL": "x", "APPCTL_REQUIRE_DBS": "1", "APPCTL_CORPUS": "full"}
    assert runner.shell_leaks({**suite, **LEAKS}) == sorted(LEAKS)


def test_a_shell_app_dir_is_left_untouched(tmp_path: Path) -> None:
    """pytest started with APPCTL_APP_DIR (and provider keys) set in its environment: the CLI
    tests sync, call and print tools, and that directory stays empty (the CLI tests once wrote
    schema.json into it)."""
    app_dir = tmp_path / "developers-app-dir"
    app_dir.mkdir()
    env = {**os.environ, **LEAKS, "APPCTL_APP_DIR": str(app_dir)}
    env.pop("PYTEST_XDIST_WORKER", None)
    tests = ["tests/cli/test_cli.py", "tests/execute/test_fixture_app.py"]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", *tests],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert list(app_dir.iterdir()) == []
