"""Rate and concurrency limits counted in PostgreSQL (execute/sharedlimits.py): two limiters
on two engines stand for two appctl instances (separate pools, separate connections), and
many threads hammer both at once."""

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
from appctl.execute.sharedlimits import SharedLimiter, admit, create_tables, limiter_for
from tests import dbs

THREADS = 16  # per instance
ATTEMPTS = 10  # per thread


@pytest.fixture
def pg_url(tmp_path: Path) -> Iterator[str]:
    if "postgresql" not in dict(dbs.database_urls()):
        pytest.skip("no PostgreSQL (scripts/dbservers start)")
    url = dbs.fresh_database("postgresql", tmp_path)
    try:
        yield url
    finally:
        dbs.drop_database(url)


@pytest.fixture
def engines(pg_url: str) -> Iterator[tuple[sa.Engine, sa.Engine]]:
    one = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT", pool_size=THREADS)
    two = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT", pool_size=THREADS)
    try:
        yield one, two
    finally:
        one.dispose()
        two.dispose()


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
    with engines[0].connect() as conn:
        create_tables(conn)
    admitted: list[int] = []
    refused: list[str] = []
    start = threading.Barrier(2 * THREADS)

    def calls(engine: sa.Engine) -> None:
        start.wait(timeout=30)
        with engine.connect() as conn:
            for _ in range(ATTEMPTS):
                try:
                    admit(conn, "app\x1fhits", "hits", window=600, allowed=7)
                    admitted.append(1)
                except OverLimit as exc:
                    refused.append(str(exc))

    _hammer([threading.Thread(target=calls, args=(e,)) for e in engines for _ in range(THREADS)])
    assert len(admitted) == 7  # never one more, whichever instance and thread raced
    assert len(refused) == 2 * THREADS * ATTEMPTS - 7
    wait = float(refused[0].split("try again in ")[1].split(" s")[0])
    assert refused[0].startswith("hits is over its rate limit") and 0 < wait <= 600


def test_a_window_slides(engines: tuple[sa.Engine, sa.Engine]) -> None:
    with engines[0].connect() as conn:
        create_tables(conn)
        admit(conn, "k", "t", window=0.5, allowed=1)
        with pytest.raises(OverLimit):
            admit(conn, "k", "t", window=0.5, allowed=1)
        time.sleep(0.6)
        admit(conn, "k", "t", window=0.5, allowed=1)  # the first call left the window


def test_concurrency_slots_are_shared_and_given_back(
    engines: tuple[sa.Engine, sa.Engine],
) -> None:
    limiters = [SharedLimiter(engine, scope="app") for engine in engines]
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
        _enter(limiters[1], "slow", limits)
    with engines[0].connect() as conn:
        held = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
        assert conn.execute(sa.text(held)).scalar() == 0


def test_rate_and_concurrency_together(engines: tuple[sa.Engine, sa.Engine]) -> None:
    limiter = SharedLimiter(engines[0], scope="app")
    limits = Limits(per_second=0.01, max_concurrency=1)  # one call per 100 s, one at a time
    with limiter.admitted("t", limits), pytest.raises(OverLimit, match="running"):
        _enter(limiter, "t", limits)
    with pytest.raises(OverLimit, match="rate limit"):  # refused by the rate: slot given back
        _enter(limiter, "t", limits)
    with engines[0].connect() as conn:
        held = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
        assert conn.execute(sa.text(held)).scalar() == 0


def test_scopes_count_apart(engines: tuple[sa.Engine, sa.Engine]) -> None:
    limits = Limits(per_second=0.01)
    _enter(SharedLimiter(engines[0], scope="one"), "t", limits)
    _enter(SharedLimiter(engines[1], scope="two"), "t", limits)  # another app's, same name


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
