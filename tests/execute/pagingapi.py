"""A real paging API on 127.0.0.1 (a thread) and its OpenAPI document, for the paging tests.

- ``GET /link/items?per_page=&page=``: GitHub-style, the next page in a ``Link`` header (a
  relative URL beside rel=last and a title holding a comma), an API key in the query that
  the next links echo, and headers worth keeping and not (``Set-Cookie``).
- ``GET /stripe/items?limit=&starting_after=``: Stripe-style ``{"data", "has_more"}``.
- ``GET /token/items?pageToken=``: Google-style ``nextPageToken`` in the body.
- ``GET /far/items``: a next link to another origin.
- ``POST /body/items`` with ``{"limit", "offset"}`` in the JSON body (Prefect-style).
``Api.seen`` lists every request path with its query.
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

ITEMS = [{"id": f"it_{n:03d}", "n": n, "text": "x" * 40} for n in range(1, 24)]
API_KEY = "k3y-never-in-a-cursor"


@dataclass
class Api:
    url: str = ""
    seen: list[str] = field(default_factory=list)


def _handler(api: Api) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}") if length else {}
            api.seen.append(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            status, payload, headers = route(parts.path, query, body)
            data = json.dumps(payload).encode()
            self.send_response(status)
            for key, value in headers:
                self.send_header(key, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _answer

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


def route(path: str, query: dict[str, str], body: Any) -> tuple[int, Any, list[tuple[str, str]]]:
    if path == "/link/items":
        if query.get("api_key") != API_KEY:
            return 401, {"error": "api_key"}, []
        size, page = int(query.get("per_page", 5)), int(query.get("page", 1))
        items = ITEMS[(page - 1) * size : page * size]
        last = (len(ITEMS) + size - 1) // size
        links = [f'</link/items?page={last}&per_page={size}&api_key={API_KEY}>; rel="last"']
        if page < last:
            nxt = f"</link/items?page={page + 1}&per_page={size}&api_key={API_KEY}>"
            links.insert(0, f'{nxt}; title="more, please"; rel="next"')
        headers = [
            ("Link", ", ".join(links)),
            ("Set-Cookie", "session=abc123"),
            ("X-RateLimit-Remaining", "4999"),
            ("ETag", f'"page-{page}"'),
            ("X-Total-Count", str(len(ITEMS))),
        ]
        return 200, items, headers
    if path == "/stripe/items":
        size, after = int(query.get("limit", 5)), query.get("starting_after")
        start = next((i + 1 for i, it in enumerate(ITEMS) if it["id"] == after), 0)
        items = ITEMS[start : start + size]
        return 200, {"object": "list", "data": items, "has_more": start + size < len(ITEMS)}, []
    if path == "/token/items":
        start = int(query.get("pageToken", "0") or 0)
        items = ITEMS[start : start + 7]
        token = str(start + 7) if start + 7 < len(ITEMS) else ""
        return 200, {"items": items, "nextPageToken": token}, []
    if path == "/far/items":
        return 200, ITEMS[:3], [("Link", '<http://198.51.100.7/far/items?page=2>; rel="next"')]
    if path == "/body/items":
        size, offset = int(body.get("limit", 5)), int(body.get("offset", 0))
        return 200, ITEMS[offset : offset + size], []
    return 404, {"error": "no route"}, []


@contextmanager
def serving() -> Iterator[Api]:
    api = Api()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _get(op: str, params: list[tuple[str, str]], response: dict[str, Any]) -> dict[str, Any]:
    return {
        "get": {
            "operationId": op,
            "parameters": [{"name": n, "in": "query", "schema": {"type": t}} for n, t in params],
            "responses": {"200": response},
        }
    }


def _json(schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"description": "ok", "content": {"application/json": {"schema": schema}}, **extra}


LIST = {"type": "array", "items": {"type": "object"}}
DOC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Paging", "version": "1"},
    "components": {
        "securitySchemes": {"key": {"type": "apiKey", "in": "query", "name": "api_key"}}
    },
    "paths": {
        "/link/items": _get(
            "listLinked",
            [("per_page", "integer"), ("page", "integer")],
            _json(LIST, headers={"Link": {"schema": {"type": "string"}}}),
        ),
        "/stripe/items": _get(
            "listStripe",
            [("limit", "integer"), ("starting_after", "string")],
            _json(
                {
                    "type": "object",
                    "properties": {"data": LIST, "has_more": {"type": "boolean"}},
                }
            ),
        ),
        "/token/items": _get(
            "listTokened",
            [("pageToken", "string")],
            _json(
                {
                    "type": "object",
                    "properties": {"items": LIST, "nextPageToken": {"type": "string"}},
                }
            ),
        ),
        "/far/items": _get("listFar", [("page", "integer")], _json(LIST)),
        "/body/items": {
            "post": {
                "operationId": "filterItems",
                "x-appctl-safety": "read_only",
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "limit": {"type": "integer"},
                                    "offset": {"type": "integer"},
                                },
                            }
                        }
                    }
                },
                "responses": {"200": _json(LIST)},
            }
        },
    },
}
DOC["paths"]["/link/items"]["get"]["security"] = [{"key": []}]
# a write that pages (answers like GET /stripe/items): approval is asked with its cursor
DOC["paths"]["/stripe/items"]["post"] = {
    **DOC["paths"]["/stripe/items"]["get"],
    "operationId": "archiveStripe",
}
