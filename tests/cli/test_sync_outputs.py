"""What ``appctl sync`` writes and shows: tools.json only on demand (then kept fresh), and a
progress bar only on a terminal."""

from __future__ import annotations

import json
from pathlib import Path

import orjson

from tests import runner
from tests.agent.test_tty import Terminal
from tests.sync.test_large_spec import large_spec

BAR = "━"  # rich's bar


def _write_spec(folder: Path, *, operations: int | None = None) -> Path:
    doc = large_spec(list(range(operations)) if operations is not None else None)
    path = folder / "spec.json"
    path.write_bytes(orjson.dumps(doc))
    return path


def _appctl(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    return runner.invoke(*args, cwd=cwd, env=env).stderr


def test_tools_json_is_written_on_demand_and_then_kept_fresh(tmp_path: Path) -> None:
    spec = _write_spec(tmp_path, operations=3)
    app = tmp_path / ".appctl"
    _appctl(tmp_path, "sync", "--openapi", "spec.json")
    assert (app / "schema.json").exists() and not (app / "tools.json").exists()

    _appctl(tmp_path, "sync", "--tools", "--openapi", "spec.json")
    tools = json.loads((app / "tools.json").read_text())
    assert len(tools["tools"]) == 6
    exported = runner.invoke("tools", "--format", "jsonschema", cwd=tmp_path)
    assert (app / "tools.json").read_bytes() == exported.stdout_bytes

    spec.write_bytes(orjson.dumps(large_spec(list(range(5)))))
    _appctl(tmp_path, "sync", "--openapi", "spec.json")  # no flag: the file exists, so refreshed
    assert len(json.loads((app / "tools.json").read_text())["tools"]) == 10


def test_no_progress_bar_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    _write_spec(tmp_path, operations=400)
    stderr = _appctl(tmp_path, "sync", "--openapi", "spec.json", env={"APPCTL_PROGRESS_AFTER": "0"})
    assert BAR not in stderr and "syncing" not in stderr
    assert "800 operations in the source" in stderr


def test_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    _write_spec(tmp_path, operations=400)
    term = Terminal(
        tmp_path,
        ["sync", "--openapi", "spec.json"],
        {"APPCTL_PROGRESS_AFTER": "0", "TERM": "xterm-256color"},
    )
    seen = term.expect("800 operations in the source", timeout=120)
    assert term.close() == 0
    assert "syncing" in seen and BAR in seen and "0/800" in seen
    assert seen.index("syncing") < seen.index("800 operations in the source")


def test_no_progress_bar_on_a_terminal_for_a_short_sync(tmp_path: Path) -> None:
    _write_spec(tmp_path, operations=2)
    term = Terminal(
        tmp_path,
        ["sync", "--openapi", "spec.json"],
        {"APPCTL_PROGRESS_AFTER": "30", "TERM": "xterm-256color"},
    )
    seen = term.expect("4 operations in the source", timeout=120)
    assert term.close() == 0
    assert BAR not in seen and "syncing" not in seen
