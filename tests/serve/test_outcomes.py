"""One outcome table for every front end, and the front ends' answers through one session.

The table (``appctl.session.outcomes.OUTCOMES``) is checked entry by entry against what each
front end answers: ``appctl call``'s exit code, ``appctl serve``'s HTTP status and ``appctl
mcp``'s ``isError``. Then ``appctl serve`` runs in process (Starlette's test client) over a
real application on 127.0.0.1: a missing row, an upstream 401 and 405, a refusal's wording,
``/run``'s fields and unknown routes.
"""

from __future__ import annotations

import http.server
import json
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from appctl.cli.call import _report
from appctl.config import Config
from appctl.execute.caller import Caller
from appctl.execute.executor import CallOptions
from appctl.execute.result import SUGGESTIONS, ErrorCategory, Reason, ToolResult
from appctl.serve.mcp import envelope
from appctl.serve.rest import ServeState, create_app, http_status
from appctl.session.approval import PolicyOnly
from appctl.session.core import Session
from appctl.session.outcomes import OUTCOMES, answer, key
from tests.conftest import serving
from tests.helpers import spec, sync_doc

ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
DOC = spec(
    {
        "/pets/{id}": {"get": {"operationId": "get_pet", "parameters": [ID]}},
        "/pets": {
            "post": {
                "operationId": "create_pet",
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {"type": "object", "properties": {"name": {"type": "string"}}}
                        }
                    }
                },
            }
        },
        "/secret": {"get": {"operationId": "get_secret"}},
        "/legacy": {"post": {"operationId": "post_legacy"}},
        "/broken": {"get": {"operationId": "get_broken"}},
    }
)
SCHEMA = sync_doc(DOC).schema


def result_for(entry: str) -> ToolResult:
    """A result whose table key is ``entry``."""
    outcome, _, detail = entry.partition(":")
    if outcome == "ok":
        return ToolResult(ok=True, tool="t", status=200, data={})
    if outcome == "dry_run":
        return ToolResult(ok=True, tool="t", request={"method": "GET"}, data="dry run")
    if outcome == "invalid":
        reason = Reason(detail) if detail else None
        return ToolResult.failure("t", ErrorCategory.VALIDATION, "bad", reason=reason)
    if outcome == "refused":
        reason = Reason(detail) if detail else None
        return ToolResult.failure("t", ErrorCategory.REFUSED, "no", reason=reason)
    return ToolResult.failure("t", ErrorCategory(detail), "failed", status=599)


@pytest.mark.parametrize("entry", sorted(OUTCOMES))
def test_every_front_end_answers_an_outcome_as_the_table_says(
    entry: str, capsys: pytest.CaptureFixture[str]
) -> None:
    result = result_for(entry)
    assert key(result) == entry
    expected = OUTCOMES[entry]
    assert _report(result, as_json=True) == expected.exit_code  # appctl call
    assert http_status(result) == expected.http_status  # appctl serve
    assert envelope(result).is_error is expected.mcp_error  # appctl mcp
    assert expected.mcp_error is not result.ok


def test_the_table_covers_every_category_and_reason() -> None:
    # (a refused category is always the refused outcome)
    assert {f"failed:{c}" for c in ErrorCategory if c != ErrorCategory.REFUSED} <= set(OUTCOMES)
    assert {f"refused:{r}" for r in Reason} <= set(OUTCOMES)


@pytest.mark.parametrize(
    ("entry", "status", "code"),
    [
        ("invalid", 400, 2),
        ("invalid:unknown_tool", 404, 2),
        ("refused:needs_approval", 403, 3),
        ("failed:not_found", 404, 1),  # a missing row is no outage
        ("failed:auth", 424, 1),  # appctl's credentials: the deployment's to fix
        ("failed:unsupported", 424, 1),
        ("failed:validation", 422, 1),
        ("failed:server", 502, 1),
        ("failed:network", 502, 1),
        ("failed:timeout", 504, 1),
        ("failed:rate_limited", 429, 1),
    ],
)
def test_the_decided_statuses(entry: str, status: int, code: int) -> None:
    found = answer(result_for(entry))
    assert (found.http_status, found.exit_code) == (status, code)


# ---------------------------------------------------------------- appctl serve, in process


