"""Where the approval queue lives: one table beside the audit history, and a wake-up channel.

``appctl_approvals`` is in the history database (``history.url``; SQLite by default): one row
per call that waits for a person, with the tool, its redacted arguments and request, who
asked, the front end, when it was asked and until when it waits, then its status
(``pending`` → ``approved`` | ``denied`` | ``expired``), who decided, why and when.

A status changes from ``pending`` once, by a conditional ``UPDATE ... WHERE status =
'pending'`` after the row was read ``FOR UPDATE`` (a row lock on PostgreSQL and MariaDB;
SQLite locks the whole database for the write): of two approvers, or an approver and the
deadline, exactly one wins. On PostgreSQL each decision also sends ``NOTIFY
appctl_approvals`` with the entry's id in the same transaction; ``Listener`` holds one
``LISTEN`` connection per process and wakes the calls waiting there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlalchemy as sa

TABLE = "appctl_approvals"
CHANNEL = "appctl_approvals"  # PostgreSQL NOTIFY channel; the payload is the entry's id
PENDING, APPROVED, DENIED, EXPIRED = "pending", "approved", "denied", "expired"


def table(metadata: sa.MetaData) -> sa.Table:
    import sqlalchemy as sa

    return sa.Table(
        TABLE,
        metadata,
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("tool", sa.String(200), nullable=False),
        sa.Column("arguments", sa.Text, nullable=False),  # JSON, redacted
        sa.Column("request", sa.Text, nullable=False),  # the exact request, redacted
        sa.Column("caller", sa.String(300), nullable=False),  # Caller.name
        sa.Column("safety", sa.String(20), nullable=False),
        sa.Column("destructive", sa.Boolean, nullable=False),
        sa.Column("front_end", sa.String(20), nullable=False),
        sa.Column("created", sa.Double, nullable=False),  # epoch seconds
        sa.Column("deadline", sa.Double, nullable=False),
        sa.Column("status", sa.String(12), nullable=False, index=True),
        sa.Column("decided_by", sa.String(300), nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("decided_at", sa.Double, nullable=True),
    )


def create(engine: sa.Engine, approvals: sa.Table) -> None:
    """Create the table unless it exists (another process may create it at the same time)."""
    import sqlalchemy as sa

    try:
        approvals.metadata.create_all(engine)
    except (sa.exc.OperationalError, sa.exc.ProgrammingError, sa.exc.IntegrityError):
        if not sa.inspect(engine).has_table(approvals.name):
            raise


def notify(connection: sa.Connection, entry: str) -> None:
    """Tell every process listening that ``entry`` was decided (sent when the transaction
    commits; nothing to send on a database without NOTIFY)."""
    import sqlalchemy as sa

    if connection.dialect.name == "postgresql":
        connection.execute(
            sa.text("SELECT pg_notify(:channel, :id)"), {"channel": CHANNEL, "id": entry}
        )


class Listener:
    """One ``LISTEN appctl_approvals`` connection (PostgreSQL) on a daemon thread, calling
    ``wake`` for every notification. If it cannot connect, or loses its connection, it
    tries again a few seconds later; waiting calls poll meanwhile, so nothing hangs."""

    RETRY = 3.0  # seconds between attempts to (re)connect

    def __init__(self, engine: sa.Engine, wake: Callable[[], None]) -> None:
        self._url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._wake = wake
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="appctl-approvals", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen()
            except Exception:  # a dropped connection: waiters poll until it is back
                self._wake()
            self._stop.wait(self.RETRY)

    def _listen(self) -> None:
        import psycopg

        connection: Any = psycopg.connect(self._url, autocommit=True, connect_timeout=5)
        with connection:
            connection.execute(f"LISTEN {CHANNEL}")
            self._wake()  # a decision made while not listening is read now
            while not self._stop.is_set():
                for _ in connection.notifies(timeout=1.0):
                    self._wake()
