"""End to end: sync the fixture API → ``appctl run``/``chat`` → a scripted model (a local server
speaking each provider's real wire protocol to the real SDK) → the fixture server receives the
calls → the answer is printed. No LLM is reachable offline; everything else is real."""

from __future__ import annotations

import json
import socket
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from appctl.execute.framing import unframe
from tests import runner
from tests.agent.fakellm import FakeLLM, Seen, Step, ToolCallStep
from tests.conftest import REPO, TOKEN

KEYS = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY", "gemini": "GEMINI_API_KEY"}
SECRET_KEY = "sk-test-secret-4242"


def _appctl(
    cwd: Path, *args: str, code: int = 0, env: dict[str, str] | None = None, stdin: str = ""
) -> runner.Invoked:
    """``appctl ARGS`` in process (the agent loop against the wire fakes needs no process of
    its own), with the fixture app's token and a fixed session id."""
    return runner.invoke(
        *args,
        cwd=cwd,
        code=code,
        input=stdin,
        env={"APPCTL_BEARER_TOKEN": TOKEN, "APPCTL_SESSION": "sess-test-1", **(env or {})},
    )


def _run(
    project: Path, llm: FakeLLM, kind: str, *args: str, code: int = 0, stdin: str = ""
) -> runner.Invoked:
    command = "chat" if args and args[0] == "chat" else "run"
    rest = args[1:] if command == "chat" else args
    return _appctl(
        project,
        command,
        *rest,
        "--provider",
        kind,
        "--provider-url",
        llm.base_url(kind),
        code=code,
        env={KEYS[kind]: SECRET_KEY},
        stdin=stdin,
    )


def _tool_results(seen: Seen) -> list[str]:
    """The tool-result texts a request carries back to the model, in each wire format."""
    body = seen.body
    out: list[str] = []
    if seen.kind == "openai":
        out = [m["content"] for m in body["messages"] if m["role"] == "tool"]
    elif seen.kind == "anthropic":
        for message in body["messages"]:
            content = message["content"]
            if isinstance(content, list):
                out += [b["content"] for b in content if b.get("type") == "tool_result"]
    else:
        for content in body["contents"]:
            for part in content.get("parts", []):
                response = part.get("functionResponse") or part.get("function_response")
                if response:
                    out.append(json.dumps(response["response"]))
    return out


def _inner(text: str) -> str:
    """A tool result's JSON, inside the frame that marks it as data (the default)."""
    inner = unframe(text)
    assert inner is not None, text
    return inner


def _tool_names(seen: Seen) -> list[str]:
    body = seen.body
    if seen.kind == "openai":
        return [t["function"]["name"] for t in body.get("tools", [])]
    if seen.kind == "anthropic":
        return [t["name"] for t in body.get("tools", [])]
    declared = [
        t.get("functionDeclarations") or t.get("function_declarations")
        for t in body.get("tools", [])
    ]
    return [d["name"] for group in declared for d in group or []]


@pytest.mark.parametrize("kind", ["openai", "anthropic", "gemini"])
def test_the_model_calls_a_tool_and_answers(project: Path, pets: Any, kind: str) -> None:
    script = [
        Step(tool_calls=[ToolCallStep("list_pets", {"limit": 5})]),
        Step(text="You have one pet: Rex."),
    ]
    with FakeLLM(script) as llm:
        proc = _run(project, llm, kind, "How many pets do I have?")
    assert "You have one pet: Rex." in proc.stdout
    assert "list_pets" in proc.stderr  # the trace line
    assert pets.seen[-1] == ("GET", "/api/pets", [("limit", "5")])
    first, second = llm.requests
    assert "list_pets" in _tool_names(first) and "create_pet" in _tool_names(first)
    if kind == "openai":  # wire details local OpenAI-compatible servers need
        assert first.body["tool_choice"] == "auto"
        assistant = next(m for m in second.body["messages"] if m["role"] == "assistant")
        assert assistant["content"] == "" and assistant["tool_calls"]
    assert any("Rex" in r for r in _tool_results(second))
    # the key went to the provider in its own header, and nowhere appctl writes
    assert SECRET_KEY in json.dumps(first.headers)
    for path in (project / ".appctl").rglob("*"):
        if path.is_file():
            assert SECRET_KEY.encode() not in path.read_bytes(), path
    rows = (
        sqlite3.connect(project / ".appctl" / "history.db")
        .execute("SELECT tool, session, outcome FROM appctl_calls")
        .fetchall()
    )
    assert rows == [("list_pets", "sess-test-1", "ok")]


