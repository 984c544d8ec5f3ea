"""A SQL list's continuation: the keyset state sealed into ``next_cursor``, and a ``cursor``
argument opened back into that state before any I/O (``execute/continuation.py`` signs,
binds and dates it).

Takes the action, the validated arguments and the call's sealer; gives the state the planner
resumes from (``plan.resume_after`` turns it into values) or a ``CursorError`` saying how to
restart, and for the run a function that seals the state after a row. The state is
``{"o": [[column, descending], ...], "v": [order values of the last row, as JSON]}``.

A cursor is bound to every argument but ``cursor`` and ``offset``: where, order_by and
limit must be repeated unchanged; the offset of the page it came from is not repeated (a
cursor already says where the next page starts, and plan refuses both at once).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from appctl.contract.models import Action, SqlTransport
from appctl.execute.continuation import CURSOR_ARG, Sealer, process_sealer

Seal = Callable[[Mapping[str, Any]], str]  # keyset state → the cursor a model is given


def bound(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """The arguments a cursor is bound to (the sealer leaves ``cursor`` out itself)."""
    return {k: v for k, v in arguments.items() if k != "offset"}


def _lists(action: Action) -> bool:
    transport = action.transport
    return isinstance(transport, SqlTransport) and transport.operation == "list"


def opened(action: Action, arguments: Mapping[str, Any], sealer: Sealer) -> dict[str, Any] | None:
    """The state in the call's ``cursor``, verified (None without one); raises CursorError."""
    token = arguments.get(CURSOR_ARG)
    if not token or not _lists(action):
        return None
    return sealer.open(action.name, bound(arguments), str(token))


def sealing(action: Action, arguments: Mapping[str, Any], sealer: Sealer | None = None) -> Seal:
    """What makes this call's ``next_cursor`` from the state after a row (None: this
    process's key)."""
    use, tool, binding = sealer or process_sealer(), action.name, bound(arguments)

    def seal(state: Mapping[str, Any]) -> str:
        return use.seal(tool, binding, state)

    return seal
