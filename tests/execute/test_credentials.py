"""Credentials only where an operation asks for them, and never echoed back.

A recording server on 127.0.0.1 (two of them: the contract's origin and another one) answers
like httpbin's ``/anything``: it echoes the method, URL, query and headers it received, and
``/deny`` answers 401 quoting the Authorization header, as real servers do.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

import pytest
import yaml

from appctl.config import Config
from appctl.contract.overrides import Overrides, apply_overrides
from appctl.errors import OverrideError, SourceError, UsageError
from appctl.execute.executor import CallOptions, call
from appctl.execute.result import ErrorCategory
from tests import runner
from tests.conftest import serving
from tests.helpers import spec, sync_doc

BEARER = "tok+/=Bearer-SECRET-1"
KEY = "hk+/=Header-SECRET-2"
QKEY = "qk+/= Query-SECRET-3"
USER, PASSWORD = "api", "pw:+/ Basic-SECRET-4"
ENV = {
    "APPCTL_BEARER_TOKEN": BEARER,
    "APPCTL_KEY": KEY,
    "APPCTL_QKEY": QKEY,
    "APPCTL_BASIC_USERNAME": USER,
    "APPCTL_BASIC_PASSWORD": PASSWORD,
}


@dataclass
class Seen:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]


@dataclass
class Recorder:
    url: str = ""
    seen: list[Seen] = field(default_factory=list)

    def last(self) -> Seen:
        return self.seen[-1]


def _handler(recorder: Recorder) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            seen = Seen(
                "GET",
                parts.path,
                parse_qsl(parts.query, keep_blank_values=True),
                {k.lower(): v for k, v in self.headers.items()},
            )
            recorder.seen.append(seen)
            if parts.path == "/deny":
                given = self.headers.get("Authorization", "")
                body = f"401: the header {given!r} is not valid here ({self.path})".encode()
                kind, status = "text/plain", 401
            else:
                echo = {
                    "url": f"http://{self.headers['Host']}{self.path}",
                    "args": dict(seen.query),
                    "headers": dict(self.headers.items()),
                    "note": "a rapid api-first service",
                }
                body, kind, status = json.dumps(echo).encode(), "application/json", 200
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


def _serve() -> Iterator[Recorder]:
    recorder = Recorder()
    with serving(_handler(recorder)) as recorder.url:
        yield recorder


@pytest.fixture
def home() -> Iterator[Recorder]:
    yield from _serve()


@pytest.fixture
def other() -> Iterator[Recorder]:
    yield from _serve()


def _document(home: str, other: str) -> dict[str, Any]:
    def op(name: str, **extra: Any) -> dict[str, Any]:
        return {"get": {"operationId": name, "responses": {"200": {"description": "ok"}}, **extra}}

    return spec(
        {
            "/private": op("getPrivate"),
            "/public": op("getPublic", security=[]),
            "/keyed": op("getKeyed", security=[{"key": []}]),
            "/basic": op("getBasic", security=[{"basic": []}]),
            "/cdn": op("getCdn", servers=[{"url": other}]),
            "/open-cdn": op("getOpenCdn", servers=[{"url": other}], security=[{"bearer": []}, {}]),
            "/either": op("getEither", security=[{"key": []}, {"qkey": []}]),
            "/both": op("getBoth", security=[{"key": [], "qkey": []}]),
            "/optional": op("getOptional", security=[{"bearer": []}, {}]),
            "/digest": op("getDigest", security=[{"digest": []}]),
            "/deny": op("getDeny", security=[{"basic": []}]),
        },
        servers=[{"url": home}],
        security=[{"bearer": []}],
        components={
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "basic": {"type": "http", "scheme": "basic"},
                "key": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "qkey": {"type": "apiKey", "in": "query", "name": "api_key"},
                "digest": {"type": "http", "scheme": "digest"},
            }
        },
    )


def _creds(seen: Seen) -> dict[str, str]:
    """Every credential the request carried, by where it was."""
    out = {k: v for k, v in seen.headers.items() if k in ("authorization", "x-api-key", "cookie")}
    out |= {f"?{k}": v for k, v in seen.query if k == "api_key"}
    return out


def _call(home: Recorder, other: Recorder, tool: str, env: dict[str, str], **options: Any):
    schema = sync_doc(_document(home.url, other.url)).schema
    return call(schema, tool, {}, CallOptions(**options), environ=env)


BASIC = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


@pytest.mark.parametrize(
    ("tool", "expected"),
    [
        ("get_private", {"authorization": f"Bearer {BEARER}"}),
        ("get_public", {}),
        ("get_keyed", {"x-api-key": KEY}),
        ("get_basic", {"authorization": BASIC}),
        ("get_either", {"x-api-key": KEY}),
        ("get_both", {"x-api-key": KEY, "?api_key": QKEY}),
        ("get_optional", {"authorization": f"Bearer {BEARER}"}),
    ],
)
def test_each_request_carries_exactly_what_its_operation_asks_for(
    home: Recorder, other: Recorder, tool: str, expected: dict[str, str]
) -> None:
    result = _call(home, other, tool, ENV)
    assert result.ok, result.error
    assert _creds(home.last()) == expected


def test_the_first_alternative_that_is_set_wins(home: Recorder, other: Recorder) -> None:
    only_query = {"APPCTL_QKEY": QKEY}
    assert _call(home, other, "get_either", only_query).ok
    assert _creds(home.last()) == {"?api_key": QKEY}


def test_anonymous_only_where_the_operation_allows_it(home: Recorder, other: Recorder) -> None:
    assert _call(home, other, "get_optional", {}).ok
    assert _creds(home.last()) == {}
    refused = _call(home, other, "get_keyed", {"APPCTL_BEARER_TOKEN": BEARER})
    assert refused.error.category == ErrorCategory.AUTH
    assert "set APPCTL_KEY (key)" in refused.error.message
    half = _call(home, other, "get_both", {"APPCTL_KEY": KEY})
    assert half.error.category == ErrorCategory.AUTH and "APPCTL_QKEY" in half.error.message
    digest = _call(home, other, "get_digest", ENV)
    assert digest.error.category == ErrorCategory.AUTH and "digest" in digest.error.message
    assert len(home.seen) == 1 and other.seen == []  # refusals send nothing


def test_bearer_and_basic_both_set_do_not_overwrite_each_other(
    home: Recorder, other: Recorder
) -> None:
    assert _call(home, other, "get_private", ENV).ok
    assert home.last().headers["authorization"] == f"Bearer {BEARER}"
    assert _call(home, other, "get_basic", ENV).ok
    assert home.last().headers["authorization"] == BASIC


def test_another_origin_gets_no_credentials_unless_allowed(home: Recorder, other: Recorder) -> None:
    refused = _call(home, other, "get_cdn", ENV)
    assert refused.error.category == ErrorCategory.AUTH
    assert "auth.allowed_origins" in refused.error.message and other.seen == []
    assert _call(home, other, "get_open_cdn", ENV).ok  # anonymous is allowed: sent without
    assert _creds(other.last()) == {}
    config = Config.model_validate({"auth": {"allowed_origins": [other.url + "/"]}})
    assert _call(home, other, "get_cdn", ENV, config=config).ok
    assert _creds(other.last()) == {"authorization": f"Bearer {BEARER}"}
    assert home.seen == []


def test_dry_run_says_which_scheme_was_chosen(home: Recorder, other: Recorder) -> None:
    shown = _call(home, other, "get_either", ENV, dry_run=True).request
    assert shown["auth"] == "key (api_key in header X-API-Key)"
    assert shown["headers"]["X-API-Key"] == "***"
    public = _call(home, other, "get_public", ENV, dry_run=True).request
    assert public["auth"] == "none: the operation asks for no credentials"
    assert home.seen == []


# ------------------------------------------------------------------ schemes users add


def _silent(home: str) -> dict[str, Any]:
    """A document that declares no security at all, as Kinto's does."""
    ops = {
        "/buckets": {"get": {"operationId": "listBuckets", "tags": ["buckets"]}},
        "/partner": {"get": {"operationId": "partnerFeed", "tags": ["partner"]}},
    }
    return spec(ops, servers=[{"url": home}])


