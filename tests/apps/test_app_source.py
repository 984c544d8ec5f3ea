"""``appctl.sync.App`` as a library call: the default interpreter is the active virtualenv's,
a target without ``:`` is refused before anything runs, and the generated document takes the
OpenAPI path (filters apply)."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from appctl.errors import UsageError
from appctl.sync import App, Django, run
from tests.apps.conftest import APPS, APPS_VENV

BROKEN = APPS / "broken"


def test_the_active_virtualenv_imports_the_app_by_default(
    apps_python: Path, tmp_path: Path
) -> None:
    environ = {"VIRTUAL_ENV": str(APPS_VENV), "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    outcome = run(App("lingers:app", project=str(BROKEN)), app_dir=tmp_path, environ=environ)
    assert outcome.actions == ("ping_ping_get",)
    assert outcome.notes[0].startswith("read lingers:app's OpenAPI document from fastapi ")
    written = (tmp_path / "schema.json").read_text()
    assert '"kind": "app"' in written and str(APPS_VENV) not in written


def test_filters_apply_as_to_any_document(apps_python: Path, tmp_path: Path) -> None:
    source = App("lingers:app", python=str(apps_python), project=str(BROKEN))
    outcome = run(source, app_dir=tmp_path, exclude=["path:/ping"], environ={})
    assert outcome.actions == ()
    assert (outcome.counted, outcome.filtered) == (1, 1)


def test_a_target_without_an_attribute_is_refused_before_anything_runs(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="expected module:attribute"):
        run(App("main", python=str(tmp_path / "none")), app_dir=tmp_path, environ={})
    with pytest.raises(UsageError, match="expected module:attribute"):
        run(App("main:"), app_dir=tmp_path, environ={})
    with pytest.raises(UsageError, match="not a module name") as path:
        run(App("src/main.py:app"), app_dir=tmp_path, environ={})
    assert "(e.g. src.main)" in path.value.suggestion
    with pytest.raises(UsageError, match=r"--django 'mysite/settings\.py': not a module name"):
        run(Django("mysite/settings.py"), app_dir=tmp_path, environ={})
    with pytest.raises(UsageError, match="no such directory"):
        run(App("main:app", project=str(tmp_path / "nowhere")), app_dir=tmp_path, environ={})


def test_fastapis_root_path_is_the_server_path_kept_under_base_url(
    apps_python: Path, tmp_path: Path
) -> None:
    source = App("mounted:app", python=str(apps_python), project=str(APPS / "fastapi"))
    alone = run(source, app_dir=tmp_path / "alone", environ={})
    assert alone.warnings[0].message.startswith("server URL '/api/v2' is relative")
    given = replace(source, base_url="http://127.0.0.1:9")
    run(given, app_dir=tmp_path / "given", environ={})
    schema = json.loads((tmp_path / "given" / "schema.json").read_text())
    assert schema["base_url"] == "http://127.0.0.1:9/api/v2"


def test_a_flask_smorest_api_object_reads_as_its_app(apps_python: Path, tmp_path: Path) -> None:
    project = str(APPS / "smorest")
    by_app = run(App("library:app", python=str(apps_python), project=project), app_dir=tmp_path)
    by_api = run(
        App("library:api", python=str(apps_python), project=project), app_dir=tmp_path, force=True
    )
    assert by_api.actions == by_app.actions
    assert len(by_app.actions) == 4
