"""Honest categories: what a redirect, a 304, a 1xx and a header value with spaces become."""

from __future__ import annotations

import http.server
from collections.abc import Iterator
from typing import Any

import pytest

from appctl.execute.executor import CallOptions, call
from appctl.execute.result import SUGGESTIONS, ErrorCategory
from tests.conftest import serving
from tests.helpers import spec, sync_doc

PATH_CODE = {"name": "code", "in": "path", "required": True, "schema": {"type": "integer"}}
DOC = spec(
    {
        "/status/{code}": {"get": {"operationId": "status", "parameters": [PATH_CODE]}},
        "/away": {"get": {"operationId": "away"}},
        "/move": {"post": {"operationId": "move"}},
        "/search": {
            "get": {
                "operationId": "search",
                "parameters": [
                    {"name": "q", "in": "query", "required": True, "schema": {"type": "string"}}
                ],
            }
        },
        "/pets": {
            "get": {
                "operationId": "listPets",
                "parameters": [
                    {"name": "X-Tag", "in": "header", "schema": {"type": "string"}},
                    {"name": "session", "in": "cookie", "schema": {"type": "string"}},
                ],
            }
        },
    },
    components={"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    security=[{"bearer": []}],
)
SCHEMA = sync_doc(DOC).schema


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[tuple[str, str]]

    def _answer(self) -> None:
        self.seen.append((self.command, self.path))
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        path = self.path.removeprefix("/api")
        if path == "/away":
            self._head(302, Location="http://127.0.0.2:9/steal?x=1")
        elif path == "/move":
            self._head(307, Location="/api/moved")
        elif path.startswith("/search"):
            self._head(404)
        elif path.startswith("/status/"):
            code = int(path.rsplit("/", 1)[1])
            self._head(code, **({"Upgrade": "h2c", "Connection": "Upgrade"} if code == 101 else {}))
        else:
            body = b'{"ok": true}'
            self._head(200, **{"Content-Length": str(len(body))})
            self.wfile.write(body)

    def _head(self, code: int, **headers: str) -> None:
        self.send_response(code)
        for key, value in headers.items():
            self.send_header(key, value)
        if code not in (101, 304) and "Content-Length" not in headers:
            self.send_header("Content-Length", "0")
        self.end_headers()
        if code == 101:
            self.close_connection = True

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, list[tuple[str, str]]]]:
    seen: list[tuple[str, str]] = []
    with serving(type("Recorded", (Handler,), {"seen": seen})) as url:
        yield f"{url}/api", seen


def _call(url: str, tool: str, args: dict[str, Any], env: dict[str, str] | None = None) -> Any:
    options = CallOptions(base_url=url, approved=True)
    return call(SCHEMA, tool, args, options, environ=env or {"APPCTL_BEARER_TOKEN": "tok"})


def test_a_cross_origin_redirect_says_it_was_not_followed_and_where_it_pointed(server) -> None:
    url, seen = server
    result = _call(url, "away", {})
    assert not result.ok and result.status == 302
    assert result.error.category == ErrorCategory.REDIRECT
    assert "http://127.0.0.2:9/steal?x=1" in result.error.message
    assert "not followed" in result.error.message and "another origin" in result.error.message
    assert SUGGESTIONS[ErrorCategory.REDIRECT] in result.error.suggestions
    assert seen == [("GET", "/api/away")]  # not retried, not followed


def test_a_redirected_post_is_not_sent_again_and_says_why(server) -> None:
    url, seen = server
    result = _call(url, "move", {})
    assert result.error.category == ErrorCategory.REDIRECT and result.status == 307
    assert f"{url}/moved" in result.error.message and "only GET and HEAD" in result.error.message
    assert seen == [("POST", "/api/move")]


def test_a_304_is_not_a_validation_error(server) -> None:
    url, _ = server
    result = _call(url, "status", {"code": 304})
    assert result.ok and result.status == 304 and result.error is None
    assert any("Not Modified" in note for note in result.notes)


def test_a_3xx_without_a_location_is_a_redirect_not_a_validation_error(server) -> None:
    url, _ = server
    result = _call(url, "status", {"code": 300})
    assert not result.ok and result.status == 300
    assert result.error.category == ErrorCategory.REDIRECT
    assert "no Location" in result.error.message


def test_an_unasked_101_is_a_protocol_fault_not_a_validation_error(server) -> None:
    url, _ = server
    result = _call(url, "status", {"code": 101})
    assert result.error.category == ErrorCategory.NETWORK
    assert "RemoteProtocolError" in result.error.message


@pytest.mark.parametrize(
    "args",
    [{"X-Tag": " padded"}, {"X-Tag": "padded\t"}, {"session": "abc "}, {"X-Tag": "  "}],
)
def test_header_and_cookie_values_with_edge_spaces_are_refused_before_sending(server, args) -> None:
    url, seen = server
    result = _call(url, "list_pets", args)
    assert not result.ok and result.error.category == ErrorCategory.VALIDATION
    assert result.status is None and result.outcome == "invalid"
    assert "space or tab" in result.error.message
    assert seen == []


def test_inner_spaces_are_fine(server) -> None:
    url, seen = server
    assert _call(url, "list_pets", {"X-Tag": "two words"}).ok
    assert len(seen) == 1


def test_a_header_the_http_library_refuses_is_not_retried_and_shows_no_secret(server) -> None:
    url, seen = server
    result = _call(url, "list_pets", {}, env={"APPCTL_BEARER_TOKEN": "tok-SECRET "})
    assert result.error.category == ErrorCategory.VALIDATION
    assert "tok-SECRET" not in result.error.message
    assert seen == []


@pytest.mark.parametrize("code", [405, 406, 415, 501])
def test_a_route_that_refuses_the_method_or_body_is_unsupported_not_bad_arguments(
    server, code: int
) -> None:
    url, seen = server
    result = _call(url, "status", {"code": code})
    assert not result.ok and result.status == code and result.outcome == "failed"
    assert result.error.category == ErrorCategory.UNSUPPORTED
    assert SUGGESTIONS[ErrorCategory.VALIDATION] not in result.error.suggestions
    assert "will not help" in result.error.suggestions[-1]
    assert len(seen) == 1  # not retried


@pytest.mark.parametrize("code", [400, 422])
def test_arguments_the_application_refuses_stay_validation(server, code: int) -> None:
    url, _ = server
    result = _call(url, "status", {"code": code})
    assert result.error.category == ErrorCategory.VALIDATION and result.status == code


def test_a_404_from_a_route_without_ids_never_says_check_the_ids(server) -> None:
    url, _ = server
    result = _call(url, "search", {"q": "rex"})
    assert result.error.category == ErrorCategory.NOT_FOUND
    hints = result.error.suggestions
    assert "has no ids in its path" in hints[0]
    assert not any("check the ids" in hint.lower() for hint in hints), hints
