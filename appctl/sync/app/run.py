"""Run a probe (``probes/<name>.py``) in the project's own interpreter and read its result.

``probe(python, name, args, cwd=..., timeout=..., environ=...)`` starts ``python
probes/<name>.py ARGS`` in the project directory, in a new process group, and waits at most
``timeout`` seconds (then the whole group is killed). The probe prints a marker line, unique to
this run, and one line of JSON after it, so whatever the app prints cannot be mistaken for the
result. Every failure is an ``AppctlError`` saying what happened and what to do:

  UsageError   the interpreter is missing; the module or attribute named is not there; the
               object is not an app of a framework appctl reads
  SourceError  the import raised, hung past the time limit, or needs a module (the framework)
               that interpreter does not have; the framework's generator raised; no result
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from appctl.errors import SourceError, UsageError
from appctl.sync.app.failures import PYTHON_HINT, failure

PROBES = Path(__file__).parent / "probes"
MARKER_VAR = "APPCTL_PROBE_MARKER"
DEFAULT_TIMEOUT = 60.0  # seconds to import the app and generate its document


def probe(
    python: str,
    name: str,
    args: list[str],
    *,
    cwd: Path,
    timeout: float,
    environ: Mapping[str, str],
) -> dict[str, Any]:
    """The result ``probes/<name>.py ARGS`` printed, run by ``python`` in ``cwd``."""
    script = PROBES / f"{name}.py"
    if not script.is_file():
        raise ValueError(f"no probe named {name!r}")
    marker = f"--appctl-probe-{secrets.token_hex(8)}--"
    env = {**environ, MARKER_VAR: marker, "PYTHONDONTWRITEBYTECODE": "1"}  # nothing written
    try:
        process = subprocess.Popen(
            [_located(python, environ), str(script), *args],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:
        raise UsageError(
            f"cannot run {python}: {exc.strerror or exc}", suggestion=PYTHON_HINT
        ) from None
    out, err = _wait(process, timeout=timeout, what=" ".join(args), python=python)
    result = _result(out, marker)
    if result is None:
        raise SourceError(
            f"{python} ended (exit code {process.returncode}) without a result: {_last(err)}",
            suggestion="Check that it is Python 3.9 or newer and can import the app: "
            f"`{python} -c 'import {_module(args)}'` in {cwd}.",
        )
    if "error" in result:
        raise failure(result["error"], python=python, target=" ".join(args))
    return result


def _wait(
    process: subprocess.Popen[bytes], *, timeout: float, what: str, python: str
) -> tuple[bytes, bytes]:
    try:
        return process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        raise SourceError(
            f"importing {what} with {python} did not finish within {timeout:g} s; the process "
            "was stopped",
            suggestion="Importing the app must not start a server or wait on a network: move "
            "that under `if __name__ == '__main__':`, or raise the limit with --timeout.",
        ) from None


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    try:
        process.communicate(timeout=5)
    except subprocess.TimeoutExpired:  # a pipe held by a process that left the group
        process.kill()


def _result(out: bytes, marker: str) -> dict[str, Any] | None:
    text = out.decode("utf-8", "replace")
    _, found, tail = text.rpartition(f"\n{marker}\n")
    if not found:
        return None
    try:
        value = json.loads(tail.splitlines()[0] if tail else "")
    except (json.JSONDecodeError, IndexError):
        return {"error": {"kind": "unreadable", "message": "the probe's result is not JSON"}}
    return value if isinstance(value, dict) else None


def default_python(environ: Mapping[str, str]) -> str:
    """The project's interpreter: ``$VIRTUAL_ENV/bin/python``, else the first ``python3`` on
    PATH that is not appctl's own virtualenv's."""
    venv = environ.get("VIRTUAL_ENV")
    if venv:
        return str(Path(venv) / "bin" / "python")
    own = Path(sys.prefix).resolve() if sys.prefix != sys.base_prefix else None
    for folder in environ.get("PATH", "").split(os.pathsep):
        found = shutil.which("python3", path=folder) if folder else None
        if found and (own is None or not Path(folder).resolve().is_relative_to(own)):
            return found
    raise UsageError(
        "no python3 on PATH outside appctl's own virtualenv to import the app with",
        suggestion=PYTHON_HINT,
    )


def _located(python: str, environ: Mapping[str, str]) -> str:
    """``python`` as a path the child can be started by from another directory."""
    if os.sep in python:
        return str(Path(python).absolute())
    found = shutil.which(python, path=environ.get("PATH", ""))
    if found is None:
        raise UsageError(f"no {python} on PATH", suggestion=PYTHON_HINT)
    return found


def _module(args: list[str]) -> str:
    return args[0].split(":")[0] if args else "the app"


def _last(err: bytes) -> str:
    lines = [line for line in err.decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[-1].strip() if lines else "it printed nothing on stderr"
