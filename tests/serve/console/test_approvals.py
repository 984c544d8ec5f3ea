"""The approval queue page over F's real queue (session/queue.py, in the history's SQLite
file): a write sent to ``POST /tools/{name}/call`` waits in a thread until a person
decides it in the console, and the caller gets the outcome."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from appctl.serve.rest import ServeState, create_app
from appctl.session.approval import QueueApprover
from appctl.session.queue import ApprovalQueue, open_queue
from tests.serve.console.conftest import SERVE_TOKEN, csrf_of, open_session, sign_in

QUEUED = """policy:
  - {match: {safety: mutating}, approval: {timeout: 30}}
  - {match: {safety: destructive}, approval: {timeout: 30}}
"""


class Waiting:
    """One call sent from a thread, as an agent would, and its answer once decided."""

    def __init__(self, client: TestClient, tool: str, arguments: dict[str, Any]) -> None:
        self.answer: httpx.Response | None = None

        def send() -> None:
            self.answer = client.post(f"/tools/{tool}/call", json={"arguments": arguments})

        self.thread = threading.Thread(target=send, daemon=True)
        self.thread.start()

    def result(self) -> httpx.Response:
        self.thread.join(timeout=30)
        assert self.answer is not None, "the waiting call did not end"
        return self.answer


@pytest.fixture
def served(project: Path) -> Iterator[Served]:
    (project / ".appctl" / "config.yaml").write_text(QUEUED)
    yield from _served(project, token=None)


Served = tuple[TestClient, ApprovalQueue, Path]


def _served(project: Path, *, token: str | None) -> Iterator[Served]:
    session = open_session(project)
    queue = open_queue(session.history, poll=0.05)
    session.approver = QueueApprover(queue, "rest")
    state = ServeState(session=session, token=token, queue=queue)
    with TestClient(create_app(state), base_url="https://testserver") as client:
        yield client, queue, project
    queue.close()


def _pending(queue: ApprovalQueue, count: int = 1) -> list[Any]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = queue.pending()
        if len(found) >= count:
            return found
        time.sleep(0.05)
    raise AssertionError("the call never reached the queue")


def test_approve_a_waiting_write(served: Any, pets: Any) -> None:
    client, queue, _ = served
    call = Waiting(client, "create_pet", {"name": "Rex"})
    entry = _pending(queue)[0]
    page = client.get("/ui/approvals")
    assert f'id="pending-{entry.id}"' in page.text
    assert "create_pet" in page.text and "local:tester" in page.text
    assert "/api/pets" in page.text  # the exact request
    assert ">Approve</button>" in page.text and ">Deny</button>" in page.text
    decided = client.post(
        f"/ui/approvals/{entry.id}",
        data={"csrf": csrf_of(page.text), "decision": "approve"},
        follow_redirects=False,
    )
    assert decided.status_code == 303  # then a GET: reloading the page decides nothing
    assert decided.headers["location"] == f"/ui/approvals?decided={entry.id}"
    shown = client.get(decided.headers["location"])
    assert "create_pet approved by local:tester" in shown.text
    answer = call.result()
    assert answer.status_code == 200 and answer.json()["ok"] is True
    assert pets.seen[-1][:2] == ("POST", "/api/pets")
    assert "Nothing is waiting." in client.get("/ui/approvals").text


def test_deny_with_a_reason_that_reaches_the_caller(served: Any, pets: Any) -> None:
    client, queue, _ = served
    before = len(pets.seen)
    call = Waiting(client, "create_pet", {"name": "Rex"})
    entry = _pending(queue)[0]
    page = client.get("/ui/approvals")
    client.post(
        f"/ui/approvals/{entry.id}",
        data={"csrf": csrf_of(page.text), "decision": "deny", "reason": "not today <b>"},
    )
    answer = call.result()
    assert answer.status_code == 403
    assert "denied it: not today <b>" in answer.json()["error"]["message"]
    assert len(pets.seen) == before
    recent = client.get("/ui/approvals").text
    assert "denied</span>" in recent and "not today &lt;b&gt;" in recent


def test_a_destructive_call_needs_its_name_typed(served: Any, pets: Any) -> None:
    client, queue, _ = served
    call = Waiting(client, "delete_pet", {"petId": 1})
    entry = _pending(queue)[0]
    page = client.get("/ui/approvals")
    assert f'<label for="typed-{entry.id}">' in page.text
    data = {"csrf": csrf_of(page.text), "decision": "approve"}
    wrong = client.post(f"/ui/approvals/{entry.id}", data={**data, "typed": "delete_pets"})
    assert wrong.status_code == 409 and "type its name" in wrong.text
    assert queue.get(entry.id) is not None  # still waiting
    right = client.post(f"/ui/approvals/{entry.id}", data={**data, "typed": "delete_pet"})
    assert right.status_code == 200
    assert call.result().status_code == 200
    assert pets.seen[-1][:2] == ("DELETE", "/api/pets/1")


def test_deciding_needs_the_csrf_token(served: Any) -> None:
    client, queue, _ = served
    call = Waiting(client, "create_pet", {"name": "Rex"})
    entry = _pending(queue)[0]
    client.get("/ui/approvals")
    answer = client.post(f"/ui/approvals/{entry.id}", data={"decision": "approve"})
    assert answer.status_code == 403
    assert queue.get(entry.id) is not None
    page = client.get("/ui/approvals")
    client.post(f"/ui/approvals/{entry.id}", data={"csrf": csrf_of(page.text), "decision": "deny"})
    call.result()


def test_a_viewer_sees_the_queue_but_cannot_decide(project: Path) -> None:
    (project / ".appctl" / "config.yaml").write_text(QUEUED + "console: {approvers: [alice]}\n")
    for client, queue, _ in _served(project, token=SERVE_TOKEN):
        sign_in(client, SERVE_TOKEN)
        call = Waiting(client, "create_pet", {"name": "Rex"})  # no bearer: never reaches
        answer = call.result()
        assert answer.status_code == 401
        entry = queue.submit(
            tool="create_pet",
            arguments={"name": "Rex"},
            request="POST /api/pets",
            caller="someone",
            safety="mutating",
            destructive=False,
            front_end="rest",
            timeout=30,
        )
        page = client.get("/ui/approvals")
        assert f'id="pending-{entry.id}"' in page.text and ">Approve</button>" not in page.text
        refused = client.post(
            f"/ui/approvals/{entry.id}", data={"csrf": csrf_of(page.text), "decision": "approve"}
        )
        assert refused.status_code == 403 and "not a console approver" in refused.text
        assert queue.get(entry.id) is not None
