"""The approval queue: calls from agents that wait for a person to approve or deny them.

``appctl serve`` (``POST /tools/{name}/call``, ``POST /run``, MCP over HTTP) has no terminal
to ask. With a queue, a call the policy says ``ask`` for is ``submit``-ted and ``wait``-s,
holding its worker thread, until a person decides it (the console under ``/ui``, or ``POST
/approvals/{id}``) or its deadline passes (``approval: {timeout: N}`` in config.yaml's
policy, else ``DEFAULT_TIMEOUT``). ``session.approval.QueueApprover`` turns the outcome
into an ``Approval``.

The queue lives in the history database (``queuestore``), so every instance sharing one
PostgreSQL history shares one queue: a decision taken on instance A releases the call
waiting on instance B (woken by ``NOTIFY``, with polling as the fallback). On SQLite the
queue is single-host: a decision in this process wakes the call at once, one taken by
another process on the host within ``poll`` seconds.

At most ``max_waiting`` calls wait in one process; past that ``submit`` raises
``QueueError`` and the call is refused at once (a person cannot review more than that
anyway, and each waiting call holds a thread).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from appctl.errors import AppctlError, Category
from appctl.execute.caller import Caller
from appctl.session import queuestore as store

if TYPE_CHECKING:
    import sqlalchemy as sa

    from appctl.execute.audit.history import History

DEFAULT_TIMEOUT = 120.0  # seconds a call waits for a person unless a policy rule says
MAX_WAITING = 16  # calls that may wait at once in one process
WITHDRAWN = "withdrawn: the server the call waited on stopped"
POLL = 0.5  # seconds between looks at the store (SQLite; PostgreSQL when NOTIFY is lost: x4)


@dataclass(frozen=True)
class Pending:
    """A call waiting for a person."""

    id: str
    tool: str
    arguments: dict[str, Any]  # redacted
    request: str  # the exact request it will send, redacted
    caller: str  # Caller.name of who asked
    safety: str
    destructive: bool
    front_end: str  # "mcp", "rest", "run"
    created: float  # epoch seconds
    deadline: float


@dataclass(frozen=True)
class Decided:
    """What became of a call that waited: ``by`` who decided (empty when it expired)."""

    id: str
    tool: str
    approved: bool
    by: str
    reason: str
    decided: float
    caller: str
    status: str = store.APPROVED  # approved | denied | expired


class QueueError(AppctlError):
    """No such entry, already decided or expired, a destructive tool's name mistyped, or
    the queue is full: the message says which."""

    category = Category.USAGE

    def __init__(self, message: str, *, kind: str, suggestion: str | None = None) -> None:
        super().__init__(message, suggestion=suggestion)
        self.kind = kind  # unknown | decided | expired | mistyped | full


class ApprovalQueue:
    def __init__(self, engine: sa.Engine, *, max_waiting: int = MAX_WAITING, poll: float = POLL):
        import sqlalchemy as sa

        self.engine = engine
        self.table = store.table(sa.MetaData())
        store.create(engine, self.table)
        self.max_waiting = max_waiting
        self.shared = engine.dialect.name == "postgresql"
        self.poll = poll * 4 if self.shared else poll
        self._changed = threading.Condition()
        self._generation = 0  # bumped by every decision this process hears of
        self._waiting = 0
        self._listener: store.Listener | None = None
        self._mine: set[str] = set()  # ids of the calls waiting in this process

    def close(self) -> None:
        """Withdraw the calls still waiting in this process (a stopping server): they end
        ``expired`` with the reason, so nobody approves a call whose caller is gone."""
        if self._listener is not None:
            self._listener.close()
        with self._changed:
            mine = list(self._mine)
        t = self.table
        for entry in mine:
            with self.engine.begin() as connection:
                connection.execute(
                    t.update()
                    .where(t.c.id == entry, t.c.status == store.PENDING)
                    .values(status=store.EXPIRED, decided_at=time.time(), reason=WITHDRAWN)
                )

    # -- what the console and /approvals read and do

    def pending(self) -> list[Pending]:
        t = self.table
        query = t.select().where(t.c.status == store.PENDING, t.c.deadline > time.time())
        with self.engine.connect() as connection:
            rows = connection.execute(query.order_by(t.c.created)).all()
        return [_pending(row) for row in rows]

    def get(self, id: str) -> Pending | None:
        row = self._row(id)
        if row is None or row.status != store.PENDING or row.deadline <= time.time():
            return None
        return _pending(row)

    def decided(self, id: str) -> Decided | None:
        """The entry's outcome once decided or expired, else None."""
        row = self._row(id)
        return _decided(row) if row is not None and row.status != store.PENDING else None

    def recent(self, *, limit: int = 50) -> list[Decided]:
        t = self.table
        query = t.select().where(t.c.status != store.PENDING).order_by(t.c.decided_at.desc())
        with self.engine.connect() as connection:
            rows = connection.execute(query.limit(max(1, limit))).all()
        return [_decided(row) for row in rows]

    def decide(
        self, id: str, *, approve: bool, by: Caller, reason: str = "", typed: str = ""
    ) -> Decided:
        """Approve or deny a waiting call, once: a destructive tool is approved only with
        its name ``typed`` exactly. Raises ``QueueError`` saying what is wrong."""
        t = self.table
        status = store.APPROVED if approve else store.DENIED
        with self.engine.begin() as connection:
            query = t.select().where(t.c.id == id).with_for_update()
            row = connection.execute(query).first()
            _check(id, row, approve=approve, typed=typed)
            _not_self(row, approve=approve, by=by)
            changes = {"status": status, "decided_by": by.name, "reason": reason}
            changed = connection.execute(
                t.update()
                .where(t.c.id == id, t.c.status == store.PENDING)
                .values(decided_at=time.time(), **changes)
            )
            lost = changed.rowcount != 1  # SQLite has no row locks: someone was first
            if not lost:
                store.notify(connection, id)
        if lost:  # said as to anyone late: what it was decided and by whom
            _check(id, self._row(id), approve=approve, typed=typed)
            raise QueueError(f"approval {id} was decided by someone else", kind="decided")
        self._wake()
        decided = self.decided(id)
        assert decided is not None  # it was just written
        return decided

    # -- what a waiting call does

    def submit(
        self,
        *,
        tool: str,
        arguments: dict[str, Any],
        request: str,
        caller: str,
        safety: str,
        destructive: bool,
        front_end: str,
        timeout: float,
    ) -> Pending:
        """Add a call to the queue (the caller then ``wait``-s for it); ``QueueError`` when
        ``max_waiting`` calls already wait in this process."""
        with self._changed:
            if self._waiting >= self.max_waiting:
                raise QueueError(
                    f"{self.max_waiting} calls already wait for approval on this server",
                    kind="full",
                    suggestion="Try again once an approver has gone through the queue.",
                )
            self._waiting += 1
        now = time.time()
        entry = Pending(
            id=secrets.token_hex(8),
            tool=tool,
            arguments=arguments,
            request=request,
            caller=caller,
            safety=safety,
            destructive=destructive,
            front_end=front_end,
            created=now,
            deadline=now + timeout,
        )
        try:
            self._insert(entry)
        except BaseException:
            self._done()
            raise
        with self._changed:
            self._mine.add(entry.id)
        return entry

    def wait(self, entry: Pending) -> Decided:
        """Block until ``entry`` is decided or its deadline passes (then it is ``expired``)."""
        try:
            self._listen()
            while True:
                with self._changed:
                    seen = self._generation
                decided = self.decided(entry.id)
                if decided is not None:
                    return decided
                left = entry.deadline - time.time()
                if left <= 0:
                    return self._expire(entry)
                with self._changed:
                    if self._generation == seen:
                        self._changed.wait(min(left, self.poll))
        finally:
            with self._changed:
                self._mine.discard(entry.id)
            self._done()

    def _listen(self) -> None:
        """On PostgreSQL, start this process's LISTEN thread (once)."""
        with self._changed:
            if self.shared and self._listener is None:
                self._listener = store.Listener(self.engine, self._wake)

    def _expire(self, entry: Pending) -> Decided:
        t = self.table
        with self.engine.begin() as connection:
            connection.execute(
                t.update()
                .where(t.c.id == entry.id, t.c.status == store.PENDING)
                .values(status=store.EXPIRED, decided_at=time.time(), decided_by="", reason="")
            )
        decided = self.decided(entry.id)  # expired, or decided in the last instant
        assert decided is not None
        return decided

    def _insert(self, entry: Pending) -> None:
        values = {
            "id": entry.id,
            "tool": entry.tool,
            "arguments": json.dumps(entry.arguments, sort_keys=True, default=str),
            "request": entry.request,
            "caller": entry.caller,
            "safety": entry.safety,
            "destructive": entry.destructive,
            "front_end": entry.front_end,
            "created": entry.created,
            "deadline": entry.deadline,
            "status": store.PENDING,
        }
        with self.engine.begin() as connection:
            connection.execute(self.table.insert().values(**values))

    def _row(self, id: str) -> Any:
        t = self.table
        with self.engine.connect() as connection:
            return connection.execute(t.select().where(t.c.id == id)).first()

    def _wake(self) -> None:
        with self._changed:
            self._generation += 1
            self._changed.notify_all()

    def _done(self) -> None:
        with self._changed:
            self._waiting -= 1


