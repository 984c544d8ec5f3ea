"""The caller in policy and in every record the executor writes: ``match: {caller:}`` and
``{group:}`` rules (allow, deny, ask, limits), never matching a call that names nobody; the
read-only caller's gate; the caller on the rows of reads, writes and refusals."""

from __future__ import annotations

from typing import Any

import pytest

from appctl.config import Config
from appctl.execute.audit.history import History
from appctl.execute.caller import ANONYMOUS, Caller, local_caller
from appctl.execute.executor import CallOptions, call, needs_approval
from appctl.execute.result import ErrorCategory, Reason
from appctl.session.outcomes import answer
from tests.helpers import spec, sync_doc

BODY = {
    "content": {
        "application/json": {
            "schema": {"type": "object", "properties": {"name": {"type": "string"}}}
        }
    }
}
DOC = spec(
    {
        "/pets": {
            "get": {"operationId": "listPets"},
            "post": {"operationId": "addPet", "requestBody": BODY},
        },
        "/pets/{id}": {
            "delete": {
                "operationId": "deletePet",
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
                ],
            }
        },
    }
)
SCHEMA = sync_doc(DOC).schema
ANNA = Caller(subject="ops-anna", kind="oauth", groups=("ops", "admins"))
BOB = Caller(subject="bob", kind="oauth", groups=("staff",))
POLICY = Config.model_validate(
    {
        "policy": [
            {"match": {"caller": "mallory"}, "action": "deny"},
            {"match": {"group": "adm*", "verb": "delete"}, "action": "ask"},
            {"match": {"caller": "ops-*"}, "action": "allow"},
            {"match": {"group": "staff", "name": "add_pet"}, "action": "allow"},
        ]
    }
)


def _call(app: Any, tool: str, args: dict[str, Any], history: History | None = None, **kw: Any):
    options = CallOptions(base_url=app.url, config=kw.pop("config", POLICY), **kw)
    return call(SCHEMA, tool, args, options, environ={}, history=history, session="s1")


def test_rules_on_caller_and_group_allow_deny_and_ask(app) -> None:
    assert _call(app, "add_pet", {"name": "Rex"}, caller=ANNA).ok  # caller ops-*: allow
    assert _call(app, "add_pet", {"name": "Rex"}, caller=BOB).ok  # group staff: allow
    asked = _call(app, "delete_pet", {"id": 1}, caller=ANNA)  # group adm*: ask (rule 2 first)
    assert asked.error.reason == Reason.NEEDS_APPROVAL
    denied = _call(app, "list_pets", {}, caller=Caller(subject="mallory", kind="token"))
    assert denied.error.reason == Reason.DENIED and "rule 1" in denied.error.message
    assert [s.method for s in app.seen] == ["POST", "POST"]
    action = SCHEMA.action("delete_pet")
    assert action is not None
    assert needs_approval(SCHEMA, action, CallOptions(config=POLICY, caller=ANNA))


def test_a_rule_on_caller_or_group_never_matches_a_call_naming_nobody(app) -> None:
    config = Config.model_validate(
        {"policy": [{"match": {"caller": "*"}, "action": "allow"}, {"match": {"group": "*"}}]}
    )
    action = SCHEMA.action("add_pet")
    assert action is not None
    assert config.decide(action, "pets") == ("ask", None)  # no caller: the default
    assert config.decide(action, "pets", ANONYMOUS) == ("allow", 0)
    refused = _call(app, "add_pet", {"name": "Rex"}, config=config)
    assert refused.error.reason == Reason.NEEDS_APPROVAL
    assert _call(app, "add_pet", {"name": "Rex"}, config=config, caller=ANONYMOUS).ok
    group_only = Config.model_validate({"policy": [{"match": {"group": "*"}, "action": "deny"}]})
    assert group_only.decide(action, "pets", ANONYMOUS)[0] == "ask"  # no groups: no match
    assert group_only.decide(action, "pets", BOB)[0] == "deny"


