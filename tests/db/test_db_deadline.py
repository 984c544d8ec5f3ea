"""Bounded database calls: a host that accepts TCP and never answers ends ``appctl call``
and ``appctl sync --db`` with a timeout error; a pool with no free connection ends a call."""

from __future__ import annotations

import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from appctl.execute.executor import CallOptions, call
from appctl.execute.result import ErrorCategory
from appctl.execute.sql import run as sql
from appctl.sync.db.api import sync_db
from tests import runner
from tests.trickle import elapsed, silent

SLACK = 5.0  # a CLI process starting on a shared machine, besides the timeout itself
DRIVERS = ("postgresql+psycopg", "mysql+pymysql")


def _sqlite(folder: Path) -> Path:
    path = folder / "shop.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO items (name) VALUES ('a')")
    return path


def _appctl(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return runner.appctl(*args, cwd=cwd, code=None, env={"HOME": str(cwd), **env}, timeout=60)


@pytest.mark.parametrize("driver", DRIVERS)
def test_call_on_a_silent_database_host_ends_with_a_timeout(tmp_path: Path, driver: str) -> None:
    _sqlite(tmp_path)
    assert _appctl("sync", "--db", "shop.db", cwd=tmp_path, env={}).returncode == 0
    config = tmp_path / ".appctl" / "config.yaml"
    config.write_text("policy:\n  - {match: {name: list_items}, timeout: 3}\n")
    with silent() as port:
        started = time.monotonic()
        proc = _appctl(
            "call",
            "list_items",
            cwd=tmp_path,
            env={"APPCTL_DATABASE_URL": f"{driver}://u@127.0.0.1:{port}/shop"},
        )
        assert elapsed(started) < 3 + SLACK
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert "error (timeout)" in proc.stderr
    assert f"the database at 127.0.0.1:{port} did not answer within 3 s" in proc.stderr


@pytest.mark.parametrize("driver", DRIVERS)
def test_sync_from_a_silent_database_host_says_so(tmp_path: Path, driver: str) -> None:
    with silent() as port:
        started = time.monotonic()
        proc = _appctl("sync", "--db", f"{driver}://u@127.0.0.1:{port}/shop", cwd=tmp_path, env={})
        assert elapsed(started) < 10 + SLACK  # the default connect timeout
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert f"the database at 127.0.0.1:{port} did not answer within 10 s" in proc.stderr


def test_a_connect_timeout_in_the_url_wins(tmp_path: Path) -> None:
    with silent() as port:
        started = time.monotonic()
        url = f"mysql+pymysql://u@127.0.0.1:{port}/shop?connect_timeout=2"
        proc = _appctl("sync", "--db", url, cwd=tmp_path, env={})
        assert elapsed(started) < 2 + SLACK
    assert proc.returncode == 1
    assert "did not answer within 2 s" in proc.stderr


def test_a_call_waits_for_a_pooled_connection_only_so_long(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    schema = sync_db(str(_sqlite(tmp_path)), root=tmp_path).schema
    monkeypatch.setattr(sql, "POOL_TIMEOUT", 1.0)
    monkeypatch.chdir(tmp_path)  # the contract's relative SQLite path
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    engine = sql.engine_for(url)
    held: list[Any] = []
    try:
        while True:  # every connection the pool may hand out
            try:
                held.append(engine.connect())
            except Exception:
                break
        started = time.monotonic()
        result = call(schema, "list_items", {}, CallOptions(database_url=url), environ={})
        assert elapsed(started) < 1 + SLACK
    finally:
        for conn in held:
            conn.close()
    assert result.error is not None and result.error.category == ErrorCategory.TIMEOUT
    assert "no database connection came free within 1 s" in result.error.message
    assert call(schema, "list_items", {}, CallOptions(database_url=url), environ={}).ok


@pytest.fixture(autouse=True)
def _no_cached_engines() -> Any:
    yield
    sql.dispose_all()


def test_the_syncs_connections_carry_a_statement_timeout(fresh_db: str) -> None:
    import sqlalchemy as sa

    from appctl.sync.db.bounds import SYNC_STATEMENT_TIMEOUT, bound_engine

    if fresh_db.startswith("sqlite"):
        pytest.skip("SQLite: a local file, read under its busy timeout only")
    engine = sa.create_engine(fresh_db, poolclass=sa.pool.NullPool)
    bound_engine(engine)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                shown = conn.exec_driver_sql("SELECT current_setting('statement_timeout')")
                assert shown.scalar_one() == f"{int(SYNC_STATEMENT_TIMEOUT // 60)}min"
            else:
                value = conn.exec_driver_sql("SELECT @@max_statement_time").scalar_one()
                assert float(value) == SYNC_STATEMENT_TIMEOUT
    finally:
        engine.dispose()
