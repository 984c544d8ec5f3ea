"""Per-user upstream credentials (issue 21 item 3): ``header:NAME`` and ``caller:token``.

A recording server on 127.0.0.1 echoes every request's headers back (as httpbin's
``/anything`` does), so a credential that is not redacted would show in the result.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
import yaml

from appctl.config import Config
from appctl.contract.models import Contract
from appctl.contract.overrides import Overrides
from appctl.execute.audit.history import History
from appctl.execute.caller import Caller, local_caller
from appctl.execute.executor import CallOptions, call
from appctl.execute.result import ErrorCategory
from tests.conftest import serving
from tests.helpers import spec, sync_doc

ALICE_GH = "gh-alice-0123456789"
BOB_GH = "gh-bob-9876543210"
INBOUND = "inbound-token-abcdef"


class Echo(BaseHTTPRequestHandler):
    seen: list[dict[str, str]]

    def do_GET(self) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.seen.append(headers)
        body = json.dumps({"path": self.path, "headers": headers}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def echo() -> Iterator[tuple[str, list[dict[str, str]]]]:
    seen: list[dict[str, str]] = []
    with serving(type("H", (Echo,), {"seen": seen})) as url:
        yield url, seen


def _contract(url: str) -> Contract:
    def op(name: str) -> dict[str, Any]:
        return {"get": {"operationId": name, "responses": {"200": {"description": "ok"}}}}

    doc = spec({"/repos": op("listRepos"), "/partner": op("getPartner")}, servers=[{"url": url}])
    return sync_doc(doc).schema


CONFIG = """
auth:
  schemes:
    github:
      type: bearer
      token: header:X-GitHub-Token
      description: GitHub token
      apply_to: [list_repos]
    partner:
      type: api_key
      param: X-Partner-Key
      value: caller:token
      apply_to: [get_partner]
"""


def _config(text: str = CONFIG) -> Config:
    return Config.model_validate(yaml.safe_load(text))


def _caller(subject: str, gh: str | None = None, token: str | None = INBOUND) -> Caller:
    headers = {"x-github-token": gh} if gh else {}
    return Caller(subject=subject, kind="token", headers=headers, token=token)


def _run(url: str, tool: str, caller: Caller | None, **options: Any) -> Any:
    opts = CallOptions(config=_config(), caller=caller, **options)
    return call(_contract(url), tool, {}, opts, environ={})


def test_each_caller_sends_its_own_header_credential(echo: Any) -> None:
    url, seen = echo
    for subject, gh in (("alice", ALICE_GH), ("bob", BOB_GH)):
        result = _run(url, "list_repos", _caller(subject, gh))
        assert result.ok, result.error
        assert seen[-1]["authorization"] == f"Bearer {gh}"
        assert INBOUND not in json.dumps(seen[-1])  # the inbound token stays with appctl
        shown = json.dumps(result.model_dump(mode="json"))
        assert gh not in shown and "***" in shown  # the echo is redacted


def test_caller_token_is_forwarded_only_where_a_scheme_says_so(echo: Any) -> None:
    url, seen = echo
    assert _run(url, "get_partner", _caller("alice", ALICE_GH)).ok
    assert seen[-1]["x-partner-key"] == INBOUND and "authorization" not in seen[-1]
    assert ALICE_GH not in json.dumps(seen[-1])  # a header for another scheme is not sent


def test_a_missing_header_is_an_auth_result_saying_what_to_send(echo: Any) -> None:
    url, seen = echo
    result = _run(url, "list_repos", _caller("alice", None))
    assert result.error is not None and result.error.category == ErrorCategory.AUTH
    message = result.error.message
    assert "send your own GitHub token (github) in the X-GitHub-Token header" in message
    assert "of your requests to appctl" in message
    no_token = _run(url, "get_partner", Caller(subject="anonymous", kind="anonymous"))
    assert no_token.error is not None and no_token.error.category == ErrorCategory.AUTH
    assert "authenticate to appctl with your own bearer token" in no_token.error.message
    assert seen == []  # nothing was sent


def test_a_cli_caller_is_told_the_credential_comes_through_a_server(echo: Any) -> None:
    url, seen = echo
    result = _run(url, "list_repos", local_caller({"USER": "carol"}))
    assert result.error is not None and result.error.category == ErrorCategory.AUTH
    assert "appctl serve or appctl mcp --transport http" in result.error.message
    assert "X-GitHub-Token header" in result.error.message
    assert seen == []


def test_an_env_alternative_serves_callers_without_the_header(echo: Any) -> None:
    url, seen = echo
    text = CONFIG + (
        "    shared:\n      type: bearer\n      token: env:GH_SHARED\n"
        "      apply_to: [list_repos]\n"
    )
    opts = CallOptions(config=_config(text), caller=_caller("alice", None))
    assert call(_contract(url), "list_repos", {}, opts, environ={"GH_SHARED": "shared-x1"}).ok
    assert seen[-1]["authorization"] == "Bearer shared-x1"
    opts = CallOptions(config=_config(text), caller=_caller("bob", BOB_GH))
    assert call(_contract(url), "list_repos", {}, opts, environ={"GH_SHARED": "shared-x1"}).ok
    assert seen[-1]["authorization"] == f"Bearer {BOB_GH}"  # the first alternative wins


def test_secrets_stay_out_of_dry_runs_and_history(echo: Any, tmp_path: Path) -> None:
    url, _ = echo
    history = History(f"sqlite:///{tmp_path / 'history.db'}")
    caller = _caller("alice", ALICE_GH)
    dry = _run(url, "list_repos", caller, dry_run=True)
    assert dry.ok and ALICE_GH not in json.dumps(dry.model_dump(mode="json"))
    assert "github (bearer)" in json.dumps(dry.model_dump(mode="json"))
    opts = CallOptions(config=_config(), caller=caller)
    for tool in ("list_repos", "get_partner"):
        assert call(_contract(url), tool, {}, opts, environ={}, history=history).ok
    stored = (tmp_path / "history.db").read_bytes()
    assert ALICE_GH.encode() not in stored and INBOUND.encode() not in stored


def test_credentials_go_only_to_the_contract_origin(echo: Any) -> None:
    url, seen = echo
    with serving(type("H", (Echo,), {"seen": seen})) as elsewhere:
        opts = CallOptions(config=_config(), caller=_caller("alice", ALICE_GH), base_url=url)

        def op(name: str) -> dict[str, Any]:
            servers = [{"url": elsewhere}]
            return {"get": {"operationId": name, "servers": servers, "responses": {}}}

        doc = spec({"/repos": op("listRepos")}, servers=[{"url": url}])
        result = call(sync_doc(doc).schema, "list_repos", {}, opts, environ={})
    assert result.error is not None and result.error.category == ErrorCategory.AUTH
    assert "credentials go only there" in result.error.message and seen == []


@pytest.mark.parametrize(
    ("ref", "said"),
    [
        ("header:Authorization", "caller:token"),
        ("header:cookie", "caller:token"),
        ("header:X Bad", "does not name a request header"),
        ("caller:id_token", "the one caller reference is"),
        ("ghp_literal", "not literal values"),
    ],
)
def test_references_are_checked(ref: str, said: str) -> None:
    with pytest.raises(ValueError, match=said):
        _config(f"auth:\n  schemes:\n    s: {{type: bearer, token: '{ref}'}}\n")


def test_overrides_keep_per_user_credentials_out_of_the_contract() -> None:
    scheme = {"type": "bearer", "token": "header:X-GitHub-Token"}
    with pytest.raises(ValueError, match="belongs under auth"):
        Overrides.model_validate({"auth": {"schemes": {"gh": scheme}}})