@pytest.mark.parametrize("kind", ["openai", "anthropic", "gemini"])
def test_read_only_refusal_reaches_the_model_and_the_run_still_answers(
    project: Path, pets: Any, kind: str
) -> None:
    script = [
        Step(tool_calls=[ToolCallStep("create_pet", {"name": "Tom"})]),
        Step(text="I could not add Tom: the session is read-only."),
    ]
    with FakeLLM(script) as llm:
        proc = _run(project, llm, kind, "Add a pet named Tom", "--read-only", "--yes", code=3)
    assert "the session is read-only" in proc.stdout
    assert pets.seen == []  # nothing reached the application
    results = _tool_results(llm.requests[1])
    assert len(results) == 1 and "refused" in results[0] and "read-only" in results[0]
    if kind == "anthropic":
        block = llm.requests[1].body["messages"][-1]["content"][0]
        assert block["type"] == "tool_result" and block["is_error"] is True


def test_without_a_terminal_a_write_needs_yes(project: Path, pets: Any) -> None:
    script = [
        Step(tool_calls=[ToolCallStep("create_pet", {"name": "Tom"})]),
        Step(text="It needs approval."),
    ]
    with FakeLLM(script) as llm:
        _run(project, llm, "openai", "Add Tom", code=3)
    assert pets.seen == []
    assert "--yes" in _tool_results(llm.requests[1])[0]
    script = [
        Step(tool_calls=[ToolCallStep("create_pet", {"name": "Tom"})]),
        Step(text="Added Tom."),
    ]
    with FakeLLM(script) as llm:
        _run(project, llm, "openai", "Add Tom", "--yes")
    assert [s[0] for s in pets.seen] == ["POST"]


def test_parallel_reads_json_output_and_usage(project: Path, pets: Any) -> None:
    script = [
        Step(
            tool_calls=[
                ToolCallStep("list_pets", {"limit": 1}),
                ToolCallStep("get_pet", {"petId": 1}),
            ],
            input_tokens=100,
            output_tokens=20,
        ),
        Step(text="Rex is pet 1.", input_tokens=150, output_tokens=5),
    ]
    with FakeLLM(script) as llm:
        proc = _run(project, llm, "gemini", "Tell me about pet 1", "--json")
    out = json.loads(proc.stdout)
    assert out["answer"] == "Rex is pet 1."
    assert out["session"] == "sess-test-1" and out["stopped"] == "answer" and out["steps"] == 2
    assert [c["name"] for c in out["tool_calls"]] == ["list_pets", "get_pet"]
    assert all(c["ok"] and c["status"] == 200 for c in out["tool_calls"])
    assert out["tool_calls"][1]["arguments"] == {"petId": 1}
    assert out["usage"] == {"input_tokens": 250, "output_tokens": 25}
    assert sorted(s[1] for s in pets.seen) == ["/api/pets", "/api/pets/1"]
    assert len(_tool_results(llm.requests[1])) == 2


def test_bad_arguments_go_back_and_the_model_recovers(project: Path, pets: Any) -> None:
    def script(seen: Seen) -> Step:
        results = _tool_results(seen)
        if not results:
            return Step(tool_calls=[ToolCallStep("list_pets", {"limit": "many", "colour": 1})])
        if len(results) == 1:
            assert "validation" in results[0] and "limit" in results[0]
            return Step(tool_calls=[ToolCallStep("list_pets", {"limit": 2})])
        return Step(text="Fixed it: Rex.")

    with FakeLLM(script) as llm:
        proc = _run(project, llm, "anthropic", "list pets")
    assert "Fixed it: Rex." in proc.stdout
    assert pets.seen == [("GET", "/api/pets", [("limit", "2")])]


def test_provider_errors_are_clear_and_retries_are_bounded(project: Path) -> None:
    with FakeLLM([Step(status=401)]) as llm:
        proc = _run(project, llm, "openai", "hi", code=1)
    assert "rejected the API key" in proc.stderr and "OPENAI_API_KEY" in proc.stderr
    assert SECRET_KEY not in proc.stderr + proc.stdout
    script = [Step(status=429, headers={"retry-after": "0"}), Step(text="hello")]
    with FakeLLM(script) as llm:
        proc = _run(project, llm, "anthropic", "hi")
    assert "hello" in proc.stdout and len(llm.requests) == 2