class App(http.server.BaseHTTPRequestHandler):
    """A pet shop with one pet, a route that wants credentials, one that refuses POST."""

    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = self.path.removeprefix("/api")
        if path == "/pets/1":
            self._send(200, {"id": 1, "name": "Rex"})
        elif path.startswith("/pets/"):
            self._send(404, {"detail": "no such pet"})
        elif path == "/secret":
            self._send(401, {"detail": "who are you?"})
        elif path == "/legacy":
            self._send(405, {"detail": "method not allowed"}, Allow="GET")
        elif path == "/broken":
            self._send(500, {"detail": "boom"})
        else:
            self._send(201, {"id": 2})

    def _send(self, code: int, body: Any, **headers: str) -> None:
        raw = json.dumps(body).encode()
        self.send_response(code)
        for name, value in {"Content-Type": "application/json", **headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def app_url() -> Iterator[str]:
    with serving(App) as url:
        yield f"{url}/api"


def session_over(url: str) -> Session:
    rules = [{"match": {"name": "post_legacy"}, "action": "allow"}]
    config = Config.model_validate({"policy": rules})
    return Session(
        schema=SCHEMA,
        config=config,
        options=CallOptions(base_url=url, config=config),
        environ={},
        id="test",
        approver=PolicyOnly("appctl serve"),
    )


Turn = tuple[str, dict[str, Any], str]


@pytest.fixture
def client(app_url: str) -> Iterator[tuple[TestClient, list[Turn]]]:
    turns: list[Turn] = []

    def run_turn(prompt: str, settings: dict[str, Any], caller: Caller) -> Any:
        turns.append((prompt, settings, caller.name))
        raise RuntimeError("no provider in this test")

    state = ServeState(session=session_over(app_url), run_turn=run_turn)
    with TestClient(create_app(state), raise_server_exceptions=False) as test_client:
        yield test_client, turns


def _call(client: TestClient, tool: str, **arguments: Any) -> tuple[int, dict[str, Any]]:
    answered = client.post(f"/tools/{tool}/call", json={"arguments": arguments})
    return answered.status_code, answered.json()


def test_serve_answers_a_missing_row_404_not_an_outage(client: Any) -> None:
    status, body = _call(client[0], "get_pet", id=7)
    assert status == 404 and body["error"]["category"] == "not_found"
    assert _call(client[0], "get_pet", id=1)[0] == 200
    assert _call(client[0], "get_broken")[0] == 502  # the application failing stays a 502


def test_serve_answers_an_upstream_401_as_the_deployments_problem(client: Any) -> None:
    status, body = _call(client[0], "get_secret")
    assert status == 424 and body["error"]["category"] == "auth" and body["status"] == 401


def test_an_upstream_405_is_unsupported_not_bad_arguments(client: Any) -> None:
    status, body = _call(client[0], "post_legacy")
    assert status == 424 and body["error"]["category"] == "unsupported"
    hints = body["error"]["suggestions"]
    assert SUGGESTIONS[ErrorCategory.VALIDATION] not in hints
    assert "will not help" in hints[-1] and "appctl sync" in hints[-1]


def test_serve_words_a_refusal_for_an_http_caller(client: Any) -> None:
    status, body = _call(client[0], "create_pet", name="Tom")
    error = body["error"]
    assert status == 403 and error["reason"] == "needs_approval"
    assert "appctl serve has nobody to ask" in error["message"]
    assert '{match: {name: "create_pet"}, action: allow}' in error["message"]
    assert "--yes" not in error["message"] and "terminal" not in error["message"]


def test_an_unknown_tool_is_404_by_its_reason_code(client: Any) -> None:
    status, body = _call(client[0], "get_pets")
    assert status == 404 and body["error"]["reason"] == "unknown_tool"
    assert "get_pet" in body["error"]["message"]


@pytest.mark.parametrize("steps", [0, "abc", 500, True, 2.5, None])
def test_run_refuses_a_max_steps_it_cannot_honour(client: Any, steps: Any) -> None:
    test_client, turns = client
    answered = test_client.post("/run", json={"prompt": "hi", "max_steps": steps})
    assert answered.status_code == 400
    assert "max_steps must be a whole number from 1 to 100" in answered.json()["error"]["message"]
    assert turns == []  # refused before any turn began


@pytest.mark.parametrize(("field", "value"), [("read_only", "yes"), ("provider", 3)])
def test_run_refuses_other_fields_of_the_wrong_type(client: Any, field: str, value: Any) -> None:
    test_client, turns = client
    answered = test_client.post("/run", json={"prompt": "hi", field: value})
    assert answered.status_code == 400 and field in answered.json()["error"]["message"]
    assert turns == []


def test_run_passes_a_valid_max_steps_on(client: Any) -> None:
    test_client, turns = client
    test_client.post("/run", json={"prompt": "hi", "max_steps": 5, "read_only": True})
    assert turns == [("hi", {"max_steps": 5, "read_only": True}, "anonymous")]


def test_unknown_routes_and_methods_answer_a_json_envelope(client: Any) -> None:
    test_client = client[0]
    missing = test_client.get("/nope")
    assert missing.status_code == 404 and "no route /nope" in missing.json()["error"]["message"]
    wrong = test_client.get("/tools/get_pet/call")
    assert wrong.status_code == 405 and "does not take GET" in wrong.json()["error"]["message"]
    assert wrong.headers["content-type"] == "application/json"
