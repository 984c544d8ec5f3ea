"""What the app tests share: a copy of a fixture app to work in, the app started as its
framework serves it (on 127.0.0.1, a free port), its framework's own route list, and the
contract's routes in the same shape to compare with."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests import runner
from tests.apps.conftest import APPS

Route = tuple[str, str]  # (METHOD, path with every parameter written {})
_PARAM = re.compile(r"\{[^{}]*\}|<(?:[^<>:]+:)?[^<>]+>")
START_WITHIN = 60.0  # seconds a started app may take to accept connections


def copied(framework: str, into: Path) -> Path:
    """fixtures/apps/<framework> copied into ``into`` (the app's database and the contract
    are written there, never into the repository)."""
    target = into / framework
    shutil.copytree(APPS / framework, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def app_env(**extra: str) -> dict[str, str]:
    """The environment an app (and its probe) runs with: PATH, no bytecode, ``extra``."""
    return runner.child_env({"PYTHONDONTWRITEBYTECODE": "1", **extra})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(
    command: Sequence[str], *, cwd: Path, port: int, env: Mapping[str, str]
) -> Iterator[str]:
    """``command`` started in ``cwd`` (its own process group), once it accepts connections
    on ``port``; yields its base URL and stops the whole group afterwards."""
    log = (cwd / "server.log").open("wb")
    process = subprocess.Popen(
        list(command), cwd=cwd, env=dict(env), stdout=log, stderr=log, start_new_session=True
    )
    try:
        _wait_for(port, process, cwd / "server.log")
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        log.close()


def _wait_for(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_WITHIN
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the app ended ({process.returncode}): {log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"the app did not listen on {port} within {START_WITHIN} s")


def framework_routes(python: Path, script: str, *, cwd: Path, env: Mapping[str, str]) -> set[Route]:
    """The routes ``script`` (run by the frameworks venv's ``python`` in ``cwd``) prints as
    a JSON list of [method, path], each path's parameters written {}."""
    done = subprocess.run(
        [str(python), "-c", script],
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return {(m.upper(), anonymous(p)) for m, p in json.loads(done.stdout.splitlines()[-1])}


def contract_routes(app_dir: Path) -> set[Route]:
    schema = json.loads((app_dir / "schema.json").read_text())
    return {
        (a["transport"]["method"], anonymous(a["transport"]["path"]))
        for r in schema["resources"]
        for a in r["actions"]
    }


def anonymous(path: str) -> str:
    """``/notes/{note_id}``, ``/notes/<int:note_id>`` → ``/notes/{}``."""
    return _PARAM.sub("{}", path)


def call(cwd: Path, tool: str, *args: str, env: Mapping[str, str] | None = None) -> Any:
    """``appctl call TOOL ARGS --json`` in ``cwd``; the envelope's data (asserts ok)."""
    done = runner.appctl("call", tool, *args, "--json", cwd=cwd, env=env)
    envelope = json.loads(done.stdout)
    assert envelope["ok"], envelope
    return envelope.get("data")