def test_max_steps_ends_a_run_that_never_answers(project: Path) -> None:
    def script(seen: Seen) -> Step:
        return Step(tool_calls=[ToolCallStep("list_pets", {})])

    with FakeLLM(script) as llm:
        proc = _run(project, llm, "openai", "loop forever", "--max-steps", "3", code=1)
    assert "--max-steps" in proc.stderr and len(llm.requests) == 3


def test_chat_keeps_history_and_obeys_slash_commands(project: Path, pets: Any) -> None:
    script = [
        Step(tool_calls=[ToolCallStep("list_pets", {})]),
        Step(text="You have Rex."),
        Step(tool_calls=[ToolCallStep("create_pet", {"name": "Tom"})]),
        Step(text="Read-only mode stopped me."),
    ]
    lines = "How many pets?\n/read-only on\nAdd Tom\n/history\n/exit\n"
    with FakeLLM(script) as llm:
        proc = _run(project, llm, "anthropic", "chat", "--yes", stdin=lines)
    assert "You have Rex." in proc.stdout and "Read-only mode stopped me." in proc.stdout
    assert "read-only is on" in proc.stderr
    assert "create_pet refused" in proc.stderr and "list_pets ok" in proc.stderr  # /history
    third = llm.requests[2].body
    texts = json.dumps(third["messages"])
    assert "How many pets?" in texts and "You have Rex." in texts  # the first turn carried over
    assert "Read-only mode is on" in third["system"]
    assert [s[0] for s in pets.seen] == ["GET"]


def test_a_large_api_gets_meta_tools(tmp_path: Path) -> None:
    github = REPO / ".cache" / "npm" / "node_modules" / "@octokit" / "openapi" / "generated"
    if not (github / "api.github.com.json").exists():
        pytest.skip("the GitHub spec is installed by scripts/setup")
    _appctl(tmp_path, "sync", "--openapi", str(github / "api.github.com.json"))

    def script(seen: Seen) -> Step:
        results = _tool_results(seen)
        if not results:
            return Step(
                tool_calls=[ToolCallStep("appctl_find_tools", {"query": "get a repository"})]
            )
        if len(results) == 1:
            found = json.loads(results[0])["data"]["tools"]
            assert found[0]["name"] == "repos_get"
            return Step(tool_calls=[ToolCallStep("appctl_describe_tool", {"name": "repos_get"})])
        if len(results) == 2:
            schema = json.loads(results[1])["data"]["input_schema"]
            assert set(schema["required"]) == {"owner", "repo"}
            arguments = {"owner": "octocat", "repo": "hello-world"}
            return Step(
                tool_calls=[
                    ToolCallStep("appctl_call_tool", {"name": "repos_get", "arguments": arguments})
                ]
            )
        return Step(text="That request would fetch octocat/hello-world.")

    with FakeLLM(script) as llm:
        proc = _run(
            tmp_path, llm, "openai", "show the hello-world repo of octocat", "--dry-run", "--json"
        )
    out = json.loads(proc.stdout)
    # 1,223 operations and appctl_poll: code_scanning_create_autofix is long-running
    assert out["tools"] == {"offered": "meta", "count": 1224}
    assert _tool_names(llm.requests[0]) == [
        "appctl_find_tools",
        "appctl_describe_tool",
        "appctl_call_tool",
    ]
    assert len(json.dumps(llm.requests[0].body)) < 60_000  # the guide is in; 1,223 schemas are not
    last = out["tool_calls"][-1]
    assert last["name"] == "repos_get" and last["via"] == "appctl_call_tool"
    assert last["outcome"] == "dry_run"
    assert "/repos/octocat/hello-world" in _tool_results(llm.requests[-1])[-1]


