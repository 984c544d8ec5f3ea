"""``appctl doctor`` fills path parameters before probing (doctor/fill.py), against a
real server on 127.0.0.1: from examples, enums and defaults, else from the first id a read-only
list GET answers (with that list's own credentials), and says why a route stays unverified.
Only GET and OPTIONS are sent, and POST only to a read-only search for ids."""

from __future__ import annotations

import http.server
import json
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from appctl.doctor.checks import Prober, diagnose
from tests.conftest import serving
from tests.helpers import spec, sync_doc

ANSWERS: dict[str, Any] = {
    "/api/flows": {"count": 1, "items": [{"id": "f-1", "name": "etl"}]},
    "/api/flows/f-1": {"id": "f-1"},
    "/api/flows/f-1/runs": [{"runId": "r-9"}],
    "/api/flows/f-1/runs/r-9": {"id": "r-9"},
    "/api/states/ok": {"state": "ok"},
    "/api/versions/v1": {"version": "v1"},
    "/api/pages/3": {"page": 3},
    "/api/labels/blue": {"label": "blue"},
    "/api/runs/r-1": {"id": "r-1"},
    "/api/tags/": [],
}


class _Api(http.server.BaseHTTPRequestHandler):
    seen: ClassVar[list[tuple[str, str, str | None]]] = []

    def _answer(self, status: int, found: Any) -> None:
        body = json.dumps(found).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.seen.append(("GET", self.path, self.headers.get("X-Key")))
        if self.path == "/api/flows" and self.headers.get("X-Key") != "k-1":
            self._answer(401, {"detail": "no key"})
        elif self.path in ANSWERS:
            self._answer(200, ANSWERS[self.path])
        else:
            self._answer(404, {"detail": "Not Found"})

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        self.seen.append(("POST", self.path, body))
        searches = {"/api/runs/filter": [{"id": "r-1"}], "/api/runs/count": 1}
        self._answer(200, searches.get(self.path, {}))

    def do_OPTIONS(self) -> None:
        self.seen.append(("OPTIONS", self.path, self.headers.get("X-Key")))
        self._answer(404, {"detail": "Not Found"})

    def log_message(self, format: str, *args: object) -> None:
        pass


def _path(name: str, **schema: Any) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string", **schema}}


def _get(op: str, *params: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"get": {"operationId": op, "tags": ["flows"], "parameters": list(params), **extra}}


OPTIONAL = {"content": {"application/json": {"schema": {"type": "object"}}}}


def _doc(url: str) -> dict[str, Any]:
    paths = {
        "/flows": _get("list_flows", security=[{"key": []}]),
        "/flows/{id}": {
            **_get("read_flow", _path("id")),
            "delete": {"operationId": "delete_flow", "parameters": [_path("id")]},
        },
        "/flows/{id}/runs": _get("list_runs", _path("id")),
        "/flows/{id}/runs/{run_id}": _get("read_run", _path("id"), _path("run_id")),
        "/states/{state}": _get("read_state", _path("state", enum=["ok", "bad"])),
        "/versions/{v}": _get("read_version", {**_path("v"), "example": "v1"}),
        "/pages/{n}": _get("read_page", _path("n", type="integer", default=3)),
        "/labels/{label}": _get(
            "read_label", {**_path("label"), "examples": {"b": {"value": "blue"}, "ref": {}}}
        ),
        "/things/{thing_id}": {
            "get": {
                "operationId": "read_thing",
                "tags": ["things"],
                "parameters": [_path("thing_id")],
            }
        },
        "/tags/{tag}": _get("read_tag", _path("tag")),
        "/tags/": _get("list_tags"),
        "/runs/{rid}": _get("read_run_by_id", _path("rid")),
        "/runs/": {"post": {"operationId": "create_run"}},  # mutating: never sent
        "/runs/count": {"post": {"operationId": "count_runs"}},  # read-only, inferred
        "/runs/filter": {"post": {"operationId": "read_runs_filter", "requestBody": OPTIONAL}},
    }
    key = {"type": "apiKey", "in": "header", "name": "X-Key"}
    return spec(
        paths, servers=[{"url": f"{url}/api"}], components={"securitySchemes": {"key": key}}
    )