def test_a_limit_on_callers_is_counted_for_each_caller_apart(app) -> None:
    config = Config.model_validate(
        {"policy": [{"match": {"caller": "bot-*"}, "rate_limit": "1/minute"}]}
    )
    bots = [Caller(subject=f"bot-{n}", kind="token") for n in (1, 2)]
    first = [_call(app, "list_pets", {}, config=config, caller=bot) for bot in bots]
    assert all(r.ok for r in first)  # each bot has the limit to itself
    again = _call(app, "list_pets", {}, config=config, caller=bots[0])
    assert again.error.category == ErrorCategory.RATE_LIMITED
    assert "bot-1" in again.error.message
    assert _call(app, "list_pets", {}, config=config, caller=BOB).ok  # no rule: no limit
    assert _call(app, "list_pets", {}, config=config, caller=BOB).ok
    listing = SCHEMA.action("list_pets")
    assert listing is not None
    assert config.limits(listing, "pets").per_second is None  # naming nobody: no rule holds
    assert config.limits(listing, "pets", bots[0]).per_caller


def test_a_read_only_caller_is_refused_writes_whatever_the_policy(app) -> None:
    reader = Caller(subject="ops-reader", kind="oauth", scopes=frozenset({"r"}), read_only=True)
    refused = _call(app, "add_pet", {"name": "Rex"}, caller=reader, approved=True)
    assert refused.error.reason == Reason.READ_SCOPE
    assert "write scope" in refused.error.message and "ops-reader" in refused.error.message
    assert answer(refused).http_status == 403
    assert _call(app, "list_pets", {}, caller=reader).ok
    assert [s.method for s in app.seen] == ["GET"]


@pytest.mark.parametrize("outcome", ["ok", "refused", "invalid", "write"])
def test_every_record_names_the_caller(app, tmp_path, outcome: str) -> None:
    history = History(f"sqlite:///{tmp_path / 'history.db'}")
    caller = local_caller({"USER": "alice"})
    tool, args, extra = {
        "ok": ("list_pets", {}, {}),
        "refused": ("delete_pet", {"id": 1}, {}),
        "invalid": ("list_pets", {"nope": 1}, {}),
        "write": ("add_pet", {"name": "Rex"}, {"approved": True}),
    }[outcome]
    _call(app, tool, args, history, caller=caller, config=Config(), **extra)
    _call(app, tool, args, history, config=Config(), **extra)  # library use: nobody
    assert [e.caller for e in history.entries()] == ["local:alice", None]
    history.close()


def test_the_session_asks_a_person_by_the_rules_for_the_call_s_own_caller(app) -> None:
    from appctl.session.approval import Terminal
    from appctl.session.core import Session

    asked: list[str] = []

    def prompt(action: Any, arguments: Any) -> bool:
        asked.append(action.name)
        return False

    config = Config.model_validate(
        {"policy": [{"match": {"caller": "local:alice"}, "action": "allow"}]}
    )
    session = Session(
        schema=SCHEMA,
        config=config,
        options=CallOptions(base_url=app.url, config=config),
        environ={},
        approver=Terminal(prompt),
        caller=local_caller({"USER": "bob"}),
    )
    alice = local_caller({"USER": "alice"})
    action = SCHEMA.action("add_pet")
    assert action is not None
    assert not session.approval_needed(action, {"name": "Rex"}, caller=alice)
    assert session.call("add_pet", {"name": "Rex"}, caller=alice).ok  # allowed: nobody asked
    assert asked == []
    refused = session.call("add_pet", {"name": "Tom"})  # the session's own caller, bob
    assert asked == ["add_pet"] and refused.error.reason == Reason.NEEDS_APPROVAL
    assert [s.method for s in app.seen] == ["POST"]


def test_a_hostile_caller_reaches_the_history_printable_and_bounded(app, tmp_path) -> None:
    history = History(f"sqlite:///{tmp_path / 'history.db'}")
    hostile = Caller(subject="ops-\x00\n\x1b[2J" + "x" * 10_240, kind="oauth")
    assert _call(app, "list_pets", {}, history, caller=hostile).ok  # ops-*: the rule sees it
    assert _call(app, "add_pet", {"name": "Rex"}, history, caller=hostile).ok
    callers = [e.caller for e in history.entries()]
    assert callers[0] == callers[1] and callers[0] is not None
    assert callers[0].startswith("ops-\\x00\\x0a\\x1b[2J") and len(callers[0]) <= 256
    assert callers[0].isprintable()
    history.close()