def test_chat_trims_whole_turns_to_the_context_budget(project: Path, pets: Any) -> None:
    _appctl(
        project,
        "init",
        "--kind",
        "openai",
        "--name",
        "small",
        "--model",
        "tiny",
        "--provider-url",
        "http://127.0.0.1:9/v1",
        "--context-tokens",
        "2000",
    )
    sizes: list[int] = []

    def script(seen: Seen) -> Step:
        messages = seen.body["messages"]
        sizes.append(len(json.dumps(messages)))
        for i, message in enumerate(messages):  # no tool result without its call right before
            if message["role"] == "tool":
                j = i - 1
                while messages[j]["role"] == "tool":
                    j -= 1
                ids = {c["id"] for c in messages[j].get("tool_calls") or []}
                assert messages[j]["role"] == "assistant" and message["tool_call_id"] in ids
        assert messages[1]["role"] == "user"  # a kept history starts at a user turn
        if messages[-1]["role"] == "user":
            return Step(tool_calls=[ToolCallStep("list_pets", {"limit": 1})])
        return Step(text="Noted.")

    prompts = "".join(f"question {n}: " + "lorem ipsum " * 150 + "\n" for n in range(6))
    with FakeLLM(script) as llm:
        proc = _appctl(
            project,
            "chat",
            "--provider",
            "small",
            "--provider-url",
            llm.base_url("openai"),
            stdin=prompts + "/exit\n",
        )
    assert proc.stdout.count("Noted.") == 6
    first_turn = len(llm.requests[0].body["messages"])
    last = llm.requests[-1].body["messages"]
    assert "question 0" not in json.dumps(last)  # the oldest turns were dropped whole
    assert "question 5" in json.dumps(last)
    assert max(sizes) < 3 * max(sizes[:2]) and first_turn == 2


def test_the_agent_works_over_a_database_contract(tmp_path: Path) -> None:
    import shutil

    shutil.copy(REPO / "examples" / "chinook.db", tmp_path / "chinook.db")
    _appctl(tmp_path, "sync", "--db", "chinook.db")
    where = {"where": {"Name": {"ilike": "%zeppelin%"}}, "limit": 3}
    script = [
        Step(tool_calls=[ToolCallStep("list_artist", where)]),
        Step(text="Led Zeppelin is artist 22."),
        Step(tool_calls=[ToolCallStep("delete_artist", {"ArtistId": 22})]),
        Step(text="Deleting is refused here."),
    ]
    with FakeLLM(script) as llm:
        proc = _run(tmp_path, llm, "openai", "Which id has Led Zeppelin?", "--json")
        out = json.loads(proc.stdout)
        assert out["tool_calls"][0]["ok"] and out["answer"] == "Led Zeppelin is artist 22."
        rows = json.loads(_inner(_tool_results(llm.requests[1])[0]))["data"]["rows"]
        assert rows == [
            {"ArtistId": 22, "Name": "Led Zeppelin"},
            {"ArtistId": 157, "Name": "Dread Zeppelin"},
        ]
        _run(tmp_path, llm, "openai", "Delete it", "--read-only", code=3)
    count = (
        sqlite3.connect(tmp_path / "chinook.db")
        .execute("SELECT count(*) FROM artist WHERE ArtistId = 22")
        .fetchone()
    )
    assert count == (1,)


def test_azure_openai_uses_the_deployment_route(project: Path, pets: Any) -> None:
    script = [Step(tool_calls=[ToolCallStep("list_pets", {})]), Step(text="Rex, via Azure.")]
    with FakeLLM(script) as llm:
        _appctl(
            project,
            "init",
            "--kind",
            "azure",
            "--name",
            "az",
            "--model",
            "my-gpt-deployment",
            "--provider-url",
            llm.url,
            "--api-key-env",
            "AZURE_KEY",
            "--api-version",
            "2024-10-21",
        )
        proc = _appctl(project, "run", "pets?", env={"AZURE_KEY": SECRET_KEY})
    assert "Rex, via Azure." in proc.stdout
    first = llm.requests[0]
    assert first.path == "/openai/deployments/my-gpt-deployment/chat/completions"
    assert first.query["api-version"] == "2024-10-21"
    assert first.headers.get("api-key") == SECRET_KEY


def test_chat_switches_model_and_provider_and_dry_run(project: Path, pets: Any) -> None:
    script = [
        Step(tool_calls=[ToolCallStep("create_pet", {"name": "Tom"})]),
        Step(text="That would add Tom."),
        Step(text="Hello from the other model."),
    ]
    lines = (
        "/tools\n/dry-run on\nAdd Tom\n/model other-model\nhi\n/provider nosuch\n/bogus\n"
        "/read-only maybe\n/exit\n"
    )
    with FakeLLM(script) as llm:
        proc = _run(project, llm, "openai", "chat", "--yes", stdin=lines)
    assert "create_pet" in proc.stderr and "mutating" in proc.stderr  # /tools
    assert "That would add Tom." in proc.stdout and pets.seen == []  # dry run: nothing sent
    assert "dry_run" in proc.stderr  # the trace line of the dry-run call
    assert "now using openai (other-model)" in proc.stderr
    assert [r.body["model"] for r in llm.requests][-1] == "other-model"
    assert "Hello from the other model." in proc.stdout
    assert "no provider profile named 'nosuch'" in proc.stderr  # the session goes on
    assert "unknown command /bogus" in proc.stderr and "takes on or off" in proc.stderr
    dry = json.loads(_inner(_tool_results(llm.requests[1])[0]))
    assert dry["request"]["method"] == "POST" and dry["request"]["url"].endswith("/api/pets")


