"""Building the exact request: pure, no server needed."""

import base64
import re

import pytest

from appctl.contract.models import AuthScheme
from appctl.execute.auth import Chosen
from appctl.execute.http.encode import pairs
from appctl.execute.http.request import NO_AUTH, RequestError, build_request
from appctl.execute.redact import NO_REDACTION, Redactor, scheme_secrets
from tests.helpers import spec, sync_doc

DOC = spec(
    {
        "/files/{path}": {
            "get": {
                "operationId": "getFile",
                "parameters": [
                    {"name": "path", "in": "path", "required": True, "schema": {"type": "string"}},
                    {
                        "name": "tags",
                        "in": "query",
                        "style": "pipeDelimited",
                        "explode": False,
                        "schema": {"type": "array", "items": {"type": "string"}},
                    },
                    {
                        "name": "filter",
                        "in": "query",
                        "style": "deepObject",
                        "explode": True,
                        "schema": {"type": "object"},
                    },
                    {"name": "X-Ids", "in": "header", "schema": {"type": "array"}},
                    {"name": "session", "in": "cookie", "schema": {"type": "string"}},
                ],
            }
        },
        "/charges": {
            "post": {
                "operationId": "charge",
                "requestBody": {
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "amount": {"type": "integer"},
                                    "metadata": {"type": "object"},
                                },
                            },
                            "encoding": {"metadata": {"style": "deepObject", "explode": True}},
                        }
                    }
                },
            }
        },
        "/upload": {
            "post": {
                "operationId": "upload",
                "requestBody": {
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "file": {"type": "string", "contentEncoding": "base64"},
                                    "note": {"type": "string"},
                                },
                            }
                        }
                    }
                },
            }
        },
        "/pets/{id}": {
            "patch": {
                "operationId": "patchPet",
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
                ],
                "requestBody": {
                    "content": {
                        "application/merge-patch+json": {
                            "schema": {"type": "object", "properties": {"tag": {"type": "string"}}}
                        }
                    }
                },
            }
        },
    },
)
SCHEMA = sync_doc(DOC).schema
BASE = "https://api.example.com/v1"


def _build(name: str, args: dict, auth: Chosen = NO_AUTH, redactor: Redactor = NO_REDACTION):
    action = SCHEMA.action(name)
    assert action is not None
    return build_request(action, args, base_url=BASE, auth=auth, redactor=redactor)


@pytest.mark.parametrize("bad", ["..", ".", ""])
def test_dot_segments_and_empty_path_values_are_refused(bad: str) -> None:
    with pytest.raises(RequestError, match="would change the path"):
        _build("get_file", {"path": bad})


def test_path_values_are_encoded_per_segment_and_stay_under_the_base() -> None:
    request = _build("get_file", {"path": "../../admin"})
    assert request.url == "https://api.example.com/v1/files/..%2F..%2Fadmin"
    assert _build("get_file", {"path": "a b/c?d"}).url.endswith("/files/a%20b%2Fc%3Fd")


def test_query_header_and_cookie_styles() -> None:
    request = _build(
        "get_file",
        {
            "path": "x",
            "tags": ["a", "b"],
            "filter": {"owner": {"id": 7}, "open": True},
            "X-Ids": [1, 2],
            "session": "s1",
        },
    )
    assert request.query == ["tags=a|b", "filter[owner][id]=7", "filter[open]=true"]
    assert request.full_url().endswith("/files/x?tags=a|b&filter[owner][id]=7&filter[open]=true")
    assert request.headers["X-Ids"] == "1,2"
    assert request.cookies == {"session": "s1"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"X-Ids": ["1\r\nX-Admin: yes"]}, "a header value cannot hold the control character"),
        ({"X-Ids": ["1\n2"]}, re.escape("a header value cannot hold the control character '\\n'")),
        ({"session": "s1; admin=1"}, "a cookie value cannot hold ';'"),
        ({"session": "s1\x00"}, "a cookie value cannot hold the control character"),
    ],
)
def test_header_and_cookie_values_cannot_smuggle_more(args, message) -> None:
    with pytest.raises(RequestError, match=message):
        _build("get_file", {"path": "x", **args})


