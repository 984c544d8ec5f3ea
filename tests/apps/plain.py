"""Helpers for the plain-app tests: a sync source over ``sync/app/plain.py``, an app server
started in the frameworks venv on 127.0.0.1, and the framework's own route list."""

from __future__ import annotations

import contextlib
import json
import os
import random
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appctl.sync.app.plain import Interpreter
from appctl.sync.source import BuildContext, Built

PORTS = range(19400, 19450)  # this suite's range for app servers
ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}


@dataclass(frozen=True)
class Plain:
    """A sync source that runs one of ``plain.py``'s builds with the frameworks venv."""

    build_with: Callable[..., Built]
    target: str
    python: Path
    cwd: Path
    env: Mapping[str, str] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)

    def build(self, context: BuildContext) -> Built:
        interpreter = Interpreter(str(self.python), self.cwd, 60.0, {**ENV, **self.env})
        return self.build_with(
            self.target, interpreter=interpreter, context=context, **self.options
        )


def free_port() -> int:
    for port in random.sample(list(PORTS), len(PORTS)):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 19400-19449")


@contextlib.contextmanager
def serving(
    argv: list[str], *, cwd: Path, env: Mapping[str, str], port: int, ready: str
) -> Iterator[str]:
    """``argv`` started in ``cwd`` until ``http://127.0.0.1:port{ready}`` answers (at most
    60 s); yields the base URL; stopped (its process group) at the end."""
    process = subprocess.Popen(
        argv,
        cwd=cwd,
        env={**ENV, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            try:
                with urllib.request.urlopen(base + ready, timeout=2):
                    break
            except OSError:
                assert time.monotonic() < deadline, "the app did not start within 60 s"
                time.sleep(0.2)
        yield base
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 15)
        process.wait(timeout=10)
        if process.stderr:
            process.stderr.close()


def python_json(python: Path, code: str, *, cwd: Path, env: Mapping[str, str]) -> Any:
    """What ``code`` prints as JSON on its last line, run by ``python`` in ``cwd``."""
    done = subprocess.run(
        [str(python), "-c", code],
        cwd=cwd,
        env={**ENV, "PYTHONPATH": str(cwd), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def actions_of(schema_path: Path) -> set[tuple[str, str]]:
    """(method, path) of every HTTP action in a contract file."""
    document = json.loads(schema_path.read_text())
    return {
        (a["transport"]["method"], a["transport"]["path"])
        for r in document["resources"]
        for a in r["actions"]
    }
