"""The session id of an MCP request that carries none (2026-07-28): the client's own
``x-appctl-session``, else one per authenticated caller, else one per connection; always
within the history's 64 characters."""

from __future__ import annotations

from starlette.requests import Request

from appctl.execute.caller import ANONYMOUS, Caller
from appctl.serve.mcpsessions import client_session


def _request(port: int, headers: dict[str, str] | None = None) -> Request:
    raw = [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    scope = {"type": "http", "headers": raw, "client": ("127.0.0.1", port), "method": "POST"}
    return Request(scope)


def test_an_authenticated_caller_keeps_one_id_across_connections() -> None:
    anna = Caller(subject="anna", kind="oauth")
    ids = {client_session("p1", _request(port), anna) for port in (40001, 40002)}
    assert len(ids) == 1
    bob = Caller(subject="bob", kind="token")
    assert client_session("p1", _request(40001), bob) not in ids


def test_anonymous_clients_are_told_apart_by_their_connection() -> None:
    one = client_session("p1", _request(40001), ANONYMOUS)
    assert one == client_session("p1", _request(40001), None)
    assert one != client_session("p1", _request(40002), ANONYMOUS)
    local = Caller(subject="alice", kind="local")  # not a network identity
    assert client_session("p1", _request(40001), local) == one


def test_a_client_chosen_id_comes_first_and_every_id_is_bounded() -> None:
    chosen = _request(40001, {"x-appctl-session": "run 42; DROP" + "x" * 100})
    assert client_session("p1", chosen, Caller(subject="anna", kind="oauth")) == (
        "run42DROP" + "x" * 55
    )
    long = client_session("p" * 300, _request(40001), Caller(subject="a" * 5000, kind="oauth"))
    assert len(long) <= 64 and long.startswith("p" * 48)
