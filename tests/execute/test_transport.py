"""The wire under the executor (httpcore, no httpx client): what reaches a real server on
127.0.0.1, compressed answers, the size cap, proxies from the environment, and TLS."""

from __future__ import annotations

import gzip
import http.server
import json
import ssl
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import trustme

from appctl import __version__
from appctl.execute.executor import CallOptions, call
from appctl.execute.http.request import Request
from appctl.execute.http.send import MAX_RESPONSE_BYTES, send
from appctl.execute.http.transport import Transport
from appctl.execute.result import ErrorCategory
from tests.helpers import spec, sync_doc

BOMB = gzip.compress(b"0" * (MAX_RESPONSE_BYTES * 3))  # ~6 MB of zeros in a few KB


class Recorder(http.server.ThreadingHTTPServer):
    seen: list[dict[str, Any]]


class Handler(http.server.BaseHTTPRequestHandler):
    """Echoes what it got; /gzip, /deflate, /rawdeflate and /bomb answer compressed."""

    server: Recorder

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        got = {
            "method": self.command,
            "target": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body.decode("utf-8", "replace"),
        }
        self.server.seen.append(got)
        payload = json.dumps({"echo": got, "text": "é" * 10}).encode()
        coding = None
        if self.path.endswith("/gzip"):
            payload, coding = gzip.compress(payload), "gzip"
        elif self.path.endswith("/deflate"):
            payload, coding = zlib.compress(payload), "deflate"
        elif self.path.endswith("/rawdeflate"):
            squeeze = zlib.compressobj(wbits=-zlib.MAX_WBITS)
            payload, coding = squeeze.compress(payload) + squeeze.flush(), "deflate"
        elif self.path.endswith("/bomb"):
            payload, coding = BOMB, "gzip"
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        if coding:
            self.send_header("Content-Encoding", coding)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def _serve(context: ssl.SSLContext | None = None) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    server = Recorder(("127.0.0.1", 0), Handler)
    server.seen = []
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    scheme = "https" if context else "http"
    try:
        yield f"{scheme}://127.0.0.1:{server.server_address[1]}", server.seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def echo() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    with _serve() as served:
        yield served


@pytest.fixture
def transport() -> Iterator[Transport]:
    wire = Transport(trust_env=False)
    yield wire
    wire.close()


def _send(request: Request, transport: Transport) -> Any:
    return send("t", request, idempotent=True, transport=transport)


def test_what_reaches_the_server(echo, transport) -> None:
    url, seen = echo
    request = Request(
        "POST",
        f"{url}/pets",
        params=[("q", "a b"), ("tag", "x&y")],
        headers={"X-Trace": "abc"},
        cookies={"session": "s1", "lang": "fr"},
        json_body={"name": "Zoë", "n": 1},
    )
    result = _send(request, transport)
    assert result.ok and result.data["text"] == "é" * 10
    (got,) = seen
    assert got["target"] == "/pets?q=a+b&tag=x%26y"
    headers = got["headers"]
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == f"appctl/{__version__}"
    assert headers["accept"] == "*/*" and headers["accept-encoding"] == "gzip, deflate"
    assert headers["cookie"] == "session=s1; lang=fr" and headers["x-trace"] == "abc"
    assert got["body"] == '{"name":"Zoë","n":1}'  # compact UTF-8, as httpx sends it


def test_forms_multipart_and_raw_bodies(echo, transport) -> None:
    url, seen = echo
    patch = {"Content-Type": "application/merge-patch+json"}
    _send(Request("POST", f"{url}/p", headers=patch, json_body={"tag": None}), transport)
    assert seen[-1]["headers"]["content-type"] == "application/merge-patch+json"
    assert seen[-1]["body"] == '{"tag":null}'
    _send(Request("POST", f"{url}/f", form=[("a", "1"), ("b", "x y")]), transport)
    assert seen[-1]["headers"]["content-type"] == "application/x-www-form-urlencoded"
    assert seen[-1]["body"] == "a=1&b=x+y"
    files = [("photo", ("photo", b"\x89PNG-bytes", "image/png"))]
    _send(Request("POST", f"{url}/m", form=[("name", "Rex")], files=files), transport)
    kind = seen[-1]["headers"]["content-type"]
    assert kind.startswith("multipart/form-data; boundary=")
    assert 'name="name"\r\n\r\nRex' in seen[-1]["body"]
    assert 'filename="photo"' in seen[-1]["body"] and "Content-Type: image/png" in seen[-1]["body"]
    raw = Request("POST", f"{url}/r", headers={"Content-Type": "text/csv"}, content=b"a,b\n1,2")
    _send(raw, transport)
    assert seen[-1]["headers"]["content-type"] == "text/csv" and seen[-1]["body"] == "a,b\n1,2"


