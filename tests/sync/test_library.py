"""``appctl.sync.run``: sync as a library call, in process (no subprocess), for an OpenAPI
document and a SQLite file; ``check`` drift; errors are typed and leave nothing behind; the
sources table drives the CLI's options."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from appctl.errors import BudgetError, Category, ContractError, SourceError, UsageError
from appctl.sync import SOURCES, Database, OpenAPI, SyncOutcome, run
from appctl.sync.sources import App, Django, make_source
from tests.conftest import REPO

GOLDEN = REPO / "fixtures" / "golden" / "petstore-openapi30"
SPEC = "fixtures/openapi/petstore-openapi30.yaml"  # relative: the contract records it


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*")) if folder.exists() else []


@pytest.fixture
def in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)  # the golden contract records the spec's repo-relative path


def test_openapi_writes_the_golden_contract_and_tools(tmp_path: Path, in_repo: None) -> None:
    app_dir = tmp_path / ".appctl"
    outcome = run(OpenAPI(SPEC), app_dir=app_dir, tools=True, environ={})
    schema, tools = app_dir / "schema.json", app_dir / "tools.json"
    assert outcome.written == (schema, tools)
    assert schema.read_bytes() == (GOLDEN / "schema.json").read_bytes()
    assert tools.read_bytes() == (GOLDEN / "tools.json").read_bytes()
    names = [t["name"] for t in json.loads(tools.read_bytes())["tools"]]
    assert outcome.actions == tuple(sorted(names)) and outcome.noun == "operation"
    assert outcome.summary().startswith(f"synced {outcome.resources} resource")
    assert outcome.changes is None and not outcome.checked and outcome.drift is None


def test_a_resync_reports_no_changes_and_keeps_tools_json_fresh(
    tmp_path: Path, in_repo: None
) -> None:
    app_dir = tmp_path / ".appctl"
    run(OpenAPI(SPEC), app_dir=app_dir, tools=True, environ={})
    again = run(OpenAPI(SPEC), app_dir=app_dir, environ={})  # tools.json exists: refreshed
    assert again.written == (app_dir / "schema.json", app_dir / "tools.json")
    assert again.changes is not None and again.changes.empty


def _shop(path: Path) -> Path:
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE owners (id INTEGER PRIMARY KEY, name TEXT NOT NULL);"
            "CREATE TABLE pets (id INTEGER PRIMARY KEY, name TEXT,"
            " owner_id INTEGER REFERENCES owners(id));"
        )
    return path


def test_sqlite_syncs_in_process(tmp_path: Path) -> None:
    db = _shop(tmp_path / "shop.db")
    app_dir = tmp_path / ".appctl"
    outcome = run(Database(str(db)), app_dir=app_dir, environ={})
    assert outcome.written == (app_dir / "schema.json",)
    assert not (app_dir / "tools.json").exists()
    assert (outcome.resources, outcome.counted, outcome.noun) == (2, 2, "table")
    assert {"list_pets", "get_pets", "create_owners", "delete_owners"} <= set(outcome.actions)
    contract = json.loads((app_dir / "schema.json").read_bytes())
    assert contract["source"]["kind"] == "db"
    assert outcome.inferred == {}

    only = run(Database(str(db)), app_dir=app_dir, include=["pets"], environ={})
    assert only.filtered == 1 and all(name.endswith("_pets") for name in only.actions)
    assert only.changes is not None and "list_owners" in only.changes.removed


def test_check_reports_drift_and_writes_nothing(tmp_path: Path) -> None:
    db = _shop(tmp_path / "shop.db")
    app_dir = tmp_path / ".appctl"
    run(Database(str(db)), app_dir=app_dir, environ={})
    before = (app_dir / "schema.json").read_bytes()

    same = run(Database(str(db)), app_dir=app_dir, check=True, environ={})
    assert same.checked and same.drift is None and same.written == ()

    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE visits (id INTEGER PRIMARY KEY, pet_id INTEGER)")
    drifted = run(Database(str(db)), app_dir=app_dir, check=True, environ={})
    assert drifted.checked and drifted.drift is not None and drifted.written == ()
    assert "list_visits" in drifted.drift.changes.added
    assert any(line.startswith("+") and "visits" in line for line in drifted.drift.diff)
    assert (app_dir / "schema.json").read_bytes() == before
    assert _files(app_dir) == ["schema.json"]


def test_check_without_a_contract_is_a_contract_error(tmp_path: Path) -> None:
    app_dir = tmp_path / ".appctl"
    with pytest.raises(ContractError) as caught:
        run(Database(str(_shop(tmp_path / "shop.db"))), app_dir=app_dir, check=True, environ={})
    assert caught.value.category == Category.CONTRACT and "--check" in caught.value.suggestion
    assert _files(app_dir) == []


@pytest.mark.parametrize(
    ("text", "error", "said"),
    [
        ("openapi: [unclosed\n", SourceError, "YAML"),
        ("just: a mapping\n", SourceError, "not an OpenAPI 3.x or Swagger 2.0 document"),
        ("- a list\n", SourceError, "top level is not a mapping"),
        ("openapi: 3.0.3\npaths: {}\n" + "#" * 200, BudgetError, "limit"),
    ],
)
def test_a_bad_document_is_a_typed_error_and_writes_nothing(
    tmp_path: Path, text: str, error: type[SourceError], said: str
) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(text)
    app_dir = tmp_path / ".appctl"
    with pytest.raises(error) as caught:
        run(OpenAPI(str(spec), max_bytes=100), app_dir=app_dir, environ={})
    assert type(caught.value) is error and said in caught.value.message
    assert caught.value.category in (Category.SOURCE, Category.BUDGET)
    assert caught.value.suggestion
    assert _files(app_dir) == []


def test_a_bad_document_leaves_the_committed_contract_alone(tmp_path: Path, in_repo: None) -> None:
    app_dir = tmp_path / ".appctl"
    run(OpenAPI(SPEC), app_dir=app_dir, tools=True, environ={})
    before = {p.name: p.read_bytes() for p in app_dir.iterdir()}
    with pytest.raises(SourceError):
        run(OpenAPI(str(tmp_path / "missing.yaml")), app_dir=app_dir, force=True, environ={})
    assert {p.name: p.read_bytes() for p in app_dir.iterdir()} == before


def test_another_source_needs_force(tmp_path: Path, in_repo: None) -> None:
    app_dir = tmp_path / ".appctl"
    run(OpenAPI(SPEC), app_dir=app_dir, environ={})
    before = (app_dir / "schema.json").read_bytes()
    db = _shop(tmp_path / "shop.db")
    with pytest.raises(UsageError) as caught:
        run(Database(str(db)), app_dir=app_dir, environ={})
    assert "already holds a contract" in caught.value.message
    assert "--force" in caught.value.suggestion
    assert (app_dir / "schema.json").read_bytes() == before
    replaced = run(Database(str(db)), app_dir=app_dir, force=True, environ={})
    assert replaced.changes is not None and "list_pets" in replaced.changes.added


def test_progress_is_told_the_operations_and_phases(tmp_path: Path, in_repo: None) -> None:
    class Recorder:
        def __init__(self) -> None:
            self.seen: list[object] = []

        def __call__(self, done: int, total: int) -> None:
            self.seen.append((done, total))

        def phase(self, label: str) -> None:
            self.seen.append(label)

    recorder = Recorder()
    outcome: SyncOutcome = run(
        OpenAPI(SPEC), app_dir=tmp_path / ".appctl", progress=recorder, environ={}
    )
    total = outcome.counted
    assert recorder.seen[0] == (0, total) and (total, total) in recorder.seen
    assert recorder.seen[-2:] == ["checking the tools", "writing schema.json"]


def test_the_table_makes_each_source_and_refuses_options_of_another() -> None:
    assert make_source({"openapi": "a.yaml"}, {"base_url": "http://x"}) == OpenAPI(
        "a.yaml", base_url="http://x"
    )
    assert make_source({"db": "a.db"}, {"schemas": ("s",)}) == Database("a.db", schemas=("s",))
    with pytest.raises(UsageError) as none:
        make_source({}, {})
    assert none.value.message == (
        "give exactly one source: --openapi SRC, --db DSN, --app MODULE:APP, --django SETTINGS, "
        "--supabase URL, --mcp SERVER or --source NAME"
    )
    with pytest.raises(UsageError, match="exactly one source"):
        make_source({"openapi": "a.yaml", "db": "b.db"}, {})
    with pytest.raises(UsageError) as foreign:
        make_source({"db": "a.db"}, {"base_url": "http://x", "max_nodes": 5})
    assert foreign.value.message == (
        "--base-url and --max-nodes apply to --openapi, --app or --django only"
    )
    with pytest.raises(UsageError) as foreign:
        make_source({"db": "a.db"}, {"max_nodes": 5})
    assert foreign.value.message == "--max-nodes applies to --openapi only"
    assert foreign.value.suggestion == "Drop it, or sync an OpenAPI document instead."
    with pytest.raises(UsageError) as foreign:
        make_source({"openapi": "a.yaml"}, {"python": "/venv/bin/python"})
    assert foreign.value.message == "--python applies to --app or --django only"
    assert foreign.value.suggestion == (
        "Drop it, or sync a Python web app or a Django project instead."
    )
    assert make_source({"web_app": "main:app"}, {"python": "py", "timeout": 5}) == App(
        "main:app", python="py", timeout=5
    )
    assert make_source({"django": "site.settings"}, {"base_url": "http://x"}) == Django(
        "site.settings", base_url="http://x"
    )


def test_the_cli_offers_every_source_and_option_of_the_table() -> None:
    from appctl.cli.sync import command

    flags = {flag for param in command.params for flag in param.opts}
    for entry in SOURCES:
        assert entry.flag in flags
        assert {option.flag for option in entry.options} <= flags


@pytest.mark.parametrize(
    "dsn", ["postgresql://shop@127.0.0.1:1/shop", "mysql://shop@127.0.0.1:1/x"]
)
def test_the_password_is_looked_up_in_the_environ_given(tmp_path: Path, dsn: str) -> None:
    app_dir = tmp_path / ".appctl"
    source = Database(dsn, password_env="SHOP_PW")
    with pytest.raises(SourceError) as unset:
        run(source, app_dir=app_dir, environ={})  # not the process's environment
    assert "could not connect" in unset.value.message
    assert unset.value.suggestion.startswith("SHOP_PW (--password-env) is not set")
    with pytest.raises(SourceError) as given:
        run(source, app_dir=app_dir, environ={"SHOP_PW": "pw"})
    assert "SHOP_PW" not in given.value.suggestion
    assert _files(app_dir) == []


def test_every_public_name_resolves_and_the_sql_path_does_not_load_sync() -> None:
    import subprocess
    import sys

    import appctl.sync

    assert all(getattr(appctl.sync, name) is not None for name in appctl.sync.__all__)
    probe = "import sys, appctl.sync.db.url; print('appctl.sync.usecase' in sys.modules)"
    shown = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert shown.stdout.strip() == "False"
