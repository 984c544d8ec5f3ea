"""A re-sync remembers a chosen base URL while the source's servers stay the same, warns when
they change; the contract diff names base URL, servers and auth changes (contract/diff.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from appctl.contract.baseurl import carry_over, replaced_path, resolve, server_path
from appctl.contract.diff import compare
from appctl.contract.models import Auth, AuthScheme, Contract, Source


def _schema(base_url: str | None, servers: list[str], **extra: Any) -> Contract:
    source = Source(kind="openapi", location="spec.yaml", sha256="0" * 64)
    return Contract(source=source, base_url=base_url, servers=servers, **extra)


def test_server_path_and_resolve() -> None:
    assert server_path("https://x.example/v1/") == "/v1"
    assert server_path("api") == "/api"
    assert server_path(None) == ""
    assert resolve("http://h:1", ["/api"]) == "http://h:1/api"
    assert resolve("http://h:1/", ["/api"]) == "http://h:1"
    assert resolve("http://h:1/x/", []) == "http://h:1/x"
    assert replaced_path("http://h:1/", ["/api"]) == "/api"
    assert replaced_path("http://h:1/api/", ["/api"]) is None
    assert replaced_path("http://h:1", ["/api"]) is None


def test_a_chosen_base_url_is_kept_while_the_servers_are_unchanged() -> None:
    previous = _schema("http://127.0.0.1:4200/api", ["/api"])
    carried = carry_over(previous, _schema("/api", ["/api"]), given=None)
    assert carried.schema.base_url == "http://127.0.0.1:4200/api"
    assert carried.warning is None
    assert carried.note is not None and "kept from the last sync" in carried.note


def test_changed_servers_replace_the_chosen_base_url_with_a_warning() -> None:
    previous = _schema("http://127.0.0.1:4200/api", ["/api"])
    carried = carry_over(previous, _schema("/api/v2", ["/api/v2"]), given=None)
    assert carried.schema.base_url == "/api/v2"
    warning = carried.warning or ""
    assert "/api → /api/v2" in warning
    assert "pass --base-url http://127.0.0.1:4200/api to keep it" in warning


def test_nothing_is_carried_when_the_base_url_came_from_the_servers() -> None:
    previous = _schema("https://a.example/v1", ["https://a.example/v1"])
    synced = _schema("https://b.example/v1", ["https://b.example/v1"])
    carried = carry_over(previous, synced, given=None)
    assert carried == carry_over(None, synced, given=None)
    assert carried.schema.base_url == "https://b.example/v1" and not carried.warning


def test_a_given_base_url_wins_and_says_when_it_drops_the_server_path() -> None:
    previous = _schema("http://127.0.0.1:4200/api", ["/api"])
    synced = _schema("http://other:1", ["/api"])
    carried = carry_over(previous, synced, given="http://other:1/")
    assert carried.schema.base_url == "http://other:1"
    assert carried.note is not None and "give only http://other:1 to keep /api" in carried.note
    assert carry_over(previous, synced, given="http://other:1").note is None


def test_another_source_carries_nothing() -> None:
    previous = _schema("http://127.0.0.1:4200/api", ["/api"])
    other = _schema("/api", ["/api"]).model_copy(
        update={"source": Source(kind="openapi", location="other.yaml", sha256="1" * 64)}
    )
    assert carry_over(previous, other, given=None).schema.base_url == "/api"


def _auth(*schemes: AuthScheme, default: list[dict[str, list[str]]] | None = None) -> Auth:
    return Auth(schemes=list(schemes), default=default or [])


BEARER = AuthScheme(name="bearer", type="bearer", credentials={"token": "env:T"})
KEY = AuthScheme(name="key", type="api_key", location="header", param_name="X-Key")


def test_the_diff_names_base_url_servers_and_auth_changes() -> None:
    old = _schema("https://a.example/v1", ["https://a.example/v1"], auth=_auth(BEARER, KEY))
    new = _schema(
        "https://b.example/v1",
        ["https://b.example/v1", "/v1"],
        auth=_auth(
            BEARER.model_copy(update={"scopes": ["read"]}),
            AuthScheme(name="basic", type="basic"),
            default=[{"bearer": ["read"]}, {}],
        ),
    )
    changes = compare(old, new)
    assert changes.settings == [
        "base URL: https://a.example/v1 → https://b.example/v1",
        "servers: https://a.example/v1 → https://b.example/v1, /v1",
        "auth scheme added: basic (basic)",
        "auth scheme removed: key (api_key)",
        "auth scheme changed: bearer (scopes)",
        "default security: none → bearer[read] or anonymous",
    ]
    assert not changes.empty
    assert changes.summary() == "+0 added, -0 removed, ~0 changed, 6 setting(s) changed"
    assert compare(old, old).settings == [] and compare(old, old).empty


def test_overrides_base_url_follows_the_same_rule(tmp_path: Path) -> None:
    from appctl.contract.overrides import apply_overrides, load_overrides
    from tests.helpers import spec, sync_doc

    synced = sync_doc(spec({}, servers=[{"url": "/api"}])).schema
    for given, expected in (("http://h:1", "http://h:1/api"), ("http://h:1/", "http://h:1")):
        path = tmp_path / "overrides.yaml"
        path.write_text(f"base_url: {given}\n")
        overrides = load_overrides(path)
        assert overrides is not None
        assert apply_overrides(synced, overrides).base_url == expected