def test_config_adds_schemes_the_document_does_not_declare(home: Recorder) -> None:
    schema = sync_doc(_silent(home.url)).schema
    config = Config.model_validate(
        yaml.safe_load(
            """
            auth:
              schemes:
                kinto:
                  type: basic
                  username: env:K_USER
                  password: env:K_PASSWORD
                  apply_to: ["buckets"]
                partner:
                  type: api_key
                  param: Authorization
                  prefix: Token
                  value: env:PARTNER_KEY
                  apply_to: ["tag:partner"]
            """
        )
    )
    env = {"K_USER": "token", "K_PASSWORD": "s3cret-kinto", "PARTNER_KEY": "partner-key-55"}
    assert call(schema, "list_buckets", {}, CallOptions(config=config), environ=env).ok
    kinto = "Basic " + base64.b64encode(b"token:s3cret-kinto").decode()
    assert _creds(home.last()) == {"authorization": kinto}
    feed = call(schema, "partner_feed", {}, CallOptions(config=config), environ=env)
    assert feed.ok and _creds(home.last()) == {"authorization": "Token partner-key-55"}
    assert "partner-key-55" not in json.dumps(feed.data) and "Token ***" in json.dumps(feed.data)
    missing = call(schema, "list_buckets", {}, CallOptions(config=config), environ={})
    assert missing.error.category == ErrorCategory.AUTH
    assert "K_USER and K_PASSWORD (kinto)" in missing.error.message


