"""An operation's parameters and request body → the contract's ``Field`` list.

Takes 3.x-shaped parameter and requestBody objects (2.0 ones are reshaped by ``swagger2``);
returns typed fields with full JSON Schemas, the body's encoding, and tool-facing names made
unique deterministically: path, then query, header, cookie and body keep their names in that
order, and a later collision is renamed ``<location>_<name>`` with the wire name kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

import orjson

from appctl.contract.models import Auth, Field, HttpBody, Location
from appctl.contract.names import arg_name, dedupe
from appctl.errors import REPAIR, Diagnostic
from appctl.sync.openapi import swagger2
from appctl.sync.openapi.encoding import binary_input, fixed_value
from appctl.sync.openapi.jsonschema import Converter, JsonSchema
from appctl.sync.openapi.refs import RefProblem, Resolver, Target, join_pointer

LOCATION_ORDER = (Location.PATH, Location.QUERY, Location.HEADER, Location.COOKIE, Location.BODY)
IGNORED_HEADERS = frozenset(("accept", "content-type", "authorization"))
_TEMPLATE_VARIABLE = re.compile(r"\{([^{}/]+)\}")
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"


@dataclass
class Context:
    """What every operation of one document is converted with."""

    resolver: Resolver
    converter: Converter
    swagger: bool
    consumes: list[str] = field(default_factory=list)
    produces: list[str] | None = None  # Swagger 2.0's document-level list; None for 3.x
    # Parameters shared through $ref are converted once: (document, pointer) → Field.
    shared: dict[tuple[str, str], Field | None] = field(default_factory=dict)
    # Arguments of the same content are one Field object: a large API repeats its inline path
    # parameters and its entities' properties in thousands of operations (Microsoft Graph:
    # 143,000 arguments, 20,000 distinct). Keyed by content; fields are never changed in place.
    alike: dict[bytes, Field | None] = field(default_factory=dict)
    # (location, name) of API-key credentials: supplied from env:, never by the model.
    credentials: frozenset[tuple[str, str]] = frozenset()
    spec_url: str | None = None  # relative server URLs resolve against it

    def is_credential(self, f: Field) -> bool:
        return _slot(f.location.value, f.wire) in self.credentials

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return self.converter.diagnostics

    def warn(self, message: str, pointer: str) -> None:
        self.diagnostics.append(Diagnostic(message, pointer))


def _slot(location: str, name: str) -> tuple[str, str]:
    return location, name.lower() if location == "header" else name


def credential_slots(auth: Auth) -> frozenset[tuple[str, str]]:
    """Where each API key of the document travels; a parameter there is the credential."""
    return frozenset(
        _slot(s.location, s.param_name)
        for s in auth.schemes
        if s.type == "api_key" and s.location and s.param_name
    )


def merge_parameters(
    ctx: Context, item_params: Any, op_params: Any, *, doc: str, item_ptr: str, op_ptr: str
) -> list[Target]:
    """Path-item then operation parameters, refs followed; the operation's win on (in, name)."""
    merged: dict[tuple[str, str], Target] = {}
    for raw, ptr in ((item_params, item_ptr), (op_params, op_ptr)):
        if not isinstance(raw, list):
            continue
        for index, param in enumerate(raw):
            where = join_pointer(ptr, "parameters", index)
            try:
                target = ctx.resolver.follow(param, doc, where)
            except RefProblem as exc:
                ctx.warn(f"parameter skipped: {exc}", where)
                continue
            value = target.value
            if not isinstance(value, dict) or not isinstance(value.get("name"), str):
                ctx.warn("parameter skipped: it has no name", where)
                continue
            merged[(str(value.get("in")), value["name"])] = target
    return list(merged.values())


def parameter_field(ctx: Context, target: Target) -> Field | None:
    key = (target.doc, target.pointer)
    if key not in ctx.shared:
        ctx.shared[key] = _alike_parameter(ctx, target)
    return ctx.shared[key]


