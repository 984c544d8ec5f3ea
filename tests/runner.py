"""Run appctl from a test: as a real process (``appctl``/``popen``) or in this process
(``invoke``), and never with the developer's environment.

A real process is for what the process is: exit codes of the real entry point, signals, a
terminal, a server, a second Python interpreter (another hash seed). Everything else runs in
process through the same ``main()`` the console script calls, which costs no interpreter start.

Neither way sees the shell's ``APPCTL_*`` variables or LLM provider keys: a child gets only
``PATH`` plus what the test passes, and the suite's autouse fixture (tests/conftest.py) takes
them out of ``os.environ`` for in-process tests.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_script = Path(sys.executable).parent / "appctl"
APPCTL = str(_script) if _script.exists() else shutil.which("appctl") or "appctl"

# Variables that configure appctl or an LLM SDK: a test must never pick them up from the
# shell it was started in (a developer's APPCTL_APP_DIR would receive the tests' contracts).
SHELL_PREFIXES = ("APPCTL_",)
PROVIDER_KEYS = frozenset(
    {
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "OPENAI_ORG_ID",
        "OPENAI_PROJECT_ID",
        "AZURE_OPENAI_API_KEY",
        "AZURE_OPENAI_ENDPOINT",
        "OPENAI_API_VERSION",
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_AUTH_TOKEN",
        "ANTHROPIC_BASE_URL",
        "GEMINI_API_KEY",
        "GOOGLE_API_KEY",
        "GOOGLE_GENAI_USE_VERTEXAI",
    }
)
# The suite's own settings (tests/dbs.py, tests/corpus.py): appctl never reads them, and the
# database tests need them at test time.
SUITE_VARIABLES = frozenset(
    {
        "APPCTL_REQUIRE_DBS",
        "APPCTL_REQUIRE_APPS",
        "APPCTL_REQUIRE_BROWSER",
        "APPCTL_CORPUS",
        "APPCTL_TEST_POSTGRES_URL",
        "APPCTL_TEST_MARIADB_URL",
        "APPCTL_TEST_POSTGRES_RO_URL",
        "APPCTL_TEST_MARIADB_RO_URL",
    }
)


def shell_leaks(environ: Mapping[str, str]) -> list[str]:
    """The names in ``environ`` that a test must not inherit."""
    return sorted(
        name
        for name in environ
        if (name.startswith(SHELL_PREFIXES) or name in PROVIDER_KEYS)
        and name not in SUITE_VARIABLES
    )


def child_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """A child's whole environment: ``PATH`` and ``env``, nothing else from the shell."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **(env or {})}


def appctl(
    *args: str,
    cwd: Path | str,
    code: int | None = 0,
    env: Mapping[str, str] | None = None,
    input: str | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """``appctl ARGS`` in ``cwd`` as a real process, with no terminal (stdin is ``input`` or
    empty); asserts the exit code (unless ``code`` is None) and that nothing raised to a
    traceback."""
    proc = subprocess.run(
        [APPCTL, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        input=input if input is not None else "",
        env=child_env(env),
    )
    if code is not None:
        assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def popen(
    args: Sequence[str], *, cwd: Path | str, env: Mapping[str, str] | None = None, **kw: Any
) -> subprocess.Popen[Any]:
    """``appctl ARGS`` started in ``cwd`` (a server, a terminal session, a held call): the
    same environment as ``appctl``; ``kw`` goes to ``subprocess.Popen``."""
    return subprocess.Popen([APPCTL, *args], cwd=cwd, env=child_env(env), **kw)


def wait_listening(
    proc: subprocess.Popen[Any], port: int, *, within: float = 20, what: str = "the server"
) -> None:
    """Until something accepts connections on 127.0.0.1:``port`` (``proc`` still running),
    at most ``within`` seconds; fails the test otherwise."""
    deadline = time.monotonic() + within
    while True:
        assert proc.poll() is None, proc.communicate()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            assert time.monotonic() < deadline, f"{what} did not start within {within} s"
            time.sleep(0.05)


@dataclass(frozen=True)
class Invoked:
    """What ``invoke`` saw; the same fields as a ``CompletedProcess`` with ``text=True``."""

    returncode: int
    stdout_bytes: bytes
    stderr_bytes: bytes

    @property
    def stdout(self) -> str:
        return self.stdout_bytes.decode("utf-8", "replace")

    @property
    def stderr(self) -> str:
        return self.stderr_bytes.decode("utf-8", "replace")


@contextlib.contextmanager
def _cwd(path: Path | str) -> Iterator[None]:
    before = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def invoke(
    *args: str,
    cwd: Path | str,
    code: int | None = 0,
    env: Mapping[str, str | None] | None = None,
    input: str | None = None,
) -> Invoked:
    """``appctl ARGS`` in this process: the console script's own ``main()`` with ``sys.argv``,
    standard streams (no terminal) and ``env`` set for the call and ``cwd`` as the working
    directory. Asserts the exit code (unless ``code`` is None). An exception escaping
    ``main()`` (which turns every error into a message and an exit code) fails the test as
    itself, so stderr is not searched for a traceback: while the streams are swapped, what a
    test's server threads print (a reset connection's traceback) lands there too."""
    from click.testing import CliRunner

    from appctl.cli.main import main

    runner = CliRunner()
    argv = sys.argv
    with runner.isolation(input=input or "", env=env) as (out, err, _), _cwd(cwd):
        sys.argv = ["appctl", *args]
        try:
            main()
            returncode = 0  # main() always exits; kept for clarity
        except SystemExit as exit_:
            returncode = _exit_code(exit_.code)
        finally:
            sys.argv = argv
        result = Invoked(returncode, out.getvalue(), err.getvalue())
    if code is not None:
        assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    return result


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    return 1  # sys.exit("message"): Python prints it and exits 1
