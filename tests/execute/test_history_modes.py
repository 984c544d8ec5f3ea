"""The audit files hold every call's arguments and results: whatever the umask, appctl creates
them readable by their owner only (0600), also in a project whose .appctl folder is new."""

from __future__ import annotations

import sqlite3
import stat
import subprocess
from pathlib import Path

from tests import runner


def _appctl(cwd: Path, *args: str, env: dict[str, str] | None = None) -> None:
    # a process of its own for the usual umask (files it decides would be world-readable)
    proc = subprocess.run(
        [runner.APPCTL, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        env=runner.child_env({"HOME": str(cwd), **(env or {})}),
        umask=0o022,
    )
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _project(tmp_path: Path) -> Path:
    with sqlite3.connect(tmp_path / "app.db") as conn:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, secret TEXT)")
        conn.execute("INSERT INTO t VALUES (1, 'call data')")
    conn.close()
    _appctl(tmp_path, "sync", "--db", "app.db")
    return tmp_path


def test_history_files_are_created_0600(tmp_path: Path) -> None:
    root = _project(tmp_path)
    _appctl(root, "call", "list_t", "--json")
    files = sorted((root / ".appctl").glob("history.db*"))
    names = {p.name for p in files}
    assert {"history.db", "history.db.pending"} <= names, names
    (root / ".appctl" / "history.db.pending").open("a").write("not a record\n")
    _appctl(root, "history")  # folds the pending log: the bad line goes to .rejected
    files = sorted((root / ".appctl").glob("history.db*"))
    assert "history.db.rejected" in {p.name for p in files}
    assert {p.name: _mode(p) for p in files} == {p.name: 0o600 for p in files}


def test_a_new_history_elsewhere_is_private_too(tmp_path: Path) -> None:
    root = _project(tmp_path)
    where = tmp_path / "audit"
    where.mkdir()
    env = {"APPCTL_HISTORY_URL": f"sqlite:///{where / 'h.db'}"}
    _appctl(root, "call", "list_t", "--json", env=env)
    _appctl(root, "history", env=env)
    files = sorted(where.iterdir())
    assert "h.db" in {p.name for p in files}
    assert {p.name: _mode(p) for p in files} == {p.name: 0o600 for p in files}
