"""The one table from a call's machine-readable outcome to what each front end answers.

A ``ToolResult`` says what happened in fields, never only in words: ``outcome`` (ok, dry_run,
invalid, refused, failed), ``error.reason`` (why a gate refused it, or ``unknown_tool``) and
``error.category`` (what failed). ``key`` reduces a result to one of the table's keys, and
``answer`` gives the exit code (``appctl call``), the HTTP status (``appctl serve``) and whether
the MCP result is an error (``appctl mcp``). No front end reads a message's text.

HTTP statuses, decided so that monitoring reads a 5xx as "the application or appctl is down"
and a 4xx as "this request will not work as it is":

====================  ======  ====  ============================================================
outcome               status  exit  why
====================  ======  ====  ============================================================
ok, dry_run           200     0
invalid               400     2     the arguments were refused before any I/O
invalid unknown_tool  404     2     no tool of that name
refused (any reason)  403     3     a safety gate; the message says how this caller allows it
failed validation     422     1     the application refused the arguments it was sent
failed not_found      404     1     the application has no such row (or route)
failed permission     403     1     the application's credentials may not do this
failed auth           424     1     the application rejected appctl's credentials, or they are
                                    not set: the deployment's to fix (not 401: the caller's own
                                    token, if any, was fine)
failed unsupported    424     1     the route does not take this method or body: the contract
                                    is out of date, or the base URL names another application
failed conflict       409     1
failed rate_limited   429     1     an upstream 429 or appctl's per-tool limits (Retry-After)
failed timeout        504     1     the application did not answer within the call's deadline
failed server         502     1     the application failed
failed network        502     1     the application could not be reached
failed redirect       502     1     the application pointed elsewhere and appctl did not follow
failed internal       500     1     a bug in appctl
====================  ======  ====  ============================================================

On MCP every outcome is a result (never a protocol error); ``isError`` is true for all but ok
and dry_run.
"""

from __future__ import annotations

from dataclasses import dataclass

from appctl.execute.result import ErrorCategory, Reason, ToolResult

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_REFUSED = 0, 1, 2, 3


@dataclass(frozen=True, slots=True)
class Answer:
    """What one outcome is on each front end."""

    exit_code: int
    http_status: int
    mcp_error: bool


_FAILED_STATUS = {
    ErrorCategory.VALIDATION: 422,
    ErrorCategory.NOT_FOUND: 404,
    ErrorCategory.PERMISSION: 403,
    ErrorCategory.AUTH: 424,
    ErrorCategory.UNSUPPORTED: 424,
    ErrorCategory.CONFLICT: 409,
    ErrorCategory.RATE_LIMITED: 429,
    ErrorCategory.TIMEOUT: 504,
    ErrorCategory.SERVER: 502,
    ErrorCategory.NETWORK: 502,
    ErrorCategory.REDIRECT: 502,
    ErrorCategory.INTERNAL: 500,
}

OUTCOMES: dict[str, Answer] = {
    "ok": Answer(EXIT_OK, 200, False),
    "dry_run": Answer(EXIT_OK, 200, False),
    "invalid": Answer(EXIT_USAGE, 400, True),
    f"invalid:{Reason.UNKNOWN_TOOL}": Answer(EXIT_USAGE, 404, True),
    **{f"refused:{r}": Answer(EXIT_REFUSED, 403, True) for r in Reason},
    "refused": Answer(EXIT_REFUSED, 403, True),  # a refusal with no reason code
    **{f"failed:{c}": Answer(EXIT_FAILED, s, True) for c, s in _FAILED_STATUS.items()},
}


def key(result: ToolResult) -> str:
    """The table's key for a result: its outcome, and the reason or category that refines it
    (a ``refused`` category is always the refused outcome, so ``failed:refused`` is none)."""
    outcome = result.outcome
    error = result.error
    if error is None or outcome in ("ok", "dry_run"):
        return outcome
    if outcome == "failed":
        return f"failed:{error.category}"
    if outcome == "invalid":
        return f"invalid:{error.reason}" if error.reason == Reason.UNKNOWN_TOOL else "invalid"
    return f"refused:{error.reason}" if error.reason is not None else "refused"


def answer(result: ToolResult) -> Answer:
    """The exit code, HTTP status and MCP error flag of a result."""
    return OUTCOMES[key(result)]