def open_queue(
    history: History | None, *, max_waiting: int = MAX_WAITING, poll: float = POLL
) -> ApprovalQueue:
    """The queue in ``history``'s database; without a history, one in this process only: a
    SQLite file in a temporary folder, removed with the queue. (Not an in-memory database:
    that is one connection, and threads sharing it roll back each other's transactions.)"""
    import shutil
    import tempfile
    import weakref

    import sqlalchemy as sa

    if history is not None:
        return ApprovalQueue(history.engine, max_waiting=max_waiting, poll=poll)
    folder = tempfile.mkdtemp(prefix="appctl-queue-")
    engine = sa.create_engine(
        f"sqlite:///{folder}/queue.db", connect_args={"check_same_thread": False, "timeout": 10}
    )
    queue = ApprovalQueue(engine, max_waiting=max_waiting, poll=poll)
    weakref.finalize(queue, _remove, engine, folder, shutil.rmtree)
    return queue


def _remove(engine: Any, folder: str, rmtree: Any) -> None:
    engine.dispose()
    rmtree(folder, ignore_errors=True)


def _check(id: str, row: Any, *, approve: bool, typed: str) -> None:
    if row is None:
        raise QueueError(
            f"no approval {id!r} in the queue",
            kind="unknown",
            suggestion="GET /approvals (or the console's queue) lists the calls waiting.",
        )
    if row.status != store.PENDING:
        who = f" by {row.decided_by}" if row.decided_by else ""
        raise QueueError(f"the {row.tool} call {id} was already {row.status}{who}", kind="decided")
    if row.deadline <= time.time():
        message = f"the {row.tool} call {id} expired: nobody decided it in time"
        raise QueueError(message, kind="expired")
    if approve and row.destructive and typed != row.tool:
        raise QueueError(
            f"{row.tool} is destructive: type its name, {row.tool}, exactly to approve it",
            kind="mistyped",
            suggestion=f'Send "typed": "{row.tool}" with the approval.',
        )


def _not_self(row: Any, *, approve: bool, by: Caller) -> None:
    """Nobody approves their own call: an agent holding a token that may call and approve
    would otherwise approve itself. Denying one's own call is allowed (it withdraws it)."""
    if approve and by.name == row.caller:
        raise QueueError(
            f"the {row.tool} call was asked by {row.caller}, who cannot approve it too",
            kind="self",
            suggestion="Approve as another caller: sign in to the console with an approver's "
            "own token (inbound.tokens, or OAuth), listed in console.approvers.",
        )


def _pending(row: Any) -> Pending:
    return Pending(
        id=row.id,
        tool=row.tool,
        arguments=json.loads(row.arguments),
        request=row.request,
        caller=row.caller,
        safety=row.safety,
        destructive=bool(row.destructive),
        front_end=row.front_end,
        created=row.created,
        deadline=row.deadline,
    )


def _decided(row: Any) -> Decided:
    return Decided(
        id=row.id,
        tool=row.tool,
        approved=row.status == store.APPROVED,
        by=row.decided_by or "",
        reason=row.reason or "",
        decided=row.decided_at or 0.0,
        caller=row.caller,
        status=row.status,
    )
