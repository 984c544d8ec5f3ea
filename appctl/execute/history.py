"""The audit trail: every call (refused, dry-run and failed ones too), in SQL.

SQLite ``.appctl/history.db`` by default (WAL, a busy timeout, safe with concurrent
processes; written through one open connection, so a record costs tens of microseconds);
any SQLAlchemy URL for a shared deployment. What is stored is already redacted:
argument values under secret-looking names, and every resolved credential value, are
replaced before anything is written.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlalchemy as sa

HISTORY_FILE = "history.db"
REDACTED = "***"
SECRET_NAME = re.compile(
    r"pass(word)?|secret|token|api[-_]?key|authorization|credential", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class Entry:
    at: str
    session: str
    tool: str
    arguments: str
    request: str
    status: int | None
    duration_ms: float
    outcome: str  # ok | failed | refused | invalid | dry_run
    category: str | None = None
    message: str | None = None
    id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def redact(value: Any, secrets: Iterable[str]) -> Any:
    """A copy with secret-named values hidden and every known secret string replaced."""
    hidden = [s for s in secrets if s]
    if not hidden and isinstance(value, dict) and not _needs_walk(value):
        return value  # flat, nothing secret-named, no secrets to replace: nothing to change

    def walk(item: Any, key: str = "") -> Any:
        if key and SECRET_NAME.search(key) and item not in (None, ""):
            return REDACTED
        if isinstance(item, dict):
            return {k: walk(v, str(k)) for k, v in item.items()}
        if isinstance(item, list):
            return [walk(v) for v in item]
        if isinstance(item, str):
            for secret in hidden:
                item = item.replace(secret, REDACTED)
        return item

    return walk(value)


def _needs_walk(value: dict[Any, Any]) -> bool:
    return any(isinstance(v, dict | list) or SECRET_NAME.search(str(k)) for k, v in value.items())


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class History:
    """One table of calls, behind SQLAlchemy Core."""

    def __init__(self, url: str) -> None:
        import sqlalchemy as sa

        self.engine = sa.create_engine(url)
        self._lock = threading.Lock()
        self._sqlite: sqlite3.Connection | None = None
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        self.table = _table(sa.MetaData())
        try:
            self.table.metadata.create_all(self.engine)
        except sa.exc.OperationalError:
            # another process created it between the check and the create
            if not sa.inspect(self.engine).has_table(self.table.name):
                raise
        self._insert = self.table.insert()
        self._columns = [c.name for c in self.table.columns if c.name != "id"]
        if self.engine.dialect.name == "sqlite" and self.engine.url.database not in (
            None,
            "",
            ":memory:",
        ):
            # the hot path: one open connection and a prepared statement (~20 µs a record)
            self._sqlite = sqlite3.connect(
                self.engine.url.database, check_same_thread=False, isolation_level=None, timeout=5.0
            )
            _sqlite_pragmas(self._sqlite, None)
            names = ", ".join(self._columns)
            marks = ", ".join("?" for _ in self._columns)
            self._sql = f"INSERT INTO {self.table.name} ({names}) VALUES ({marks})"

    def record(self, entry: Entry) -> int:
        if self._sqlite is not None:
            row = tuple(getattr(entry, c) for c in self._columns)
            with self._lock:
                cursor = self._sqlite.execute(self._sql, row)
                return int(cursor.lastrowid or 0)
        with self.engine.begin() as conn:
            result = conn.execute(self._insert, {c: getattr(entry, c) for c in self._columns})
            key = result.inserted_primary_key
            return int(key[0]) if key else 0

    def entries(
        self, *, last: int = 20, tool: str | None = None, session: str | None = None
    ) -> list[Entry]:
        query = self.table.select().order_by(self.table.c.id.desc()).limit(last)
        if tool:
            query = query.where(self.table.c.tool == tool)
        if session:
            query = query.where(self.table.c.session == session)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [Entry(**dict(r)) for r in reversed(rows)]

    def entry(self, entry_id: int) -> Entry | None:
        with self.engine.connect() as conn:
            row = (
                conn.execute(self.table.select().where(self.table.c.id == entry_id))
                .mappings()
                .first()
            )
        return Entry(**dict(row)) if row else None


def _table(metadata: sa.MetaData) -> sa.Table:
    import sqlalchemy as sa

    return sa.Table(
        "appctl_calls",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.String(40), nullable=False),  # ids are in time order
        sa.Column("session", sa.String(64), nullable=False),
        sa.Column("tool", sa.String(64), nullable=False),
        sa.Column("arguments", sa.Text, nullable=False),
        sa.Column("request", sa.Text, nullable=False),
        sa.Column("status", sa.Integer, nullable=True),
        sa.Column("duration_ms", sa.Float, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("category", sa.String(32), nullable=True),
        sa.Column("message", sa.Text, nullable=True),
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=5000")
    # WAL + NORMAL: never corrupts; an OS crash may lose the last few records, not a process crash
    cursor.execute("PRAGMA synchronous=NORMAL")
    for attempt in range(50):  # WAL is persistent: only the first opener switches the mode
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
                break
            cursor.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError:  # another process is switching it right now
            time.sleep(0.02 * (attempt + 1))
    cursor.close()


def history_url(app_dir: Path, configured: str | None, environ: Mapping[str, str]) -> str:
    """APPCTL_HISTORY_URL, then config.yaml's history.url, then .appctl/history.db."""
    return environ.get("APPCTL_HISTORY_URL") or configured or f"sqlite:///{app_dir / HISTORY_FILE}"


def arguments_text(arguments: Mapping[str, Any], secrets: Iterable[str]) -> str:
    return json.dumps(redact(dict(arguments), secrets), sort_keys=True, default=str)
