"""The ``cursor`` argument of a tool whose HTTP operation pages.

Takes an action and its tool spec; returns the spec with a ``cursor`` property when the
operation pages (``Action.pagination``): the continuation appctl returned in a result's
``next``, opened and checked before any I/O (``execute/http/resume.py``). An operation with an
argument of its own named ``cursor`` keeps it (a continuation passed there is still opened).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from appctl.contract.models import Action
    from appctl.generate.toolspec import ToolSpec

CURSOR = "cursor"  # execute.continuation.CURSOR_ARG (generate sits below execute)
CURSOR_SCHEMA: dict[str, Any] = {
    "description": "For the next page: next.cursor of the previous result; repeat the other "
    "arguments unchanged.",
    "type": "string",
}


def takes_cursor(action: Action) -> bool:
    return (
        action.transport.kind == "http"
        and action.pagination is not None
        and action.field(CURSOR) is None
    )


def with_cursor(action: Action, spec: ToolSpec) -> ToolSpec:
    if not takes_cursor(action):
        return spec
    properties = {**spec.input_schema.get("properties", {}), CURSOR: CURSOR_SCHEMA}
    return replace(spec, input_schema={**spec.input_schema, "properties": properties})