@pytest.mark.parametrize("path", ["gzip", "deflate", "rawdeflate"])
def test_compressed_answers_are_decoded(echo, transport, path) -> None:
    url, _ = echo
    result = _send(Request("GET", f"{url}/{path}"), transport)
    assert result.ok and result.data["echo"]["target"] == f"/{path}"


def test_a_compressed_bomb_stops_at_the_cap(echo, transport) -> None:
    url, _ = echo
    result = _send(Request("GET", f"{url}/bomb"), transport)
    assert result.ok and isinstance(result.data, str)
    assert result.data.endswith(f"[cut at {MAX_RESPONSE_BYTES:,} bytes]")
    assert len(result.data) < MAX_RESPONSE_BYTES + 100


# --------------------------------------------------------------------------- proxies


class ProxyHandler(http.server.BaseHTTPRequestHandler):
    """A forward proxy that answers itself: the absolute-form target proves the hop."""

    server: Recorder

    def do_GET(self) -> None:
        got = {"target": self.path, "auth": self.headers.get("Proxy-Authorization")}
        self.server.seen.append(got)
        payload = json.dumps({"via": "proxy", **got}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def proxy() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    server = Recorder(("127.0.0.1", 0), ProxyHandler)
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}", server.seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


PETS = sync_doc(spec({"/pets": {"get": {"operationId": "listPets"}}})).schema


def _proxy_env(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)


@contextmanager
def _fresh() -> Iterator[Transport]:
    """A transport made now, so it reads the proxy and TLS variables as the test set them."""
    wire = Transport()
    try:
        yield wire
    finally:
        wire.close()


def _list_pets(base_url: str) -> Any:
    with _fresh() as wire:
        return call(
            PETS, "list_pets", {}, CallOptions(base_url=base_url), environ={}, transport=wire
        )


def test_calls_go_through_the_proxy_from_the_environment(monkeypatch, proxy) -> None:
    where, seen = proxy
    _proxy_env(monkeypatch, HTTP_PROXY=f"http://ann:p%40ss@{where}")
    result = _list_pets("http://api.example.invalid/v1")
    assert result.ok and result.data["via"] == "proxy"
    assert seen[0]["target"] == "http://api.example.invalid/v1/pets"
    assert seen[0]["auth"] == "Basic YW5uOnBAc3M="  # ann:p@ss


def test_no_proxy_hosts_go_direct(monkeypatch, proxy, echo) -> None:
    where, proxied = proxy
    url, direct = echo
    _proxy_env(monkeypatch, ALL_PROXY=f"http://{where}", NO_PROXY="localhost,127.0.0.1")
    result = _list_pets(url)
    assert result.ok and proxied == [] and direct[0]["target"] == "/pets"


def test_an_unsupported_proxy_is_a_network_error_that_says_so(monkeypatch) -> None:
    _proxy_env(monkeypatch, HTTP_PROXY="ftp://127.0.0.1:9")
    result = _list_pets("http://api.example.invalid/v1")
    assert result.error.category == ErrorCategory.NETWORK
    assert "unsupported proxy scheme 'ftp'" in result.error.message


def test_a_socks_proxy_without_socksio_says_what_to_install(monkeypatch) -> None:
    try:
        import socksio  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("socksio is installed here")
    _proxy_env(monkeypatch, HTTP_PROXY="socks5://127.0.0.1:9")
    result = _list_pets("http://api.example.invalid/v1")
    assert result.error.category == ErrorCategory.NETWORK
    assert "install socksio" in result.error.message


# --------------------------------------------------------------------------- TLS


@pytest.fixture
def tls(tmp_path) -> Iterator[tuple[str, str]]:
    """An HTTPS echo server with a certificate from a throwaway CA; yields (url, CA file)."""
    authority = trustme.CA()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    with _serve(context) as (url, _):
        yield url, str(ca_file)


def test_tls_is_verified(monkeypatch, tls) -> None:
    url, ca_file = tls
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    with _fresh() as wire:
        refused = _send(Request("GET", f"{url}/pets"), wire)
    assert refused.error.category == ErrorCategory.NETWORK
    assert "CERTIFICATE_VERIFY_FAILED" in refused.error.message
    monkeypatch.setenv("SSL_CERT_FILE", ca_file)
    with _fresh() as wire:
        trusted = _send(Request("GET", f"{url}/pets"), wire)
    assert trusted.ok and trusted.data["echo"]["target"] == "/pets"
