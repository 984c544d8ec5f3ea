"""Per-tool rate and concurrency limits counted in the history database when it is
PostgreSQL (or MariaDB/MySQL: ``execute/mariadblimits.py``), so every appctl instance sharing
it (several ``appctl serve`` behind one load balancer) enforces one limit. A SQLite history
keeps the per-process counting of ``execute/limits.py`` (it is one host's).

Rate: one row per tool in ``appctl_rate`` holds the start times of its calls in the current
sliding window (``limits.rate_window``: the same window and count as in a process), and one
statement admits a call: ``INSERT ... ON CONFLICT (key) DO UPDATE ... WHERE`` fewer than the
allowed calls are in the window ``RETURNING``. The update locks the row, so concurrent
admissions on any instance are serialised and never over-admit; the times are the database's
clock (``clock_timestamp()``), so the instances' clocks do not matter. Tolerance: none beyond
the in-process limiter's (at most the allowed count in any window of the database's clock).

Concurrency: a running call holds one of the tool's ``max_concurrency`` slots as a session
advisory lock (``pg_try_advisory_lock(key, slot)``) on a connection it keeps until it ends.
A lock dies with its connection, so an instance that is killed or crashes never leaks a slot:
PostgreSQL releases it as soon as it sees the connection close. Each running limited call
holds one pooled connection (``POOL_SIZE`` kept, more opened as needed).

Never blocking a call for long: connecting waits ``CONNECT_TIMEOUT`` seconds and a row lock
``LOCK_TIMEOUT_MS``. When the database cannot be used, the limiter fails closed: a call under
a limit is answered ``rate_limited`` (a 429 with Retry-After from ``appctl serve``), its
message naming the database and what went wrong; for ``RETRY_AFTER`` seconds after such a
failure calls are refused at once, without trying again. Calls with no limit never touch it.
A limit that cannot be counted is refused rather than counted per process, because an
instance counting alone would let every instance through and multiply the limit. Apps that
share one database count apart by ``scope`` (the contract's title): two apps of the same
title with tools of the same name share their limits.
"""

from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any, Protocol

from appctl.config import Limits
from appctl.errors import first_line
from appctl.execute.limits import Limiter, OverLimit, rate_window

if TYPE_CHECKING:
    import sqlalchemy as sa

RATE_TABLE = "appctl_rate"
CONNECT_TIMEOUT = 2  # seconds to open a connection to the database
LOCK_TIMEOUT_MS = 1000  # a row lock waited for (the rate row of a tool called at once)
STATEMENT_TIMEOUT_MS = 3000
RETRY_AFTER = 2.0  # seconds calls are refused at once after the database failed
POOL_SIZE = 8  # connections kept open; a running limited call holds one

_CREATE = f"""CREATE TABLE IF NOT EXISTS {RATE_TABLE} (
    key text PRIMARY KEY,
    stamps double precision[] NOT NULL
)"""
_NOW = "extract(epoch FROM clock_timestamp())::float8"
_IN_WINDOW = f"FROM unnest(r.stamps) AS s WHERE s > {_NOW} - :window"
# admits a call (one row back) or refuses it (none): the row lock serialises every instance
_ADMIT = f"""INSERT INTO {RATE_TABLE} AS r (key, stamps) VALUES (:key, ARRAY[{_NOW}])
ON CONFLICT (key) DO UPDATE
SET stamps = ARRAY(SELECT s {_IN_WINDOW} ORDER BY s) || {_NOW}
WHERE (SELECT count(*) {_IN_WINDOW}) < :allowed
RETURNING 1"""
# seconds until the oldest call in the window leaves it
_WAIT = f"SELECT :window - ({_NOW} - min(s)) FROM {RATE_TABLE} AS r, unnest(r.stamps) AS s "
_WAIT += f"WHERE r.key = :key AND s > {_NOW} - :window"
_SLOT = (
    "SELECT s FROM generate_series(0, :count - 1) AS s WHERE pg_try_advisory_lock(:key, s) LIMIT 1"
)
_RELEASE = "SELECT pg_advisory_unlock(:key, :slot)"

