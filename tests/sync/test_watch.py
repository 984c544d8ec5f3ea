"""``sync --watch``: a re-sync on each change of the document or of the database schema, a
failed sync that leaves the contract alone while watching goes on, and Ctrl-C that ends the
command cleanly. Bounded: a stop event or max_rounds, polls of 0.05 s, queue waits of 20 s."""

from __future__ import annotations

import json
import queue
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from appctl.sync import Database, OpenAPI, run
from appctl.sync.source import BuildContext, Source
from appctl.sync.watch import Round, fingerprint, python_files, watch
from tests import runner
from tests.conftest import interruptible

WAIT = 20.0


def _doc(*paths: str) -> str:
    ops = {
        p: {
            "get": {
                "operationId": f"get_{p.strip('/')}",
                "responses": {"200": {"description": "ok"}},
            }
        }
        for p in paths
    }
    return json.dumps(
        {
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "servers": [{"url": "http://127.0.0.1:19451"}],
            "paths": ops,
        }
    )


class Watching:
    """``watch`` in a thread, each round put on a queue; ``stop`` ends it."""

    def __init__(self, source: Source, app_dir: Path) -> None:
        self.rounds: queue.Queue[Round] = queue.Queue()
        self.stop = threading.Event()
        context = BuildContext(app_dir=app_dir, environ={})
        self.thread = threading.Thread(
            target=watch,
            args=(source,),
            kwargs={
                "sync": lambda: run(source, app_dir=app_dir, environ={}),
                "context": context,
                "report": self.rounds.put,
                "interval": 0.05,
                "stop": self.stop,
            },
            daemon=True,
        )
        self.thread.start()

    def next(self) -> Round:
        return self.rounds.get(timeout=WAIT)

    def next_synced(self) -> Round:
        """The next round that synced, past any that failed (SQLite answers "database is
        locked" while the test's own connection changes the schema)."""
        while True:
            found = self.next()
            if found.outcome is not None:
                return found

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=WAIT)
        assert not self.thread.is_alive()


@pytest.fixture
def watching() -> Iterator[list[Watching]]:
    made: list[Watching] = []
    yield made
    for w in made:
        w.close()


def test_a_changed_document_is_synced_again_and_a_broken_one_changes_nothing(
    tmp_path: Path, watching: list[Watching]
) -> None:
    doc = tmp_path / "api.json"
    doc.write_text(_doc("/pets"))
    app_dir = tmp_path / ".appctl"
    w = Watching(OpenAPI(str(doc)), app_dir)
    watching.append(w)
    first = w.next()
    assert first.number == 1 and first.outcome is not None
    assert first.outcome.actions == ("get_pets",)

    doc.write_text(_doc("/pets", "/owners"))
    second = w.next()
    assert second.outcome is not None and second.outcome.changes is not None
    assert second.outcome.changes.added == ["get_owners"]
    kept = (app_dir / "schema.json").read_bytes()

    doc.write_text('{"openapi": "3.0.3", "paths": {')  # saved half-way
    third = w.next()
    assert third.outcome is None and third.error is not None
    assert (app_dir / "schema.json").read_bytes() == kept  # never overwritten by a failure

    doc.write_text(_doc("/owners"))  # watching went on: the fix is synced
    fourth = w.next()
    assert fourth.outcome is not None and fourth.outcome.changes is not None
    assert fourth.outcome.changes.removed == ["get_pets"]
    assert w.rounds.empty()  # nothing changed since: no sync


def test_a_changed_database_schema_is_synced_again(
    tmp_path: Path, watching: list[Watching]
) -> None:
    db = tmp_path / "app.db"
    _execute(db, "create table notes (id integer primary key, title text not null)")
    w = Watching(Database(str(db)), tmp_path / ".appctl")
    watching.append(w)
    first = w.next_synced()
    assert first.outcome is not None and "list_notes" in first.outcome.actions
    _execute(db, "insert into notes (title) values ('rows are not the schema')")
    time.sleep(0.3)  # several polls: new rows change no fingerprint
    assert all(r.outcome is None for r in _drained(w.rounds))
    _execute(db, "create table tags (id integer primary key, name text)")
    second = w.next_synced()
    assert second.outcome is not None and second.outcome.changes is not None
    assert "list_tags" in second.outcome.changes.added


def _execute(db: Path, sql: str) -> None:
    conn = sqlite3.connect(db, timeout=10)
    try:
        with conn:
            conn.execute(sql)
    finally:
        conn.close()


def _drained(rounds: queue.Queue[Round]) -> list[Round]:
    found = []
    while not rounds.empty():
        found.append(rounds.get_nowait())
    return found


def test_max_rounds_bounds_a_watch(tmp_path: Path) -> None:
    doc = tmp_path / "api.json"
    doc.write_text(_doc("/pets"))
    source = OpenAPI(str(doc))
    seen: list[Round] = []
    done = watch(
        source,
        sync=lambda: run(source, app_dir=tmp_path / ".appctl", environ={}),
        context=BuildContext(app_dir=tmp_path / ".appctl"),
        report=seen.append,
        interval=0.05,
        max_rounds=1,
    )
    assert done == 1 and len(seen) == 1 and seen[0].outcome is not None


