"""``appctl_poll``: the tool that keeps waiting on a long-running operation.

Not in any source: offered beside a contract's tools when one of them is long-running
(``Action.long_running``). Its one argument is the handle a ``timeout`` result's
``operation.handle`` carries. It is an ``Action`` like the contract's (read-only, so every
gate and policy rule applies to it by its name), served by ``execute/longcall.py``.
The name is valid in every tool format (letters and underscores, under 64 characters).
"""

from __future__ import annotations

from functools import cache

from appctl.contract.models import Action, Contract, Field, HttpTransport, Location, Safety, Verb

POLL_TOOL = "appctl_poll"
POLL_RESOURCE = "appctl"
HANDLE_ARG = "operation"


@cache
def poll_action() -> Action:
    return Action(
        name=POLL_TOOL,
        summary="Keep waiting on a long-running operation.",
        description=(
            "A tool that starts long-running work answers with error category timeout and "
            "operation.handle when the work has not ended within its wait. Pass that handle "
            "here to keep waiting: the operation's status is read (never the original request "
            "sent again) until it ends, then its result is returned; if it is still running, "
            "the answer carries a handle to call this with again."
        ),
        verb=Verb.GET,
        safety=Safety.READ_ONLY,
        transport=HttpTransport(method="GET", path="/"),
        parameters=[
            Field(
                name=HANDLE_ARG,
                location=Location.QUERY,
                required=True,
                description="operation.handle of the result that said the work is still running",
                schema_={"type": "string", "minLength": 1},
            )
        ],
        idempotent=True,
    )


def offers_poll(schema: Contract, names: set[str] | None = None) -> bool:
    """Whether ``appctl_poll`` goes with these tools: the contract has no tool of that name
    and one of the tools (``names``: those offered; None: all) is long-running."""
    if schema.action(POLL_TOOL) is not None:
        return False
    return any(
        a.long_running is not None and (names is None or a.name in names) for a in schema.actions()
    )
