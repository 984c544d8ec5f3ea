"""Continuing an HTTP list where its page ended: cursors sealed after a call, opened before one.

After a call, ``with_next`` finds where the next page is (``paging.find_next``: from the
answer, or from the last item shown when the budget cut a list continued by its last item's
id), and ``sealed`` turns that state into ``{"cursor": <sealed>, "hint"}``
(``continuation.Sealer``, bound to the tool and the caller's other arguments). Before a call,
``prepare_continued`` opens a ``cursor`` argument — before any I/O: a tampered, cut, expired,
foreign or other-arguments cursor is a ``validation`` result saying how to start over — and
builds the request of the server's real continuation: its next URL (same origin as the
request, the call's own credentials applied again) or the caller's arguments with the token
in its argument. A native ``cursor`` argument of the operation keeps working: a value that
is not an appctl continuation (``c1.`` prefix) is passed to the API as given.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from appctl.contract.models import Action, Contract, Field, HttpTransport
from appctl.execute.continuation import CURSOR_ARG, PREFIX, CursorError, Sealer
from appctl.execute.http.paging import find_next
from appctl.execute.http.request import Request
from appctl.execute.result import ErrorCategory, ToolResult

Prepared = Any  # executor.prepare's answer: (action, request, resource) or a ToolResult
CUT = (
    "this page was cut to fit (see notes) and the cursor goes on after the whole page as the "
    "server sent it: ask for fewer items per page to see the ones left out"
)


def with_next(
    action: Action, request: Request, raw: ToolResult, shown: ToolResult, *, cut: bool
) -> ToolResult:
    """``shown`` (the result as fitted to the budget) with the continuation ``raw`` (the result
    as answered) gives, still to be sealed. A continuation made from the last item (Stripe's
    ``has_more``) is made from the last item shown when the budget cut the list; any other goes
    on after the server's whole page, and says so when the page was cut."""
    if not raw.ok or (action.pagination is None and not raw.headers):
        return shown
    url, headers = request.full_url(), raw.headers or {}
    found = find_next(action, url=url, headers=headers, data=raw.body)
    if found.after_shown and cut:
        found = find_next(action, url=url, headers=headers, data=shown.body)
    if found.state is not None:
        state = _without_credentials(found.state, request)
        hint = CUT if cut and not found.after_shown else ""
        return shown.model_copy(update={"next": {"state": state, "hint": hint}})
    if found.problem:
        return shown.model_copy(update={"notes": [*shown.notes, found.problem]})
    return shown


def _without_credentials(state: dict[str, Any], request: Request) -> dict[str, Any]:
    """A next URL without the query credentials the request carried (a server may echo
    them): a continuation is signed, not secret, and they are applied again on resume."""
    url = state.get("url")
    secret = {name for name, _ in request.params}
    if not isinstance(url, str) or not secret:
        return state
    parts = urlsplit(url)
    pairs = [p for p in parts.query.split("&") if p and _name(p) not in secret]
    return {**state, "url": urlunsplit(parts._replace(query="&".join(pairs)))}


def _name(piece: str) -> str:
    pairs = parse_qsl(piece, keep_blank_values=True)
    return pairs[0][0] if pairs else piece


def sealed(result: ToolResult, tool: str, given: Mapping[str, Any], sealer: Sealer) -> ToolResult:
    """The result with its continuation state sealed into an opaque cursor."""
    found = result.next
    if found is None or "state" not in found:
        return result
    bound = {k: v for k, v in given.items() if k != CURSOR_ARG}
    token = sealer.seal(tool, bound, found["state"])
    hint = found.get("hint") or (
        f"for the next page call {tool} again with the same arguments and {CURSOR_ARG} set to this"
    )
    return result.model_copy(update={"next": {CURSOR_ARG: token, "hint": hint}})


def prepare_continued(
    prepare: Callable[..., Prepared],
    schema: Contract,
    tool: str,
    given: Mapping[str, Any],
    sealer: Sealer,
    *rest: Any,
) -> Prepared:
    """``prepare(schema, tool, arguments, *rest)``, with a cursor opened first."""
    action = schema.action(tool)
    token: Any = given.get(CURSOR_ARG) if isinstance(given, Mapping) else None
    if not _ours(action, token):
        if token is None and _added(action) and CURSOR_ARG in given:  # a strict model's null
            given = {k: v for k, v in given.items() if k != CURSOR_ARG}
        return prepare(schema, tool, given, *rest)
    assert action is not None
    try:
        state = sealer.open(tool, given, token)
    except CursorError as exc:
        return ToolResult.failure(tool, ErrorCategory.VALIDATION, str(exc))
    arguments = {k: v for k, v in given.items() if k != CURSOR_ARG}
    param, url = state.get("param"), state.get("url")
    field = _field(action, param) if isinstance(param, str) else None
    if field is not None:
        arguments[field.name] = _typed(field, state.get("value"))
    elif not isinstance(url, str):
        message = f"{CURSOR_ARG} holds no continuation {tool} can use: call it again without it"
        return ToolResult.failure(tool, ErrorCategory.VALIDATION, message)
    prepared = prepare(schema, tool, arguments, *rest)
    if isinstance(prepared, ToolResult) or not isinstance(url, str):
        return prepared
    found, request, resource = prepared
    moved = at_url(request, url)
    if moved is None:
        message = f"{CURSOR_ARG} leads to another origin than the API: call {tool} without it"
        return ToolResult.failure(tool, ErrorCategory.VALIDATION, message)
    return found, moved, resource


def _added(action: Action | None) -> bool:
    """Whether the tool's ``cursor`` argument is appctl's (not one of the operation's own)."""
    return (
        action is not None
        and isinstance(action.transport, HttpTransport)
        and action.field(CURSOR_ARG) is None
    )


def _ours(action: Action | None, token: Any) -> bool:
    """Whether ``token`` is a continuation to open: an HTTP tool's ``cursor`` argument that is
    not the operation's own (or is, and holds an appctl continuation)."""
    if action is None or not isinstance(action.transport, HttpTransport) or token is None:
        return False
    native = action.field(CURSOR_ARG) is not None
    return not native or (isinstance(token, str) and token.startswith(PREFIX + "."))


def _field(action: Action, param: str) -> Field | None:
    """The argument a token goes into, by its name, else by its wire name (an override may
    have renamed it since sync)."""
    return action.field(param) or next((f for f in action.parameters if f.wire == param), None)


def _typed(field: Field, value: Any) -> Any:
    """A token as its argument takes it: a page number from a header is text."""
    kind = field.schema_.get("type")
    if kind == "integer" and isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if kind == "string" and isinstance(value, int):
        return str(value)
    return value


def at_url(request: Request, url: str) -> Request | None:
    """The request sent to the server's next URL instead: same origin only; the query of the
    URL replaces the arguments' query, the credentials (query, headers, cookies) stay."""
    parts, base = urlsplit(url), urlsplit(request.url)
    if (parts.scheme, parts.netloc.lower()) != (base.scheme, base.netloc.lower()):
        return None
    bare = urlunsplit(parts._replace(query="", fragment=""))
    pieces = [p for p in parts.query.split("&") if p]
    return replace(request, url=bare, query=pieces)