class _Files:
    """A source that names its files (as the web app sources do)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def watched_paths(self, context: BuildContext) -> list[Path]:
        return python_files(self.root)

    def build(self, context: BuildContext) -> Any:
        raise AssertionError("the fingerprint of a Watched source never builds it")


def test_a_source_that_names_its_files_is_fingerprinted_by_their_content(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "app.py").write_text("x = 1\n")
    (tmp_path / ".venv" / "lib").mkdir(parents=True)
    (tmp_path / ".venv" / "lib" / "dep.py").write_text("y = 1\n")
    source, context = _Files(tmp_path), BuildContext(app_dir=tmp_path / ".appctl")
    assert python_files(tmp_path) == [tmp_path / "pkg" / "app.py"]
    before = fingerprint(source, context)
    (tmp_path / ".venv" / "lib" / "dep.py").write_text("y = 2\n")  # not the project's
    (tmp_path / "notes.txt").write_text("not python")
    assert fingerprint(source, context) == before
    (tmp_path / "pkg" / "app.py").write_text("x = 2\n")
    assert fingerprint(source, context) != before


def _lines(stream: Any, into: queue.Queue[str]) -> None:
    for line in iter(stream.readline, ""):
        into.put(line.rstrip("\n"))


def _until(lines: queue.Queue[str], text: str, seen: list[str]) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        seen.append(line)
        if text in line:
            return
    raise AssertionError(f"{text!r} not printed; got {seen}")


def test_the_command_prints_each_change_and_ends_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    doc = tmp_path / "api.json"
    doc.write_text(_doc("/pets"))
    proc = runner.popen(
        ["sync", "--watch", "--interval", "0.1", "--openapi", "api.json"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=interruptible,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_lines, args=(proc.stderr, lines), daemon=True).start()
    seen: list[str] = []
    try:
        _until(lines, "watching for changes", seen)
        doc.write_text(_doc("/pets", "/owners"))
        _until(lines, "changes since the last sync: +1 added", seen)
        doc.write_text("{")
        _until(lines, "sync 3 failed; the contract is unchanged", seen)
        _until(lines, "watching for changes", seen)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=WAIT) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    _until(lines, "stopped watching", seen)
    assert not any("Traceback" in line for line in seen), seen
    schema = json.loads((tmp_path / ".appctl" / "schema.json").read_text())
    names = [a["name"] for r in schema["resources"] for a in r["actions"]]
    assert sorted(names) == ["get_owners", "get_pets"]


def test_watch_and_check_do_not_go_together(tmp_path: Path) -> None:
    (tmp_path / "api.json").write_text(_doc("/pets"))
    proc = runner.invoke(
        "sync", "--watch", "--check", "--openapi", "api.json", cwd=tmp_path, code=2
    )
    assert "--watch and --check do not go together" in proc.stderr


def test_a_document_s_fingerprint_covers_the_files_its_refs_may_name(tmp_path: Path) -> None:
    doc = tmp_path / "api.json"
    doc.write_text(_doc("/pets"))
    (tmp_path / "pet.yaml").write_text("type: object\n")
    source, context = OpenAPI(str(doc)), BuildContext(app_dir=tmp_path / ".appctl")
    before = fingerprint(source, context)
    (tmp_path / "pet.yaml").write_text("type: string\n")  # a relative $ref's target
    assert fingerprint(source, context) != before


def test_a_strict_watch_prints_the_problems_of_a_refused_sync(tmp_path: Path) -> None:
    doc = json.loads(_doc("/pets"))
    doc["paths"]["/pets"]["get"]["parameters"] = [
        {"name": "limit", "in": "query", "schema": {"type": "int"}}
    ]
    (tmp_path / "api.json").write_text(json.dumps(doc))
    proc = runner.popen(
        ["sync", "--watch", "--strict", "--interval", "0.1", "--openapi", "api.json"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=interruptible,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_lines, args=(proc.stderr, lines), daemon=True).start()
    seen: list[str] = []
    try:
        _until(lines, "sync 1 failed; the contract is unchanged", seen)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=WAIT) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert any(line.startswith("error: /paths/~1pets/get") for line in seen), seen
    assert not (tmp_path / ".appctl" / "schema.json").exists()


def test_web_app_sources_watch_their_project_and_models_their_database(tmp_path: Path) -> None:
    from appctl.sync.sources import App, Django

    (tmp_path / "pkg").mkdir()
    (tmp_path / "main.py").write_text("app = 1\n")
    (tmp_path / "pkg" / "views.py").write_text("def f(): ...\n")
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "site.py").write_text("x = 1\n")
    context = BuildContext(app_dir=tmp_path / ".appctl")
    app = App("main:app", project=str(tmp_path))
    views = Django("mysite.settings", project=str(tmp_path))
    first = fingerprint(app, context)
    assert fingerprint(views, context) == first
    (tmp_path / ".venv" / "site.py").write_text("x = 2\n")  # a virtualenv is not the app
    assert fingerprint(app, context) == first
    (tmp_path / "pkg" / "views.py").write_text("def f(): return 1\n")
    assert fingerprint(app, context) != first
    assert fingerprint(views, context) == fingerprint(app, context)
    # the models' tables change when migrations are applied to the database, which no file
    # tells: that source is fingerprinted by what a build makes
    assert Django("s", project=str(tmp_path), models=True).watched_paths(context) is None
