"""What an operation answers when it succeeds, as its source documents it.

``Action.responses`` holds one ``Response`` per documented success status: each 2xx status
(``"200"``, ``"201"``...), the ``"2XX"`` range, or — only when the source declares no success
status at all — ``"default"`` (the status itself says it is the fallback). A response carries
its body's JSON Schema per media type (``content``; an empty schema where the media type is
declared without one) and its documented headers. Schemas refer to ``Contract.definitions``
exactly as argument schemas do, so a shape the document shares is written once.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PField

JsonSchema = dict[str, Any]
DEFAULT = "default"


class ResponseHeader(BaseModel):
    """A documented response header (``Link``, ``ETag``, ``X-RateLimit-Remaining``...)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    description: str = ""
    schema_: JsonSchema = PField(default_factory=dict, alias="schema")


class Response(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    status: str  # "200", "2XX", or "default" (only when no success status is declared)
    content: dict[str, JsonSchema] = PField(default_factory=dict)  # media type → body schema
    headers: dict[str, ResponseHeader] = PField(default_factory=dict)  # by declared name

    def matches(self, status: int) -> bool:
        """Whether this response documents an answer with HTTP ``status``."""
        if self.status == DEFAULT:
            return True
        if self.status.upper().endswith("XX"):
            return str(status)[:1] == self.status[:1]
        return self.status == str(status)


def is_json(media_type: str) -> bool:
    """``application/json``, ``application/problem+json``, ``...; charset=utf-8``."""
    kind = media_type.split(";", 1)[0].strip().lower()
    return kind == "application/json" or kind.endswith("+json") or kind == "text/json"


def json_schemas(responses: list[Response], status: int | None = None) -> list[JsonSchema]:
    """The JSON body schemas of the responses (of those documenting ``status``, when given):
    a media type declared without a schema gives ``{}`` (any value)."""
    chosen = responses
    if status is not None:
        exact = [r for r in responses if r.status == str(status)]
        ranged = [r for r in responses if r.status != DEFAULT and r.matches(status)]
        chosen = exact or ranged or [r for r in responses if r.status == DEFAULT]
    return [s for r in chosen for media, s in r.content.items() if is_json(media)]
