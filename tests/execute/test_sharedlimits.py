"""Rate and concurrency limits counted in PostgreSQL and MariaDB (execute/sharedlimits.py,
execute/mariadblimits.py): two limiters on two engines stand for two appctl instances
(separate pools, separate connections), and many threads hammer both at once."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from appctl.config import Limits
from appctl.execute.limits import OverLimit
from appctl.execute.sharedlimits import SharedLimiter, limiter_for
from tests import dbs

THREADS = 16  # per instance
ATTEMPTS = 10  # per thread


@pytest.fixture
def shared_url(server_db: str) -> str:
    return server_db


@pytest.fixture
def engines(shared_url: str) -> Iterator[tuple[sa.Engine, sa.Engine]]:
    one = sa.create_engine(shared_url, isolation_level="AUTOCOMMIT", pool_size=THREADS)
    two = sa.create_engine(shared_url, isolation_level="AUTOCOMMIT", pool_size=THREADS)
    try:
        yield one, two
    finally:
        one.dispose()
        two.dispose()


def _limiter(engine: sa.Engine, scope: str = "app") -> SharedLimiter:
    """The limiter a session on this history would count with (its own pool, as in use)."""
    limiter = limiter_for(engine, scope=scope)
    assert isinstance(limiter, SharedLimiter)
    return SharedLimiter(engine, scope=scope, counter=limiter.counter)  # this engine's pool


def _held(engine: sa.Engine, tool: str, count: int) -> int:
    """Slots of ``tool`` (scope "app") held in the database now, by any connection."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            held = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
            return int(conn.execute(sa.text(held)).scalar() or 0)
        counter = _limiter(engine).counter
        names = [counter._name(f"app\x1f{tool}", str(n)) for n in range(count)]  # type: ignore[attr-defined]
        free = "SELECT IS_FREE_LOCK(:n)"
        return sum(conn.execute(sa.text(free), {"n": n}).scalar() == 0 for n in names)


def _enter(limiter: SharedLimiter, tool: str, limits: Limits) -> None:
    """One call admitted and ended at once (raises OverLimit when refused)."""
    with limiter.admitted(tool, limits):
        pass


def _hammer(work: list[threading.Thread]) -> None:
    for thread in work:
        thread.start()
    for thread in work:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in work)


def test_a_window_admits_exactly_its_count_across_instances(
    engines: tuple[sa.Engine, sa.Engine],
) -> None:
    counter = _limiter(engines[0]).counter
    with engines[0].connect() as conn:
        counter.create(conn)
    admitted: list[int] = []
    waits: list[float] = []
    start = threading.Barrier(2 * THREADS)

    def calls(engine: sa.Engine) -> None:
        start.wait(timeout=30)
        with engine.connect() as conn:
            for _ in range(ATTEMPTS):
                try:
                    wait = counter.admit(conn, "app\x1fhits", window=600, allowed=7)
                except sa.exc.OperationalError as exc:  # MariaDB: the rate's lock was busy
                    assert "rate lock was busy" in str(exc)
                    busy.append(1)
                    continue
                (waits if wait else admitted).append(wait)

    busy: list[int] = []
    _hammer([threading.Thread(target=calls, args=(e,)) for e in engines for _ in range(THREADS)])
    assert len(admitted) == 7  # never one more, whichever instance and thread raced
    assert len(waits) + len(busy) == 2 * THREADS * ATTEMPTS - 7
    assert all(0 < wait <= 600 for wait in waits)
    with pytest.raises(OverLimit, match=r"^hits is over its rate limit; try again in \d"):
        _enter(_limiter(engines[1]), "hits", Limits(per_second=1 / 600))


def test_a_window_slides(engines: tuple[sa.Engine, sa.Engine]) -> None:
    counter = _limiter(engines[0]).counter
    with engines[0].connect() as conn:
        counter.create(conn)
        assert counter.admit(conn, "k", window=0.5, allowed=1) == 0
        assert 0 < counter.admit(conn, "k", window=0.5, allowed=1) <= 0.5
        time.sleep(0.6)
        assert counter.admit(conn, "k", window=0.5, allowed=1) == 0  # the first one left


def test_concurrency_slots_are_shared_and_given_back(
    engines: tuple[sa.Engine, sa.Engine],
) -> None:
    limiters = [_limiter(engine) for engine in engines]
    limits = Limits(max_concurrency=3)
    inside = threading.Event()
    release = threading.Event()
    entered: list[int] = []
    refused: list[str] = []
    start = threading.Barrier(2 * THREADS)

    def call(limiter: SharedLimiter) -> None:
        start.wait(timeout=30)
        try:
            with limiter.admitted("slow", limits):
                entered.append(1)
                inside.set()
                release.wait(timeout=30)
        except OverLimit as exc:
            refused.append(str(exc))
            if len(refused) == 2 * THREADS - 3:
                release.set()  # every other call has been answered: let the three go

    work = [threading.Thread(target=call, args=(lim,)) for lim in limiters for _ in range(THREADS)]
    _hammer(work)
    assert inside.is_set() and len(entered) == 3 and len(refused) == 2 * THREADS - 3
    assert "already has 3 call(s) running" in refused[0]
    # all given back: three more fit at once, on either instance
    with (
        limiters[0].admitted("slow", limits),
        limiters[1].admitted("slow", limits),
        limiters[0].admitted("slow", limits),
        pytest.raises(OverLimit),
    ):
        assert _held(engines[0], "slow", 3) == 3
        _enter(limiters[1], "slow", limits)
    assert _held(engines[0], "slow", 3) == 0


def test_rate_and_concurrency_together(engines: tuple[sa.Engine, sa.Engine]) -> None:
    limiter = _limiter(engines[0])
    limits = Limits(per_second=0.01, max_concurrency=1)  # one call per 100 s, one at a time
    with limiter.admitted("t", limits), pytest.raises(OverLimit, match="running"):
        _enter(limiter, "t", limits)
    with pytest.raises(OverLimit, match="rate limit"):  # refused by the rate: slot given back
        _enter(limiter, "t", limits)
    assert _held(engines[0], "t", 1) == 0


def test_scopes_count_apart(engines: tuple[sa.Engine, sa.Engine]) -> None:
    limits = Limits(per_second=0.01)
    _enter(_limiter(engines[0], "one"), "t", limits)
    _enter(_limiter(engines[1], "two"), "t", limits)  # another app's, same name


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_database_refuses_limited_calls_only() -> None:
    url = f"postgresql+psycopg://appctl:secret-pw@127.0.0.1:{_closed_port()}/nowhere"
    limiter = limiter_for(sa.create_engine(url), scope="app")
    assert isinstance(limiter, SharedLimiter)
    with limiter.admitted("free", Limits()):
        pass  # no limit: the database is never asked
    asked = time.monotonic()
    with pytest.raises(OverLimit) as refused:
        _enter(limiter, "hits", Limits(per_second=5))
    message = str(refused.value)
    assert "hits has a rate or concurrency limit" in message and "cannot be used" in message
    assert f"127.0.0.1:{url.split(':')[3].split('/')[0]}/nowhere" in message
    assert "secret-pw" not in message and "try again in 2 s" in message
    with pytest.raises(OverLimit):  # at once, without trying again for a while
        _enter(limiter, "hits", Limits(max_concurrency=1))
    assert time.monotonic() - asked < 10


def test_only_postgresql_is_shared(tmp_path: Path) -> None:
    assert limiter_for(sa.create_engine(dbs.sqlite_url(tmp_path))) is None
