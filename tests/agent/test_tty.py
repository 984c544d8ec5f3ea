"""On a terminal: approvals are asked inline, and Ctrl-C cancels a chat turn, not the session.

The child gets a pseudo-terminal for stdin, stdout and stderr (so it sees a TTY); Ctrl-C is
the SIGINT a terminal would send."""

from __future__ import annotations

import os
import pty
import select
import signal
import time
from pathlib import Path
from typing import Any

from tests import runner
from tests.agent.fakellm import FakeLLM, Step, ToolCallStep
from tests.agent.test_run import KEYS, SECRET_KEY
from tests.conftest import TOKEN, interruptible


class Terminal:
    def __init__(self, cwd: Path, args: list[str], env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        self.proc = runner.popen(
            args,
            cwd=cwd,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env={"TERM": "dumb", **env},
            preexec_fn=interruptible,
        )
        os.close(slave)
        self.seen = ""

    def expect(self, text: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while text not in self.seen:
            left = deadline - time.monotonic()
            assert left > 0, f"{text!r} not seen; got:\n{self.seen}"
            ready, _, _ = select.select([self.master], [], [], min(left, 0.5))
            if ready:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:  # the child closed the terminal
                    chunk = b""
                if not chunk and self.proc.poll() is not None:
                    assert text in self.seen, f"{text!r} not seen; got:\n{self.seen}"
                self.seen += chunk.decode("utf-8", "replace")
        return self.seen

    def send(self, text: str) -> None:
        os.write(self.master, text.encode())

    def close(self) -> int:
        try:
            code = self.proc.wait(timeout=30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            os.close(self.master)
        return code


def _env(kind: str) -> dict[str, str]:
    return {KEYS[kind]: SECRET_KEY, "APPCTL_BEARER_TOKEN": TOKEN, "APPCTL_SESSION": "tty-1"}


def test_a_write_is_approved_inline_on_a_terminal(project: Path, pets: Any) -> None:
    script = [Step(tool_calls=[ToolCallStep("create_pet", {"name": "Tom"})]), Step(text="Added.")]
    with FakeLLM(script) as llm:
        term = Terminal(
            project,
            ["run", "add Tom", "--provider", "openai", "--provider-url", llm.base_url("openai")],
            _env("openai"),
        )
        term.expect("changes data. Run it?")
        term.send("y\n")
        term.expect("Added.")
        assert term.close() == 0
    assert [s[0] for s in pets.seen] == ["POST"]


def test_a_destructive_call_needs_its_name_typed(project: Path, pets: Any) -> None:
    script = [
        Step(tool_calls=[ToolCallStep("delete_pet", {"petId": 1})]),
        Step(text="You did not confirm, so nothing was deleted."),
    ]
    with FakeLLM(script) as llm:
        term = Terminal(
            project,
            [
                "run",
                "delete pet 1",
                "--provider",
                "anthropic",
                "--provider-url",
                llm.base_url("anthropic"),
            ],
            _env("anthropic"),
        )
        term.expect("Type its name to run it")
        term.send("y\n")  # not the name: refused
        term.expect("nothing was deleted")
        assert term.close() == 3
    assert pets.seen == []


def test_ctrl_c_cancels_the_turn_not_the_session(project: Path, pets: Any) -> None:
    script = [
        Step(text="this reply is too slow", delay=20),
        Step(text="Second question answered."),
    ]
    with FakeLLM(script) as llm:
        term = Terminal(
            project,
            [
                "chat",
                "--provider",
                "openai",
                "--provider-url",
                llm.base_url("openai"),
                "--no-stream",
            ],
            _env("openai"),
        )
        term.expect("you> ")
        term.send("first question\n")
        deadline = time.monotonic() + 30  # a loaded CI machine starts the turn slowly
        while not llm.requests and time.monotonic() < deadline:
            time.sleep(0.05)
        assert llm.requests, "the first question never reached the model"
        time.sleep(0.2)  # the request is in flight: the reply is 20 s away
        term.proc.send_signal(signal.SIGINT)
        term.expect("turn cancelled")
        term.send("second question\n")
        term.expect("Second question answered.")
        term.send("/exit\n")
        assert term.close() == 0
    second = llm.requests[-1].body["messages"]
    # the cancelled turn left nothing behind: system + the second question only
    assert [m["role"] for m in second] == ["system", "user"]
    assert second[-1]["content"] == "second question"


def test_init_asks_on_a_terminal(tmp_path: Path) -> None:
    term = Terminal(tmp_path, ["init"], {})
    term.expect("Provider kind")
    term.send("openai\n")
    term.expect("Model")
    term.send("llama3.2\n")
    term.expect("Base URL")
    term.send("http://127.0.0.1:11434/v1\n")
    term.expect("Variable holding the API key")
    term.send("LOCAL_LLM_KEY\n")
    term.expect("wrote provider profile")
    assert term.close() == 0
    from appctl.config import load_config

    config = load_config(tmp_path / ".appctl")
    profile = config.providers["openai"]
    assert config.default_provider == "openai"
    assert (profile.model, profile.base_url, profile.api_key) == (
        "llama3.2",
        "http://127.0.0.1:11434/v1",
        "env:LOCAL_LLM_KEY",
    )