_engines: dict[str, sa.Engine] = {}
_engines_lock = threading.Lock()


def limiter_for(engine: sa.Engine, *, scope: str = "") -> Limiter | None:
    """The limiter a session counts with, chosen from its history database: a
    ``SharedLimiter`` on PostgreSQL or MariaDB/MySQL, else None (count in this process).
    ``scope`` tells apps sharing one database apart (the contract's title)."""
    counter: Counter
    if engine.dialect.name == "postgresql":
        counter = PostgresCounter()
    elif engine.dialect.name in ("mysql", "mariadb"):
        from appctl.execute.mariadblimits import MariaDBCounter

        counter = MariaDBCounter(engine.url.database or "")
    else:
        return None
    return SharedLimiter(pooled_engine(engine.url), scope=scope, counter=counter)


def pooled_engine(url: sa.URL) -> sa.Engine:
    """One pool per database in a process, with short timeouts and autocommit."""
    import sqlalchemy as sa

    key = url.render_as_string(hide_password=False)
    with _engines_lock:
        if key not in _engines:
            _engines[key] = sa.create_engine(
                url,
                isolation_level="AUTOCOMMIT",
                pool_size=POOL_SIZE,
                max_overflow=-1,  # a running limited call is never kept waiting for one
                pool_pre_ping=True,
                connect_args=_timeouts(url),
            )
        return _engines[key]


def _timeouts(url: sa.URL) -> dict[str, Any]:
    """The short timeouts, as libpq's drivers take them (other drivers: their defaults)."""
    if url.get_driver_name() == "pymysql":
        return {"connect_timeout": CONNECT_TIMEOUT, "read_timeout": 5, "write_timeout": 5}
    if url.get_driver_name() not in ("psycopg", "psycopg2"):
        return {}
    options = f"-c lock_timeout={LOCK_TIMEOUT_MS} -c statement_timeout={STATEMENT_TIMEOUT_MS}"
    return {"connect_timeout": CONNECT_TIMEOUT, "options": options}


class SharedLimiter:
    """Counts in a shared database (this module's docstring says how)."""

    def __init__(
        self, engine: sa.Engine, *, scope: str = "", counter: Counter | None = None
    ) -> None:
        self.engine = engine
        self.scope = scope
        self.counter: Counter = counter or PostgresCounter()
        self._ready = False
        self._down_until = 0.0
        self._down = ""
        self._lock = threading.Lock()

    def admitted(self, tool: str, limits: Limits) -> AbstractContextManager[None]:
        return self._admitted(tool, limits)

    @contextmanager
    def _admitted(self, tool: str, limits: Limits) -> Iterator[None]:
        if limits.per_second is None and limits.max_concurrency is None:
            yield  # nothing to count against
            return
        key = f"{self.scope}\x1f{tool}"
        conn = self._connect(tool)
        try:
            slot = self._guarded(tool, lambda: self._take(conn, key, tool, limits))
        except BaseException:
            conn.close()  # over a limit: nothing held (_take gave back what it took)
            raise
        if slot is None:
            conn.close()  # a rate only: counted, nothing to hold while the call runs
            yield
            return
        try:
            yield
        finally:
            self._release(conn, key, slot)

    def _take(self, conn: sa.Connection, key: str, tool: str, limits: Limits) -> int | None:
        """The slot taken (None: no concurrency limit), after the rate is admitted."""
        slot = None
        if limits.max_concurrency is not None:
            slot = self.counter.take(conn, key, limits.max_concurrency)
            if slot is None:
                raise OverLimit(
                    f"{tool} already has {limits.max_concurrency} call(s) running, "
                    "its limit; try again when one finishes"
                )
        try:
            if limits.per_second is not None:
                window, allowed = rate_window(limits.per_second)
                wait = self.counter.admit(conn, key, window=window, allowed=allowed)
                if wait:
                    raise OverLimit(f"{tool} is over its rate limit; try again in {wait:.1f} s")
        except BaseException:
            if slot is not None:
                self._release(conn, key, slot, close=False)
            raise
        return slot

    def _connect(self, tool: str) -> sa.Connection:
        with self._lock:
            down, until = self._down, self._down_until
        if time.monotonic() < until:
            raise OverLimit(down)
        conn: sa.Connection = self._guarded(tool, self.engine.connect, remember=True)
        if not self._ready:
            try:
                self._guarded(tool, lambda: _create(self.counter, conn), remember=True)
            except OverLimit:
                conn.close()
                raise
            self._ready = True
        return conn

    def _guarded(self, tool: str, step: Any, *, remember: bool = False) -> Any:
        """``step()``, a database failure turned into a refusal; ``remember``: one that
        says the database cannot be reached, refused at once for a while."""
        import sqlalchemy as sa

        try:
            return step()
        except sa.exc.SQLAlchemyError as exc:
            url = self.engine.url.render_as_string(hide_password=True)
            message = (
                f"{tool} has a rate or concurrency limit, and the database that counts it "
                f"for every instance ({url}) cannot be used: {first_line(exc)}; "
                f"try again in {RETRY_AFTER:.0f} s"
            )
            if remember:
                with self._lock:
                    self._down, self._down_until = message, time.monotonic() + RETRY_AFTER
            raise OverLimit(message) from None

    def _release(self, conn: sa.Connection, key: str, slot: int, *, close: bool = True) -> None:
        """Give the slot back; a connection that cannot is closed (its locks with it)."""
        import sqlalchemy as sa

        try:
            self.counter.give_back(conn, key, slot)
        except sa.exc.SQLAlchemyError:
            conn.invalidate()  # dropping the connection frees every lock it held
        finally:
            if close:
                conn.close()


