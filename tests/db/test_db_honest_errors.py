"""Honest categories on real databases: integrity violations are ``conflict`` naming the
constraint; a value the contract's types cannot read since the database changed (a column's
type, an enum's values) says to re-sync, not "a bug in appctl"; ``doctor`` sees enum drift
and goes on past a table it cannot check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from appctl.contract.models import Contract
from appctl.execute.executor import CallOptions, call
from appctl.execute.result import ErrorCategory, ToolResult
from appctl.execute.sql.errors import database_failure
from appctl.sync.db.api import sync_db
from tests.db.test_sql_executor import kind_of, run_ddl
from tests.db.test_sync_db import appctl

TABLES = [
    "CREATE TABLE o (id INTEGER PRIMARY KEY)",
    "CREATE TABLE p (k VARCHAR(9) PRIMARY KEY, name VARCHAR(9) NOT NULL, n INTEGER, o_id INTEGER,"
    " CONSTRAINT p_name_uq UNIQUE (name), CONSTRAINT p_n_pos CHECK (n > 0),"
    " CONSTRAINT p_o_fk FOREIGN KEY (o_id) REFERENCES o(id))",
    "INSERT INTO o VALUES (1)",
    "INSERT INTO p VALUES ('1', 'a', 1, 1)",
]


def _call(url: str, schema: Contract, tool: str, args: dict[str, Any]) -> ToolResult:
    return call(schema, tool, args, CallOptions(database_url=url, approved=True), environ={})


def _conflict(result: ToolResult, *names: str) -> str:
    assert result.error is not None, result
    assert result.error.category == ErrorCategory.CONFLICT, result.error
    assert any(name in result.error.message for name in names), result.error.message
    return result.error.message


def test_integrity_violations_are_conflicts_naming_the_constraint(
    fresh_db: str, tmp_path: Path
) -> None:
    run_ddl(fresh_db, TABLES)
    schema = sync_db(fresh_db, root=tmp_path).schema
    sqlite = kind_of(fresh_db) == "sqlite"
    unique = _call(fresh_db, schema, "create_p", {"k": "2", "name": "a", "n": 1})
    assert _conflict(unique, "p_name_uq", "on p.name").startswith("unique constraint")
    key = _call(fresh_db, schema, "create_p", {"k": "1", "name": "b", "n": 1})
    _conflict(key, "p_pkey", "PRIMARY", "on p.k")
    orphan = _call(fresh_db, schema, "create_p", {"k": "3", "name": "c", "n": 1, "o_id": 9})
    said = _conflict(orphan, "does not name it" if sqlite else "p_o_fk")
    assert said.startswith("foreign key constraint")
    referenced = _call(fresh_db, schema, "delete_o", {"id": 1})
    _conflict(referenced, "does not name it" if sqlite else "p_o_fk")
    checked = _call(fresh_db, schema, "create_p", {"k": "5", "name": "e", "n": -1})
    assert _conflict(checked, "p_n_pos").startswith("check constraint")
    assert checked.error is not None and "CHECK rule" in checked.error.suggestions[0]
    engine = sa.create_engine(fresh_db)  # NOT NULL: the tools' arguments refuse it first
    try:
        with pytest.raises(sa.exc.DBAPIError) as raised, engine.begin() as conn:
            conn.exec_driver_sql("UPDATE p SET name = NULL WHERE k = '1'")
    finally:
        engine.dispose()
    null = database_failure("update_p", raised.value)
    assert _conflict(null, "on column name", "on p.name").startswith("not null constraint")


def test_a_violation_is_a_conflict_through_the_cli(fresh_db: str, tmp_path: Path) -> None:
    run_ddl(fresh_db, TABLES)
    (tmp_path / "home").mkdir()
    password = sa.engine.make_url(fresh_db).password or ""
    env = {"SHOP_PW": password}
    appctl("sync", "--db", fresh_db, "--password-env", "SHOP_PW", cwd=tmp_path, env=env)
    args = ["k=3", "name=c", "n=1", "o_id=9"]
    failed = appctl("call", "create_p", *args, "--yes", "--json", cwd=tmp_path, env=env, code=1)
    error = json.loads(failed.stdout)["error"]
    assert error["category"] == "conflict" and "foreign key constraint" in error["message"]


def test_a_column_whose_type_changed_says_to_resync(fresh_db: str, tmp_path: Path) -> None:
    kind = kind_of(fresh_db)
    if kind == "mariadb":
        pytest.skip("PyMySQL returns the new type's values as they are: nothing fails")
    run_ddl(fresh_db, ["CREATE TABLE t (id INTEGER PRIMARY KEY, d DATE, x NUMERIC(10, 2))"])
    schema = sync_db(fresh_db, root=tmp_path).schema
    if kind == "postgresql":
        run_ddl(fresh_db, ["ALTER TABLE t ALTER COLUMN x TYPE text", "ALTER TABLE t DROP d"])
        run_ddl(fresh_db, ["ALTER TABLE t ADD d TEXT", "INSERT INTO t VALUES (1, 'xx', 'z')"])
    else:  # SQLite: the column keeps its declared type and takes any value
        run_ddl(fresh_db, ["INSERT INTO t VALUES (1, 'not a date', 'xx')"])
        for tool, args in (("list_t", {}), ("get_t", {"id": 1})):  # as stored, with notes
            result = _call(fresh_db, schema, tool, args)
            assert result.ok, result.error
            assert any("column d of row(s) id=1" in note for note in result.notes), result
        return
    for tool, args in (("list_t", {}), ("get_t", {"id": 1})):
        result = _call(fresh_db, schema, tool, args)
        assert result.error is not None and result.error.category != ErrorCategory.INTERNAL
        assert "run appctl sync --db again" in result.error.suggestions[0], result.error
        assert not any("bug in appctl" in s for s in result.error.suggestions)


def test_an_enum_value_added_since_sync_says_to_resync(fresh_db: str, tmp_path: Path) -> None:
    if kind_of(fresh_db) != "postgresql":
        pytest.skip("only PostgreSQL has enum types whose values can grow apart from a column")
    run_ddl(fresh_db, ["CREATE TYPE mood AS ENUM ('ok', 'sad')"])
    run_ddl(fresh_db, ["CREATE TABLE t (id INTEGER PRIMARY KEY, m mood)"])
    schema = sync_db(fresh_db, root=tmp_path).schema
    run_ddl(fresh_db, ["ALTER TYPE mood ADD VALUE 'glad'"])
    run_ddl(fresh_db, ["INSERT INTO t VALUES (1, 'glad')"])
    result = _call(fresh_db, schema, "list_t", {})
    if result.ok:  # read as text (issue 16 item 2): then a note must say to re-sync
        assert any("sync" in str(note) for note in result.notes), result
        return
    assert result.error is not None and result.error.category != ErrorCategory.INTERNAL
    assert "run appctl sync --db again" in result.error.suggestions[0], result.error
