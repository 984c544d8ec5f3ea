"""Swagger 2.0 pieces → their OpenAPI 3.x shapes, per operation (no whole-document rewrite).

Refs keep pointing into the original document (``#/definitions/...``), so nothing has to be
moved; only the places where 2.0 differs in shape are converted: non-body parameters carry
their schema inline, ``in: body``/``in: formData`` become a request body, ``collectionFormat``
becomes ``style``/``explode``, ``host``/``basePath``/``schemes`` become a server URL, and
``securityDefinitions`` become security schemes.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

_SCHEMA_KEYS = (
    "type",
    "format",
    "items",
    "enum",
    "default",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "uniqueItems",
    "multipleOf",
    "x-nullable",
    "example",
)
# collectionFormat → (style, explode)
COLLECTION_FORMATS: dict[str, tuple[str, bool]] = {
    "csv": ("form", False),
    "ssv": ("spaceDelimited", False),
    "tsv": ("tabDelimited", False),
    "pipes": ("pipeDelimited", False),
    "multi": ("form", True),
}
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"


def parameter(param: dict[str, Any]) -> dict[str, Any]:
    """A 2.0 non-body parameter in 3.x shape (schema nested, collectionFormat → style)."""
    out = {k: v for k, v in param.items() if k in ("name", "in", "required", "description")}
    out["schema"] = _schema_of(param)
    if param.get("type") == "array":
        style, explode = COLLECTION_FORMATS.get(
            param.get("collectionFormat", "csv"), ("form", False)
        )
        if out.get("in") in ("path", "header") and style == "form":
            style = "simple"  # csv in a path or header is OpenAPI 3's simple style
        out["style"], out["explode"] = style, explode
    return out


def _schema_of(param: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in param.items() if k in _SCHEMA_KEYS}


SOURCES = "x-appctl-sources"  # form field name → the pointer of its formData parameter


def request_body(
    params: list[dict[str, Any]], consumes: list[str], *, pointers: list[str] | None = None
) -> dict[str, Any] | None:
    """The 3.x requestBody for a 2.0 operation's ``body`` or ``formData`` parameters.

    With ``pointers`` (each parameter's), a form body records where each field came from
    (under ``SOURCES``), so a warning about a field can name the parameter."""
    body = next((p for p in params if p.get("in") == "body"), None)
    if body is not None:
        types = [c for c in consumes if "json" in c] or consumes or ["application/json"]
        return {
            "description": body.get("description", ""),
            "required": bool(body.get("required")),
            "content": {types[0]: {"schema": body.get("schema", {})}},
        }
    form = [p for p in params if p.get("in") == "formData"]
    if not form:
        return None
    sources = {
        str(p.get("name", "")): ptr
        for p, ptr in zip(params, pointers or [], strict=False)
        if p.get("in") == "formData"
    }
    has_file = any(p.get("type") == "file" for p in form)
    media = MULTIPART if has_file or (MULTIPART in consumes and FORM not in consumes) else FORM
    properties: dict[str, Any] = {}
    encoding: dict[str, Any] = {}
    for p in form:
        name = p.get("name", "")
        schema = _schema_of(p)
        if schema.get("type") == "file":  # legal here only: a file part
            schema.update(type="string", format="binary")
        if p.get("description"):
            schema["description"] = p["description"]
        properties[name] = schema
        if p.get("type") == "array":  # csv unless said otherwise, as for every 2.0 array
            fmt = p.get("collectionFormat", "csv")
            style, explode = COLLECTION_FORMATS.get(fmt, ("form", False))
            encoding[name] = {"style": style, "explode": explode}
    required = [p.get("name", "") for p in form if p.get("required")]
    body_schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        body_schema["required"] = required
    media_object: dict[str, Any] = {"schema": body_schema}
    if encoding:
        media_object["encoding"] = encoding
    body = {"required": bool(required), "content": {media: media_object}}
    if sources:
        body[SOURCES] = sources
    return body


def server_url(doc: dict[str, Any], *, spec_url: str | None = None) -> str | None:
    """host + basePath + schemes as one URL. Without a host, the basePath alone (resolved
    against the document's URL by the caller); without schemes, the document's own scheme
    when it came from a URL, else https."""
    host = doc.get("host")
    base_path = doc.get("basePath") or ""
    if not isinstance(base_path, str):
        base_path = ""
    if not host:
        return base_path or None
    given = doc.get("schemes")
    schemes = [str(s) for s in given] if isinstance(given, list) and given else []
    if not schemes:
        own = urlsplit(spec_url).scheme if spec_url else ""
        schemes = [own if own in ("http", "https") else "https"]
    scheme = "https" if "https" in schemes else schemes[0]
    return f"{scheme}://{host}{base_path}".rstrip("/")


def security_scheme(scheme: dict[str, Any]) -> dict[str, Any]:
    """A 2.0 securityDefinition in 3.x shape."""
    kind = scheme.get("type")
    if kind == "basic":
        return {"type": "http", "scheme": "basic", "description": scheme.get("description", "")}
    return dict(scheme)