def _create(counter: Counter, conn: sa.Connection) -> None:
    """The rate table made, unless another connection made it at the same moment (two
    ``CREATE TABLE IF NOT EXISTS`` at once: one fails on PostgreSQL's catalogue)."""
    import sqlalchemy as sa

    try:
        counter.create(conn)
    except sa.exc.DBAPIError:
        if not sa.inspect(conn).has_table(RATE_TABLE):
            raise


class Counter(Protocol):
    """One database's statements (each raises ``sqlalchemy.exc.SQLAlchemyError`` when it
    cannot be used)."""

    def create(self, conn: sa.Connection) -> None:
        """The rate table, unless it exists (made on a limiter's first counted call)."""

    def admit(self, conn: sa.Connection, key: str, *, window: float, allowed: int) -> float:
        """Count one call of ``key`` if fewer than ``allowed`` started in the last
        ``window`` seconds (0.0 back); else count nothing and give the seconds to wait."""
        ...

    def take(self, conn: sa.Connection, key: str, count: int) -> int | None:
        """The first free slot of ``count``, now held by this connection; None: all taken."""
        ...

    def give_back(self, conn: sa.Connection, key: str, slot: int) -> None: ...


class PostgresCounter:
    """A row per key admits with one statement; slots are session advisory locks."""

    def create(self, conn: sa.Connection) -> None:
        import sqlalchemy as sa

        conn.execute(sa.text(_CREATE))

    def admit(self, conn: sa.Connection, key: str, *, window: float, allowed: int) -> float:
        import sqlalchemy as sa

        given = {"key": key, "window": window, "allowed": allowed}
        if conn.execute(sa.text(_ADMIT), given).first() is not None:
            return 0.0
        wait = conn.execute(sa.text(_WAIT), given).scalar()
        return max(1e-3, float(wait)) if wait is not None else window

    def take(self, conn: sa.Connection, key: str, count: int) -> int | None:
        import sqlalchemy as sa

        found = conn.execute(sa.text(_SLOT), {"key": _int32(key), "count": count}).scalar()
        return None if found is None else int(found)

    def give_back(self, conn: sa.Connection, key: str, slot: int) -> None:
        import sqlalchemy as sa

        conn.execute(sa.text(_RELEASE), {"key": _int32(key), "slot": slot})


def _int32(key: str) -> int:
    """A stable signed 32-bit number for a key (the advisory lock's first half)."""
    value = zlib.crc32(key.encode())
    return value - (1 << 32) if value >= 1 << 31 else value
