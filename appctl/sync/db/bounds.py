"""Time limits on database connections, for the sync and the SQL executor alike.

A database host that accepts TCP and never answers must not hold a call or a sync: each
driver is given a connect timeout (psycopg ``connect_timeout``; PyMySQL ``connect_timeout``
and, since it reads the server's greeting under it, ``read_timeout`` and ``write_timeout``;
SQLite's busy ``timeout``), a value given in the URL's query winning. Statement timeouts
are set per session by the caller (``execute.sql`` per call; ``bound_engine`` for the sync
and ``appctl doctor``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

SYNC_CONNECT_TIMEOUT = 10.0  # seconds to connect
SYNC_STATEMENT_TIMEOUT = 300.0  # seconds per catalogue query on a server
SYNC_READ_TIMEOUT = SYNC_STATEMENT_TIMEOUT + 2  # PyMySQL: a socket read, past the above


def bound_engine(engine: Any) -> None:
    """An engine of the sync (or ``appctl doctor``): connecting gives up after
    ``SYNC_CONNECT_TIMEOUT``, a catalogue query after ``SYNC_STATEMENT_TIMEOUT`` (PostgreSQL
    ``statement_timeout``, MariaDB ``max_statement_time``, MySQL ``max_execution_time``;
    PyMySQL's socket reads after ``SYNC_READ_TIMEOUT``)."""
    import sqlalchemy as sa

    driver = engine.dialect.driver
    wanted = connect_timeouts(driver, engine.url.query, SYNC_CONNECT_TIMEOUT)
    if driver == "psycopg":
        given = engine.url.query.get("options")
        timeout = f"-c statement_timeout={int(SYNC_STATEMENT_TIMEOUT * 1000)}"
        wanted["options"] = f"{given} {timeout}" if isinstance(given, str) else timeout

    def connecting(dialect: Any, _record: Any, _args: Any, params: dict[str, Any]) -> None:
        params.update(wanted)

    def connected(dbapi_connection: Any, _record: Any) -> None:
        set_read_timeout(dbapi_connection, SYNC_READ_TIMEOUT)
        mariadb = "mariadb" in str(getattr(dbapi_connection, "server_version", "")).lower()
        with dbapi_connection.cursor() as cursor:
            if mariadb:
                cursor.execute(f"SET SESSION max_statement_time = {SYNC_STATEMENT_TIMEOUT:g}")
            else:
                cursor.execute(
                    f"SET SESSION max_execution_time = {int(SYNC_STATEMENT_TIMEOUT * 1000)}"
                )

    sa.event.listen(engine, "do_connect", connecting)
    if driver == "pymysql":
        sa.event.listen(engine, "connect", connected)


def connect_timeouts(driver: str, given: Mapping[str, object], seconds: float) -> dict[str, Any]:
    """The connect parameters that make ``driver`` give up on a host that does not answer
    within ``seconds`` (the URL's own ``connect_timeout`` instead when it has one), leaving
    out any the URL already set. psycopg counts whole seconds, at least 2, as libpq does;
    PyMySQL's ``read_timeout`` is raised for statements after connecting
    (``set_read_timeout``)."""
    seconds = _seconds(given.get("connect_timeout"), seconds)  # the URL's, for every phase
    if driver == "psycopg":
        wanted: dict[str, Any] = {"connect_timeout": max(2, math.ceil(seconds))}
    elif driver == "pymysql":
        wanted = dict.fromkeys(("connect_timeout", "read_timeout", "write_timeout"), seconds)
    elif driver == "pysqlite":
        wanted = {"timeout": seconds}
    else:
        wanted = {}
    return {key: value for key, value in wanted.items() if given.get(key) is None}


def connect_seconds(driver: str, given: Mapping[str, object], seconds: float) -> float:
    """The connect timeout in force: the URL's own, else what ``connect_timeouts`` sets."""
    key = "timeout" if driver == "pysqlite" else "connect_timeout"
    value = given.get(key)
    if value is None:
        value = connect_timeouts(driver, {}, seconds).get(key, seconds)
    return _seconds(value, seconds)


def _seconds(value: object, default: float) -> float:
    try:
        return float(str(value)) if value is not None else default
    except ValueError:
        return default


def set_read_timeout(dbapi_connection: Any, seconds: float) -> None:
    """PyMySQL: how long each socket read or write of this connection may wait. It has no
    public setter; it reads these two attributes before every read and write (1.0 - 1.2).
    Other drivers have no such limit to set."""
    if hasattr(dbapi_connection, "_read_timeout"):
        dbapi_connection._read_timeout = seconds
        dbapi_connection._write_timeout = seconds


def did_not_answer(exc: BaseException) -> bool:
    """Whether a driver's error says the server did not answer in time (connecting, or a
    socket read under a read timeout), as opposed to a statement the server cancelled."""
    from appctl.errors import first_line

    text = first_line(exc).lower()
    return "timeout expired" in text or "timed out" in text
