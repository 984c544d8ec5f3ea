"""A model that answers 200 and then no whole answer is a provider failure, never an answer:
``appctl run`` exits 1 naming the provider and what was wrong, ``appctl chat`` says so and
keeps the session, ``POST /run`` answers 502 with the envelope. The real SDKs read the broken
shapes from the fake server (fakellm's ``Step(broken=...)``), as they would from a failing
llama-cpp-python server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.agent.fakellm import FakeLLM, Step, ToolCallStep
from tests.agent.test_run import _appctl, _run
from tests.serve.test_rest import Served

KINDS = ["openai", "anthropic", "gemini"]
MARKERS = {"openai": "finish_reason", "anthropic": "message_stop", "gemini": "finishReason"}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("broken", ["silent", "truncated", "dropped"])
def test_a_broken_stream_is_a_provider_failure(project: Path, kind: str, broken: str) -> None:
    with FakeLLM([Step(text="Rex is your only pet.", broken=broken)]) as llm:
        proc = _run(project, llm, kind, "pets?", code=1)
    error = proc.stderr
    assert f"the {kind} provider '{kind}'" in error and "failed mid-answer" in error
    if broken == "dropped":
        assert "stream was cut off" in error
    else:
        assert "ended without a finish reason" in error and MARKERS[kind] in error
        assert ("without any output" if broken == "silent" else "after 21 characters") in error
    assert "could not reach" not in error and "internal" not in error


@pytest.mark.parametrize("kind", KINDS)
def test_a_stream_cut_during_a_tool_call_runs_no_tool(project: Path, pets: Any, kind: str) -> None:
    script = [Step(tool_calls=[ToolCallStep("create_pet", {"name": "Tom"})], broken="truncated")]
    with FakeLLM(script) as llm:
        proc = _run(project, llm, kind, "add Tom", "--yes", "--json", code=1)
    out = json.loads(proc.stdout)
    assert out["stopped"] == "error" and out["answer"] == ""
    assert out["error"]["category"] == "provider" and "finish reason" in out["error"]["message"]
    assert out["tool_calls"] == [] and pets.seen == []  # half a call is never run


EMPTY_WHOLE = {
    "openai": "the response has no choices",
    "anthropic": "answered with no text and no tool call",
    "gemini": "the response has no finished candidate",
}


@pytest.mark.parametrize("kind", KINDS)
def test_an_empty_whole_response_is_a_provider_failure(project: Path, kind: str) -> None:
    with FakeLLM([Step(broken="silent")]) as llm:
        proc = _run(project, llm, kind, "pets?", "--no-stream", "--json", code=1)
    out = json.loads(proc.stdout)
    assert out["stopped"] == "error" and out["error"]["category"] == "provider"
    assert EMPTY_WHOLE[kind] in out["error"]["message"] and kind in out["error"]["message"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("stream", [True, False])
def test_a_finished_reply_with_nothing_in_it_is_no_answer(
    project: Path, kind: str, stream: bool
) -> None:
    with FakeLLM([Step(text="")]) as llm:  # a finish reason, but no text and no tool call
        args = ["pets?"] if stream else ["pets?", "--no-stream"]
        proc = _run(project, llm, kind, *args, code=1)
    assert f"provider '{kind}' (model" in proc.stderr
    assert "answered with no text and no tool call (finish reason:" in proc.stderr


def test_chat_reports_a_broken_stream_and_keeps_the_session(project: Path) -> None:
    script = [Step(text="You have Rex."), Step(broken="silent"), Step(text="Still Rex.")]
    lines = "How many pets?\nAnd now?\nAgain?\n/exit\n"
    with FakeLLM(script) as llm:
        proc = _run(project, llm, "openai", "chat", stdin=lines, code=1)
    assert "You have Rex." in proc.stdout and "Still Rex." in proc.stdout
    assert "without any output" in proc.stderr
    third = json.dumps(llm.requests[2].body["messages"])
    assert "How many pets?" in third and "You have Rex." in third  # the session went on
    assert "And now?" not in third  # the failed turn was taken back


def test_serve_run_answers_502_with_the_envelope(project: Path) -> None:
    script = [Step(broken="silent"), Step(text="One pet: Rex.")]
    with FakeLLM(script) as llm:
        _appctl(
            project, "init", "--kind", "openai", "--model", "m", "--provider-url",
            llm.base_url("openai"),
        )  # fmt: skip
        served = Served(project)
        try:
            failed = httpx.post(f"{served.url}/run", json={"prompt": "pets?"}, timeout=60)
            answered = httpx.post(f"{served.url}/run", json={"prompt": "pets?"}, timeout=60)
        finally:
            served.stop()
    assert failed.status_code == 502, failed.text
    body = failed.json()
    assert body["stopped"] == "error" and body["answer"] == ""
    assert body["error"]["category"] == "provider" and body["provider"] == "openai"
    assert "without any output" in body["error"]["message"] and body["error"]["suggestion"]
    assert answered.status_code == 200 and answered.json()["answer"] == "One pet: Rex."
