"""Bound parameters (issue 21 item 4): an argument pinned to a claim of the caller's identity.

The fixture API on 127.0.0.1 echoes the path and query it was sent, so each test sees the
value that went on the wire.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
import yaml

from appctl.config import Config
from appctl.contract.models import Contract
from appctl.execute.bound import bindings, hide_bound, sealer_for
from appctl.execute.caller import Caller, local_caller
from appctl.execute.continuation import CursorError, Sealer
from appctl.execute.executor import CallOptions, call
from appctl.execute.result import ErrorCategory
from appctl.generate.guides import render_guide
from appctl.generate.toolspec import build_tool_specs
from tests.conftest import serving
from tests.execute.test_percaller import Echo
from tests.helpers import spec, sync_doc

CONFIG = """
policy:
  - {match: {name: "list_orders"}, bind: {customer_id: {from_claim: cust}}}
  - match: {name: "*_orders"}
    bind: {customer_id: {from_claim: other}, region: {from_claim: reg}}
  - {match: {name: "list_orders"}, bind: {no_such_argument: {from_claim: cust}}}
"""


@pytest.fixture
def echo() -> Iterator[tuple[str, list[str]]]:
    seen: list[dict[str, str]] = []

    class Paths(Echo):
        paths: ClassVar[list[str]]

        def do_GET(self) -> None:
            self.paths.append(self.path)
            super().do_GET()

    handler = type("H", (Paths,), {"seen": seen, "paths": []})
    with serving(handler) as url:
        yield url, handler.paths


def _contract(url: str) -> Contract:
    params = [
        {"name": "customer_id", "in": "query", "required": True, "schema": {"type": "integer"}},
        {"name": "region", "in": "query", "schema": {"type": "string"}},
        {"name": "status", "in": "query", "schema": {"type": "string"}},
    ]

    def op(name: str) -> dict[str, Any]:
        ok = {"200": {"description": "ok"}}
        return {"get": {"operationId": name, "parameters": params, "responses": ok}}

    doc = spec({"/orders": op("listOrders"), "/pets": op("listPets")}, servers=[{"url": url}])
    return sync_doc(doc).schema


def _config() -> Config:
    return Config.model_validate(yaml.safe_load(CONFIG))


def _call(url: str, arguments: dict[str, Any], caller: Caller | None, **options: Any) -> Any:
    opts = CallOptions(config=_config(), caller=caller, **options)
    return call(_contract(url), "list_orders", arguments, opts, environ={})


ALICE = Caller(subject="alice", kind="oauth", claims={"cust": 41, "reg": "eu"})


def test_rules_merge_and_the_first_to_bind_a_parameter_wins() -> None:
    schema = _contract("http://127.0.0.1:1")
    orders, pets = schema.action("list_orders"), schema.action("list_pets")
    assert orders is not None and pets is not None
    assert bindings(_config(), orders, "orders") == {"customer_id": "cust", "region": "reg"}
    assert bindings(_config(), pets, "pets") == {}


def test_the_claim_value_is_sent(echo: Any) -> None:
    url, paths = echo
    result = _call(url, {"status": "open"}, ALICE)
    assert result.ok, result.error
    assert paths[-1] == "/orders?customer_id=41&region=eu&status=open"


def test_a_value_the_model_sends_is_refused(echo: Any) -> None:
    url, paths = echo
    result = _call(url, {"customer_id": 7, "status": "open"}, ALICE)
    assert result.error is not None and result.error.category == ErrorCategory.VALIDATION
    assert "'customer_id' is set from the caller's identity" in result.error.message
    assert "'cust' claim" in result.error.message
    assert paths == []


def test_a_caller_without_the_claim_gets_an_auth_result(echo: Any) -> None:
    url, paths = echo
    bob = Caller(subject="bob", kind="oauth", claims={"reg": "us"})
    result = _call(url, {}, bob)
    assert result.error is not None and result.error.category == ErrorCategory.AUTH
    assert "'cust' claim" in result.error.message and "bob" in result.error.message
    local = _call(url, {}, local_caller({"USER": "carol"}))
    assert local.error is not None and local.error.category == ErrorCategory.AUTH
    assert "local:carol has no 'cust' claim" in local.error.message
    assert "through appctl serve or appctl mcp --transport http" in local.error.message
    assert paths == []


def test_a_claim_that_does_not_fit_the_parameter_is_refused(echo: Any) -> None:
    url, paths = echo
    odd = Caller(subject="odd", kind="oauth", claims={"cust": "forty-one", "reg": "eu"})
    result = _call(url, {}, odd)
    assert result.error is not None and result.error.category == ErrorCategory.AUTH
    assert "not a valid customer_id" in result.error.message and "integer" in result.error.message
    assert paths == []


def test_bound_parameters_are_left_out_of_specs_and_guides() -> None:
    schema = _contract("http://127.0.0.1:1")
    assert hide_bound(schema, Config()) is schema  # nothing bound: nothing copied
    hidden = hide_bound(schema, _config())
    specs = {s.name: s for s in build_tool_specs(hidden)}
    orders = specs["list_orders"].input_schema
    assert set(orders["properties"]) == {"status", "fields"} and "required" not in orders
    pets = specs["list_pets"].input_schema
    assert set(pets["properties"]) == {"customer_id", "region", "status", "fields"}
    guide = render_guide(hidden)
    line = next(x for x in guide.splitlines() if "list_orders" in x)
    assert "customer_id" not in line


def test_the_hidden_contract_still_runs_with_the_claim(echo: Any) -> None:
    url, paths = echo
    hidden = hide_bound(_contract(url), _config())
    opts = CallOptions(config=_config(), caller=ALICE)
    assert call(hidden, "list_orders", {}, opts, environ={}).ok
    assert paths[-1] == "/orders?customer_id=41&region=eu"
    refused = call(hidden, "list_orders", {"region": "us"}, opts, environ={})
    assert refused.error is not None and "'region' is set from" in refused.error.message


def test_cursors_are_bound_to_the_bound_values() -> None:
    sealer = Sealer(key=b"k" * 32)
    alice = sealer_for(sealer, {"customer_id": 41})
    token = alice.seal("list_orders", {"status": "open"}, {"url": "/orders?page=2"})
    assert alice.open("list_orders", {"status": "open"}, token) == {"url": "/orders?page=2"}
    with pytest.raises(CursorError, match="other arguments"):
        sealer_for(sealer, {"customer_id": 42}).open("list_orders", {"status": "open"}, token)
    with pytest.raises(CursorError, match="other arguments"):
        sealer.open("list_orders", {"status": "open"}, token)
    assert sealer_for(sealer, {}) is sealer


def test_a_cursor_given_to_one_caller_does_not_open_for_another() -> None:
    from tests.execute.pagingapi import API_KEY, DOC
    from tests.execute.pagingapi import serving as paging

    schema = sync_doc(DOC).schema
    config = Config.model_validate(
        {"policy": [{"match": {"name": "list_linked"}, "bind": {"per_page": {"from_claim": "n"}}}]}
    )
    env = {"APPCTL_KEY": API_KEY}
    alice = Caller(subject="alice", kind="oauth", claims={"n": 5})
    bob = Caller(subject="bob", kind="oauth", claims={"n": 7})
    with paging() as api:

        def run(caller: Caller, given: dict[str, Any]) -> Any:
            opts = CallOptions(
                base_url=api.url, config=config, caller=caller, sealer=Sealer(b"k" * 32)
            )
            return call(schema, "list_linked", given, opts, environ=env)

        first = run(alice, {})
        assert first.ok and first.next is not None and "per_page=5" in api.seen[-1]
        cursor = {"cursor": first.next["cursor"]}
        stolen = run(bob, cursor)
        assert stolen.error is not None and stolen.error.category == ErrorCategory.VALIDATION
        assert "other arguments" in stolen.error.message and len(api.seen) == 1
        second = run(alice, cursor)
        assert second.ok and "page=2" in api.seen[-1] and "per_page=5" in api.seen[-1]


def test_a_rule_may_not_bind_for_some_callers_only() -> None:
    import pytest
    from pydantic import ValidationError

    from appctl.config import Config

    with pytest.raises(ValidationError, match="leave caller: and group: out"):
        Config.model_validate(
            {"policy": [{"match": {"group": "ops"}, "bind": {"customer_id": {"from_claim": "c"}}}]}
        )
