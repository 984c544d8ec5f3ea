"""The approval queue through ``appctl serve`` (real uvicorn processes on 127.0.0.1): a write
waits until a person approves or denies it over ``/approvals``, or its wait ends; two
instances on one database share the queue; an MCP client without elicitation gets the
approved result or the denial from ``appctl mcp --transport http``."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import httpx
from mcp import Client

from appctl.execute.audit.history import History
from appctl.execute.caller import Caller
from appctl.session.queue import open_queue
from tests.agent.fakellm import FakeLLM, Step, ToolCallStep
from tests.serve.test_mcp import _envelope, mcp_over_http
from tests.serve.test_rest import Served

# the agent asks and a person approves: nobody approves their own call (session/queue.py)
NAMED = """
inbound:
  tokens:
    agent: {token: env:AGENT_TOKEN}
    operator: {token: env:OPERATOR_TOKEN}
"""
TOKENS = {"AGENT_TOKEN": "agent-secret-1", "OPERATOR_TOKEN": "operator-secret-2"}
AGENT = {"Authorization": "Bearer agent-secret-1"}
OPERATOR = {"Authorization": "Bearer operator-secret-2"}
QUEUED = """
policy:
  - {match: {name: create_pet}, approval: {timeout: %s}}
  - {match: {name: delete_pet}, approval: {}}
