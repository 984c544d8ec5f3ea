"""What the contract records about how a value is encoded on the wire, from the document.

``binary_input`` marks a binary value (given by the model as base64 text); ``fixed_value``
reads the value of an Encoding Object header that has exactly one (const, single enum or
default), the only kind a part can carry without asking the model.
"""

from __future__ import annotations

from typing import Any

JsonSchema = dict[str, Any]


def fixed_value(schema: dict[str, Any]) -> str | None:
    enum = schema.get("enum")
    for value in (
        schema.get("const"),
        enum[0] if isinstance(enum, list) and len(enum) == 1 else None,
        schema.get("default"),
    ):
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            return str(value)
    return None


def binary_input(schema: JsonSchema) -> JsonSchema:
    """A binary value (``format: binary``, or a non-text ``contentMediaType`` without an
    encoding) is taken from the model as base64 text: the schema says so with
    ``contentEncoding: base64`` (tool formats that drop the keyword say it in a note); an
    array of binary items likewise."""
    items = schema.get("items")
    if schema.get("type") == "array" and isinstance(items, dict) and _is_binary(items):
        return {**schema, "items": {**items, "contentEncoding": "base64"}}
    if not _is_binary(schema):
        return schema
    return {**schema, "contentEncoding": "base64"}


def _is_binary(schema: JsonSchema) -> bool:
    if "contentEncoding" in schema:
        return False
    if schema.get("format") == "binary":
        return True
    media = schema.get("contentMediaType")
    return (
        isinstance(media, str)
        and schema.get("type", "string") == "string"
        and not media.startswith("text/")
        and "json" not in media
        and "xml" not in media
    )