@pytest.fixture
def api() -> Iterator[str]:
    _Api.seen.clear()
    with serving(_Api) as url:
        yield url


def test_doctor_fills_ids_and_says_why_it_could_not(api: str) -> None:
    schema = sync_doc(_doc(api)).schema
    _, routes = diagnose(
        schema, base_url=f"{api}/api", environ={"APPCTL_KEY": "k-1"}, client=Prober()
    )
    found = {r.action: (r.verdict, r.evidence) for r in routes}
    assert found["read_flow"] == ("verified", "GET answered 200 (id from list_flows)")
    assert found["read_run"] == (
        "verified",
        "GET answered 200 (id from list_flows, run_id from list_runs)",
    )
    assert found["read_state"] == ("verified", "GET answered 200 (state from its enum)")
    assert found["read_version"] == ("verified", "GET answered 200 (v from its example)")
    assert found["read_page"] == ("verified", "GET answered 200 (n from its default)")
    assert found["read_label"] == ("verified", "GET answered 200 (label from its example)")
    assert found["read_thing"] == (
        "unverified",
        "no evidence (OPTIONS → 404); no example, enum or default for thing_id, "
        "and no list to take an id from",
    )
    assert found["read_tag"] == (
        "unverified",
        "no evidence (OPTIONS → 404); no example, enum or default for tag, "
        "and list_tags answered no items; list_flows answered items with no 'tag'",
    )
    assert found["delete_flow"] == (
        "unverified",
        "no evidence (OPTIONS → 404); "
        "DELETE is not sent to probe a route (only GET and OPTIONS are)",
    )
    assert found["read_run_by_id"] == ("verified", "GET answered 200 (rid from read_runs_filter)")
    posts = [(path, body) for method, path, body in _Api.seen if method == "POST"]
    assert posts == [("/api/runs/filter", "{}")]  # a read-only search; create_run never
    assert {method for method, _, _ in _Api.seen} == {"GET", "OPTIONS", "POST"}
    assert ("OPTIONS", "/api/flows/f-1", None) in _Api.seen  # the delete probed on a real id
    lists = [s for s in _Api.seen if s[:2] == ("GET", "/api/flows")]
    assert all(key == "k-1" for _, _, key in lists)  # the list's own credentials
    assert len(lists) == 2  # the probes share one (route + ids); the credentials check's
    assert all(key is None for _, path, key in _Api.seen if path.startswith("/api/flows/"))


def test_a_list_that_refuses_says_so(api: str) -> None:
    schema = sync_doc(_doc(api)).schema
    _, routes = diagnose(schema, base_url=f"{api}/api", environ={}, client=Prober())
    found = {r.action: r.evidence for r in routes}
    assert found["read_flow"].endswith(
        "no example, enum or default for id, and list_flows answered 401; "
        "list_tags answered no items"
    )


def test_a_wrong_base_url_is_named(api: str) -> None:
    """Probed under the host without /api, every route without ids is missing."""
    schema = sync_doc(_doc(api)).schema.model_copy(update={"servers": ["/api"]})
    checks, routes = diagnose(schema, base_url=api, environ={}, client=Prober())
    assert not any(r.verdict == "verified" for r in routes)
    (lost,) = [c for c in checks if c.name == "routes under the base URL"]
    assert lost.ok is False
    assert f"none of the routes was found under {api} and " in lost.detail
    assert "keeps the source's server path /api" in lost.detail
    checks, _ = diagnose(schema, base_url=f"{api}/api", environ={}, client=Prober())
    assert not any(c.name == "routes under the base URL" for c in checks)
