"""Body fields and their values → the body's bytes and Content-Type (pure: no I/O).

Takes the contract's body (media type, mode) and the body fields with their per-property
encoding (the OpenAPI Encoding Object as the contract records it on each ``Field``: ``style``,
``explode``, ``allow_reserved``, ``content_type``, ``headers``); returns a ``Body``:

- ``application/x-www-form-urlencoded``: each field by its style (form, exploded, by default:
  an array repeats the name, an object sends one pair per property), ``+`` for a space; a
  field with a JSON ``content_type`` is sent as JSON text.
- ``multipart/form-data`` (with or without a file part): a field with an explicit style is
  sent as the parts its pairs make (Swagger 2.0 ``collectionFormat``); otherwise an array is
  one part per item, an object one ``application/json`` part, a binary value a file part
  (``filename`` = the field's name, the declared content type or
  ``application/octet-stream``), any other value a text part; each part carries the field's
  declared headers.
- one value (``mode: value``): JSON for JSON media types, bytes for a binary value (base64
  decoded when the contract marks it ``contentEncoding: base64``), UTF-8 text otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from appctl.contract.models import Field, HttpBody
from appctl.execute.http.encode import (
    Part,
    by_media_type,
    decode_binary,
    multipart,
    pairs,
    query_pieces,
    text,
)

FORM = "application/x-www-form-urlencoded"
JSON_PART = "application/json"


@dataclass(frozen=True, slots=True)
class Body:
    """What to send: a JSON value (``json``) or exact bytes (``content``), the Content-Type to
    declare (None: the default for JSON), and the sizes of binary parts (for a dry run)."""

    json: Any = None
    content: bytes | None = None
    content_type: str | None = None
    binary: bool = False


def is_binary(schema: Mapping[str, Any]) -> bool:
    return schema.get("format") == "binary" or schema.get("contentEncoding") == "base64"


def _bytes_of(name: str, schema: Mapping[str, Any], value: Any) -> bytes:
    return decode_binary(name, value, base64_text=schema.get("contentEncoding") == "base64")


def value_body(body: HttpBody, field: Field, value: Any) -> Body:
    kind = body.content_type.split(";")[0].strip().lower()
    if "json" in kind:
        typed = None if kind == "application/json" else body.content_type
        return Body(json=value, content_type=typed)
    if is_binary(field.schema_):
        raw = _bytes_of(field.name, field.schema_, value)
        return Body(content=raw, content_type=body.content_type, binary=True)
    if isinstance(value, str):
        return Body(content=value.encode("utf-8"), content_type=body.content_type)
    return Body(json=value)


def form_body(fields: list[Field], args: Mapping[str, Any]) -> Body:
    pieces: list[str] = []
    for f in fields:
        media = f.content_type if f.content_type and "json" in f.content_type.lower() else None
        pieces += query_pieces(
            f.wire,
            args[f.name],
            f.style,
            f.explode,
            allow_reserved=f.allow_reserved,
            media_type=media,
            plus=True,
        )
    return Body(content="&".join(pieces).encode("ascii"), content_type=FORM)


def multipart_body(fields: list[Field], args: Mapping[str, Any]) -> Body:
    parts: list[Part] = []
    binary = False
    for f in fields:
        made = _field_parts(f, args[f.name])
        binary = binary or any(p[2] is not None for p in made)
        parts += made
    content, kind = multipart(parts)
    return Body(content=content, content_type=kind, binary=binary)


def _field_parts(f: Field, value: Any) -> list[Part]:
    headers = dict(f.headers)
    if f.style is not None and not is_binary(f.schema_):
        return [
            (k, v.encode("utf-8"), None, f.content_type, headers)
            for k, v in pairs(f.wire, value, f.style, f.explode)
        ]
    if isinstance(value, list) and not _json_declared(f):
        items = f.schema_.get("items")
        item_schema = items if isinstance(items, dict) else {}
        return [_part(f, item_schema, item, headers) for item in value]
    return [_part(f, f.schema_, value, headers)]


def _json_declared(f: Field) -> bool:
    return bool(f.content_type and "json" in f.content_type.lower())


def _part(f: Field, schema: Mapping[str, Any], value: Any, headers: dict[str, str]) -> Part:
    declared = (f.content_type or "").split(",")[0].strip() or None
    if is_binary(schema):
        raw = _bytes_of(f.name, schema, value)
        return (f.wire, raw, f.wire, declared or "application/octet-stream", headers)
    if isinstance(value, dict | list):
        kind = declared or JSON_PART
        return (f.wire, by_media_type(value, kind).encode("utf-8"), None, kind, headers)
    content = by_media_type(value, declared) if declared else text(value)
    return (f.wire, content.encode("utf-8"), None, declared, headers)


def shown(body: Body) -> Any:
    """The body a dry run shows: the exact text sent, or its size and digest when it holds
    binary content (or is not UTF-8)."""
    import hashlib

    if body.content is None:
        return body.json
    if not body.binary:
        try:
            return body.content.decode("utf-8")
        except UnicodeDecodeError:
            pass
    digest = hashlib.sha256(body.content).hexdigest()
    return {"bytes": len(body.content), "sha256": digest}


def json_text(value: Any) -> str:
    """A JSON body exactly as it is sent (``http.wire_request``): compact, UTF-8."""
    import json

    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