@pytest.mark.parametrize("kind", ["openai", "anthropic", "gemini"])
def test_a_provider_that_does_not_answer_in_time_is_a_clear_failure(
    project: Path, kind: str
) -> None:
    # The answer would come a minute later; the bound below is loose for a loaded machine
    # and still far under the minute the call would take without the timeout.
    with FakeLLM([Step(text="too late", delay=60)]) as llm:
        (project / ".appctl" / "config.yaml").write_text(
            "providers:\n"
            f"  slow: {{kind: {kind}, model: m, base_url: '{llm.base_url(kind)}',"
            " timeout: 0.5, max_retries: 0, api_key: env:SLOW_KEY}\n"
        )
        started = time.monotonic()
        proc = _appctl(project, "run", "hi", "--provider", "slow", code=1, env={"SLOW_KEY": "k"})
    assert time.monotonic() - started < 30
    assert "did not answer within 0.5 s" in proc.stderr and "timeout" in proc.stderr


def test_a_conversation_moves_between_providers(project: Path, pets: Any) -> None:
    """OpenAI's call ids are not sent to Gemini as its own; Gemini's own ids go back to it."""
    script = [
        Step(tool_calls=[ToolCallStep("list_pets", {}, id="call_abc")]),
        Step(text="Rex."),
        Step(tool_calls=[ToolCallStep("get_pet", {"petId": 1}, id="gem-7")]),
        Step(text="Rex again."),
    ]
    lines = "pets?\n/provider gm\nand pet 1?\n/exit\n"
    with FakeLLM(script) as llm:
        (project / ".appctl" / "config.yaml").write_text(
            "default_provider: oa\nproviders:\n"
            f"  oa: {{kind: openai, model: m1, base_url: '{llm.base_url('openai')}'}}\n"
            f"  gm: {{kind: gemini, model: m2, base_url: '{llm.base_url('gemini')}'}}\n"
        )
        proc = _appctl(project, "chat", env={"GEMINI_API_KEY": SECRET_KEY}, stdin=lines)
        assert "Rex again." in proc.stdout, proc.stderr
    last = llm.requests[-1]
    assert last.kind == "gemini"
    responses = [
        p.get("functionResponse") or p.get("function_response")
        for c in last.body["contents"]
        for p in c.get("parts", [])
        if p.get("functionResponse") or p.get("function_response")
    ]
    assert [r.get("id") for r in responses] == [None, "gem-7"]


@pytest.mark.parametrize("kind", ["openai", "anthropic", "gemini"])
def test_an_unreachable_provider_is_a_clear_failure(project: Path, kind: str) -> None:
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}"
    (project / ".appctl" / "config.yaml").write_text(
        f"providers:\n  gone: {{kind: {kind}, model: m, base_url: '{url}', max_retries: 0,"
        " api_key: env:GONE_KEY}\n"
    )
    proc = _appctl(project, "run", "hi", "--provider", "gone", code=1, env={"GONE_KEY": "k"})
    assert "could not reach" in proc.stderr and "internal" not in proc.stderr


@pytest.mark.parametrize("kind", ["openai", "anthropic", "gemini"])
def test_whole_replies_without_streaming(project: Path, pets: Any, kind: str) -> None:
    script = [
        Step(tool_calls=[ToolCallStep("get_pet", {"petId": 1})], input_tokens=30),
        Step(text="Pet 1 is Rex.", output_tokens=4),
    ]
    with FakeLLM(script) as llm:
        proc = _run(project, llm, kind, "pet 1?", "--no-stream", "--json")
    out = json.loads(proc.stdout)
    assert out["answer"] == "Pet 1 is Rex." and out["tool_calls"][0]["status"] == 200
    assert out["usage"]["input_tokens"] == 30 + 11 and out["usage"]["output_tokens"] == 7 + 4
    assert not any(r.stream for r in llm.requests)
