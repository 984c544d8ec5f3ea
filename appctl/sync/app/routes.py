"""A plain Flask or Django URL map (what ``probes/flask_routes.py`` and
``probes/django_routes.py`` report) → an OpenAPI document for the one OpenAPI compiler, and
which of its operations are inferred. Pure.

Each route and method is an operation: path converters become typed path parameters
(``int`` an integer, ``float`` a number, ``uuid`` a uuid string, ``any(a, b)`` an enum,
``slug`` and regex groups a pattern, ``path`` a string that may hold ``/``), the view's
docstring its summary (first line) and description, its safety the method's (GET read_only,
DELETE destructive, the rest mutating; written as ``x-appctl-safety`` so the compiler's
word heuristics do not apply), its provenance ``inferred`` (``mark_inferred``, after the
compile). Nothing says what a plain view reads from a request, so POST, PUT and PATCH take
any JSON object as ``body`` and each gets a warning saying so.

A Django project with both: Django REST framework views are left out of the URL map (the
probe reports them as skipped) and come from DRF's own schema (declared); ``merge_paths``
adds the plain views to that document, DRF's operation winning where both describe a path
and method, so one compile gives one contract with both.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic import Field as PField

from appctl.contract.kinds import Provenance
from appctl.contract.models import Contract, operation_pointer
from appctl.errors import Diagnostic, SourceError

BODY_METHODS = frozenset(("POST", "PUT", "PATCH"))
SAFETY = {"GET": "read_only", "DELETE": "destructive"}  # every other method: mutating
FRAMEWORK = {"flask": "Flask", "django": "Django"}
ANY_BODY = {
    "type": "object",
    "description": "Not declared by the app: what the view reads from the request is unknown.",
}
_LENGTH = re.compile(r"\[\^/\](?:\{(\d+)(?:(,)(\d*))?\}|(\+))")


class _Probed(BaseModel):
    model_config = ConfigDict(extra="ignore")


class RouteParam(_Probed):
    """A path parameter: its converter (``kind``) and the facts the converter holds."""

    name: str
    kind: Literal["int", "float", "uuid", "path", "string", "any", "slug", "regex", "custom"]
    regex: str = ""
    min: float | None = None
    max: float | None = None
    signed: bool = False
    fixed_digits: int = 0
    items: list[str] = PField(default_factory=list)
    converter: str = ""


class Route(_Probed):
    path: str  # the template: /notes/{pk}/
    rule: str = ""  # as the app wrote it
    name: str  # Flask endpoint, Django URL name (namespaced) or view name
    view: str = ""  # module.qualname of the view
    methods: list[str]
    methods_declared: bool = True  # False: a Django function view that takes any method
    docs: dict[str, str] = PField(default_factory=dict)  # method → docstring
    csrf_exempt: bool = True
    params: list[RouteParam] = PField(default_factory=list)


class Skipped(_Probed):
    path: str
    why: str


class RoutesProbe(_Probed):
    framework: Literal["flask", "django"]
    version: str = ""
    title: str = ""
    csrf_middleware: bool = False
    routes: list[Route]
    skipped: list[Skipped] = PField(default_factory=list)


def read_probe(found: Mapping[str, Any], *, what: str) -> RoutesProbe:
    """The probe's JSON as a ``RoutesProbe``; a SourceError when it is not one."""
    try:
        return RoutesProbe.model_validate(found)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise SourceError(
            f"the URL map read from {what} is not what appctl expects: {where}: {first['msg']}",
            suggestion="This is a bug in appctl's probe for this framework version; please "
            "report it with the framework's version.",
        ) from None


@dataclass(frozen=True, slots=True)
class RoutesDocument:
    document: dict[str, Any]  # an OpenAPI 3.1 document
    inferred: frozenset[str]  # pointers of the operations made from the URL map
    diagnostics: tuple[Diagnostic, ...]
    notes: tuple[str, ...]


def routes_document(probe: RoutesProbe) -> RoutesDocument:
    """The URL map as an OpenAPI 3.1 document (see the module docstring)."""
    label = FRAMEWORK[probe.framework]
    paths: dict[str, dict[str, Any]] = {}
    diagnostics: list[Diagnostic] = []
    undeclared: list[str] = []
    for route in probe.routes:
        item = paths.setdefault(route.path, {})
        for method in route.methods:
            pointer = operation_pointer(route.path, method)
            if method.lower() in item:
                diagnostics.append(
                    Diagnostic(
                        f"{method} {route.path} is also served by {route.view or route.name} "
                        f"({route.rule}); the first route ({item[method.lower()]['x-view']}) "
                        "is kept",
                        pointer,
                    )
                )
                continue
            item[method.lower()] = _operation(route, method, probe, label)
            if method in BODY_METHODS:
                diagnostics.append(Diagnostic(_body_warning(route, method, label), pointer))
        if not route.methods_declared:
            undeclared.append(route.view or route.name)
    if undeclared:
        diagnostics.append(Diagnostic(_undeclared_warning(undeclared)))
    paths = {path: item for path, item in paths.items() if item}
    document = {
        "openapi": "3.1.0",
        "info": {"title": probe.title, "version": ""},
        "paths": paths,
    }
    inferred = frozenset(
        operation_pointer(path, method) for path, item in paths.items() for method in item
    )
    return RoutesDocument(document, inferred, tuple(diagnostics), _notes(probe))