@pytest.mark.parametrize(
    ("scheme", "problem"),
    [
        ({"type": "basic", "username": "alice", "password": "env:P"}, "env:NAME references"),
        ({"type": "bearer"}, "needs token"),
        ({"type": "api_key", "value": "env:V"}, "needs param"),
        ({"type": "bearer", "token": "env:T", "value": "env:V"}, "takes no value"),
    ],
)
def test_added_schemes_are_checked(scheme: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        Config.model_validate({"auth": {"schemes": {"s": scheme}}})


def test_overrides_write_added_schemes_into_the_contract(home: Recorder) -> None:
    schema = sync_doc(_silent(home.url)).schema
    edits = Overrides.model_validate(
        {"auth": {"schemes": {"kinto": {"type": "bearer", "token": "env:KINTO_TOKEN"}}}}
    )
    edited = apply_overrides(schema, edits)
    assert [s.name for s in edited.auth.schemes] == ["kinto"]
    assert {a.name: a.security for a in edited.actions()} == {
        "list_buckets": [{"kinto": []}],
        "partner_feed": [{"kinto": []}],
    }
    assert call(edited, "list_buckets", {}, CallOptions(), environ={"KINTO_TOKEN": "kt-123456"}).ok
    assert _creds(home.last()) == {"authorization": "Bearer kt-123456"}
    with pytest.raises(OverrideError, match="allowed_origins"):
        apply_overrides(schema, Overrides.model_validate({"auth": {"allowed_origins": [home.url]}}))


def test_a_redefined_scheme_applies_only_where_the_document_asks(
    home: Recorder, other: Recorder
) -> None:
    schema = sync_doc(_document(home.url, other.url)).schema
    config = Config.model_validate(
        {"auth": {"schemes": {"bearer": {"type": "api_key", "param": "X-Token", "value": "env:T"}}}}
    )
    assert call(
        schema, "get_private", {}, CallOptions(config=config), environ={"T": "t-12345678"}
    ).ok
    assert home.last().headers.get("x-token") == "t-12345678"
    assert "authorization" not in home.last().headers
    assert call(schema, "get_public", {}, CallOptions(config=config), environ={"T": "x"}).ok
    assert "x-token" not in home.last().headers


# ------------------------------------------------------------------ URLs with userinfo


def test_a_base_url_with_a_password_is_refused_everywhere(home: Recorder, other: Recorder) -> None:
    with pytest.raises(UsageError, match="user name or password") as raised:
        sync_doc(_document(home.url, other.url), base_url="http://bob:hunter22@h.example")
    assert "hunter22" not in str(raised.value)
    doc = _document("http://bob:hunter22@h.example", other.url)
    with pytest.raises(SourceError, match="basic scheme") as raised:
        sync_doc(doc)
    assert "hunter22" not in str(raised.value)
    doc = _document(home.url, "http://bob:hunter22@cdn.example")
    synced = sync_doc(doc)
    assert synced.schema.action("get_cdn") is None  # that operation is left out, with a warning
    assert any("user name or password" in d.message for d in synced.diagnostics)
    result = _call(home, other, "get_private", ENV, base_url="http://bob:hunter22@127.0.0.1:9")
    assert result.error.category == ErrorCategory.VALIDATION
    assert "hunter22" not in result.model_dump_json()


# ------------------------------------------------------------------ echoes, files, output


def _forms(value: str) -> set[str]:
    return {value, quote(value, safe=""), quote(value), quote_plus(value), json.dumps(value)[1:-1]}


SECRET_FORMS = (
    _forms(BEARER)
    | _forms(KEY)
    | _forms(QKEY)
    | _forms(PASSWORD)
    | {BASIC, BASIC.split()[1], f"{USER}:{quote(PASSWORD, safe='')}"}
)


def test_echoed_credentials_never_reach_any_output_or_file(
    home: Recorder, other: Recorder, tmp_path: Path
) -> None:
    (tmp_path / "spec.json").write_text(json.dumps(_document(home.url, other.url)))

    def appctl(*args: str) -> str:
        proc = runner.invoke(*args, cwd=tmp_path, env=ENV, code=None)
        return proc.stdout + proc.stderr

    shown = appctl("sync", "--openapi", "spec.json")
    for tool in ("get_private", "get_keyed", "get_basic", "get_both", "get_deny"):
        shown += appctl("call", tool, "--json")
        shown += appctl("call", tool, "--dry-run")
    shown += appctl("history", "--json") + appctl("history")
    assert len(home.seen) == 5
    # each secret really was echoed back by the server
    assert home.seen[-1].headers["authorization"] == BASIC
    for form in SECRET_FORMS:
        assert form not in shown, form
    files = [p for p in (tmp_path / ".appctl").rglob("*") if p.is_file()]
    assert any(p.name == "history.db" for p in files)
    for path in files:
        data = path.read_bytes()
        for form in SECRET_FORMS:
            assert form.encode() not in data, (path, form)
    rows = sqlite3.connect(tmp_path / ".appctl" / "history.db").execute(
        "SELECT * FROM appctl_calls"
    )
    text = json.dumps([list(r) for r in rows])
    assert "get_deny" in text and "Basic ***" in text
    # the short user name is hidden where it is a credential, never as a substring
    assert "a rapid api-first service" in shown
