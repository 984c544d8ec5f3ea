"""An operation's documented success responses → the contract's ``Response`` list.

Takes the operation's ``responses`` object (OpenAPI 3.x, or Swagger 2.0 with its ``produces``);
returns one ``Response`` per success status in declared order: each ``2xx`` status and the
``2XX`` range, or ``default`` only when neither is declared. Each keeps its body schema per
media type and its documented headers (``Content-Type`` aside: OpenAPI says it is ignored).
Schemas go through the same ``Converter`` as argument schemas: ``$ref``s become shared
definitions, known mistakes are repaired and what is still invalid is loosened, each with a
warning naming its JSON pointer. A response that cannot be read is a warning; the operation
keeps the rest.
"""

from __future__ import annotations

from typing import Any

from appctl.contract.responses import DEFAULT, Response, ResponseHeader
from appctl.sync.openapi import swagger2
from appctl.sync.openapi.fields import Context
from appctl.sync.openapi.refs import RefProblem, Target, join_pointer

SWAGGER_MEDIA = "application/json"  # a 2.0 response's media type when nothing is produced


def success_statuses(responses: dict[Any, Any]) -> list[str]:
    """The success statuses declared, in order; ``default`` only when there are none."""
    codes = [str(c) for c in responses if _success(str(c))]
    if not codes and DEFAULT in responses:
        return [DEFAULT]
    return codes


def _success(code: str) -> bool:
    return code.upper() == "2XX" or (len(code) == 3 and code.startswith("2") and code.isdigit())


def success_responses(
    ctx: Context, op: dict[str, Any], *, doc: str, pointer: str
) -> list[Response]:
    """The documented success responses of the operation at ``pointer``."""
    raw = op.get("responses")
    if not isinstance(raw, dict):
        return []
    keyed = {str(k): v for k, v in raw.items()}
    out: list[Response] = []
    for status in success_statuses(keyed):
        where = join_pointer(pointer, "responses", status)
        try:
            target = ctx.resolver.follow(keyed[status], doc, where)
        except RefProblem as exc:
            ctx.warn(f"response skipped: {exc}", where)
            continue
        if not isinstance(target.value, dict):
            ctx.warn("response skipped: it is not an object", where)
            continue
        content = _swagger_content(ctx, op, target) if ctx.swagger else _content(ctx, target)
        headers = _headers(ctx, target)
        out.append(Response(status=status, content=content, headers=headers))
    return out


def _content(ctx: Context, target: Target) -> dict[str, Any]:
    content = target.value.get("content")
    if not isinstance(content, dict):
        return {}
    out: dict[str, Any] = {}
    for media, media_object in content.items():
        if not isinstance(media, str) or not media.strip():
            continue
        raw = media_object.get("schema") if isinstance(media_object, dict) else None
        where = join_pointer(target.pointer, "content", media, "schema")
        out[media.strip()] = _convert(ctx, raw, target.doc, where)
    return out


def _swagger_content(ctx: Context, op: dict[str, Any], target: Target) -> dict[str, Any]:
    """A 2.0 response's ``schema`` under each media type the operation produces."""
    if "schema" not in target.value:
        return {}
    own = op.get("produces")
    media_types = own if isinstance(own, list) else ctx.produces or [SWAGGER_MEDIA]
    raw = target.value["schema"]
    if isinstance(raw, dict) and raw.get("type") == "file":  # legal in a 2.0 response only
        raw = {**raw, "type": "string", "format": "binary"}
    where = join_pointer(target.pointer, "schema")
    schema = _convert(ctx, raw, target.doc, where)
    return {m.strip(): schema for m in media_types if isinstance(m, str) and m.strip()}


def _convert(ctx: Context, raw: Any, doc: str, where: str) -> dict[str, Any]:
    if raw is None:
        return {}
    return ctx.converter.convert(raw, doc=doc, pointer=where)


def _headers(ctx: Context, target: Target) -> dict[str, ResponseHeader]:
    declared = target.value.get("headers")
    if not isinstance(declared, dict):
        return {}
    out: dict[str, ResponseHeader] = {}
    for name, header in declared.items():
        if not isinstance(name, str) or name.lower() == "content-type":
            continue
        where = join_pointer(target.pointer, "headers", name)
        try:
            found = ctx.resolver.follow(header, target.doc, where)
        except RefProblem as exc:
            ctx.warn(f"response header skipped: {exc}", where)
            continue
        value = found.value if isinstance(found.value, dict) else {}
        out[name] = _header(ctx, value, found)
    return out


def _header(ctx: Context, value: dict[str, Any], found: Target) -> ResponseHeader:
    if ctx.swagger:  # 2.0: the schema's keywords sit on the header itself
        raw: Any = swagger2.parameter({**value, "name": "", "in": "header"})["schema"]
        where = found.pointer
    else:
        raw = value.get("schema")
        where = join_pointer(found.pointer, "schema")
        content = value.get("content")
        if raw is None and isinstance(content, dict) and content:
            media, media_object = next(iter(content.items()))
            raw = media_object.get("schema") if isinstance(media_object, dict) else None
            where = join_pointer(found.pointer, "content", str(media), "schema")
    schema = _convert(ctx, raw, found.doc, where)
    text = value.get("description")
    description = text.strip() if isinstance(text, str) else ""
    if schema.get("description") == description:
        del schema["description"]
    return ResponseHeader(description=description, schema_=schema)