def _alike_parameter(ctx: Context, target: Target) -> Field | None:
    """``_parameter_field``, made once per content (and document: refs resolve against it);
    a parameter that raised a warning is made again where it appears, so that each of its
    places is named in a warning."""
    try:
        content = b"p" + target.doc.encode() + b"\0" + orjson.dumps(target.value)
    except TypeError:  # not plain JSON (a YAML document's odd keys): made each time
        return _parameter_field(ctx, target)
    if content in ctx.alike:
        return ctx.alike[content]
    start = len(ctx.diagnostics)
    made = _parameter_field(ctx, target)
    if len(ctx.diagnostics) == start:
        ctx.alike[content] = made
    return made


def _parameter_field(ctx: Context, target: Target) -> Field | None:
    param: dict[str, Any] = target.value
    where = target.pointer
    if ctx.swagger:
        param = swagger2.parameter(param)
    location = param.get("in")
    if location not in ("path", "query", "header", "cookie"):
        ctx.warn(f"parameter {param['name']!r} skipped: unknown location {location!r}", where)
        return None
    if location == "header" and param["name"].lower() in IGNORED_HEADERS:
        return None  # the OpenAPI spec says these header parameters are ignored
    content_type = None
    raw_schema = param.get("schema")
    content = param.get("content")
    if raw_schema is None and isinstance(content, dict) and content:
        content_type, media = next(iter(content.items()))
        raw_schema = media.get("schema") if isinstance(media, dict) else None
    schema = ctx.converter.convert(
        raw_schema if raw_schema is not None else {},
        doc=target.doc,
        pointer=where if ctx.swagger else join_pointer(where, "schema"),  # 2.0: keys inline
    )
    if "example" in param and "examples" not in schema:
        schema["examples"] = [param["example"]]
    named = param.get("examples")  # OpenAPI 3: a map of Example Objects
    if isinstance(named, dict) and "examples" not in schema:
        values = [e["value"] for e in named.values() if isinstance(e, dict) and "value" in e]
        if values:
            schema["examples"] = values
    description = _take_description(param.get("description"), schema)
    return Field(
        name=arg_name(param["name"]),
        wire_name=param["name"] if arg_name(param["name"]) != param["name"] else None,
        location=Location(location),
        required=True if location == "path" else bool(param.get("required")),
        description=description,
        schema_=schema,
        style=param.get("style") if isinstance(param.get("style"), str) else None,
        explode=param.get("explode") if isinstance(param.get("explode"), bool) else None,
        content_type=content_type,
        allow_reserved=location == "query" and param.get("allowReserved") is True,
        deprecated=param.get("deprecated") is True,
    )


def template_fields(ctx: Context, path: str, fields: list[Field], *, pointer: str) -> list[Field]:
    """A required string argument for each ``{variable}`` of ``path`` that no path parameter
    declares (httpbin's ``/etag/{etag}``): without it the request would go out with the literal
    ``{etag}`` in its URL."""
    declared = {f.wire for f in fields if f.location == Location.PATH}
    added: list[Field] = []
    for variable in dict.fromkeys(_TEMPLATE_VARIABLE.findall(path)):
        if variable in declared:
            continue
        ctx.diagnostics.append(
            Diagnostic(
                f"path variable {{{variable}}} has no path parameter; "
                "added as a required string argument",
                pointer,
                kind=REPAIR,
            )
        )
        added.append(
            Field(
                name=arg_name(variable),
                wire_name=variable if arg_name(variable) != variable else None,
                location=Location.PATH,
                required=True,
                description=f"The {{{variable}}} part of the path.",
                schema_={"type": "string"},
            )
        )
    return added


def _take_description(given: Any, schema: JsonSchema) -> str:
    """The field's description: the parameter's own, else the schema's (moved, not copied)."""
    text = given.strip() if isinstance(given, str) else ""
    inner = schema.get("description")
    if isinstance(inner, str) and (not text or inner.strip() == text):
        text = text or inner.strip()
        del schema["description"]
    return text


def _pick_media(content: dict[str, Any]) -> str:
    if "application/json" in content:
        return "application/json"
    types = list(content)
    for wanted in (lambda t: "json" in t, lambda t: t == FORM, lambda t: t == MULTIPART):
        match = next((t for t in types if wanted(t.lower().split(";")[0].strip())), None)
        if match:
            return match
    return types[0]


