"""The database test infrastructure itself: fresh_db is empty and writable on every kind,
Chinook loads everywhere, and the read-only role cannot write."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tests import dbs
from tests.chinook import COUNTS, TOTAL_ROWS, load_chinook


@pytest.fixture
def engine(fresh_db: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(fresh_db, poolclass=sa.pool.NullPool)
    try:
        yield engine
    finally:
        engine.dispose()


def test_fresh_db_is_empty_and_writable(engine: sa.Engine) -> None:
    assert sa.inspect(engine).get_table_names() == []
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, name VARCHAR(20))")
        conn.exec_driver_sql("INSERT INTO t (id, name) VALUES (1, 'x')")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT name FROM t").scalar_one() == "x"


def test_chinook_loads(fresh_db: str, engine: sa.Engine) -> None:
    counts = load_chinook(fresh_db)
    assert counts == COUNTS
    assert sum(counts.values()) == TOTAL_ROWS
    names = set(sa.inspect(engine).get_table_names())
    assert names == set(COUNTS)
    with engine.begin() as conn:
        md = sa.MetaData()
        artist = sa.Table("Artist", md, autoload_with=conn)
        # The keys autoincrement past the loaded ones on every kind.
        new_id = conn.execute(artist.insert().values(Name="New")).inserted_primary_key[0]
        assert new_id == COUNTS["Artist"] + 1
        invoice = sa.Table("Invoice", md, autoload_with=conn)
        total = conn.execute(sa.select(sa.func.sum(invoice.c.Total))).scalar_one()
        assert round(float(total), 2) == 2328.60


@pytest.mark.parametrize("kind", dbs.SERVER_KINDS)
def test_read_only_role_cannot_write(kind: str) -> None:
    if kind not in dbs.kinds():
        pytest.skip(f"{dbs.URL_VARS[kind]} is not set")
    table = "appctl_ro_probe"
    rw = sa.create_engine(dbs.server_url(kind), poolclass=sa.pool.NullPool)
    ro = sa.create_engine(dbs.server_url(kind, read_only=True), poolclass=sa.pool.NullPool)
    try:
        with rw.begin() as conn:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
            conn.exec_driver_sql(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY)")
            conn.exec_driver_sql(f"INSERT INTO {table} VALUES (1)")
        with ro.connect() as conn:
            assert conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one() == 1
        with pytest.raises(sa.exc.DBAPIError, match=r"(?i)denied"), ro.begin() as conn:
            conn.exec_driver_sql(f"INSERT INTO {table} VALUES (2)")
    finally:
        with rw.begin() as conn:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
        rw.dispose()
        ro.dispose()
