"""The executor's side of long-running operations: what polling needs, and ``appctl_poll``.

``polling`` builds, for one call of a long-running action, what ``execute/http/poll.py``
needs: a GET carrying only the action's own credentials (chosen as for the call, for the
action's origin), the per-tool ``wait`` (``Limits.wait``, else ``DEFAULT_WAIT``), the handle
sealer bound to ``appctl_poll``, and the progress callback.

``call_poll`` serves ``appctl_poll``: arguments validated, gates applied (it is read-only),
the handle opened and checked (signature, tool, expiry) before any I/O, then the operation
resumed within the original tool's limits. Recorded in the history like any other call.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from appctl.contract.models import Action, Contract, HttpTransport
from appctl.contract.polltool import HANDLE_ARG, POLL_RESOURCE, POLL_TOOL, poll_action
from appctl.execute.args import check_arguments
from appctl.execute.auth import AuthRefused, choose
from appctl.execute.continuation import CursorError
from appctl.execute.http.poll import Operation, Polling, resume
from appctl.execute.http.request import Request, apply_auth
from appctl.execute.limits import DEFAULT_WAIT
from appctl.execute.redact import Redactor
from appctl.execute.result import ErrorCategory, ToolResult

if TYPE_CHECKING:
    from appctl.execute.executor import CallOptions
    from appctl.execute.http.transport import Transport

POLL_ARGUMENTS: dict[str, Any] = {}  # a handle is bound to appctl_poll alone, not to arguments


def polling(
    schema: Contract,
    action: Action,
    resource: str,
    options: CallOptions,
    *,
    environ: Mapping[str, str],
    transport: Transport | None,
    redactor: Redactor,
) -> Polling:
    """What polling this action's operation needs (``AuthRefused`` without credentials)."""
    from appctl.execute.executor import DEFAULT_CONFIG, base_url_for
    from appctl.execute.http.send import DEFAULT_TIMEOUT

    assert action.long_running is not None and isinstance(action.transport, HttpTransport)
    config = options.config or DEFAULT_CONFIG
    base = base_url_for(schema, options.base_url, options.config, environ)
    url = action.transport.server or base
    chosen = choose(
        schema,
        action,
        resource,
        settings=config.auth,
        environ=environ,
        base_url=base,
        url=url,
        caller=options.caller,
    )
    parts: dict[str, Any] = {"params": [], "headers": {}, "cookies": {}}
    parts["headers"]["Accept"] = "application/json, */*;q=0.5"
    apply_auth(chosen.schemes, chosen.values, parts)
    credentials = Request(method="GET", url=url, **parts, redactor=redactor, auth=chosen.shown)
    limits = config.limits(action, resource, options.caller)
    sealer = options.continuations()
    return Polling(
        tool=action.name,
        spec=action.long_running,
        credentials=credentials,
        transport=transport,
        timeout=options.timeout or limits.timeout or DEFAULT_TIMEOUT,
        wait=DEFAULT_WAIT if limits.wait is None else limits.wait,
        seal=lambda state: sealer.seal(POLL_TOOL, POLL_ARGUMENTS, state),
        progress=options.progress,
    )


def call_poll(
    schema: Contract,
    given: Mapping[str, Any],
    options: CallOptions,
    *,
    environ: Mapping[str, str],
    transport: Transport | None,
    redactor: Redactor,
) -> ToolResult:
    """``appctl_poll``: check everything before any I/O, then keep waiting."""
    from appctl.execute.executor import refusal

    action = poll_action()
    checked = check_arguments(action, {}, dict(given))
    if checked.problems:
        return ToolResult.failure(POLL_TOOL, ErrorCategory.VALIDATION, "; ".join(checked.problems))
    refused = refusal(action, options, POLL_RESOURCE)
    if refused:
        return ToolResult.failure(POLL_TOOL, ErrorCategory.REFUSED, refused[1], reason=refused[0])
    opened = _opened(schema, checked.arguments[HANDLE_ARG], options)
    if isinstance(opened, ToolResult):
        return opened
    operation, target, resource = opened
    schema = schema.part_for(target.name)  # several sources: its own (contract/sources.py)
    try:
        plan = polling(
            schema,
            target,
            resource,
            options,
            environ=environ,
            transport=transport,
            redactor=redactor,
        )
    except AuthRefused as exc:
        return ToolResult.failure(POLL_TOOL, ErrorCategory.AUTH, str(exc))
    from appctl.execute.executor import _run  # dry run, limits, never raising, the budget

    def shown() -> dict[str, Any]:
        return {"method": "GET", "url": redactor.text(operation.status_url)}

    def execute(_timeout: float | None) -> ToolResult:
        return resume(operation, plan).model_copy(update={"tool": POLL_TOOL})

    return _run(action, options, POLL_RESOURCE, shown, "dry run: nothing was sent", execute)


def _opened(
    schema: Contract, handle: str, options: CallOptions
) -> tuple[Operation, Action, str] | ToolResult:
    """The operation a handle names, its action and resource; or why it cannot be used."""
    try:
        state = options.continuations().open(POLL_TOOL, POLL_ARGUMENTS, handle, now=time.time())
    except CursorError as exc:
        return _bad_handle(_why(exc.reason))
    operation = Operation.of(state)
    found = schema.find(operation.tool) if operation is not None else None
    if operation is None or found is None or found[1].long_running is None:
        return _bad_handle("it names no long-running tool of this contract")
    return operation, found[1], found[0].name


def _why(reason: str) -> str:
    """What a ``CursorError``'s reason means for a handle."""
    if reason == "expired":
        return "it expired"
    if reason == "tool":
        return "it was issued by another tool (a page cursor is not an operation handle)"
    return "it is not one appctl issued (changed, cut short, made up, or from elsewhere)"


def _bad_handle(why: str) -> ToolResult:
    message = f"{HANDLE_ARG} cannot be used: {why}; nothing was sent"
    hint = (
        "Pass operation.handle exactly as the timeout result gave it. If it expired, read the "
        "resource with the API's own tools to see whether the work ended; calling the "
        "original tool again starts the work again."
    )
    return ToolResult.failure(POLL_TOOL, ErrorCategory.VALIDATION, message, hint)
