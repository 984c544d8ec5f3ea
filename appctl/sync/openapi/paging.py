"""How an operation pages, read from its parameters and its documented success responses.

Takes the operation's fields and its raw responses; returns a ``Pagination`` or None:
- the paging arguments, by their usual names, in the query or else in the JSON body
  (Prefect's ``POST /flows/filter`` takes ``limit`` and ``offset`` in the body);
- how a response says where the next page is: a documented ``Link`` header, a header of its
  own (``Next-Page``, ``X-Next-Page``, continuation tokens), a body field (``next``,
  ``nextPageToken``, ``links.next``, ``meta.next_cursor``...), or ``has_more`` beside a list
  when the operation takes Stripe's ``starting_after``; a token goes into the argument named
  like it;
- the paging headers its responses document (kept in a call's envelope).
"""

from __future__ import annotations

from typing import Any

from appctl.contract.models import Field, Location
from appctl.contract.paging import (
    NEXT_FIELDS,
    NEXT_HEADERS,
    PAGING_HEADER_WORDS,
    TOKEN_PARAMS,
    NextPage,
    Pagination,
)
from appctl.sync.openapi.refs import RefProblem, Resolver, join_pointer

_PAGINATION = (
    (
        "cursor",
        (
            "cursor",
            "after",
            "before",
            "page_token",
            "pageToken",
            "starting_after",
            "ending_before",
            "next_token",
            "continuation_token",
            "marker",
            "_token",
        ),
    ),
    ("page", ("page", "page_number", "pageNumber")),
    ("offset", ("offset", "skip", "$skip", "start")),
)
_PAGE_SIZE = (
    "per_page",
    "page_size",
    "pageSize",
    "limit",
    "size",
    "count",
    "$top",
    "max_results",
    "_limit",
)
MAX_DEPTH = 4  # $ref hops followed while reading a response body's properties


def detect(
    fields: list[Field],
    responses: list[tuple[dict[str, str], Any]],
    *,
    resolve: Any,
    reads: bool = True,
) -> Pagination | None:
    """The operation's paging: ``responses`` are (declared header names by lower-case name,
    body schema) of its success responses; ``resolve`` follows a schema's ``$ref``; ``reads``:
    the operation only reads (only then do body fields count as paging arguments: a write's
    ``limit`` or ``page`` is data)."""
    found = paging_params(fields, body=reads)
    names = {f.name for f in fields}
    headers = sorted({h for declared, _ in responses for h in declared.values() if _paging(h)})
    nxt = _header_signal(responses, found, names) or _body_signal(responses, found, names, resolve)
    if found is None and nxt is None:
        return None
    style, params, where = found or ("cursor", [], None)
    return Pagination(
        style=style,
        params=params,
        location=where,
        next=nxt,
        headers=headers or None,
    )


def paging_params(fields: list[Field], *, body: bool = True) -> tuple[str, list[str], Any] | None:
    """(style, the paging arguments' tool-facing names, "body" or None) by the usual names,
    query parameters first, then (``body``) properties of the JSON body."""
    places = [(Location.QUERY, None), (Location.BODY, "body")]
    for location, where in places if body else places[:1]:
        names = {f.wire: f.name for f in fields if f.location == location}
        for style, candidates in _PAGINATION:
            hits = [n for n in candidates if n in names]
            if hits:
                size = [n for n in _PAGE_SIZE if n in names]
                return style, [names[n] for n in hits + size], where
        if "limit" in names:
            return "offset", [names["limit"]], where
    return None


def _paging(header: str) -> bool:
    low = header.lower()
    return low in NEXT_HEADERS or any(w in low for w in PAGING_HEADER_WORDS)


def _header_signal(
    responses: list[tuple[dict[str, str], Any]], found: Any, names: set[str]
) -> NextPage | None:
    for declared, _ in responses:
        if "link" in declared:
            return NextPage(kind="link")
        for low in NEXT_HEADERS:
            if low in declared:
                return NextPage(kind="header", name=declared[low], param=_param("next", found))
    return None


