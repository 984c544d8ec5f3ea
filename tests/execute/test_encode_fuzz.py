"""Arbitrary values through every style, location and body encoding: the executor never
raises, and each call is either a validation error or a well-formed request (an ASCII URL
with no space or control character that stays under the base, header values without line
breaks, a body of bytes), whose wire form the HTTP layer can write."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from appctl.contract.models import (
    Action,
    Contract,
    Field,
    HttpBody,
    HttpTransport,
    Location,
    Resource,
    Safety,
    Source,
    Verb,
)
from appctl.execute.executor import CallOptions, call, prepare
from appctl.execute.http.request import Request
from appctl.execute.http.send import wire_request
from appctl.execute.result import ErrorCategory

BASE = "http://127.0.0.1:9/api"
STYLES = {
    Location.PATH: [None, "simple", "label", "matrix", "spaceDelimited", "pipeDelimited"],
    Location.QUERY: [None, "form", "spaceDelimited", "pipeDelimited", "deepObject", "tabDelimited"],
    Location.HEADER: [None, "simple", "pipeDelimited"],
    Location.COOKIE: [None, "form"],
    Location.BODY: [None, "form", "deepObject", "pipeDelimited"],
}
MEDIA = ["application/x-www-form-urlencoded", "multipart/form-data", "application/octet-stream"]
BINARY = {"type": "string", "format": "binary", "contentEncoding": "base64"}

text = st.text(max_size=12)
scalars = st.none() | st.booleans() | st.integers() | st.floats() | text
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=12,
)


@st.composite
def fields(draw: Any, location: Location) -> Field:
    return Field(
        name="v",
        wire_name=draw(st.sampled_from(["v", "a b", "x[y]", "k=&"])),
        location=location,
        required=True,
        schema_=draw(st.sampled_from([{}, BINARY, {"type": "array", "items": BINARY}])),
        style=draw(st.sampled_from(STYLES[location])),
        explode=draw(st.sampled_from([None, True, False])),
        allow_reserved=draw(st.booleans()),
        content_type=draw(st.sampled_from([None, "application/json", "text/plain"])),
    )


def _schema(field: Field, media: str) -> Contract:
    path = "/items/{" + field.wire + "}" if field.location == Location.PATH else "/items"
    body = None
    if field.location == Location.BODY:
        value_mode = media == "application/octet-stream"
        body = HttpBody(content_type=media, mode="value" if value_mode else "fields")
    action = Action(
        name="op",
        verb=Verb.CREATE,
        safety=Safety.READ_ONLY,
        transport=HttpTransport(method="POST", path=path, body=body),
        parameters=[field],
    )
    source = Source(kind="openapi", location="fuzz", sha256="0")
    return Contract(source=source, base_url=BASE, resources=[Resource(name="r", actions=[action])])


def _well_formed(request: Request) -> None:
    url = request.full_url()
    assert url.isascii() and url.startswith(BASE + "/items")
    assert not any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url), url
    assert urlsplit(url).path.startswith("/api/items")
    headers, body = wire_request(request)
    for _, value in headers:
        assert b"\r" not in value and b"\n" not in value
    assert body is None or isinstance(body, bytes)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    location=st.sampled_from(list(STYLES)),
    data=st.data(),
    value=values | st.binary(max_size=8).map(lambda b: b.hex()),
    media=st.sampled_from(MEDIA),
)
def test_any_value_is_a_validation_error_or_a_well_formed_request(
    location: Location, data: Any, value: Any, media: str
) -> None:
    field = data.draw(fields(location))
    schema = _schema(field, media)
    result = call(schema, "op", {"v": value}, CallOptions(dry_run=True), environ={})
    event(f"{location.value}: {'sent' if result.ok else 'refused'}")
    if not result.ok:
        assert result.error is not None and result.error.category == ErrorCategory.VALIDATION
        return
    prepared = prepare(schema, "op", {"v": value}, CallOptions(dry_run=True), {})
    assert not hasattr(prepared, "ok"), prepared
    assert isinstance(prepared, tuple) and isinstance(prepared[1], Request)
    _well_formed(prepared[1])
