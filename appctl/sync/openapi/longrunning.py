"""An operation's OpenAPI description → its ``LongRunning`` facts, or None.

Takes the resolver, the operation and the document's GET routes; returns how the work it
starts is followed (``contract/longrunning.py``). In the order tried:

1. ``x-ms-long-running-operation: true`` (with ``x-ms-long-running-operation-options``'
   ``final-state-via``), or a success response documenting ``Operation-Location`` or
   ``Azure-AsyncOperation``: the ``azure`` pattern.
2. A success response whose JSON schema is an operation resource (``name`` and ``done``, with
   ``response`` or ``error``): ``google``, read again at the ``…/operations/{name}`` route.
3. A ``202`` whose body schema has a ``status``/``state`` enum with terminal values: ``job``,
   followed at its ``Location``, at a ``GET <path>/{id}`` route, or at ``GET <path>`` itself.
4. A ``202`` documenting a ``Location`` header: ``location``.

Pure: reads only the document (references followed through the resolver).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from appctl.contract.longrunning import (
    AZURE_HEADERS,
    DONE_VALUES,
    FAILED_VALUES,
    LongRunning,
)
from appctl.sync.openapi.refs import RefProblem, Resolver

STATUS_NAMES = ("status", "state", "provisioningState")
_OPERATIONS_ROUTE = re.compile(r"/operations/\{[^}/]+\}$")
_FINAL = ("location", "operation-location", "azure-async-operation", "original-uri")


def detect(
    resolver: Resolver,
    op: dict[str, Any],
    *,
    doc: str,
    path: str,
    method: str,
    gets: Sequence[str],
) -> LongRunning | None:
    """The long-running facts of operation ``op`` at ``path`` (``gets``: the document's
    GET route templates). A GET that answers an operation resource reads it, and starts
    nothing: it is not long-running itself."""
    responses = _success_responses(resolver, op, doc)
    headers = {h for _, r in responses for h in _header_names(r)}
    bodies = [b for code, r in responses if (b := _body_schema(resolver, r, doc)) is not None]
    if op.get("x-ms-long-running-operation") is True or headers & {
        "operation-location",
        "azure-asyncoperation",
    }:
        return _azure(op)
    if method.lower() != "get" and any(_is_operation(resolver, b, doc) for b in bodies):
        route = _operations_route(gets)
        listed = [h for h in ("operation-location", "location") if h in headers]
        return LongRunning(
            pattern="google",
            status_headers=listed,
            operation_path=route,
            id_field="name" if route else None,
            done_field="done",
            error_field="error",
            result_field="response",
        )
    accepted = [r for code, r in responses if code == "202"]
    if not accepted:
        return None
    body = _body_schema(resolver, accepted[0], doc)
    status = _status_enum(resolver, body, doc) if body is not None else None
    located = "location" in _header_names(accepted[0])
    if status is not None:
        field, done, failed = status
        route = None if located else _child_route(path, gets)
        same = not located and route is None and path in gets  # GET of the path it started at
        return LongRunning(
            pattern="job",
            status_headers=["location", "content-location"],
            operation_path=path if same else route,
            id_field="id" if route else None,
            status_field=field,
            done_values=done,
            failed_values=failed,
            error_field="error",
        )
    if located:
        return LongRunning(pattern="location", status_headers=["location"])
    return None


def _azure(op: dict[str, Any]) -> LongRunning:
    options = op.get("x-ms-long-running-operation-options")
    via = options.get("final-state-via") if isinstance(options, dict) else None
    return LongRunning(
        pattern="azure",
        status_headers=list(AZURE_HEADERS),
        status_field="status",
        done_values=["succeeded"],
        failed_values=["failed", "canceled", "cancelled"],
        error_field="error",
        final_state_via=via if via in _FINAL else None,
    )


def _success_responses(
    resolver: Resolver, op: dict[str, Any], doc: str
) -> list[tuple[str, dict[str, Any]]]:
    responses = op.get("responses")
    if not isinstance(responses, dict):
        return []
    out = []
    for code, value in responses.items():
        text = str(code)
        if not (len(text) == 3 and text.startswith("2")):
            continue
        try:
            found = resolver.follow(value, doc, "").value
        except RefProblem:
            continue
        if isinstance(found, dict):
            out.append((text.upper(), found))
    return out


def _header_names(response: dict[str, Any]) -> set[str]:
    headers = response.get("headers")
    return {str(h).lower() for h in headers} if isinstance(headers, dict) else set()


def _schema(resolver: Resolver, node: Any, doc: str) -> dict[str, Any] | None:
    try:
        found = resolver.follow(node, doc, "").value
    except RefProblem:
        return None
    return found if isinstance(found, dict) else None


def _body_schema(resolver: Resolver, response: dict[str, Any], doc: str) -> dict[str, Any] | None:
    """The JSON body schema of a response (OpenAPI 3 ``content`` or Swagger 2 ``schema``)."""
    content = response.get("content")
    if isinstance(content, dict):
        for kind, media in content.items():
            if "json" in str(kind).lower() and isinstance(media, dict) and "schema" in media:
                return _schema(resolver, media["schema"], doc)
        return None
    return _schema(resolver, response["schema"], doc) if "schema" in response else None


def _properties(resolver: Resolver, schema: dict[str, Any], doc: str) -> dict[str, Any]:
    """Properties of a schema, its ``allOf`` parts' included."""
    found: dict[str, Any] = {}
    for part in schema.get("allOf") or []:
        resolved = _schema(resolver, part, doc)
        if resolved is not None:
            found.update(_properties(resolver, resolved, doc))
    own = schema.get("properties")
    if isinstance(own, dict):
        found.update(own)
    return found


def _is_operation(resolver: Resolver, schema: dict[str, Any], doc: str) -> bool:
    props = _properties(resolver, schema, doc)
    return "name" in props and "done" in props and ("response" in props or "error" in props)


def _status_enum(
    resolver: Resolver, schema: dict[str, Any], doc: str
) -> tuple[str, list[str], list[str]] | None:
    """(field, done values, failed values) of a status enum with a terminal value."""
    props = _properties(resolver, schema, doc)
    for name in STATUS_NAMES:
        field = _schema(resolver, props[name], doc) if name in props else None
        values = field.get("enum") if field is not None else None
        if not isinstance(values, list):
            continue
        texts = [v for v in values if isinstance(v, str)]
        done = [v for v in texts if v.lower() in DONE_VALUES]
        failed = [v for v in texts if v.lower() in FAILED_VALUES]
        if done:
            return name, done, failed
    return None


def _operations_route(gets: Sequence[str]) -> str | None:
    """The GET route that reads an operation: ``…/operations/{id}``, else ``…/{name}``
    whose last literal segment is the API version (Google's ``/v1/{name}``)."""
    for route in gets:
        if _OPERATIONS_ROUTE.search(route):
            return route
    for route in gets:
        if re.fullmatch(r"(/[^/{}]+)?/\{\+?name\}", route):
            return route
    return None


def _child_route(path: str, gets: Sequence[str]) -> str | None:
    """``GET <path>/{id}``: where a job created at ``path`` is read again."""
    prefix = path.rstrip("/") + "/{"
    for route in gets:
        if (
            route.startswith(prefix)
            and route.endswith("}")
            and route.count("{") == 1 + path.count("{")
        ):
            return route
    return None
