"""The audit trail: every call (refused, dry-run and failed ones too), in SQL.

SQLite ``.appctl/history.db`` by default, or any SQLAlchemy URL for a shared deployment.
What is stored is already redacted: argument values under secret-looking names, and every
resolved credential value, are replaced before anything is written.

On a SQLite file a call's record is first appended, as one JSON line, to the pending log
beside it (``history.db.pending``) before the call returns: one ``write`` under a shared
``flock``, a few microseconds, where a SQLite commit costs tens (and a WAL checkpoint
milliseconds). The log is as durable as the WAL with ``synchronous=NORMAL`` was: a process
crash loses nothing (a power loss may lose the last records, as it could before). It is
folded into the database before appctl reads it (``entries``/``entry``, so ``appctl
history`` is always whole), by a background thread ``FOLD_DELAY`` seconds after a burst of
calls starts, by the writer that finds it past ``FOLD_BYTES``, and when the ``History`` is
closed or its process exits: a tool reading ``history.db`` directly is at most about a
second behind. Folding holds the exclusive lock, inserts the lines in one transaction
(``ON CONFLICT (uid) DO NOTHING`` on each record's unique ``uid``: a fold cut short between
its commit and its truncation records nothing twice), then empties the log. A line that is
not a whole record (a write torn by a full disk or a power loss) is moved to
``history.db.rejected``, never dropped.

A call that may change something is recorded twice under one ``uid``: ``begin`` writes it
as ``started`` before its request is sent, ``complete`` writes the outcome after, and the
second line updates the first row when folded (``ON CONFLICT (uid) DO UPDATE ... WHERE`` the
new line is not a ``started`` one: a fold replayed after being cut short never turns a
completed record back). On a database server, ``begin`` inserts and ``complete`` updates. A
process killed in between leaves the ``started`` row; ``abandon`` completes what a stopping
server still has running as ``cancelled``. Each record is completed once (the first of
``complete`` and ``abandon`` wins).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sqlite3
import threading
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from appctl.execute.audit.callers import CALLER_CHARS, add_caller, caller_clause

if TYPE_CHECKING:
    import sqlalchemy as sa

    from appctl.execute.redact import Redactor

HISTORY_FILE = "history.db"
PENDING_SUFFIX = ".pending"  # history.db.pending: records not yet folded into the database
REJECTED_SUFFIX = ".rejected"  # history.db.rejected: pending lines that were not whole records
FOLD_BYTES = 1 << 20  # a writer folds the pending log once it is past this (~4,000 records)
FOLD_DELAY = 0.25  # seconds from a record to the background fold that takes it (and its batch)
_CHECK_EVERY = 64  # records a writer appends between looks at the log's size
# the outcome of an extra entry, after a call's own, for a result that never reached its
# client (appctl mcp over HTTP: the client went away, or the shutdown grace ran out)
UNDELIVERED = "undelivered"
STARTED = "started"  # a record begun before its request was sent, not completed (yet)
CANCELLED = "cancelled"  # completed by ``abandon``: the process stopped before the call ended
POLLING = "polling"  # a begun record whose long-running operation is being followed (``mark``)
STARTED_NOTE = (
    "no outcome recorded: the call was still running when this was read, or its process "
    "ended first (killed or crashed); the request may have reached the server"
)


@dataclass(slots=True)  # not frozen: a frozen dataclass costs a microsecond more to make
class Entry:
    at: str
    session: str
    tool: str
    arguments: str
    request: str
    status: int | None
    duration_ms: float
    outcome: str  # ok | failed | refused | invalid | dry_run | started | polling | cancelled
    # | undelivered
    category: str | None = None
    message: str | None = None
    id: int | None = None
    # who asked (``Caller.name``, printable and bounded: ``audit.callers``); None for a row
    # recorded before histories had the column, or a call that named nobody (library use)
    caller: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class History:
    """One table of calls, behind SQLAlchemy Core (and, on a SQLite file, a pending log)."""

    def __init__(self, url: str) -> None:
        import sqlalchemy as sa

        self.engine = sa.create_engine(url)
        if self.engine.dialect.name == "sqlite":
            _create_private(self.engine.url.database)
        self._lock = threading.Lock()
        self._log: _PendingLog | None = None
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        self.table = _table(sa.MetaData())
        try:
            self.table.metadata.create_all(self.engine)
        except sa.exc.OperationalError:
            # another process created it between the check and the create
            if not sa.inspect(self.engine).has_table(self.table.name):
                raise
        _add_uid(self.engine, self.table)
        add_caller(self.engine, self.table)
        self._insert = self.table.insert()
        self._columns = [c.name for c in self.table.columns if c.name not in ("id", "uid")]
        self._select = sa.select(*[c for c in self.table.columns if c.name != "uid"])
        self._token = secrets.token_hex(6)  # this History's records: uid = token + counter
        self._count = 0
        self._open: dict[str, tuple[Entry, float]] = {}  # begun, not completed: uid → (entry, t)
        self._update = self.table.update().where(self.table.c.uid == sa.bindparam("_uid"))
        database = self.engine.url.database
        on_file = self.engine.dialect.name == "sqlite" and database not in (None, "", ":memory:")
        if on_file and _has_flock():
            required = [not self.table.c[c].nullable for c in self._columns]
            self._log = _PendingLog(str(database), self.table.name, self._columns, required)
            # on garbage collection or exit: fold what is left if no one else is folding (the
            # log keeps it anyway). Never wait there: the collector can run this inside another
            # History's fold in this very thread, which holds the log's exclusive lock through
            # another open file, and waiting for it would wait forever.
            self._finalizer = weakref.finalize(self, self._log.close, blocking=False)

    def record(self, entry: Entry) -> None:
        """Write the record down before returning (durable across a process crash)."""
        with self._lock:
            self._count += 1
            uid = f"{self._token}{self._count:x}"
        self._write(uid, entry, update=False)

    def begin(self, entry: Entry) -> str:
        """Write a call's record down as ``started`` before its request is sent; returns its
        uid, for ``complete``. If this raises, nothing is open."""
        begun = replace(entry, outcome=STARTED, status=None, message=STARTED_NOTE)
        with self._lock:
            self._count += 1
            uid = f"{self._token}{self._count:x}"
            self._open[uid] = (begun, time.perf_counter())
        try:
            self._write(uid, begun, update=False)
        except BaseException:
            with self._lock:
                self._open.pop(uid, None)
            raise
        return uid

    def complete(self, uid: str, entry: Entry) -> bool:
        """Replace a begun record with the call's outcome (the same row); False, writing
        nothing, when it was completed already (by ``abandon``)."""
        with self._lock:
            if self._open.pop(uid, None) is None:
                return False
        self._write(uid, entry, update=True)
        return True

    def mark(self, uid: str, outcome: str, message: str) -> bool:
        """Say how a begun call is getting on (``polling``) in its row, which stays open for
        ``complete``; False, writing nothing, when it was completed already."""
        with self._lock:
            found = self._open.get(uid)
        if found is None:
            return False
        self._write(uid, replace(found[0], outcome=outcome, message=message), update=True)
        return True

    def abandon(self, *, message: str, outcome: str = CANCELLED) -> int:
        """Complete every begun record not completed yet (the calls still running) as
        ``outcome``: for a server stopping before they end. How many there were."""
        with self._lock:
            running, self._open = self._open, {}
        failed: Exception | None = None
        for uid, (entry, began) in running.items():
            took = entry.duration_ms + (time.perf_counter() - began) * 1000
            done = replace(entry, outcome=outcome, message=message, duration_ms=round(took, 3))
            try:
                self._write(uid, done, update=True)
            except Exception as exc:  # the others are still written; their started rows stay
                failed = failed or exc
        if failed is not None:
            raise failed
        return len(running)

    def _write(self, uid: str, entry: Entry, *, update: bool) -> None:
        """One line in the pending log (folding updates a row of the same uid), or on a
        database without one an insert, or an update of the begun row."""
        row = [getattr(entry, c) for c in self._columns]
        if self._log is not None:
            self._log.append(uid, row, check_size=self._count % _CHECK_EVERY == 0)
            return
        values = dict(zip(self._columns, row, strict=True))
        with self.engine.begin() as conn:
            if update and conn.execute(self._update, {"_uid": uid, **values}).rowcount:
                return
            conn.execute(self._insert, {"uid": uid, **values})

    def fold(self) -> int:
        """Move every pending record into the database; how many lines that took (0 without
        a pending log)."""
        return self._log.fold(blocking=True) if self._log is not None else 0

    def entries(
        self,
        *,
        last: int = 20,
        tool: str | None = None,
        session: str | None = None,
        caller: str | None = None,
    ) -> list[Entry]:
        """The latest ``last`` records (oldest first), of one tool, session or callers (a
        glob on the recorded caller: ``ops-*``; ``""`` the rows that name nobody)."""
        self.fold()
        query = self._select.order_by(self.table.c.id.desc()).limit(last)
        if tool:
            query = query.where(self.table.c.tool == tool)
        if session:
            query = query.where(self.table.c.session == session)
        if caller is not None:
            query = query.where(
                caller_clause(self.table.c.caller, caller, dialect=self.engine.dialect.name)
            )
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [Entry(**dict(r)) for r in reversed(rows)]

    def entry(self, entry_id: int) -> Entry | None:
        self.fold()
        with self.engine.connect() as conn:
            row = conn.execute(self._select.where(self.table.c.id == entry_id)).mappings().first()
        return Entry(**dict(row)) if row else None

    def count(self) -> int:
        """How many calls are recorded (pending ones folded first)."""
        import sqlalchemy as sa

        self.fold()
        query = sa.select(sa.func.count()).select_from(self.table)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def rejected(self) -> tuple[str, int] | None:
        """The file of pending lines that were not whole records, and how many it holds."""
        if self._log is None or not os.path.exists(self._log.rejected):
            return None
        with open(self._log.rejected, "rb") as lines:
            return self._log.rejected, sum(1 for line in lines if line.strip())

    def close(self) -> None:
        """Fold what is pending and let go of the files and connections."""
        if self._log is not None:
            self._finalizer.detach()
            self._log.close(blocking=True)
        self.engine.dispose()


def _has_flock() -> bool:
    try:
        import fcntl  # noqa: F401
    except ImportError:  # not POSIX: every record is a SQLite commit
        return False
    return True


class _PendingLog:
    """``<database>.pending``: whole JSON lines appended under a shared ``flock``; folded
    into the database under the exclusive one."""

    def __init__(self, database: str, table: str, columns: list[str], required: list[bool]):
        self.path = database + PENDING_SUFFIX
        self.rejected = database + REJECTED_SUFFIX
        self._database = database
        self._lock = threading.Lock()
        self._fd = _open_log(self.path)
        self._required = [True, *required]  # the uid, then each column: may it be null?
        names = ", ".join(["uid", *columns])
        marks = ", ".join("?" for _ in self._required)
        changes = ", ".join(f"{c} = excluded.{c}" for c in columns)
        # a record's later line (a begun call's outcome) updates its row; a line folded before
        # (a fold cut short before emptying the log) writes the same values again, and a
        # ``started`` line never overwrites; anything else wrong is an error, never a drop
        self._insert = (
            f"INSERT INTO {table} ({names}) VALUES ({marks}) ON CONFLICT (uid) DO UPDATE "
            f"SET {changes} WHERE excluded.outcome <> '{STARTED}'"
        )
        self._sqlite: sqlite3.Connection | None = None
        self._wake = threading.Event()
        self._closed = False
        self._folder: threading.Thread | None = None

    def append(self, uid: str, row: list[Any], *, check_size: bool) -> None:
        import fcntl

        # a leading newline: a torn earlier write (ours or another process's) stays its own line
        line = ("\n" + _LINE_JSON.encode([uid, *row]) + "\n").encode()
        with self._lock:  # three system calls: each costs more than all the rest here
            fcntl.flock(self._fd, fcntl.LOCK_SH)
            try:
                _write_all(self._fd, line)
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            big = check_size and self._checked_size() > FOLD_BYTES
            if self._folder is None:
                self._folder = threading.Thread(
                    target=self._fold_later, name="appctl-history-fold", daemon=True
                )
                self._folder.start()
        self._wake.set()
        if big:  # the record is safe in the log whatever happens here; the next try folds
            with contextlib.suppress(OSError, sqlite3.Error):
                self.fold(blocking=False)

    def _fold_later(self) -> None:
        """The background folder: once records arrive, wait FOLD_DELAY for their batch, fold."""
        while True:
            self._wake.wait()
            if self._closed:
                return
            time.sleep(FOLD_DELAY)
            self._wake.clear()  # records from here on wake it again
            if self._closed:
                return
            with contextlib.suppress(OSError, sqlite3.Error):  # the log keeps the records
                self.fold(blocking=False)

    def _checked_size(self) -> int:
        """The log's size; if someone deleted the log, its records move to a new one."""
        import fcntl

        status = os.fstat(self._fd)
        if status.st_nlink > 0:
            return status.st_size
        old, self._fd = self._fd, _open_log(self.path)
        try:
            fcntl.flock(old, fcntl.LOCK_EX)  # no writer is halfway through a line
            _write_all(self._fd, os.pread(old, status.st_size, 0))
        finally:
            os.close(old)
        return os.fstat(self._fd).st_size

    def fold(self, *, blocking: bool) -> int:
        """Fold the log into the database; how many lines it held."""
        import fcntl

        with self._lock:
            if self._fd < 0:  # closed (folded then)
                return 0
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
            except BlockingIOError:  # another process is folding it right now
                return 0
            try:
                size = os.fstat(self._fd).st_size
                if size == 0:
                    return 0
                rows, bad = self._parse(os.pread(self._fd, size, 0))
                if rows:
                    db = self._connection()
                    db.execute("BEGIN IMMEDIATE")
                    try:
                        db.executemany(self._insert, rows)
                    except BaseException:
                        db.execute("ROLLBACK")
                        raise
                    db.execute("COMMIT")
                if bad:
                    self._reject(bad)
                os.ftruncate(self._fd, 0)
                return len(rows) + len(bad)
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)

    def _parse(self, data: bytes) -> tuple[list[tuple[Any, ...]], list[bytes]]:
        rows: list[tuple[Any, ...]] = []
        bad: list[bytes] = []
        for line in data.split(b"\n"):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                bad.append(line)
                continue
            if isinstance(record, list) and len(record) == len(self._required) - 1:
                record.append(None)  # written before records named their caller (the last)
            if self._whole(record):
                rows.append(tuple(record))
            else:
                bad.append(line)
        return rows, bad

    def _whole(self, record: Any) -> bool:
        """A record as ``append`` writes them: one plain value per column, none missing."""
        return (
            isinstance(record, list)
            and len(record) == len(self._required)
            and all(
                isinstance(value, str | int | float) or (value is None and not required)
                for value, required in zip(record, self._required, strict=True)
            )
        )

    def _reject(self, lines: list[bytes]) -> None:
        fd = os.open(self.rejected, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            _write_all(fd, b"".join(line + b"\n" for line in lines))
            os.fsync(fd)  # kept for good before the pending log is emptied
        finally:
            os.close(fd)

    def _connection(self) -> sqlite3.Connection:
        if self._sqlite is None:
            self._sqlite = sqlite3.connect(
                self._database, check_same_thread=False, isolation_level=None, timeout=5.0
            )
            _sqlite_pragmas(self._sqlite, None)
        return self._sqlite

    def close(self, *, blocking: bool) -> None:
        """Fold what is left (waiting for another folder only if ``blocking``), stop the
        background folder, close the log and the database."""
        self._closed = True
        self._wake.set()
        if self._fd >= 0:
            with contextlib.suppress(OSError, sqlite3.Error):
                self.fold(blocking=blocking)
        with self._lock:
            if self._sqlite is not None:
                self._sqlite.close()
                self._sqlite = None
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1


def _create_private(database: str | None) -> None:
    """Create a SQLite history file 0600 before SQLite would create it under the umask (its
    -wal/-shm files take the file's mode): it holds every call's arguments and results. An
    existing file is left as it is."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
    # a missing or unwritable folder stays an error: SQLite's own, which open_history reports
    with contextlib.suppress(OSError):
        os.close(os.open(database, flags, 0o600))


def _open_log(path: str) -> int:
    return os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _add_uid(engine: sa.Engine, table: sa.Table) -> None:
    """Give a history made before records had a ``uid`` the column, and make sure of its
    unique index (``create_all`` makes both for a new one, unless cut short between them)."""
    import sqlalchemy as sa

    if engine.dialect.name == "sqlite":  # two statements, not an inspector's round of queries
        with engine.connect() as conn:
            info = conn.exec_driver_sql(f"PRAGMA table_info({table.name})")
            if "uid" not in {row[1] for row in info}:
                try:
                    conn.exec_driver_sql(f"ALTER TABLE {table.name} ADD COLUMN uid VARCHAR(40)")
                except sa.exc.OperationalError:  # "duplicate column": another process was first
                    info = conn.exec_driver_sql(f"PRAGMA table_info({table.name})")
                    if "uid" not in {row[1] for row in info}:
                        raise
            conn.exec_driver_sql(
                f"CREATE UNIQUE INDEX IF NOT EXISTS ix_{table.name}_uid ON {table.name} (uid)"
            )
            conn.commit()
        return

    def has_uid() -> bool:
        return "uid" in {c["name"] for c in sa.inspect(engine).get_columns(table.name)}

    if not has_uid():
        try:
            with engine.begin() as conn:
                conn.exec_driver_sql(f"ALTER TABLE {table.name} ADD COLUMN uid VARCHAR(40)")
        except sa.exc.DBAPIError:  # another process added it first
            if not has_uid():
                raise
    (index,) = table.indexes
    try:
        index.create(engine, checkfirst=True)
    except sa.exc.DBAPIError:  # another process made it between the check and the create
        if index.name not in {i["name"] for i in sa.inspect(engine).get_indexes(table.name)}:
            raise


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
        sa.Column("uid", sa.String(40), nullable=True),  # unique per record (see _add_uid)
        sa.Column("caller", sa.String(CALLER_CHARS), nullable=True),  # see audit.callers
        sa.Index("ix_appctl_calls_uid", "uid", unique=True),
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


def arguments_text(arguments: Mapping[str, Any], redactor: Redactor) -> str:
    """The arguments as JSON, with secret-named values and every credential hidden."""
    return _ARGUMENTS_JSON.encode(redactor.value(dict(arguments), secret_names=True))


# made once: json.dumps with any option builds a new encoder per call
_ARGUMENTS_JSON = json.JSONEncoder(sort_keys=True, default=str)
_LINE_JSON = json.JSONEncoder(default=str)
