"""The shared limiter's statements on MariaDB/MySQL (``execute/sharedlimits.py``).

Slots are named locks (``GET_LOCK(name, 0)``): held by the connection of the running call
and released by the server when that connection ends, like PostgreSQL's advisory locks.
Lock names are server-wide, so each name is a hash of the database and the key.

A rate has no one-statement form here: a named lock per key (waited for at most
``LOCK_WAIT`` seconds) serialises the instances while the row of start times is read, pruned
to the window and written back, all with the server's clock (``UNIX_TIMESTAMP(NOW(6))``).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlalchemy as sa

RATE_TABLE = "appctl_rate"
LOCK_WAIT = 1  # seconds a rate's lock is waited for
_CREATE = (
    f"CREATE TABLE IF NOT EXISTS {RATE_TABLE} "
    "(name VARCHAR(255) PRIMARY KEY, stamps LONGTEXT NOT NULL)"
)
_READ = f"SELECT UNIX_TIMESTAMP(NOW(6)), (SELECT stamps FROM {RATE_TABLE} WHERE name = :key)"
_WRITE = (
    f"INSERT INTO {RATE_TABLE} (name, stamps) VALUES (:key, :stamps) "
    "ON DUPLICATE KEY UPDATE stamps = VALUES(stamps)"
)


class MariaDBCounter:
    def __init__(self, database: str) -> None:
        self.database = database

    def create(self, conn: sa.Connection) -> None:
        import sqlalchemy as sa

        conn.execute(sa.text(_CREATE))

    def admit(self, conn: sa.Connection, key: str, *, window: float, allowed: int) -> float:
        import sqlalchemy as sa

        mutex = self._name(key, "rate")
        got = conn.execute(sa.text("SELECT GET_LOCK(:n, :w)"), {"n": mutex, "w": LOCK_WAIT})
        if got.scalar() != 1:
            raise sa.exc.OperationalError(
                "GET_LOCK", {}, Exception(f"the rate lock was busy for {LOCK_WAIT} s")
            )
        try:
            now, text = conn.execute(sa.text(_READ), {"key": key}).one()
            now = float(now)
            stamps = [float(s) for s in (text or "").split() if float(s) > now - window]
            if len(stamps) >= allowed:
                return max(1e-3, window - (now - min(stamps)))
            written = " ".join(repr(s) for s in sorted([*stamps, now]))
            conn.execute(sa.text(_WRITE), {"key": key, "stamps": written})
            return 0.0
        finally:
            conn.execute(sa.text("SELECT RELEASE_LOCK(:n)"), {"n": mutex})

    def take(self, conn: sa.Connection, key: str, count: int) -> int | None:
        import sqlalchemy as sa

        for slot in range(count):
            name = self._name(key, str(slot))
            if conn.execute(sa.text("SELECT GET_LOCK(:n, 0)"), {"n": name}).scalar() == 1:
                return slot
        return None

    def give_back(self, conn: sa.Connection, key: str, slot: int) -> None:
        import sqlalchemy as sa

        conn.execute(sa.text("SELECT RELEASE_LOCK(:n)"), {"n": self._name(key, str(slot))})

    def _name(self, key: str, part: str) -> str:
        """A lock name under the server's 64 characters, unique to the database and key."""
        digest = hashlib.blake2b(f"{self.database}\x1f{key}".encode(), digest_size=12)
        return f"appctl:{digest.hexdigest()}:{part}"
