"""Chinook's tools made strict (appctl's converter and the OpenAI Agents SDK's), called with
the nulls a strict model sends for what it leaves out: reads succeed, an update changes only
the columns it gives, and set_null clears a column (checked in the database, every dialect)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from appctl.contract.models import Contract, SqlTransport
from appctl.execute.executor import CallOptions, call
from appctl.execute.result import ErrorCategory, ToolResult
from appctl.sync.db.api import sync_db
from tests.chinook import REPO, load_chinook
from tests.conftest import run_appctl
from tests.strict_model import CannotOmit, strict_call, strict_tools

Chinook = tuple[str, Contract]


@pytest.fixture
def chinook(fresh_db: str, tmp_path: Path) -> Chinook:
    load_chinook(fresh_db)
    return fresh_db, sync_db(fresh_db, root=tmp_path).schema


def _call(db: Chinook, tool: str, args: dict[str, Any]) -> ToolResult:
    url, schema = db
    return call(schema, tool, args, CallOptions(database_url=url, approved=True), environ={})


def _row(url: str, table: str, key: str, value: Any) -> dict[str, Any]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            found = sa.Table(table, sa.MetaData(), autoload_with=conn)
            row = conn.execute(sa.select(found).where(found.c[key] == value)).mappings().one()
            return dict(row)
    finally:
        engine.dispose()


def _tables(schema: Contract, operation: str) -> list[tuple[str, SqlTransport]]:
    out = []
    for action in schema.actions():
        transport = action.transport
        if isinstance(transport, SqlTransport) and transport.operation == operation:
            out.append((action.name, transport))
    return sorted(out, key=lambda item: item[0])


@pytest.mark.parametrize("converter", ["appctl", "sdk-on-appctl-strict"])
def test_every_read_tool_takes_the_nulls_of_a_strict_model(chinook: Chinook, converter: str):
    tools = strict_tools(chinook[1], converter)
    reads = _tables(chinook[1], "list")
    assert len(reads) == 11
    for name, transport in reads:
        listed = _call(chinook, name, strict_call(tools[name], {}))
        assert listed.ok, (name, listed.error)
        rows = listed.data["rows"]
        assert len(rows) == 50 or transport.table in ("MediaType", "Genre", "Playlist", "Employee")
        getter = name.replace("list_", "get_", 1)
        key = {k: rows[0][k] for k in transport.key}
        got = _call(chinook, getter, strict_call(tools[getter], key))
        assert got.ok and got.data == rows[0], (getter, got.error)
    # nested: a strict model's filter names every column and every operator, nulls but one
    where = {"where": {"Title": {"like": "%Manager%"}}, "order_by": ["EmployeeId"]}
    managers = _call(chinook, "list_employee", strict_call(tools["list_employee"], where))
    assert managers.ok, managers.error
    assert [r["EmployeeId"] for r in managers.data["rows"]] == [1, 2, 6]


def _changed(before: dict[str, Any], after: dict[str, Any]) -> set[str]:
    return {column for column in before if before[column] != after[column]}


@pytest.mark.parametrize("converter", ["appctl", "sdk-on-appctl-strict"])
def test_a_strict_update_of_one_column_leaves_every_other_as_it_was(
    chinook: Chinook, converter: str
):
    url, schema = chinook
    tools = strict_tools(schema, converter)
    updates = [(n, t) for n, t in _tables(schema, "update") if len(t.key) == 1]
    assert len(updates) == 10  # every table but PlaylistTrack, whose columns are all key
    for name, transport in updates:
        (key,) = transport.key
        before = _row(url, transport.table, key, 2)
        column, value = _one_change(schema, name, before)
        result = _call(chinook, name, strict_call(tools[name], {key: 2, column: value}))
        assert result.ok, (name, result.error)
        after = _row(url, transport.table, key, 2)
        assert _changed(before, after) == {column}, name
        assert after[column] == value


def _one_change(schema: Contract, tool: str, row: dict[str, Any]) -> tuple[str, Any]:
    """A column to change and its new value: the first text column, else a number that is
    not a key."""
    resource = schema.resource_of(tool)
    assert resource is not None and resource.table is not None
    table = resource.table
    linked = {c for r in table.relations for c in r.columns} | set(table.primary_key)
    for column in table.columns:
        if column.kind == "string":
            return column.name, "changed"
    column = next(c for c in table.columns if c.kind == "integer" and c.name not in linked)
    return column.name, row[column.name] + 7


def test_the_issues_update_employee_changes_only_email(chinook: Chinook):
    url, schema = chinook
    before = _row(url, "Employee", "EmployeeId", 3)
    assert before["Title"] and before["ReportsTo"] and before["Phone"]
    arguments = strict_call(
        strict_tools(schema, "appctl")["update_employee"], {"EmployeeId": 3, "Email": "j@x.org"}
    )
    assert arguments["Title"] is None and arguments["set_null"] is None
    result = _call(chinook, "update_employee", arguments)
    assert result.ok, result.error
    assert _changed(before, _row(url, "Employee", "EmployeeId", 3)) == {"Email"}


@pytest.mark.parametrize("converter", ["appctl", "sdk-on-appctl-strict", "sdk-on-plain"])
def test_set_null_clears_exactly_the_columns_it_names(chinook: Chinook, converter: str):
    url, schema = chinook
    parameters = strict_tools(schema, converter)["update_employee"]
    before = _row(url, "Employee", "EmployeeId", 4)
    intent: dict[str, Any] = {"EmployeeId": 4, "set_null": ["Fax", "ReportsTo"]}
    if converter == "sdk-on-plain":  # the SDK's schema takes null only where columns do
        with pytest.raises(CannotOmit):
            strict_call(parameters, intent)
        intent |= {"LastName": before["LastName"], "FirstName": before["FirstName"]}
    result = _call(chinook, "update_employee", strict_call(parameters, intent))
    assert result.ok, result.error
    after = _row(url, "Employee", "EmployeeId", 4)
    assert _changed(before, after) == {"Fax", "ReportsTo"}
    assert after["Fax"] is None and after["ReportsTo"] is None


def test_a_call_that_leaves_columns_out_still_sets_null_with_null(chinook: Chinook):
    """Not a strict call (it does not give every argument): null keeps meaning NULL."""
    url, _ = chinook
    before = _row(url, "Employee", "EmployeeId", 5)
    result = _call(chinook, "update_employee", {"EmployeeId": 5, "Phone": None})
    assert result.ok, result.error
    after = _row(url, "Employee", "EmployeeId", 5)
    assert _changed(before, after) == {"Phone"} and after["Phone"] is None


def test_set_null_and_a_value_for_one_column_is_refused(chinook: Chinook):
    url, _ = chinook
    before = _row(url, "Employee", "EmployeeId", 6)
    both = {"EmployeeId": 6, "Fax": "+1 555", "set_null": ["Fax"]}
    result = _call(chinook, "update_employee", both)
    assert result.error is not None and result.error.category == ErrorCategory.VALIDATION
    assert "Fax is both given a value and in set_null" in result.error.message
    not_nullable = _call(chinook, "update_employee", {"EmployeeId": 6, "set_null": ["LastName"]})
    assert not_nullable.error is not None
    assert not_nullable.error.category == ErrorCategory.VALIDATION
    assert _row(url, "Employee", "EmployeeId", 6) == before


def test_the_cli_strict_tools_and_a_dry_run_show_only_the_column_given(tmp_path: Path):
    """The issue's steps with the installed command: appctl tools --format openai --strict,
    a strict model's call of update_employee, dry run then the call itself."""
    shutil.copy(REPO / "examples" / "chinook.db", tmp_path / "chinook.db")
    run_appctl(tmp_path, "sync", "--db", "chinook.db", code=0)
    printed = run_appctl(tmp_path, "tools", "--format", "openai", "--strict", code=0).stdout
    tools = {t["function"]["name"]: t["function"] for t in json.loads(printed)}
    parameters = tools["update_employee"]["parameters"]
    arguments = json.dumps(strict_call(parameters, {"EmployeeId": 3, "Email": "j@x.org"}))
    dry = run_appctl(tmp_path, "call", "update_employee", "--args", arguments, "--dry-run", code=0)
    assert json.loads(dry.stdout)["values"] == {"Email": "j@x.org"}
    url = f"sqlite:///{tmp_path / 'chinook.db'}"
    before = _row(url, "Employee", "EmployeeId", 3)
    run_appctl(tmp_path, "call", "update_employee", "--args", arguments, "--yes", code=0)
    assert _changed(before, _row(url, "Employee", "EmployeeId", 3)) == {"Email"}
