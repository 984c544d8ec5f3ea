"""The real MCP servers the MCP source's tests run (scripts/setup installs them), and
helpers to sync and call them in process."""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from appctl.execute.audit.history import History
from tests import runner
from tests.conftest import NPM, REPO

HERE = Path(__file__).resolve().parent
EVERYTHING = NPM / ".bin" / "mcp-server-everything"
FILESYSTEM = NPM / ".bin" / "mcp-server-filesystem"
TIME = REPO / ".cache" / "mcp-venv" / "bin" / "mcp-server-time"
FLAKY = HERE / "flaky_server.py"
LOOPBACK = HERE / "loopback.cjs"


def need(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"{path} is not installed: run scripts/setup")


def everything_http(port: int) -> subprocess.Popen[bytes]:
    """server-everything's Streamable HTTP mode on ``port`` of 127.0.0.1, once it listens."""
    need(EVERYTHING)
    env = {"PATH": os.environ["PATH"], "PORT": str(port), "NODE_OPTIONS": f"--require {LOOPBACK}"}
    process = subprocess.Popen(
        [str(EVERYTHING), "streamableHttp"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            raise AssertionError("server-everything streamableHttp exited")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                raise AssertionError("server-everything did not start") from None
            time.sleep(0.2)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(10)


def flaky(directory: Path) -> str:
    """The command line of the misbehaving fixture server (its ``extra`` file in
    ``directory``)."""
    return shlex.join([sys.executable, str(FLAKY), str(directory)])


def sync(cwd: Path, *args: str, code: int = 0, env: dict[str, str] | None = None) -> str:
    invoked = runner.invoke("sync", *args, cwd=cwd, code=code, env=env)
    return invoked.stdout + invoked.stderr


def call(cwd: Path, tool: str, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """``appctl call --json TOOL ARGS``'s envelope."""
    invoked = runner.invoke("call", "--json", tool, *args, cwd=cwd, code=None, env=env)
    found: dict[str, Any] = json.loads(invoked.stdout)
    return found


def schema(cwd: Path) -> dict[str, Any]:
    found: dict[str, Any] = json.loads((cwd / ".appctl" / "schema.json").read_text())
    return found


def actions(cwd: Path) -> dict[str, dict[str, Any]]:
    return {a["name"]: a for r in schema(cwd)["resources"] for a in r["actions"]}


def history(cwd: Path) -> list[dict[str, Any]]:
    found = History(f"sqlite:///{cwd / '.appctl' / 'history.db'}")
    try:
        return [e.as_dict() for e in found.entries(last=100)]
    finally:
        found.close()
