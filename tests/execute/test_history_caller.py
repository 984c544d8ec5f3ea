"""The caller in the audit history: every record names who asked, printable and bounded; a
history made before the column gets it in place (SQLite, PostgreSQL, MariaDB), its old rows
naming nobody; ``entries(caller=GLOB)`` selects by caller the same way on every database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from appctl.execute.audit import history as history_module
from appctl.execute.audit.callers import CALLER_CHARS, printable_name
from appctl.execute.audit.history import Entry, History
from tests.execute.test_history import released_table


def _entry(i: int, caller: str | None = None) -> Entry:
    return Entry(
        at=f"2026-12-05T10:00:{i:02d}.000+00:00",
        session="s",
        tool="list_pets",
        arguments="{}",
        request="GET http://127.0.0.1/pets",
        status=200,
        duration_ms=1.0,
        outcome="ok",
        caller=caller,
    )


def _current_history(url: str) -> None:
    """A history as appctl made it before records named their caller (with uids), with one
    call in it: the table definition of the release before this column."""
    engine = sa.create_engine(url)
    old = released_table(uid=True)
    old.metadata.create_all(engine)
    row = {k: v for k, v in _entry(0).as_dict().items() if k not in ("id", "caller")}
    with engine.begin() as conn:
        conn.execute(old.insert(), {**row, "uid": "old1"})
    engine.dispose()


@pytest.fixture(autouse=True)
def _no_background_fold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(history_module, "FOLD_DELAY", 600)


def test_a_history_from_before_callers_gets_the_column_in_place(fresh_db: str) -> None:
    _current_history(fresh_db)
    history = History(fresh_db)
    History(fresh_db).close()  # a second opener finds it upgraded already
    history.record(_entry(1, "local:alice"))
    history.record(_entry(2, "ops-anna"))
    entries = history.entries()
    assert [(e.at, e.caller) for e in entries] == [
        (_entry(0).at, None),  # the old row names nobody
        (_entry(1).at, "local:alice"),
        (_entry(2).at, "ops-anna"),
    ]
    assert [e.at for e in history.entries(caller="")] == [_entry(0).at]
    assert [e.caller for e in history.entries(caller="ops-*")] == ["ops-anna"]
    columns = {c["name"] for c in sa.inspect(history.engine).get_columns("appctl_calls")}
    assert "caller" in columns
    history.close()


def test_caller_globs_select_the_same_rows_on_every_database(fresh_db: str) -> None:
    history = History(fresh_db)
    names = ["ops-anna", "OPS-bob", "ops_x", "opsAx", "ops%1", "a\\b", "local:alice"]
    for i, name in enumerate(names):
        history.record(_entry(i, name))
    history.record(_entry(len(names)))  # names nobody

    def selected(glob: str) -> list[str | None]:
        return [e.caller for e in history.entries(last=100, caller=glob)]

    assert selected("ops-*") == ["ops-anna"]  # case counts, on MariaDB too
    assert selected("ops_*") == ["ops_x"]  # _ is itself, not any character
    assert selected("ops%*") == ["ops%1"]  # % is itself
    assert selected("ops?x") == ["ops_x", "opsAx"]
    assert selected("a\\b") == ["a\\b"]
    assert selected("local:*") == ["local:alice"]
    assert selected("[o]*") == []  # no classes: a bracket is itself
    assert selected("*") == names  # any name, never the rows that name nobody
    assert selected("") == [None]
    history.close()


def test_a_pending_line_written_before_callers_is_folded_naming_nobody(tmp_path: Path) -> None:
    """A pending log left by the release before (one value fewer per line) is folded, not
    set aside as torn."""
    db = tmp_path / "history.db"
    url = f"sqlite:///{db}"
    _current_history(url)
    old = _entry(3).as_dict()
    line = ["old2", *[old[c] for c in ("at", "session", "tool", "arguments", "request")]]
    line += [old[c] for c in ("status", "duration_ms", "outcome", "category", "message")]
    Path(f"{db}.pending").write_text("\n" + json.dumps(line) + "\n")
    history = History(url)
    history.record(_entry(4, "local:bob"))
    assert [(e.at, e.caller) for e in history.entries()] == [
        (_entry(0).at, None),
        (_entry(3).at, None),
        (_entry(4).at, "local:bob"),
    ]
    assert history.rejected() is None
    history.close()


NASTY = [
    "alice\x00admin",  # a NUL (PostgreSQL refuses it in text)
    "bob\r\n2026-12-05 forged line",
    "\x1b[31mred\x1b[0m",
    "x" * 10_240,
    "ü" * 300,
    "lone \udc80 surrogate",
    "\u202eevil",  # a bidi override: a format character, unprintable
]


@pytest.mark.parametrize("name", NASTY, ids=range(len(NASTY)))
def test_a_hostile_caller_name_is_stored_printable_and_bounded(fresh_db: str, name: str) -> None:
    history = History(fresh_db)
    kept = printable_name(name)
    history.record(_entry(1, kept))
    (entry,) = history.entries()
    assert entry.caller == kept
    assert kept.isprintable() and len(kept) <= CALLER_CHARS
    assert "\x00" not in kept and "\n" not in kept
    history.close()


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=600))
def test_printable_name_is_printable_bounded_and_keeps_plain_names(name: str) -> None:
    kept = printable_name(name)
    assert kept.isprintable() and len(kept) <= CALLER_CHARS
    kept.encode("utf-8")  # no lone surrogate left
    surrogates = any(0xD800 <= ord(c) <= 0xDFFF for c in name)
    if name.isprintable() and len(name) <= CALLER_CHARS and not surrogates:
        assert kept == name  # a plain name is kept as it is
    if len(name) > CALLER_CHARS:
        assert kept.endswith("(cut)")