@pytest.mark.parametrize(
    ("style", "explode", "value", "expected"),
    [
        (None, None, ["a", "b"], [("k", "a"), ("k", "b")]),
        ("form", False, ["a", "b"], [("k", "a,b")]),
        ("spaceDelimited", False, ["a", "b"], [("k", "a b")]),
        ("tabDelimited", False, ["a", "b"], [("k", "a\tb")]),
        ("form", True, {"x": 1, "y": 2}, [("x", "1"), ("y", "2")]),
        ("form", False, {"x": 1}, [("k", "x,1")]),
    ],
)
def test_pairs(style, explode, value, expected) -> None:
    assert pairs("k", value, style, explode) == expected


def test_form_and_multipart_bodies() -> None:
    form = _build("charge", {"amount": 500, "metadata": {"order": "o1"}})
    assert form.content == b"amount=500&metadata[order]=o1"
    assert form.headers["Content-Type"] == "application/x-www-form-urlencoded"
    upload = _build("upload", {"file": base64.b64encode(b"\x00\x01").decode(), "note": "hi"})
    kind = upload.headers["Content-Type"]
    boundary = kind.split("boundary=")[1]
    assert kind.startswith("multipart/form-data; boundary=")
    assert (
        upload.content
        == (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="file"; filename="file"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + b"\x00\x01"
        + (
            f"\r\n--{boundary}\r\n"
            'Content-Disposition: form-data; name="note"\r\n\r\nhi\r\n'
            f"--{boundary}--\r\n"
        ).encode()
    )


def test_a_json_media_type_is_sent_as_declared() -> None:
    patch = _build("patch_pet", {"id": 3, "tag": "cat"})
    assert patch.json_body == {"tag": "cat"}
    assert patch.headers["Content-Type"] == "application/merge-patch+json"
    assert "Content-Type" not in _build("get_file", {"path": "x"}).headers


def test_the_chosen_schemes_are_applied_and_redacted() -> None:
    schemes = [
        AuthScheme(
            name="key",
            type="api_key",
            location="query",
            param_name="api_key",
            credentials={"value": "env:K"},
        ),
        AuthScheme(
            name="basic", type="basic", credentials={"username": "env:U", "password": "env:P"}
        ),
    ]
    creds = {"key": {"value": "key-SECRET"}, "basic": {"username": "me", "password": "pw-SECRET"}}
    hide = Redactor(s for scheme in schemes for s in scheme_secrets(scheme, creds[scheme.name]))
    chosen = Chosen(tuple(schemes), creds, "key + basic")
    request = _build("get_file", {"path": "x"}, chosen, hide)
    assert ("api_key", "key-SECRET") in request.params
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"me:pw-SECRET").decode()
    shown = str(request.redacted())
    assert "SECRET" not in shown and base64.b64encode(b"me:pw-SECRET").decode() not in shown
    assert "'Basic ***'" in shown and "api_key=***" in shown and "key + basic" in shown
    assert "SECRET" not in request.line()


def test_relative_base_url_is_refused() -> None:
    action = SCHEMA.action("get_file")
    with pytest.raises(RequestError, match="not absolute"):
        build_request(action, {"path": "x"}, base_url="/v1")


def test_an_exploded_cookie_object_cannot_smuggle_a_cookie() -> None:
    from appctl.contract.models import Action, Field, HttpTransport, Location, Safety, Verb

    field = Field(name="prefs", location=Location.COOKIE, explode=True)
    action = Action(
        name="get",
        verb=Verb.GET,
        safety=Safety.READ_ONLY,
        transport=HttpTransport(method="GET", path="/x"),
        parameters=[field],
    )
    ok = build_request(action, {"prefs": {"a": "1", "b": "2"}}, base_url=BASE)
    assert ok.cookies == {"a": "1", "b": "2"}
    for key in ("a=b; admin", "x y", "", "a;b"):
        with pytest.raises(RequestError, match="cannot be a cookie name"):
            build_request(action, {"prefs": {key: "1"}}, base_url=BASE)
