"""Where the database password comes from at sync, call and doctor time when the URL has
none: ``--password-env NAME``, then PGPASSWORD / MYSQL_PWD, then ~/.pgpass (libpq) or the
``[client]`` password of ~/.my.cnf; never written into the contract, and hints that say so.

The CLI runs with a clean environment (PATH and HOME in tmp_path only), so that nothing of
the developer's reaches it."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from appctl.sync.db.credentials import option_file_password
from tests import dbs, runner
from tests.db.test_sql_executor import run_ddl


def appctl(*args: str, cwd: Path, env: dict[str, str], code: int = 0) -> Any:
    """A real process: where a password comes from is the process's environment."""
    return runner.appctl(*args, cwd=cwd, code=code, env={"HOME": str(cwd / "home"), **env})


def _bare(url: str) -> tuple[str, str]:
    """(the URL without its password, the password)."""
    u = sa.engine.make_url(url)
    bare = sa.engine.URL.create(u.drivername, u.username, None, u.host, u.port, u.database)
    assert u.password
    return bare.render_as_string(hide_password=False), u.password


@pytest.fixture(params=dbs.SERVER_KINDS)
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """(kind, URL without a password, password) of a scratch database with one table."""
    kind: str = request.param
    if kind not in dbs.kinds():
        pytest.skip(f"no {kind} server (scripts/dbservers start)")
    url = dbs.fresh_database(kind, tmp_path)
    try:
        run_ddl(url, ["CREATE TABLE pets (id INTEGER PRIMARY KEY, name VARCHAR(30))"])
        run_ddl(url, ["INSERT INTO pets VALUES (1, 'Rex')"])
        (tmp_path / "home").mkdir()
        yield (kind, *_bare(url))
    finally:
        dbs.drop_database(url)


def _no_secret_written(root: Path, secret: str) -> None:
    for path in (root / ".appctl").rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


def _lists_rex(cwd: Path, env: dict[str, str]) -> None:
    listed = appctl("call", "list_pets", "--json", cwd=cwd, env=env)
    assert json.loads(listed.stdout)["data"]["rows"] == [{"id": 1, "name": "Rex"}]
    assert "1 verified" in appctl("doctor", cwd=cwd, env=env).stdout


def test_password_env_is_read_at_sync_time(server: tuple[str, str, str], tmp_path: Path) -> None:
    _kind, url, secret = server
    env = {"SHOP_PW": secret}
    appctl("sync", "--db", url, "--password-env", "SHOP_PW", cwd=tmp_path, env=env)
    contract = json.loads((tmp_path / ".appctl" / "schema.json").read_text())
    assert contract["database"]["password"] == "env:SHOP_PW"
    _lists_rex(tmp_path, env)
    _no_secret_written(tmp_path, secret)


def test_the_drivers_standard_variable_is_read_at_sync_time(
    server: tuple[str, str, str], tmp_path: Path
) -> None:
    kind, url, secret = server
    env = {"PGPASSWORD" if kind == "postgresql" else "MYSQL_PWD": secret}
    appctl("sync", "--db", url, cwd=tmp_path, env=env)
    _lists_rex(tmp_path, env)
    # an unset --password-env variable falls back to the standard one, at sync and call time
    appctl("sync", "--db", url, "--password-env", "UNSET_PW", "--force", cwd=tmp_path, env=env)
    _lists_rex(tmp_path, env)
    _no_secret_written(tmp_path, secret)


def test_the_users_password_file_is_read(server: tuple[str, str, str], tmp_path: Path) -> None:
    kind, url, secret = server
    home = tmp_path / "home"
    u = sa.engine.make_url(url)
    if kind == "postgresql":  # read by libpq itself: appctl passes no password
        path = home / ".pgpass"
        path.write_text(f"{u.host}:{u.port}:*:{u.username}:{secret}\n")
    else:
        path = home / ".my.cnf"
        path.write_text(f"[mysql]\npassword=wrong\n[client]\nuser = x\npassword = '{secret}'\n")
    path.chmod(0o600)
    env: dict[str, str] = {}
    appctl("sync", "--db", url, cwd=tmp_path, env=env)
    _lists_rex(tmp_path, env)
    _no_secret_written(tmp_path, secret)


def test_a_missing_password_says_where_it_is_looked_for(
    server: tuple[str, str, str], tmp_path: Path
) -> None:
    kind, url, secret = server
    failed = appctl("sync", "--db", url, cwd=tmp_path, env={}, code=1)
    where = "PGPASSWORD, or ~/.pgpass" if kind == "postgresql" else "MYSQL_PWD, or the [client]"
    assert "--password-env NAME" in failed.stderr and where in failed.stderr
    unset = appctl("sync", "--db", url, "--password-env", "SHOP_PW", cwd=tmp_path, env={}, code=1)
    assert "SHOP_PW (--password-env) is not set" in unset.stderr
    appctl("sync", "--db", url, "--password-env", "SHOP_PW", cwd=tmp_path, env={"SHOP_PW": secret})
    denied = appctl("call", "list_pets", cwd=tmp_path, env={}, code=1)
    assert "Set SHOP_PW to the database password" in denied.stderr and where in denied.stderr
    wrong = appctl("call", "list_pets", cwd=tmp_path, env={"SHOP_PW": "wrong"}, code=1)
    assert "Check the database user and password" in wrong.stderr


def test_the_option_file_is_read_as_data_only(tmp_path: Path) -> None:
    path = tmp_path / "my.cnf"

    def read(text: str, mode: int = 0o600) -> str | None:
        path.write_text(text)
        path.chmod(mode)
        return option_file_password(path)

    assert read("[client]\npassword=a b#c\n") == "a b"
    assert read('[client]\npassword = "a b#c" # note\n') == "a b#c"
    assert read("[client]\npassword=1\n[client]\npassword=2\n") == "2"
    assert read("[mysqld]\npassword=x\n[CLIENT]\n  Password = y\n") == "y"
    assert read(f"!include {tmp_path}/other\n[client]\nuser=u\n") is None
    assert read("[client]\npassword=x\n", 0o602) is None  # writable by others: ignored
    assert read("password=x\n[client]\npassword\n") is None
    assert read("[client]\npassword=" + "x" * 70_000 + "\n") is None
    assert option_file_password(tmp_path / "absent") is None
    assert option_file_password(tmp_path) is None  # a folder
    os.mkfifo(tmp_path / "fifo")
    assert option_file_password(tmp_path / "fifo") is None
