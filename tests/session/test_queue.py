"""The approval queue on a real SQLite file: waiting, deciding once, typing a destructive
tool's name, expiry, the bound on waiting calls, and two queues on one file (two processes)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from appctl.contract.models import Action
from appctl.execute.audit.history import History
from appctl.execute.caller import Caller
from appctl.session.approval import Approval, Asking, QueueApprover
from appctl.session.queue import ApprovalQueue, Decided, Pending, QueueError, open_queue

ALICE = Caller(subject="alice", kind="oauth", groups=("ops",))
BOB = Caller(subject="bob", kind="token")


def submit(
    queue: ApprovalQueue,
    *,
    tool: str = "create_pet",
    timeout: float = 30.0,
    destructive: bool = False,
) -> Pending:
    return queue.submit(
        tool=tool,
        arguments={"name": "Rex"},
        request='POST http://127.0.0.1/pets {"name": "Rex"}',
        caller="agent-7",
        safety="destructive" if destructive else "mutating",
        destructive=destructive,
        front_end="rest",
        timeout=timeout,
    )


def waiting(queue: ApprovalQueue, entry: Pending) -> tuple[threading.Thread, list[Decided]]:
    got: list[Decided] = []
    thread = threading.Thread(target=lambda: got.append(queue.wait(entry)), daemon=True)
    thread.start()
    return thread, got


@pytest.fixture
def queue(tmp_path: Path) -> ApprovalQueue:
    return open_queue(History(f"sqlite:///{tmp_path / 'history.db'}"))


def test_an_approval_releases_the_waiting_call(queue: ApprovalQueue) -> None:
    entry = submit(queue)
    assert [p.id for p in queue.pending()] == [entry.id]
    assert queue.get(entry.id) == entry
    thread, got = waiting(queue, entry)
    decided = queue.decide(entry.id, approve=True, by=ALICE)
    thread.join(10)
    assert got == [decided]
    assert (decided.approved, decided.by, decided.caller) == (True, "alice", "agent-7")
    assert queue.pending() == [] and queue.get(entry.id) is None
    assert queue.recent() == [decided]


def test_a_denial_carries_the_reason(queue: ApprovalQueue) -> None:
    entry = submit(queue)
    thread, got = waiting(queue, entry)
    queue.decide(entry.id, approve=False, by=BOB, reason="not during the freeze")
    thread.join(10)
    assert got[0].approved is False
    assert (got[0].by, got[0].reason, got[0].status) == ("bob", "not during the freeze", "denied")


def test_a_second_decision_is_a_clear_error(queue: ApprovalQueue) -> None:
    entry = submit(queue)
    queue.decide(entry.id, approve=True, by=ALICE)
    with pytest.raises(QueueError, match="already approved by alice"):
        queue.decide(entry.id, approve=False, by=BOB)
    with pytest.raises(QueueError, match="no approval 'nope'"):
        queue.decide("nope", approve=True, by=ALICE)


def test_destructive_needs_the_name_typed(queue: ApprovalQueue) -> None:
    entry = submit(queue, tool="delete_pet", destructive=True)
    for typed in ("", "delete_pets", "DELETE_PET"):
        with pytest.raises(QueueError, match="type its name, delete_pet, exactly"):
            queue.decide(entry.id, approve=True, by=ALICE, typed=typed)
    assert queue.get(entry.id) is not None  # still waiting
    assert queue.decide(entry.id, approve=True, by=ALICE, typed="delete_pet").approved


def test_denying_a_destructive_call_needs_no_typing(queue: ApprovalQueue) -> None:
    entry = submit(queue, tool="delete_pet", destructive=True)
    assert queue.decide(entry.id, approve=False, by=ALICE, reason="no").status == "denied"


def test_nobody_deciding_expires_the_call(queue: ApprovalQueue) -> None:
    entry = submit(queue, timeout=0.3)
    decided = queue.wait(entry)
    assert (decided.approved, decided.status, decided.by) == (False, "expired", "")
    with pytest.raises(QueueError, match="already expired"):
        queue.decide(entry.id, approve=True, by=ALICE)


def test_an_entry_past_its_deadline_cannot_be_approved(queue: ApprovalQueue) -> None:
    entry = submit(queue, timeout=0.05)
    threading.Event().wait(0.2)
    assert queue.pending() == []  # nobody waits for it (its caller is gone or gave up)
    with pytest.raises(QueueError, match="expired"):
        queue.decide(entry.id, approve=True, by=ALICE)


def test_past_max_waiting_a_call_is_refused_at_once(tmp_path: Path) -> None:
    queue = open_queue(None, max_waiting=2)
    first, second = submit(queue), submit(queue)
    with pytest.raises(QueueError, match="2 calls already wait"):
        submit(queue)
    queue.decide(first.id, approve=True, by=ALICE)
    queue.wait(first)  # the first is done waiting: room for one more
    submit(queue)
    assert {p.id for p in queue.pending()} >= {second.id}


def test_two_queues_on_one_file_share_entries(tmp_path: Path) -> None:
    """Two processes on one host: each opens the history file; a decision taken through
    one releases the call waiting in the other (by polling)."""
    url = f"sqlite:///{tmp_path / 'history.db'}"
    here, there = open_queue(History(url), poll=0.05), open_queue(History(url), poll=0.05)
    entry = submit(here)
    assert [p.id for p in there.pending()] == [entry.id]
    thread, got = waiting(here, entry)
    there.decide(entry.id, approve=False, by=BOB, reason="wrong pet")
    thread.join(10)
    assert got and got[0].reason == "wrong pet"


def test_two_approvers_at_once_decide_once(queue: ApprovalQueue) -> None:
    entry = submit(queue)
    outcomes: list[Any] = []

    def approve(who: Caller) -> None:
        try:
            outcomes.append(queue.decide(entry.id, approve=who is ALICE, by=who))
        except QueueError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=approve, args=(c,)) for c in (ALICE, BOB) * 4]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len([o for o in outcomes if isinstance(o, Decided)]) == 1
    assert len([o for o in outcomes if isinstance(o, QueueError)]) == 7


def test_racing_approvers_on_a_database_server_decide_once(fresh_db: str) -> None:
    """Two instances (two queues, two engines) on one database: row locks let exactly one
    of the approvers racing on both decide the entry."""
    here, there = open_queue(History(fresh_db)), open_queue(History(fresh_db))
    entry = submit(here)
    outcomes: list[Any] = []

    def approve(queue: ApprovalQueue, who: Caller) -> None:
        try:
            outcomes.append(queue.decide(entry.id, approve=True, by=who))
        except QueueError as exc:
            outcomes.append(exc)

    threads = [
        threading.Thread(target=approve, args=(q, c)) for q in (here, there) for c in (ALICE, BOB)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len([o for o in outcomes if isinstance(o, Decided)]) == 1
    assert all("already approved" in o.message for o in outcomes if isinstance(o, QueueError))


def test_notify_wakes_a_call_waiting_on_another_instance(fresh_db: str) -> None:
    """PostgreSQL: the waiting instance polls only every ten minutes here, so only the
    NOTIFY sent with the decision can wake it well before its five-minute deadline."""
    if not fresh_db.startswith("postgresql"):
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; the others poll")
    here, there = open_queue(History(fresh_db), poll=150), open_queue(History(fresh_db))
    entry = submit(here, timeout=300)
    thread, got = waiting(here, entry)
    deadline = time.monotonic() + 20
    while here._listener is None or not _listening(fresh_db):  # LISTEN is in place
        assert time.monotonic() < deadline, "the waiting instance never listened"
        time.sleep(0.05)
    there.decide(entry.id, approve=True, by=ALICE)
    thread.join(30)
    assert not thread.is_alive(), "the decision on the other instance did not wake the call"
    assert got[0].approved and got[0].by == "alice"
    here.close()


def _listening(url: str) -> bool:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            query = "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'LISTEN %'"
            return bool(connection.execute(sa.text(query)).scalar())
    finally:
        engine.dispose()


def _asking(timeout: float | None) -> Asking:
    return Asking(
        caller=Caller(subject="agent-7", kind="token"),
        timeout=timeout,
        request=lambda: "POST http://127.0.0.1/pets",
        arguments=lambda: {"name": "Rex", "api_key": "[REDACTED]"},
    )


CREATE = Action.model_validate(
    {
        "name": "create_pet",
        "description": "",
        "verb": "create",
        "safety": "mutating",
        "provenance": "declared",
        "transport": {"kind": "http", "method": "POST", "path": "/pets"},
    }
)


def test_the_queue_approver_words_each_refusal() -> None:
    queue = open_queue(None, max_waiting=1)
    approver = QueueApprover(queue, "rest")
    assert approver.ask(CREATE, {}, _asking(None)) == Approval(granted=False)  # no rule
    assert "approval: {timeout: 120}" in approver.unapproved(CREATE)
    timed_out = approver.ask(CREATE, {}, _asking(0.2))
    assert not timed_out.granted and not timed_out.declined
    assert "waited 0.2 seconds for approval" in timed_out.refusal
    [expired] = queue.recent()
    assert expired.caller == "agent-7" and expired.status == "expired"
    blocker = submit(queue)  # the one place taken
    full = approver.ask(CREATE, {}, _asking(30))
    assert "1 calls already wait for approval" in full.refusal
    queue.decide(blocker.id, approve=True, by=ALICE)
    queue.wait(blocker)
    thread, got = _in_thread(lambda: approver.ask(CREATE, {}, _asking(30)))
    deadline = time.monotonic() + 20
    while not queue.pending():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    [entry] = queue.pending()
    assert entry.arguments == {"name": "Rex", "api_key": "[REDACTED]"}
    queue.decide(entry.id, approve=False, by=BOB, reason="not now")
    thread.join(10)
    assert got == [
        Approval(
            granted=False, declined=True, refusal="create_pet was not run: bob denied it: not now"
        )
    ]


def _in_thread(work: Any) -> tuple[threading.Thread, list[Any]]:
    got: list[Any] = []
    thread = threading.Thread(target=lambda: got.append(work()), daemon=True)
    thread.start()
    return thread, got


def test_closing_withdraws_the_calls_waiting_here(tmp_path: Path) -> None:
    """A stopping server withdraws its waiting calls: an approver cannot approve a call
    whose caller is gone, and is told why."""
    url = f"sqlite:///{tmp_path / 'history.db'}"
    here, there = open_queue(History(url)), open_queue(History(url))
    waiting_here, elsewhere = submit(here), submit(there)
    here.close()
    assert [p.id for p in there.pending()] == [elsewhere.id]
    with pytest.raises(QueueError, match="already expired"):
        there.decide(waiting_here.id, approve=True, by=ALICE)
    [withdrawn] = there.recent()
    assert withdrawn.reason.startswith("withdrawn") and withdrawn.status == "expired"


def test_nobody_approves_their_own_call(queue: ApprovalQueue) -> None:
    """An agent whose token may call and decide would otherwise approve itself."""
    asker = Caller(subject="agent-7", kind="token")
    entry = submit(queue)
    with pytest.raises(QueueError, match="asked by agent-7, who cannot approve it") as raised:
        queue.decide(entry.id, approve=True, by=asker)
    assert raised.value.kind == "self" and queue.get(entry.id) is not None  # still waiting
    withdrawn = queue.decide(entry.id, approve=False, by=asker, reason="never mind")
    assert withdrawn.approved is False and withdrawn.by == "agent-7"
    other = submit(queue)
    assert queue.decide(other.id, approve=True, by=ALICE).approved is True


def test_a_queue_without_a_history_keeps_every_entry_under_threads() -> None:
    """Without a history the queue is this process's own; threads submitting while others
    read must never lose an entry (one shared in-memory connection rolled them back)."""
    queue = open_queue(None, max_waiting=400)
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            queue.pending()

    readers = [threading.Thread(target=read, daemon=True) for _ in range(3)]
    for reader in readers:
        reader.start()
    writers = [
        threading.Thread(target=lambda: [submit(queue) for _ in range(25)], daemon=True)
        for _ in range(4)
    ]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(60)
    stop.set()
    for reader in readers:
        reader.join(10)
    assert len(queue.pending()) == 100
