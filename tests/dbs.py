"""The databases the suite runs its database tests against: SQLite always, and PostgreSQL and
MariaDB when scripts/dbservers started them (scripts/test does; by hand:
``scripts/dbservers start && source .cache/db/env``).

The servers are named by environment variables holding SQLAlchemy URLs:

  APPCTL_TEST_POSTGRES_URL     postgresql+psycopg://appctl:...@127.0.0.1:PORT/appctl_test
  APPCTL_TEST_MARIADB_URL      mysql+pymysql://appctl:...@127.0.0.1:PORT/appctl_test
  APPCTL_TEST_POSTGRES_RO_URL  the same database as appctl_ro, which may only SELECT
  APPCTL_TEST_MARIADB_RO_URL

The ``appctl`` account may create and drop databases named ``appctl_*``, which is how
``fresh_database`` makes an empty scratch database per test. With APPCTL_REQUIRE_DBS=1 (set
by scripts/test) a missing server is an error, never a skip.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

import sqlalchemy as sa

KINDS = ("sqlite", "postgresql", "mariadb")
SERVER_KINDS = ("postgresql", "mariadb")
URL_VARS = {"postgresql": "APPCTL_TEST_POSTGRES_URL", "mariadb": "APPCTL_TEST_MARIADB_URL"}
RO_URL_VARS = {"postgresql": "APPCTL_TEST_POSTGRES_RO_URL", "mariadb": "APPCTL_TEST_MARIADB_RO_URL"}
REQUIRE_VAR = "APPCTL_REQUIRE_DBS"

# database_urls()'s URL for SQLite: a template, since the file belongs in the caller's tmp
# path: ``SQLITE_MARKER.format(tmp_path=tmp_path)`` (or use sqlite_url / fresh_database).
SQLITE_MARKER = "sqlite:///{tmp_path}/test.db"


class MissingDatabase(RuntimeError):
    """APPCTL_REQUIRE_DBS=1 but a server's URL is not set."""


def required() -> bool:
    return os.environ.get(REQUIRE_VAR, "") not in ("", "0")


def database_urls() -> list[tuple[str, str]]:
    """(kind, URL) of every database to test against, SQLite first.

    SQLite's URL is SQLITE_MARKER. A server whose variable is unset is left out, unless
    APPCTL_REQUIRE_DBS=1, when that raises MissingDatabase.
    """
    urls = [("sqlite", SQLITE_MARKER)]
    missing = []
    for kind in SERVER_KINDS:
        url = os.environ.get(URL_VARS[kind], "").strip()
        if url:
            urls.append((kind, url))
        else:
            missing.append(URL_VARS[kind])
    if missing and required():
        raise MissingDatabase(
            f"{REQUIRE_VAR}=1 but {', '.join(missing)} is not set: run scripts/dbservers start "
            "and source .cache/db/env (scripts/test does both)"
        )
    return urls


def kinds() -> list[str]:
    """The kinds database_urls() offers: ["sqlite"] plus the servers that are configured."""
    return [kind for kind, _ in database_urls()]


def server_url(kind: str, *, read_only: bool = False) -> str:
    """The URL of a server's appctl_test database (as appctl, or as appctl_ro)."""
    if kind not in SERVER_KINDS:
        raise ValueError(f"not a database server kind: {kind!r}")
    var = (RO_URL_VARS if read_only else URL_VARS)[kind]
    url = os.environ.get(var, "").strip()
    if not url:
        raise MissingDatabase(f"{var} is not set (scripts/dbservers start)")
    return url


def sqlite_url(tmp_path: Path, name: str = "test.db") -> str:
    return f"sqlite:///{tmp_path / name}"


def _with_database(url: str, database: str) -> str:
    return sa.make_url(url).set(database=database).render_as_string(hide_password=False)


def _admin_engine(kind: str) -> sa.Engine:
    # PostgreSQL runs CREATE/DROP DATABASE outside a transaction.
    return sa.create_engine(
        server_url(kind), poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT"
    )


def fresh_database(kind: str, tmp_path: Path) -> str:
    """The SQLAlchemy URL of a new, empty database of this kind.

    SQLite: a new file in tmp_path. PostgreSQL/MariaDB: a database ``appctl_<random>`` made
    through the appctl_test URL (the appctl account may create such databases); drop it with
    drop_database(url) when done (the ``fresh_db`` fixture does).
    """
    token = secrets.token_hex(6)
    if kind == "sqlite":
        return sqlite_url(tmp_path, f"fresh-{token}.db")
    name = f"appctl_{token}"
    engine = _admin_engine(kind)
    try:
        with engine.connect() as conn:
            if kind == "postgresql":
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
            else:
                conn.exec_driver_sql(
                    f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
                )
    finally:
        engine.dispose()
    return _with_database(server_url(kind), name)


def _drop_postgresql(engine: sa.Engine, name: str) -> None:
    """DROP DATABASE … WITH (FORCE): FORCE ends connections a test left open (the owner may
    end its own). A connection still starting up has no role yet, and PostgreSQL refuses to
    end it ("must be a member of the role whose process is being terminated"): a late
    connection of a test's server thread at teardown. Tried again a bounded few times."""
    for attempt in range(5):
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        except sa.exc.ProgrammingError as exc:
            if "must be a member of the role" not in str(exc) or attempt == 4:
                raise
            time.sleep(0.2)


def drop_database(url: str) -> None:
    """Drop a database fresh_database made (SQLite: delete the file). Idempotent."""
    parsed = sa.make_url(url)
    name = parsed.database or ""
    if parsed.get_backend_name() == "sqlite":
        if name:
            Path(name).unlink(missing_ok=True)
        return
    if not name.startswith("appctl_") or name == "appctl_test":
        raise ValueError(f"refusing to drop {name!r}: not a scratch database")
    kind = "postgresql" if parsed.get_backend_name() == "postgresql" else "mariadb"
    engine = _admin_engine(kind)
    try:
        if kind == "postgresql":
            _drop_postgresql(engine, name)
            return
        with engine.connect() as conn:
            # A connection left inside a transaction would hold a metadata lock: wait a
            # bounded time for it, not the server's default of a day.
            conn.exec_driver_sql("SET SESSION lock_wait_timeout = 20")
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
    finally:
        engine.dispose()
