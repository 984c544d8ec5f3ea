"""A DSN as typed → a SQLAlchemy URL with our drivers, and the part that may be written down.

``postgresql://``/``postgres://`` use psycopg 3, ``mysql://``/``mariadb://`` use PyMySQL; a
plain path (or ``sqlite:///path``) is a SQLite file, kept relative to the project when it lies
inside it. The password never reaches the contract: it keeps ``env:NAME`` instead (the
driver's standard variable unless told otherwise), and the value is read at connect time,
from the places ``credentials.py`` lists, the same at sync, call and doctor time.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from appctl.errors import UsageError
from appctl.sync.db.credentials import family_of, find_password

DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
    "sqlite": "sqlite",
}
PASSWORD_ENV = {"postgresql": "PGPASSWORD", "mysql": "MYSQL_PWD", "mariadb": "MYSQL_PWD"}
SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3", ".db3")


@dataclass(frozen=True, slots=True)
class Dsn:
    connect: str  # to connect with now (may hold the password)
    stored: str  # to write down: no password, SQLite paths relative to the project
    password_env: str | None  # env:NAME to read the password from at call time


def parse_dsn(
    dsn: str,
    *,
    root: Path,
    password_env: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Dsn:
    """Normalize a DSN; ``root`` is the project folder (the parent of ``.appctl``). With
    ``environ``, a URL without a password gets one as at call time (``credentials.py``)."""
    import sqlalchemy as sa

    text = dsn.strip()
    if "://" not in text:
        return _sqlite_file(text, root)
    try:
        url = sa.engine.make_url(text)
    except sa.exc.ArgumentError:
        raise UsageError(
            f"{hide_password(text)} is not a database URL",
            suggestion="Use postgresql://user@host/db, mysql://user@host/db, "
            "or a SQLite file path.",
        ) from None
    backend = url.get_backend_name()
    if backend not in DRIVERS:
        raise UsageError(
            f"unsupported database {backend!r}",
            suggestion="appctl syncs SQLite, PostgreSQL and MariaDB/MySQL databases.",
        )
    if backend == "sqlite":
        if not url.database or url.database == ":memory:":
            raise UsageError(
                "an in-memory SQLite database has no tables to sync",
                suggestion="Give the path of a SQLite file.",
            )
        return _sqlite_file(url.database, root)
    driver = DRIVERS[backend]
    url = url.set(drivername=driver)
    family = driver.split("+")[0]
    env = password_env or PASSWORD_ENV[family]
    bare = sa.engine.URL.create(  # .set(password=None) would keep the password
        url.drivername, url.username, None, url.host, url.port, url.database, url.query
    )
    stored = bare.render_as_string(hide_password=False)
    if environ is not None and url.password is None:
        found = find_password(family_of(driver), password_env=password_env, environ=environ)
        url = url if found is None else url.set(password=found)
    return Dsn(connect=url.render_as_string(hide_password=False), stored=stored, password_env=env)


def _sqlite_file(path_text: str, root: Path) -> Dsn:
    path = Path(path_text).expanduser()
    absolute = path if path.is_absolute() else Path.cwd() / path
    if not absolute.is_file():
        raise UsageError(
            f"no SQLite database at {absolute}",
            suggestion="Check the path, or give a postgresql:// or mysql:// URL.",
        )
    try:
        shown = absolute.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        shown = absolute.resolve().as_posix()
    return Dsn(
        connect=f"sqlite:///{absolute.resolve()}", stored=f"sqlite:///{shown}", password_env=None
    )


def connect_url(
    stored: str, password_ref: str | None, *, root: Path, environ: Mapping[str, str]
) -> str:
    """The contract's URL made connectable: the password from its variable, a relative SQLite
    path from the project folder."""
    import sqlalchemy as sa

    url = sa.engine.make_url(stored)
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if database and not os.path.isabs(database):
            url = url.set(database=str(root / database))
        return url.render_as_string(hide_password=False)
    if url.password is None:
        named = password_ref[4:] if password_ref and password_ref.startswith("env:") else None
        found = find_password(family_of(url.drivername), password_env=named, environ=environ)
        url = url if found is None else url.set(password=found)
    return url.render_as_string(hide_password=False)


def hide_password(text: str) -> str:
    """A URL with any password replaced, for messages."""
    head, sep, rest = text.partition("://")
    if not sep or "@" not in rest:
        return text
    auth, _, host = rest.rpartition("@")
    user = auth.split(":", 1)[0]
    return f"{head}://{user}:***@{host}" if ":" in auth else text