def body_fields(
    ctx: Context, body: Any, *, doc: str, pointer: str
) -> tuple[HttpBody | None, list[Field]]:
    if body is None:
        return None, []
    try:
        target = ctx.resolver.follow(body, doc, pointer)
    except RefProblem as exc:
        ctx.warn(f"request body skipped: {exc}", pointer)
        return None, []
    content = target.value.get("content") if isinstance(target.value, dict) else None
    if not isinstance(content, dict) or not content:
        return None, []
    media_type = _pick_media(content)
    media: dict[str, Any] = content[media_type] if isinstance(content[media_type], dict) else {}
    required = target.value.get("required") is True
    where = join_pointer(target.pointer, "content", media_type, "schema")
    raw = media.get("schema")
    if raw is None and media_type.lower().startswith("text/"):
        raw = {"type": "string"}
    elif raw is None and not any(k in media_type for k in ("json", "form", "xml")):
        raw = {"type": "string", "format": "binary"}
    start = len(ctx.diagnostics)
    schema = ctx.converter.convert(raw if raw is not None else {}, doc=target.doc, pointer=where)
    _point_at_sources(ctx, start, where, target.value.get(swagger2.SOURCES))
    shape = object_shape(ctx.converter, schema)
    description = target.value.get("description")
    if shape is not None and not shape[0] and _closed(ctx.converter.resolve_local(schema)):
        # an object that allows no properties at all: there is nothing to send
        return HttpBody(content_type=media_type, required=required, mode="fields"), []
    if shape is not None:
        shape = _writable(ctx.converter, shape)
    if shape is None or not shape[0]:
        text = _take_description(description, schema) or "The request body."
        if "json" not in media_type.lower():
            schema = binary_input(schema)
        field_ = Field(
            name="body",
            location=Location.BODY,
            required=required,
            schema_=schema,
            description=text,
        )
        return HttpBody(content_type=media_type, required=required, mode="value"), [field_]
    encoding: dict[str, Any] = media.get("encoding") or {}
    if not isinstance(encoding, dict):
        encoding = {}
    parts = "json" not in media_type.lower()  # a JSON body's binary values are JSON strings
    fields = [
        _alike_property(ctx, name, prop, name in shape[1], enc, parts=parts, doc=target.doc)
        for name, prop in shape[0].items()
        for enc in [encoding.get(name)]
    ]
    text = description.strip() if isinstance(description, str) else ""
    text = text or str(ctx.converter.resolve_local(schema).get("description") or "").strip()
    body = HttpBody(content_type=media_type, required=required, mode="fields", description=text)
    return body, fields


def _point_at_sources(ctx: Context, start: int, where: str, sources: Any) -> None:
    """Warnings about a Swagger 2.0 form field name its formData parameter, which is what the
    document holds (the request body they are converted into is appctl's own)."""
    if not isinstance(sources, dict):
        return
    for index in range(start, len(ctx.diagnostics)):
        diagnostic = ctx.diagnostics[index]
        for name, pointer in sources.items():
            prefix = join_pointer(where, "properties", name)
            rest = diagnostic.pointer[len(prefix) :]
            if diagnostic.pointer.startswith(prefix) and rest[:1] in ("", "/"):
                ctx.diagnostics[index] = replace(diagnostic, pointer=pointer + rest)
                break


def _writable(
    converter: Converter, shape: tuple[dict[str, Any], list[str]]
) -> tuple[dict[str, Any], list[str]]:
    """Leave out readOnly properties: the server sets them, a client never sends them."""
    props = {
        name: prop
        for name, prop in shape[0].items()
        if not (
            isinstance(prop, dict)
            and (
                prop.get("readOnly") is True
                or converter.resolve_local(prop).get("readOnly") is True
            )
        )
    }
    return props, [r for r in shape[1] if r in props]


def _closed(schema: JsonSchema) -> bool:
    return schema.get("additionalProperties") is False or schema.get("maxProperties") == 0