def _operation(route: Route, method: str, probe: RoutesProbe, label: str) -> dict[str, Any]:
    doc = route.docs.get(method, "").strip()
    summary, _, rest = doc.partition("\n")
    lines = [rest.strip()] if rest.strip() else []
    lines.append(f"Inferred from the {label} URL map: {route.view or route.name}.")
    if probe.csrf_middleware and method != "GET" and not route.csrf_exempt:
        lines.append(
            "Django checks a CSRF token on this view: a call without one is refused (403)."
        )
    operation: dict[str, Any] = {
        "operationId": route.name if len(route.methods) == 1 else f"{method.lower()}_{route.name}",
        "summary": summary.strip(),
        "description": "\n\n".join(lines),
        "x-appctl-safety": SAFETY.get(method, "mutating"),
        "x-view": route.view or route.name,
        "responses": {"default": {"description": "Not declared by the app."}},
    }
    if route.params:
        operation["parameters"] = [_parameter(p) for p in route.params]
    if method in BODY_METHODS:
        operation["requestBody"] = {
            "required": False,
            "content": {"application/json": {"schema": dict(ANY_BODY)}},
        }
    return operation


def _parameter(param: RouteParam) -> dict[str, Any]:
    schema, description = param_schema(param)
    out: dict[str, Any] = {"name": param.name, "in": "path", "required": True, "schema": schema}
    if description:
        out["description"] = description
    return out


def param_schema(param: RouteParam) -> tuple[dict[str, Any], str]:
    """A path parameter's JSON Schema, and a note on how it is written when the type alone
    does not say."""
    if param.kind in ("int", "float"):
        schema: dict[str, Any] = {"type": "integer" if param.kind == "int" else "number"}
        low = param.min if param.min is not None else (None if param.signed else 0)
        if low is not None:
            schema["minimum"] = int(low) if param.kind == "int" else low
        if param.max is not None:
            schema["maximum"] = int(param.max) if param.kind == "int" else param.max
        if param.kind == "float":
            return schema, "Written with a decimal point (3.0, not 3)."
        if param.fixed_digits:
            return schema, f"Written with {param.fixed_digits} digits (zero-padded)."
        return schema, ""
    if param.kind == "uuid":
        return {"type": "string", "format": "uuid"}, ""
    if param.kind == "any":
        return {"type": "string", "enum": sorted(param.items)}, ""
    if param.kind == "path":
        return {"type": "string", "minLength": 1}, "May hold slashes."
    if param.kind == "string":
        found = _string_length(param.regex)
        if found is not None:
            return found, ""
    if param.kind == "slug" and not param.regex:
        return {"type": "string", "pattern": "^[-a-zA-Z0-9_]+$"}, ""
    if not param.regex:
        return {"type": "string"}, ""
    return {"type": "string", "pattern": f"^(?:{param.regex})$"}, ""


def _string_length(regex: str) -> dict[str, Any] | None:
    """``[^/]+``, ``[^/]{2}``, ``[^/]{2,}``, ``[^/]{2,8}`` as lengths."""
    match = _LENGTH.fullmatch(regex)
    if match is None:
        return None
    if match.group(4):
        return {"type": "string", "minLength": 1}
    low, comma, high = match.group(1), match.group(2), match.group(3)
    schema: dict[str, Any] = {"type": "string", "minLength": int(low)}
    if not comma:
        schema["maxLength"] = int(low)
    elif high:
        schema["maxLength"] = int(high)
    return schema


def _body_warning(route: Route, method: str, label: str) -> str:
    return (
        f"{method} {route.path}: the request body is unknown (the {label} URL map does not "
        f"say what {route.view or route.name} reads); the tool takes any JSON object as "
        "body. Describe it in overrides.yaml, or sync an OpenAPI document of the app instead."
    )


def _undeclared_warning(views: list[str]) -> str:
    shown = ", ".join(sorted(set(views))[:8]) + (", ..." if len(set(views)) > 8 else "")
    return (
        f"{len(set(views))} Django function view(s) accept any method and were taken as GET "
        f"only: {shown}. Decorate them with require_http_methods to declare their methods."
    )


def _notes(probe: RoutesProbe) -> tuple[str, ...]:
    why: dict[str, list[str]] = {}
    for skipped in probe.skipped:
        why.setdefault(skipped.why, []).append(skipped.path)
    out = []
    for reason, paths in sorted(why.items()):
        if reason == "drf":
            out.append(
                f"{len(paths)} Django REST framework route(s) are described by DRF's schema, "
                "not the URL map"
            )
        else:
            out.append(f"left out ({reason}): {', '.join(sorted(set(paths)))}")
    return tuple(out)


def merge_paths(declared: Mapping[str, Any], routes: RoutesDocument) -> RoutesDocument:
    """``declared`` (DRF's OpenAPI document) with the URL map's operations added where it
    has none for that path and method; only those added stay ``inferred``."""
    paths: dict[str, Any] = {p: dict(item) for p, item in (declared.get("paths") or {}).items()}
    added: set[str] = set()
    for path, item in routes.document["paths"].items():
        into = paths.setdefault(path, {})
        for method, operation in item.items():
            if method not in into:
                into[method] = operation
                added.add(operation_pointer(path, method))
    kept = tuple(d for d in routes.diagnostics if not d.pointer or d.pointer in added)
    return RoutesDocument({**declared, "paths": paths}, frozenset(added), kept, routes.notes)


def document_digest(document: Mapping[str, Any]) -> str:
    """The sha256 of the document as canonical JSON (what the contract's source records)."""
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def mark_inferred(schema: Contract, pointers: Iterable[str]) -> Contract:
    """The contract with the actions made from the URL map marked ``inferred``."""
    wanted = frozenset(pointers)
    return schema.with_provenance(Provenance.INFERRED, lambda a: a.pointer in wanted)
