"""Which tools take ``fields`` (keep only some fields of the result), and its schema.

Offered on HTTP tools that only read and answer JSON (or declare nothing): the projection
itself is ``execute.project``. Write tools are left out: their answer is usually the one
object they changed, and the argument would cost every tool of a large API tokens for little.
A tool whose operation has an argument named ``fields`` of its own (Google's, Jira's partial
responses) keeps that one and is not offered appctl's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from appctl.contract.kinds import Safety

if TYPE_CHECKING:
    from appctl.contract.models import Action

FIELDS_ARG = "fields"
NO_BODY_METHODS = frozenset(("HEAD", "OPTIONS"))  # answers with nothing to project
FIELDS_SCHEMA: dict[str, Any] = {
    # 27 o200k tokens with the schema; the guide gives the rest of the syntax (a name at an
    # array applies to each item, so owner.login's form covers lists too)
    "description": "Result fields to keep, e.g. owner.login",
    "type": "array",
    "items": {"type": "string"},
}


def answers_json(accept: list[str] | None) -> bool:
    """The operation's declared success media types include JSON, or none are declared."""
    return accept is None or not accept or any("json" in kind.lower() for kind in accept)


def offers_fields(action: Action) -> bool:
    from appctl.contract.models import HttpTransport

    transport = action.transport
    return (
        isinstance(transport, HttpTransport)
        and action.safety == Safety.READ_ONLY
        and transport.method.upper() not in NO_BODY_METHODS
        and answers_json(transport.accept)
        and all(f.name != FIELDS_ARG for f in action.parameters)
    )


def with_fields(schema: dict[str, Any]) -> dict[str, Any]:
    """An input schema with ``fields`` added last (a copy: schemas may be shared)."""
    properties = {**schema.get("properties", {}), FIELDS_ARG: dict(FIELDS_SCHEMA)}
    return {**schema, "properties": properties}
