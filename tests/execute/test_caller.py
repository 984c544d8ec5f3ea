"""The caller every call carries: its audit name, what it keeps hidden, the local default."""

from __future__ import annotations

from appctl.execute.caller import ANONYMOUS, Caller, local_caller


def test_local_caller_is_the_os_user_from_the_given_environment() -> None:
    caller = local_caller({"USER": "alice"})
    assert (caller.kind, caller.subject, caller.name) == ("local", "alice", "local:alice")
    assert local_caller({"LOGNAME": "bob"}).name == "local:bob"


def test_a_token_caller_is_named_by_its_subject() -> None:
    caller = Caller(subject="ops-anna", kind="oauth", groups=("ops",))
    assert caller.name == "ops-anna"
    assert ANONYMOUS.name == "anonymous"


def test_what_a_caller_brings_is_never_shown_but_is_listed_as_secret() -> None:
    caller = Caller(
        subject="u1",
        kind="oauth",
        headers={"x-upstream-token": "upstream-secret"},
        token="inbound-secret",
        claims={"cust": "c-42"},
    )
    shown = repr(caller)
    assert "upstream-secret" not in shown and "inbound-secret" not in shown
    assert "c-42" not in shown
    assert set(caller.secrets()) == {"upstream-secret", "inbound-secret"}
