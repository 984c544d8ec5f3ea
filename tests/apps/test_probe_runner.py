"""``sync/app/run.probe``: a probe runs in another interpreter, in the project directory, within
a time limit; every way it can fail is a categorised error naming what to do."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from appctl.errors import SourceError, UsageError
from appctl.sync.app.run import default_python, probe
from tests.apps.conftest import APPS

BROKEN = APPS / "broken"
ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}


def _probe(python: Path | str, target: str, *, timeout: float = 60, **env: str) -> object:
    return probe(
        str(python), "openapi", [target], cwd=BROKEN, timeout=timeout, environ={**ENV, **env}
    )


def test_the_apps_prints_and_threads_do_not_spoil_the_result(apps_python: Path) -> None:
    found = _probe(apps_python, "lingers:app")
    assert isinstance(found, dict)
    assert found["framework"] == "fastapi"
    assert found["document"]["info"]["title"] == "Lingers"
    assert list(found["document"]["paths"]) == ["/ping"]


def test_an_import_that_raises_is_a_source_error_with_its_last_line(apps_python: Path) -> None:
    with pytest.raises(SourceError) as caught:
        _probe(apps_python, "raises:app")
    message = str(caught.value)
    assert "importing raises:app raised KeyError: 'database_url' (raises.py:7)" in message
    assert "nothing was written" in caught.value.suggestion


def test_an_import_that_hangs_is_stopped_with_its_children(
    apps_python: Path, tmp_path: Path
) -> None:
    pidfile = tmp_path / "helper.pid"
    started = time.monotonic()
    with pytest.raises(SourceError) as caught:
        _probe(apps_python, "hangs:app", timeout=4, HANG_PIDFILE=str(pidfile))
    assert time.monotonic() - started < 4 + 3
    assert "did not finish within 4 s" in str(caught.value)
    assert "--timeout" in caught.value.suggestion
    helper = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while _alive(helper) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(helper), "the app's helper process outlived the time limit"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat")  # a zombie is gone but for its exit status
    return not (status.exists() and status.read_text().split(") ")[-1].startswith("Z"))


def test_a_venv_without_the_framework_says_which_and_what_to_do(bare_python: Path) -> None:
    with pytest.raises(SourceError) as caught:
        _probe(bare_python, "lingers:app")
    assert f"fastapi is not installed for {bare_python}" in str(caught.value)
    assert "--python" in caught.value.suggestion


def test_a_missing_interpreter_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot run"):
        _probe(tmp_path / "no-such-venv" / "bin" / "python", "lingers:app")
    with pytest.raises(UsageError, match="no python-appctl-nowhere on PATH"):
        _probe("python-appctl-nowhere", "lingers:app")


def test_a_wrong_attribute_or_module_or_object_is_named(apps_python: Path) -> None:
    with pytest.raises(UsageError, match=r"has no attribute 'ap'\. Did you mean 'app'"):
        _probe(apps_python, "lingers:ap")
    with pytest.raises(UsageError, match="finds no module 'lingerz'"):
        _probe(apps_python, "lingerz:app")
    with pytest.raises(UsageError, match=r"notanapp:app is a builtins\.dict, not an app"):
        _probe(apps_python, "notanapp:app")


def test_an_interpreter_that_cannot_run_the_probe_is_reported(tmp_path: Path) -> None:
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho 'this is not python' >&2\nexit 3\n")
    fake.chmod(0o755)
    with pytest.raises(SourceError, match=r"exit code 3\) without a result: this is not python"):
        _probe(fake, "lingers:app")


def test_the_default_interpreter_is_the_active_venv_then_path(tmp_path: Path) -> None:
    assert default_python({"VIRTUAL_ENV": "/srv/app/.venv"}) == "/srv/app/.venv/bin/python"
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "python3").write_text("#!/bin/sh\n")
    (folder / "python3").chmod(0o755)
    assert default_python({"PATH": str(folder)}) == str(folder / "python3")
    own = Path(sys.prefix) / "bin"  # appctl's own venv (the suite runs in one): passed over
    assert default_python({"PATH": f"{own}{os.pathsep}{folder}"}) == str(folder / "python3")
    with pytest.raises(UsageError, match="no python3 on PATH"):
        default_python({"PATH": str(tmp_path / "empty")})
