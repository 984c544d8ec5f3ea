"""Response headers an operation documents reach the caller besides the usual ones (Link,
ETag, rate limits...), on a real server; cookies and credentials never do, documented or not."""

from __future__ import annotations

import http.server

from appctl.execute.executor import CallOptions, call
from appctl.execute.http.paging import kept_headers
from tests.conftest import serving
from tests.helpers import spec, sync_doc

DOC = spec(
    {
        "/quota": {
            "get": {
                "operationId": "get_quota",
                "responses": {
                    "200": {
                        "description": "ok",
                        "headers": {
                            "X-Quota-Left": {"schema": {"type": "integer"}},
                            "X-Session-Token": {"schema": {"type": "string"}},
                            "Set-Cookie": {"schema": {"type": "string"}},
                        },
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        }
    }
)


class _Quota(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"ok": true}'
        self.send_response(200)
        for name, value in (
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("X-Quota-Left", "41"),
            ("X-Session-Token", "tok-secret"),
            ("Set-Cookie", "sid=1"),
            ("X-Undocumented", "nope"),
            ("ETag", '"v7"'),
        ):
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_documented_headers_are_kept_and_secrets_are_not() -> None:
    with serving(_Quota) as url:
        schema = sync_doc(DOC, base_url=url).schema
        result = call(schema, "get_quota", {}, CallOptions(base_url=url), environ={})
    assert result.ok and result.headers == {"etag": '"v7"', "x-quota-left": "41"}


def test_kept_headers_takes_documented_names_case_blind() -> None:
    headers = {"x-quota-left": "3", "x-session-token": "t", "x-other": "o"}
    documented = frozenset(("x-quota-left", "x-session-token"))
    assert kept_headers(headers, documented) == {"x-quota-left": "3"}
    assert kept_headers(headers) is None