"""


def _queued(project: Path, timeout: float = 60, *, named: bool = True) -> None:
    """The queue rules, and (``named``) an agent's and an operator's tokens."""
    (project / ".appctl" / "config.yaml").write_text((NAMED if named else "") + QUEUED % timeout)


def _served(project: Path, *args: str, env: dict[str, str] | None = None) -> Served:
    return Served(project, *args, env={**TOKENS, **(env or {})})


def _in_thread(work: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    got: list[Any] = []
    thread = threading.Thread(target=lambda: got.append(work()), daemon=True)
    thread.start()
    return thread, got


def _call(url: str, tool: str, arguments: dict[str, Any]) -> httpx.Response:
    return httpx.post(
        f"{url}/tools/{tool}/call", json={"arguments": arguments}, headers=AGENT, timeout=90
    )


def _pending(url: str, tool: str) -> dict[str, Any]:
    """The one entry of ``tool`` waiting in the queue, once it is there (within 30 s)."""
    deadline = time.monotonic() + 30
    while True:
        pending = httpx.get(f"{url}/approvals", headers=OPERATOR, timeout=10).json()["pending"]
        mine = [p for p in pending if p["tool"] == tool]
        if mine:
            assert len(mine) == 1
            return dict(mine[0])
        assert time.monotonic() < deadline, f"no {tool} call waits in the queue"
        time.sleep(0.1)


def _decide(url: str, entry: str, **body: Any) -> httpx.Response:
    return httpx.post(f"{url}/approvals/{entry}", json=body, headers=OPERATOR, timeout=10)


def test_an_approved_write_runs_and_answers_its_caller(project: Path, pets: Any) -> None:
    _queued(project)
    served = _served(project)
    try:
        thread, got = _in_thread(lambda: _call(served.url, "create_pet", {"name": "Tom"}))
        entry = _pending(served.url, "create_pet")
        assert entry["arguments"] == {"name": "Tom"} and entry["front_end"] == "rest"
        assert entry["safety"] == "mutating" and entry["destructive"] is False
        assert "POST" in entry["request"] and "/api/pets" in entry["request"]
        assert "Tom" in entry["request"]
        assert not any(method == "POST" for method, *_ in pets.seen)  # nothing sent yet
        decided = _decide(served.url, entry["id"], approve=True, reason="looks fine")
        assert decided.status_code == 200 and decided.json()["approved"] is True
        thread.join(60)
        assert got[0].status_code == 200, got[0].text
        assert got[0].json()["data"]["name"] == "Tom"
        again = _decide(served.url, entry["id"], approve=False)
        assert again.status_code == 409 and "already approved" in again.json()["error"]["message"]
        recent = httpx.get(f"{served.url}/approvals", headers=OPERATOR).json()["recent"]
        assert [(r["tool"], r["status"]) for r in recent] == [("create_pet", "approved")]
    finally:
        served.stop()
    assert [s[:2] for s in pets.seen] == [("POST", "/api/pets")]


def test_a_denial_reaches_the_caller_with_its_reason(project: Path, pets: Any) -> None:
    _queued(project)
    served = _served(project)
    try:
        thread, got = _in_thread(lambda: _call(served.url, "create_pet", {"name": "Tom"}))
        entry = _pending(served.url, "create_pet")
        _decide(served.url, entry["id"], approve=False, reason="no new pets during the freeze")
        thread.join(60)
        refused = got[0]
        assert refused.status_code == 403
        error = refused.json()["error"]
        assert error["reason"] == "declined"
        assert "no new pets during the freeze" in error["message"]
        history = httpx.get(f"{served.url}/history", headers=OPERATOR).json()
        assert [(h["tool"], h["outcome"]) for h in history] == [("create_pet", "refused")]
    finally:
        served.stop()
    assert pets.seen == []


def test_nobody_deciding_refuses_the_call_saying_how_long_it_waited(
    project: Path, pets: Any
) -> None:
    _queued(project, timeout=1.5)
    served = _served(project)
    try:
        refused = _call(served.url, "create_pet", {"name": "Tom"})
        assert refused.status_code == 403
        error = refused.json()["error"]
        assert error["reason"] == "needs_approval"
        assert "waited 1.5 seconds for approval" in error["message"]
        recent = httpx.get(f"{served.url}/approvals", headers=OPERATOR).json()["recent"]
        assert [r["status"] for r in recent] == ["expired"]
    finally:
        served.stop()
    assert pets.seen == []


def test_a_destructive_approval_needs_the_name_typed(project: Path, pets: Any) -> None:
    _queued(project)
    served = _served(project)
    try:
        thread, got = _in_thread(lambda: _call(served.url, "delete_pet", {"petId": 1}))
        entry = _pending(served.url, "delete_pet")
        assert entry["destructive"] is True
        mistyped = _decide(served.url, entry["id"], approve=True, typed="delete_pets")
        assert mistyped.status_code == 400
        assert "type its name, delete_pet" in mistyped.json()["error"]["message"]
        assert _decide(served.url, entry["id"], approve="yes").status_code == 400
        assert _decide(served.url, "nope", approve=True).status_code == 404
        typed = _decide(served.url, entry["id"], approve=True, typed="delete_pet")
        assert typed.status_code == 200
        thread.join(60)
        assert got[0].status_code in (200, 204), got[0].text
    finally:
        served.stop()
    assert [s[:2] for s in pets.seen] == [("DELETE", "/api/pets/1")]


def test_a_call_no_approval_rule_matches_is_refused_at_once(project: Path, pets: Any) -> None:
    served = _served(project)
    try:
        refused = _call(served.url, "create_pet", {"name": "Tom"})
        assert refused.status_code == 403
        message = refused.json()["error"]["message"]
        assert "approval: {timeout: 120}" in message and "action: allow" in message
        assert httpx.get(f"{served.url}/approvals", headers=OPERATOR).json() == {
            "pending": [],
            "recent": [],
        }
    finally:
        served.stop()


def test_an_approval_on_one_instance_releases_a_call_on_the_other(
    project: Path, pets: Any, fresh_db: str
) -> None:
    """Two servers on one history database: a write issued to B waits; A's queue shows it;
    approved on A, B's caller gets the result; denied on A, the reason reaches B's caller."""
    _queued(project)
    env = {"APPCTL_HISTORY_URL": fresh_db}
    first, second = _served(project, env=env), _served(project, env=env)
    try:
        thread, got = _in_thread(lambda: _call(second.url, "create_pet", {"name": "Tom"}))
        entry = _pending(first.url, "create_pet")
        assert _decide(first.url, entry["id"], approve=True).status_code == 200
        thread.join(60)
        assert got[0].status_code == 200, got[0].text
        thread, got = _in_thread(lambda: _call(second.url, "create_pet", {"name": "Max"}))
        entry = _pending(first.url, "create_pet")
        _decide(first.url, entry["id"], approve=False, reason="one is enough")
        thread.join(60)
        assert got[0].status_code == 403 and "one is enough" in got[0].json()["error"]["message"]
    finally:
        first.stop()
        second.stop()
    assert [s[:2] for s in pets.seen] == [("POST", "/api/pets")]


def test_an_mcp_client_without_elicitation_waits_for_the_queue(project: Path, pets: Any) -> None:
    """``appctl mcp --transport http``: the client cannot be asked, so the call waits in the
    queue of the project's history file, decided here through the queue's API."""
    _queued(project, named=False)  # its client is anonymous; alice decides
    queue = open_queue(History(f"sqlite:///{project / '.appctl' / 'history.db'}"), poll=0.05)
    alice = Caller(subject="alice", kind="oauth")
    answers: list[tuple[str, Any]] = []

    def decide() -> None:
        for approve in (True, False):
            deadline = time.monotonic() + 30
            while not queue.pending():
                assert time.monotonic() < deadline, "no call waits in the queue"
                time.sleep(0.05)
            entry = queue.pending()[0]
            assert entry.front_end == "mcp"
            queue.decide(entry.id, approve=approve, by=alice, reason="not this one")

    async def session(url: str) -> None:
        async with Client(url) as client:
            for name in ("Tom", "Max"):
                result = await client.call_tool("create_pet", {"name": name})
                answers.append((name, result))

    with mcp_over_http(project) as url:
        thread = threading.Thread(target=decide, daemon=True)
        thread.start()
        anyio.run(session, url)
        thread.join(30)
    (_, approved), (_, denied) = answers
    assert not approved.is_error and _envelope(approved)["data"]["name"] == "Tom"
    assert denied.is_error
    assert "alice denied it: not this one" in _envelope(denied)["error"]["message"]
    assert [s[:2] for s in pets.seen] == [("POST", "/api/pets")]


def test_an_agent_turn_waits_for_its_write_to_be_approved(project: Path, pets: Any) -> None:
    """POST /run: the model's tool call waits in the queue as the "run" front end's."""
    script = [
        Step(tool_calls=[ToolCallStep("create_pet", {"name": "Tom"})]),
        Step(text="Tom is in."),
    ]
    with FakeLLM(script) as llm:
        llm.init_app(project)
        config = project / ".appctl" / "config.yaml"
        config.write_text(config.read_text() + NAMED + QUEUED % 60)
        served = _served(project)
        try:
            thread, got = _in_thread(
                lambda: httpx.post(
                    f"{served.url}/run", json={"prompt": "add Tom"}, headers=AGENT, timeout=90
                )
            )
            entry = _pending(served.url, "create_pet")
            assert entry["front_end"] == "run"
            assert _decide(served.url, entry["id"], approve=True).status_code == 200
            thread.join(60)
            assert got[0].status_code == 200, got[0].text
            assert got[0].json()["answer"] == "Tom is in."
        finally:
            served.stop()
    assert [s[:2] for s in pets.seen] == [("POST", "/api/pets")]


def test_a_stopping_server_withdraws_its_waiting_call(project: Path, pets: Any) -> None:
    _queued(project)
    served = _served(project, "--grace", "1")
    thread, got = _in_thread(lambda: _call(served.url, "create_pet", {"name": "Tom"}))
    entry = _pending(served.url, "create_pet")
    served.stop()
    thread.join(60)
    assert got and got[0].status_code == 503  # the grace passed with the call still waiting
    queue = open_queue(History(f"sqlite:///{project / '.appctl' / 'history.db'}"))
    assert queue.pending() == []
    [withdrawn] = queue.recent()
    assert (withdrawn.id, withdrawn.status) == (entry["id"], "expired")
    assert withdrawn.reason.startswith("withdrawn")
    assert pets.seen == []


def test_the_agent_that_asked_cannot_approve_itself(project: Path, pets: Any) -> None:
    _queued(project)
    served = _served(project)
    try:
        thread, got = _in_thread(lambda: _call(served.url, "create_pet", {"name": "Tom"}))
        entry = _pending(served.url, "create_pet")
        url = f"{served.url}/approvals/{entry['id']}"
        itself = httpx.post(url, json={"approve": True}, headers=AGENT, timeout=10)
        assert itself.status_code == 409, itself.text
        assert "asked by agent, who cannot approve it" in itself.json()["error"]["message"]
        assert not any(method == "POST" for method, *_ in pets.seen)
        assert _decide(served.url, entry["id"], approve=True).status_code == 200
        thread.join(60)
        assert got[0].status_code == 200, got[0].text
    finally:
        served.stop()