def _body_signal(
    responses: list[tuple[dict[str, str], Any]], found: Any, names: set[str], resolve: Any
) -> NextPage | None:
    for _, schema in responses:
        props = _properties(schema, resolve)
        if not props:
            continue
        for path in NEXT_FIELDS:
            if path == "cursor" and not _has_list(props, resolve):
                continue  # a lone "cursor" field is as likely a position as a next page
            if _at(props, path, resolve) is not None:
                last = path.rsplit(".", 1)[-1]
                return NextPage(kind="body", path=path, param=_param(last, found))
        more = next((k for k in ("has_more", "hasMore") if k in props), None)
        items = _list_field(props, resolve) if more and "starting_after" in names else None
        if more and items:
            return NextPage(kind="has_more", path=more, items=items, param="starting_after")
    return None


def _param(field: str, found: Any) -> str | None:
    """The paging argument a token from ``field`` goes into, when the operation has one."""
    if found is None:
        return None
    style, params, _ = found
    key = field.lower().replace("_", "").replace("-", "")
    for wanted in TOKEN_PARAMS.get(key, ()):
        if wanted in params:
            return wanted
    if style == "cursor" or (style == "page" and key == "next"):
        return str(params[0])
    return None


def _properties(schema: Any, resolve: Any, depth: int = 0) -> dict[str, Any]:
    """An object schema's properties, ``allOf`` members merged, ``$ref`` followed."""
    schema = resolve(schema)
    if not isinstance(schema, dict) or depth > MAX_DEPTH:
        return {}
    own = schema.get("properties")
    props = dict(own) if isinstance(own, dict) else {}
    members = schema.get("allOf")
    for member in members if isinstance(members, list) else []:
        props.update(_properties(member, resolve, depth + 1))
    return props


def _at(props: dict[str, Any], path: str, resolve: Any) -> Any:
    head, _, rest = path.partition(".")
    if head not in props:
        return None
    if not rest:
        return props[head]
    return _at(_properties(props[head], resolve), rest, resolve)


def _list_field(props: dict[str, Any], resolve: Any) -> str | None:
    for name, value in props.items():
        value = resolve(value)
        if isinstance(value, dict) and value.get("type") == "array":
            return name
    return None


def _has_list(props: dict[str, Any], resolve: Any) -> bool:
    return _list_field(props, resolve) is not None


def success_responses(
    resolver: Resolver, op: dict[str, Any], *, doc: str, pointer: str, swagger: bool
) -> list[tuple[dict[str, str], Any]]:
    """(documented header names by lower-case name, JSON body schema) of each 2xx response."""
    responses = op.get("responses")
    if not isinstance(responses, dict):
        return []
    out: list[tuple[dict[str, str], Any]] = []
    for code, raw in responses.items():
        text = str(code)
        if not (text.upper() == "2XX" or (len(text) == 3 and text.startswith("2"))):
            continue
        try:
            target = resolver.follow(raw, doc, join_pointer(pointer, "responses", text))
        except RefProblem:
            continue
        response = target.value
        if not isinstance(response, dict):
            continue
        declared = response.get("headers")
        names = {str(k).lower(): str(k) for k in declared} if isinstance(declared, dict) else {}
        out.append((names, _body_schema(response, swagger)))
    return out


def _body_schema(response: dict[str, Any], swagger: bool) -> Any:
    if swagger:
        return response.get("schema")
    content = response.get("content")
    if not isinstance(content, dict):
        return None
    kinds = sorted(content, key=lambda k: "json" not in str(k))
    media = content.get(kinds[0]) if kinds else None
    return media.get("schema") if isinstance(media, dict) else None


def resolver_of(resolver: Resolver, doc: str) -> Any:
    """A function following a schema's ``$ref`` chain within ``doc`` (None when broken)."""

    def resolve(value: Any) -> Any:
        if not (isinstance(value, dict) and "$ref" in value):
            return value
        try:
            return resolver.follow(value, doc, "").value
        except RefProblem:
            return None

    return resolve
