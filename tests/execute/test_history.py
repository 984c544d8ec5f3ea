"""The audit history: records are written down before ``record`` returns, folded from the
pending log into SQLite exactly once, and never lost (torn lines, concurrent processes,
a fold cut short, a deleted log, a history made by an older appctl)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from appctl.execute.audit import history as history_module
from appctl.execute.audit.history import Entry, History

WRITER = """
import sys
from appctl.execute.audit.history import Entry, History

url, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
history = History(url)
for i in range(count):
    history.record(
        Entry(at=f"{name}-{i}", session=name, tool="t", arguments="{}", request="",
              status=200, duration_ms=1.0, outcome="ok")
    )
"""


def _entry(i: int, session: str = "s") -> Entry:
    return Entry(
        at=f"2026-11-23T10:00:{i:02d}.000+00:00",
        session=session,
        tool=f"tool_{i % 3}",
        arguments=json.dumps({"i": i, "text": "line one\nline two"}),
        request=f"GET http://127.0.0.1/items/{i}",
        status=200,
        duration_ms=1.5,
        outcome="ok",
    )


def _rows(db: Path) -> list[tuple[str, str]]:
    engine = sa.create_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.exec_driver_sql("SELECT uid, at FROM appctl_calls")]
    finally:
        engine.dispose()


@pytest.fixture(autouse=True)
def _no_background_fold(monkeypatch: pytest.MonkeyPatch) -> None:
    """What is in the pending log stays there until a test folds it (or says otherwise)."""
    monkeypatch.setattr(history_module, "FOLD_DELAY", 600)


def test_a_record_is_on_disk_when_record_returns_and_read_back_whole(tmp_path) -> None:
    db = tmp_path / "history.db"
    history = History(f"sqlite:///{db}")
    for i in range(5):
        history.record(_entry(i))
    pending = Path(f"{db}.pending")
    assert pending.read_bytes().count(b"\n[") == 5  # written down, not yet in the database
    assert _rows(db) == []
    # another process (here: another History) sees them all, and folding empties the log
    entries = History(f"sqlite:///{db}").entries(last=10)
    assert [e.at for e in entries] == [_entry(i).at for i in range(5)]
    assert entries[0].arguments == _entry(0).arguments  # newlines survive the log
    assert [e.id for e in entries] == sorted(e.id for e in entries)
    assert pending.read_bytes() == b""
    assert len(_rows(db)) == 5
    assert [e.tool for e in history.entries(tool="tool_1")] == ["tool_1", "tool_1"]
    assert history.entry(entries[2].id) == entries[2]


def test_records_reach_the_database_soon_and_at_exit_without_a_reader(
    tmp_path, monkeypatch
) -> None:
    monkeypatch.setattr(history_module, "FOLD_DELAY", 0.25)
    db = tmp_path / "history.db"
    history = History(f"sqlite:///{db}")
    history.record(_entry(0))
    deadline = time.monotonic() + 30
    while not _rows(db) and time.monotonic() < deadline:  # the background fold, ~0.25 s
        time.sleep(0.05)
    assert [at for _, at in _rows(db)] == [_entry(0).at]
    url = f"sqlite:///{db}"
    writer = subprocess.run([sys.executable, "-c", WRITER, url, "exiting", "5"], timeout=120)
    assert writer.returncode == 0
    assert len(_rows(db)) == 6  # folded as the writer exited, long before any delay
    assert Path(f"{db}.pending").read_bytes() == b""
    history.record(_entry(1))
    history.close()
    assert len(_rows(db)) == 7


def test_concurrent_writer_processes_and_folds_lose_and_repeat_nothing(tmp_path) -> None:
    db = tmp_path / "history.db"
    url = f"sqlite:///{db}"
    reader = History(url)
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, url, f"p{n}", "300"]) for n in range(4)
    ]
    folded: list[int] = []
    deadline = time.monotonic() + 120
    while any(w.poll() is None for w in writers) and time.monotonic() < deadline:
        folded.append(reader.fold())  # folding while they write
        time.sleep(0.002)
    for writer in writers:
        assert writer.wait(timeout=120) == 0
    assert sum(1 for n in folded if n) >= 3  # the folds really ran between their writes
    entries = reader.entries(last=10_000)
    assert len(entries) == 1200
    assert sorted(e.at for e in entries) == sorted(
        f"p{n}-{i}" for n in range(4) for i in range(300)
    )
    for n in range(4):  # each process's records keep their order
        own = [e.at for e in entries if e.session == f"p{n}"]
        assert own == [f"p{n}-{i}" for i in range(300)]
    assert len({uid for uid, _ in _rows(db)}) == 1200


def test_a_fold_cut_short_before_emptying_the_log_records_nothing_twice(tmp_path) -> None:
    db = tmp_path / "history.db"
    history = History(f"sqlite:///{db}")
    for i in range(3):
        history.record(_entry(i))
    pending = Path(f"{db}.pending")
    before = pending.read_bytes()
    history.fold()
    pending.write_bytes(before)  # as if the fold had stopped between its commit and truncating
    history.record(_entry(3))
    assert [e.at for e in history.entries()] == [_entry(i).at for i in range(4)]


def test_a_torn_line_is_set_aside_and_the_records_around_it_kept(tmp_path) -> None:
    db = tmp_path / "history.db"
    history = History(f"sqlite:///{db}")
    history.record(_entry(0))
    with open(f"{db}.pending", "ab") as log:
        log.write(b'\n["torn-uid", "2026-11-23T10:00')  # a write cut short by a full disk
    history.record(_entry(1))
    no_time = json.dumps(["u-1", None, "s", "t", "{}", "", 200, 1.0, "ok", None, None])
    nested = json.dumps(["u-2", "at", "s", "t", {"a": 1}, "", 200, 1.0, "ok", None, None])
    with open(f"{db}.pending", "ab") as log:
        for line in ('{"not": "a record"}', no_time, nested):
            log.write(f"\n{line}\n".encode())
    assert [e.at for e in history.entries()] == [_entry(0).at, _entry(1).at]
    rejected = Path(f"{db}.rejected").read_bytes().splitlines()
    assert rejected == [
        b'["torn-uid", "2026-11-23T10:00',
        b'{"not": "a record"}',
        no_time.encode(),
        nested.encode(),
    ]


def test_a_writer_folds_the_log_once_it_is_big(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(history_module, "FOLD_BYTES", 2_000)
    monkeypatch.setattr(history_module, "_CHECK_EVERY", 4)
    db = tmp_path / "history.db"
    history = History(f"sqlite:///{db}")
    for i in range(60):
        history.record(_entry(i))
    assert len(_rows(db)) >= 40  # folded along the way, not only when read
    assert Path(f"{db}.pending").stat().st_size <= 2_000 + 4 * 300
    assert len(history.entries(last=100)) == 60


def test_a_deleted_log_loses_none_of_its_records(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(history_module, "_CHECK_EVERY", 4)
    db = tmp_path / "history.db"
    history = History(f"sqlite:///{db}")
    history.record(_entry(0))
    Path(f"{db}.pending").unlink()  # someone tidies .appctl/ while a server runs
    for i in range(1, 8):
        history.record(_entry(i))
    assert [e.at for e in History(f"sqlite:///{db}").entries()] == [_entry(i).at for i in range(8)]


def released_table(*, uid: bool) -> sa.Table:
    """The history table as a past release made it, frozen here (never derived from today's,
    which the upgrades change): before records had a uid, or (``uid``) before they named
    their caller."""
    columns: list[sa.Column[Any]] = [
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("session", sa.String(64), nullable=False),
        sa.Column("tool", sa.String(64), nullable=False),
        sa.Column("arguments", sa.Text, nullable=False),
        sa.Column("request", sa.Text, nullable=False),
        sa.Column("status", sa.Integer, nullable=True),
        sa.Column("duration_ms", sa.Float, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("category", sa.String(32), nullable=True),
        sa.Column("message", sa.Text, nullable=True),
    ]
    indexes = []
    if uid:
        columns.append(sa.Column("uid", sa.String(40), nullable=True))
        indexes.append(sa.Index("ix_appctl_calls_uid", "uid", unique=True))
    return sa.Table("appctl_calls", sa.MetaData(), *columns, *indexes)


def _old_history(url: str) -> None:
    """A history as appctl made it before records had a uid, with one call in it."""
    engine = sa.create_engine(url)
    old = released_table(uid=False)
    old.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(old.insert(), {k: v for k, v in _entry(0).as_dict().items() if k != "id"})
    engine.dispose()


def test_a_history_collected_while_its_log_is_being_folded_does_not_wait(tmp_path) -> None:
    """The collector can finalize a History in the middle of another History's fold in the
    same thread, which holds the log's exclusive lock through another open file: the
    finalizer leaves its lines in the log instead of waiting for that lock forever."""
    import fcntl
    import gc
    import os
    import threading

    db = tmp_path / "history.db"

    locked = threading.Event()

    def record_then_drop() -> None:
        history = History(f"sqlite:///{db}")
        history.record(_entry(1))
        locked.wait(20)
        del history
        gc.collect()  # the History's finalizer runs here, in this thread

    dropper = threading.Thread(target=record_then_drop, daemon=True)
    dropper.start()
    folding = os.open(f"{db}.pending", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        while not Path(f"{db}.pending").stat().st_size:  # the record is written down
            time.sleep(0.01)
        fcntl.flock(folding, fcntl.LOCK_EX)  # as a fold in progress holds it
        locked.set()
        dropper.join(timeout=20)
        assert not dropper.is_alive(), "the finalizer waited for the fold's lock"
    finally:
        os.close(folding)  # releases the lock (and lets a stuck finalizer end)
    assert [e.at for e in History(f"sqlite:///{db}").entries(last=5)] == [_entry(1).at]


def test_a_history_from_before_uids_is_upgraded_in_place(fresh_db) -> None:
    _old_history(fresh_db)
    history = History(fresh_db)
    History(fresh_db).close()  # a second opener finds it upgraded already
    history.record(_entry(1))
    history.record(_entry(2))
    assert [e.at for e in history.entries()] == [_entry(i).at for i in range(3)]
    inspector = sa.inspect(history.engine)
    assert "uid" in {c["name"] for c in inspector.get_columns("appctl_calls")}
    assert any(
        i["unique"] and i["column_names"] == ["uid"] for i in inspector.get_indexes("appctl_calls")
    )
    history.close()


def test_a_history_in_memory_or_on_a_server_commits_each_record(fresh_db) -> None:
    history = History(fresh_db if not fresh_db.startswith("sqlite") else "sqlite://")
    history.record(_entry(0))
    with history.engine.connect() as conn:  # committed by record itself: no log to fold
        assert conn.execute(sa.select(sa.func.count()).select_from(history.table)).scalar() == 1
    assert [e.at for e in history.entries()] == [_entry(0).at]
    history.close()


def test_processes_opening_an_old_history_at_once_all_upgrade_and_write(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'history.db'}"
    _old_history(url)
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, url, f"p{n}", "20"]) for n in range(4)
    ]
    assert [w.wait(timeout=120) for w in writers] == [0, 0, 0, 0]
    assert len(History(url).entries(last=1000)) == 81
