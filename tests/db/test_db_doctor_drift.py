"""``appctl doctor`` on a database that changed since sync: it sees enum values that changed,
says why a view cannot be read, and goes on past a table or view it cannot check."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.db.test_sql_executor import kind_of, run_ddl
from tests.db.test_sync_db import appctl


def _synced(url: str, tmp_path: Path, ddl: list[str]) -> dict[str, str]:
    run_ddl(url, ddl)
    (tmp_path / "home").mkdir()
    env = {"SHOP_PW": sa.engine.make_url(url).password or ""}
    appctl("sync", "--db", url, "--password-env", "SHOP_PW", cwd=tmp_path, env=env)
    assert appctl("doctor", cwd=tmp_path, env=env).returncode == 0
    return env


def test_doctor_goes_on_past_a_dropped_view(fresh_db: str, tmp_path: Path) -> None:
    env = _synced(
        fresh_db,
        tmp_path,
        [
            "CREATE TABLE a (id INTEGER PRIMARY KEY, v INTEGER)",
            "CREATE VIEW av AS SELECT id, v FROM a",
            "CREATE TABLE b (id INTEGER PRIMARY KEY)",
        ],
    )
    run_ddl(fresh_db, ["DROP VIEW av"])
    out = appctl("doctor", cwd=tmp_path, env=env, code=1).stdout
    assert "av no longer exists" in out and "2 verified" in out, out
    if kind_of(fresh_db) == "postgresql":  # privileges are checked per table there
        assert "could not check av (" in out, out
        assert "may read and write every other table" in out, out


def test_doctor_says_why_a_view_cannot_be_read(fresh_db: str, tmp_path: Path) -> None:
    if kind_of(fresh_db) == "postgresql":
        pytest.skip("PostgreSQL never keeps a view whose table is gone")
    env = _synced(
        fresh_db,
        tmp_path,
        ["CREATE TABLE a (id INTEGER PRIMARY KEY)", "CREATE VIEW av AS SELECT id FROM a"],
    )
    run_ddl(fresh_db, ["DROP TABLE a"])
    out = appctl("doctor", cwd=tmp_path, env=env, code=1).stdout
    assert "view av cannot be read (" in out, out


def test_doctor_sees_enum_values_added_since_sync(fresh_db: str, tmp_path: Path) -> None:
    if kind_of(fresh_db) != "postgresql":
        pytest.skip("elsewhere an enum's values are part of the column type doctor compares")
    env = _synced(
        fresh_db,
        tmp_path,
        [
            "CREATE TYPE mood AS ENUM ('ok', 'sad')",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, m mood, ms mood[])",
        ],
    )
    run_ddl(fresh_db, ["ALTER TYPE mood ADD VALUE 'glad'"])
    out = appctl("doctor", cwd=tmp_path, env=env, code=1).stdout
    assert "column m's allowed values changed (+glad)" in out, out
    assert "run appctl sync --db again" in out, out
