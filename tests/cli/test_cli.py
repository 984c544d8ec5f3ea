"""End-to-end: drive the ``appctl`` command like a user would: in process through the console
script's ``main()`` (tests/runner.py), and as a real process where the process is the point
(``python -m appctl``, a closed pipe)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import runner
from tests.conftest import REPO

EXAMPLE = REPO / "examples" / "petstore.yaml"


def run(*args: str, cwd: Path = REPO, code: int = 0) -> runner.Invoked:
    return runner.invoke(*args, cwd=cwd, code=code)


@pytest.fixture
def app(tmp_path: Path) -> Path:
    spec = tmp_path / "spec.yaml"
    shutil.copy(EXAMPLE, spec)
    run("sync", "--tools", "--openapi", "spec.yaml", cwd=tmp_path)
    return tmp_path


def test_sync_writes_contract_and_tools_and_resync_is_byte_identical(app: Path) -> None:
    schema = app / ".appctl" / "schema.json"
    tools = json.loads((app / ".appctl" / "tools.json").read_text())
    assert [t["name"] for t in tools["tools"]][:2] == ["create_pet", "delete_pet"]
    before = schema.read_bytes()
    proc = run("sync", "--openapi", "spec.yaml", cwd=app)
    assert schema.read_bytes() == before
    assert "7 actions" in proc.stderr and "+0 added" in proc.stderr


def test_app_dir_is_found_above_the_current_directory(app: Path) -> None:
    nested = app / "src" / "deep"
    nested.mkdir(parents=True)
    assert "list_pets" in run("tools", "--names", cwd=nested).stdout


def test_a_different_source_needs_force(app: Path) -> None:
    other = app / "other.yaml"
    other.write_text(EXAMPLE.read_text().replace("Pet Clinic", "Other"))
    proc = run("sync", "--openapi", "other.yaml", cwd=app, code=2)
    assert "already holds a contract" in proc.stderr and "--force" in proc.stderr
    run("sync", "--openapi", "other.yaml", "--force", cwd=app)
    data = json.loads((app / ".appctl" / "schema.json").read_text())
    assert data["source"]["title"] == "Other"


def test_check_reports_drift_for_ci(app: Path) -> None:
    assert "up to date" in run("sync", "--openapi", "spec.yaml", "--check", cwd=app).stderr
    spec = app / "spec.yaml"
    spec.write_text(spec.read_text().replace("operationId: deletePet", "operationId: removePet"))
    before = (app / ".appctl" / "schema.json").read_bytes()
    proc = run("sync", "--openapi", "spec.yaml", "--check", cwd=app, code=1)
    assert "added: remove_pet" in proc.stdout and "removed: delete_pet" in proc.stdout
    assert "+1 added, -1 removed" in proc.stdout
    assert any(line.startswith("+") and "remove_pet" in line for line in proc.stdout.splitlines())
    assert (app / ".appctl" / "schema.json").read_bytes() == before


def test_check_without_a_contract(tmp_path: Path) -> None:
    proc = run("sync", "--openapi", str(EXAMPLE), "--check", cwd=tmp_path, code=1)
    assert "no committed contract" in proc.stderr


def test_overrides_survive_resync_and_bad_ones_write_nothing(app: Path) -> None:
    overrides = app / ".appctl" / "overrides.yaml"
    overrides.write_text("actions:\n  delete_pet: {name: remove_pet, safety: mutating}\n")
    run("sync", "--openapi", "spec.yaml", cwd=app)
    listing = run("tools", cwd=app).stdout
    assert "remove_pet" in listing and "delete_pet" not in listing
    before = (app / ".appctl" / "schema.json").read_bytes()
    overrides.write_text("actions:\n  delete_pett: {name: x}\n")
    proc = run("sync", "--openapi", "spec.yaml", cwd=app, code=1)
    assert "no action named 'delete_pett'" in proc.stderr and "hint:" in proc.stderr
    assert (app / ".appctl" / "schema.json").read_bytes() == before


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("sync", "--openapi", "missing.yaml"), 1, "no such file"),
        (
            ("sync",),
            2,
            "give exactly one source: --openapi SRC, --db DSN, --app MODULE:APP, --django "
            "SETTINGS, --supabase URL, --mcp SERVER or --source NAME",
        ),
        (("tools", "--format", "nope"), 2, "Invalid value for '--format'"),
        (("bogus",), 2, "No such command"),
    ],
)
def test_errors_are_clear_and_never_tracebacks(tmp_path: Path, args, code, message) -> None:
    proc = run(*args, cwd=tmp_path, code=code)
    assert message in proc.stderr


def test_commands_without_a_contract_say_how_to_make_one(tmp_path: Path) -> None:
    for command in ("tools", "guide", "schema"):
        proc = run(command, cwd=tmp_path, code=1)
        assert "no contract" in proc.stderr and "appctl sync" in proc.stderr


def test_tools_formats_files_stats_and_filters(app: Path) -> None:
    for fmt in ("openai", "openai-responses", "anthropic", "gemini", "mcp", "jsonschema"):
        json.loads(run("tools", "--format", fmt, cwd=app).stdout)
    out = app / "tools.anthropic.json"
    run("tools", "--format", "anthropic", "-o", str(out), cwd=app)
    assert {t["name"] for t in json.loads(out.read_text())} >= {"list_pets", "book_visit"}
    stats = run("tools", "--format", "openai", "--stats", cwd=app).stdout
    assert "7 tools" in stats and "~tokens" in stats
    read_only = run("tools", "--read-only", "--names", cwd=app).stdout.split()
    assert read_only == ["get_pet", "list_pets", "list_visits"]
    strict = json.loads(run("tools", "--format", "openai", "--strict", cwd=app).stdout)
    assert all(t["function"]["strict"] for t in strict)


def test_guide_and_schema_commands(app: Path) -> None:
    guide = run("guide", cwd=app).stdout
    assert guide.startswith("# Pet Clinic — tool guide")
    assert "- book_visit(petId, date, reason) — write — Book a visit" in guide
    assert "`petId`: from list_pets →" in guide
    summary = run("schema", cwd=app).stdout
    assert "bearerAuth (bearer)" in summary and "pets: 5 actions" in summary
    meta = json.loads(run("schema", "--json-schema", cwd=app).stdout)
    assert meta["title"].startswith("appctl contract")


def test_python_dash_m_and_version(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "appctl", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=runner.child_env(),
    )
    assert proc.returncode == 0 and "sync" in proc.stdout
    assert "appctl, version" in runner.appctl("--version", cwd=tmp_path).stdout


def test_a_closed_pipe_is_not_an_error(tmp_path: Path) -> None:
    paths = {
        f"/things{i}/{{id}}": {
            "get": {
                "operationId": f"getThing{i}",
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "description": "x" * 200}
                ],
            }
        }
        for i in range(400)
    }
    spec = {"openapi": "3.0.3", "info": {"title": "Big", "version": "1"}, "paths": paths}
    (tmp_path / "big.json").write_text(json.dumps(spec))
    run("sync", "--openapi", "big.json", cwd=tmp_path)
    proc = runner.popen(
        ["tools", "--format", "openai"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.read(5)
    proc.stdout.close()
    assert proc.wait(timeout=60) == 0
    assert "Traceback" not in proc.stderr.read().decode()