def _alike_property(
    ctx: Context, name: str, prop: Any, required: bool, encoding: Any, *, parts: bool, doc: str
) -> Field:
    """``_property_field``, made once per content (an entity's properties recur in every
    operation that takes it)."""
    try:
        content = b"b" + orjson.dumps([name, prop, required, encoding, parts, doc])
    except TypeError:
        return _property_field(ctx, name, prop, required, encoding, parts=parts, doc=doc)
    made = ctx.alike.get(content)
    if made is None:
        made = ctx.alike[content] = _property_field(
            ctx, name, prop, required, encoding, parts=parts, doc=doc
        )
    return made


def _property_field(
    ctx: Context, name: str, prop: Any, required: bool, encoding: Any, *, parts: bool, doc: str
) -> Field:
    """A body property as a field, with its Encoding Object (style, explode, allowReserved,
    contentType, and the headers with a fixed value: const, a single enum or a default)."""
    schema = dict(prop) if isinstance(prop, dict) else {}
    enc = encoding if isinstance(encoding, dict) else {}
    description = _take_description(None, schema)
    if parts:
        schema = binary_input(schema)
    return Field(
        name=arg_name(name),
        wire_name=name if arg_name(name) != name else None,
        location=Location.BODY,
        required=required,
        description=description,
        schema_=schema,
        style=enc.get("style") if isinstance(enc.get("style"), str) else None,
        explode=enc.get("explode") if isinstance(enc.get("explode"), bool) else None,
        content_type=enc.get("contentType") if isinstance(enc.get("contentType"), str) else None,
        allow_reserved=enc.get("allowReserved") is True,
        headers=_part_headers(ctx, enc.get("headers"), doc),
        deprecated=schema.get("deprecated") is True,
    )


def _part_headers(ctx: Context, headers: Any, doc: str) -> dict[str, str]:
    out: dict[str, str] = {}
    if not isinstance(headers, dict):
        return out
    for name, header in headers.items():
        try:
            value = ctx.resolver.follow(header, doc, "").value
        except RefProblem:
            continue
        schema = value.get("schema") if isinstance(value, dict) else None
        fixed = fixed_value(schema if isinstance(schema, dict) else {})
        if fixed is not None and str(name).lower() != "content-type":
            out[str(name)] = fixed
    return out


def object_shape(
    converter: Converter, schema: JsonSchema, depth: int = 0
) -> tuple[dict[str, Any], list[str]] | None:
    """(properties, required) when the schema is a plain object (allOf parts merged), else None."""
    schema = converter.resolve_local(schema)
    if depth > 16 or any(k in schema for k in ("oneOf", "anyOf", "not", "if")):
        return None
    kind = schema.get("type", "object")
    if kind != "object":
        return None
    props: dict[str, Any] = {}
    required: list[str] = []
    for part in schema.get("allOf", []):
        shape = object_shape(converter, part, depth + 1) if isinstance(part, dict) else None
        if shape is None:
            return None
        _add_properties(props, shape[0])
        required += [r for r in shape[1] if r not in required]
    own = schema.get("properties")
    if isinstance(own, dict):
        _add_properties(props, own)
    required += [r for r in schema.get("required", []) if r not in required]
    return props, required


def _add_properties(props: dict[str, Any], more: dict[str, Any]) -> None:
    """Unite property maps; a property both sides constrain must satisfy both (allOf)."""
    for name, schema in more.items():
        if name in props and props[name] != schema:
            props[name] = {"allOf": [props[name], schema]}
        else:
            props[name] = schema


def assign_names(fields: list[Field]) -> list[Field]:
    """Unique tool-facing names: earlier locations keep theirs; later ones get a prefix."""
    taken: set[str] = set()
    out: list[Field] = []
    for location in LOCATION_ORDER:
        for f in (f for f in fields if f.location == location):
            name = f.name
            if name in taken:
                name = dedupe(
                    arg_name(f"{location.value}_{f.name}"), taken, key=f"{location}:{f.wire}"
                )
            taken.add(name)
            if name != f.name:
                f = f.model_copy(update={"name": name, "wire_name": f.wire})
            out.append(f)
    return out
