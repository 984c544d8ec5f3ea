"""Every style and body encoding judged by real httpbin's echo (``/anything``), through the
real path: a spec written here, ``appctl sync`` (the installed command), then the executor.

The expected text is the OpenAPI "Style Examples" table (3.0.4/3.1.1; 3.0.3's
``.blue.black.brown`` for label without explode is the erratum those releases corrected) for
color = "blue", ["blue","black","brown"] and {"R":100,"G":200,"B":150}, and the Encoding
Object's rules for form and multipart bodies. httpbin echoes the URL it received (``url``),
the parsed query (``args``), headers, and the body (``data``, ``form``, ``files``); a dry run
shows the exact bytes, compared here too.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from appctl.contract.io import load_schema
from appctl.contract.models import Contract
from appctl.execute.executor import CallOptions, call
from tests import runner

VALUES: dict[str, Any] = {
    "empty": "",
    "string": "blue",
    "array": ["blue", "black", "brown"],
    "object": {"R": 100, "G": 200, "B": 150},
}
SCHEMAS: dict[str, Any] = {
    "empty": {"type": "string"},
    "string": {"type": "string"},
    "array": {"type": "array", "items": {"type": "string"}},
    "object": {
        "type": "object",
        "properties": {k: {"type": "integer"} for k in ("R", "G", "B")},
    },
}
# (style, explode) → kind → the table's text
PATH = {
    ("simple", False): {
        "string": "blue",
        "array": "blue,black,brown",
        "object": "R,100,G,200,B,150",
    },
    ("simple", True): {
        "string": "blue",
        "array": "blue,black,brown",
        "object": "R=100,G=200,B=150",
    },
    ("label", False): {
        "empty": ".",
        "string": ".blue",
        "array": ".blue,black,brown",
        "object": ".R,100,G,200,B,150",
    },
    ("label", True): {
        "empty": ".",
        "string": ".blue",
        "array": ".blue.black.brown",
        "object": ".R=100.G=200.B=150",
    },
    ("matrix", False): {
        "empty": ";color",
        "string": ";color=blue",
        "array": ";color=blue,black,brown",
        "object": ";color=R,100,G,200,B,150",
    },
    ("matrix", True): {
        "empty": ";color",
        "string": ";color=blue",
        "array": ";color=blue;color=black;color=brown",
        "object": ";R=100;G=200;B=150",
    },
}
QUERY = {
    ("form", False): {
        "empty": "color=",
        "string": "color=blue",
        "array": "color=blue,black,brown",
        "object": "color=R,100,G,200,B,150",
    },
    ("form", True): {
        "empty": "color=",
        "string": "color=blue",
        "array": "color=blue&color=black&color=brown",
        "object": "R=100&G=200&B=150",
    },
    ("spaceDelimited", False): {
        "array": "color=blue%20black%20brown",
        "object": "color=R%20100%20G%20200%20B%20150",
    },
    ("pipeDelimited", False): {
        "array": "color=blue|black|brown",
        "object": "color=R|100|G|200|B|150",
    },
    ("deepObject", True): {"object": "color[R]=100&color[G]=200&color[B]=150"},
}
HEADER = {
    False: {"string": "blue", "array": "blue,black,brown", "object": "R,100,G,200,B,150"},
    True: {"string": "blue", "array": "blue,black,brown", "object": "R=100,G=200,B=150"},
}
# cookies: the form style, pairs joined as a Cookie header joins them ("; ")
COOKIE = {
    False: {
        "string": "color=blue",
        "array": "color=blue,black,brown",
        "object": "color=R,100,G,200,B,150",
    },
    True: {
        "string": "color=blue",
        "array": "color=blue; color=black; color=brown",
        "object": "R=100; G=200; B=150",
    },
}
PNG = b"\x89PNG\r\n\x1a\n\x00\xff\xfe binary"


def _op(op_id: str, params: list[dict[str, Any]], method: str = "get") -> dict[str, Any]:
    return {method: {"operationId": op_id, "parameters": params, "responses": {"200": {}}}}


def _param(where: str, style: str, explode: bool, kind: str, name: str = "color") -> Any:
    return {
        "name": name,
        "in": where,
        "required": True,
        "style": style,
        "explode": explode,
        "schema": SCHEMAS[kind],
    }


def _styles_paths() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for (style, explode), row in PATH.items():
        for kind in row:
            op = f"p_{style}_{str(explode).lower()}_{kind}"
            paths[f"/anything/{op}/x{{color}}"] = _op(op, [_param("path", style, explode, kind)])
    for (style, explode), row in QUERY.items():
        for kind in row:
            op = f"q_{style}_{str(explode).lower()}_{kind}"
            paths[f"/anything/{op}"] = _op(op, [_param("query", style, explode, kind)])
    for explode, row in HEADER.items():
        for kind in row:
            op = f"h_{str(explode).lower()}_{kind}"
            param = _param("header", "simple", explode, kind, "X-Color")
            paths[f"/anything/{op}"] = _op(op, [param])
    for explode, row in COOKIE.items():
        for kind in row:
            op = f"c_{str(explode).lower()}_{kind}"
            paths[f"/anything/{op}"] = _op(op, [_param("cookie", "form", explode, kind)])
    return paths


FORM_BODY = {
    "type": "object",
    "properties": {
        "color": {"type": "string"},
        "colors": SCHEMAS["array"],
        "rgb": SCHEMAS["object"],
        "deep": SCHEMAS["object"],
        "csv": SCHEMAS["array"],
        "piped": SCHEMAS["array"],
        "reserved": {"type": "string"},
        "plain": {"type": "string"},
        "meta": SCHEMAS["object"],
    },
}
FORM_ENCODING = {
    "deep": {"style": "deepObject", "explode": True},
    "csv": {"style": "form", "explode": False},
    "piped": {"style": "pipeDelimited", "explode": False},
    "reserved": {"allowReserved": True},
    "meta": {"contentType": "application/json"},
}
MULTIPART_BODY = {
    "type": "object",
    "properties": {
        "color": {"type": "string"},
        "colors": SCHEMAS["array"],
        "rgb": SCHEMAS["object"],
        "count": {"type": "integer"},
    },
}
MULTIPART_ENCODING = {
    "color": {"headers": {"X-Part": {"schema": {"type": "string", "const": "one"}}}},
    "count": {"contentType": "text/plain"},
}
UPLOAD_BODY = {
    "type": "object",
    "properties": {"file": {"type": "string", "format": "binary"}, "note": {"type": "string"}},
}


def _body_op(op_id: str, media: str, schema: Any, encoding: Any = None) -> dict[str, Any]:
    content: dict[str, Any] = {"schema": schema}
    if encoding:
        content["encoding"] = encoding
    return {
        "post": {
            "operationId": op_id,
            "requestBody": {"required": True, "content": {media: content}},
            "responses": {"200": {}},
        }
    }


def openapi3() -> dict[str, Any]:
    paths = _styles_paths()
    paths["/anything/form"] = _body_op(
        "form_body", "application/x-www-form-urlencoded", FORM_BODY, FORM_ENCODING
    )
    paths["/anything/multipart"] = _body_op(
        "multipart_body", "multipart/form-data", MULTIPART_BODY, MULTIPART_ENCODING
    )
    paths["/anything/upload"] = _body_op(
        "upload", "multipart/form-data", UPLOAD_BODY, {"file": {"contentType": "image/png"}}
    )
    paths["/anything/raw"] = _body_op(
        "raw", "application/octet-stream", {"type": "string", "format": "binary"}
    )
    content = {"application/json": {"schema": SCHEMAS["object"]}}
    paths["/anything/qc"] = _op(
        "query_content", [{"name": "filter", "in": "query", "content": content}]
    )
    reserved = [
        {"name": "path", "in": "query", "allowReserved": True, "schema": {"type": "string"}},
        {"name": "plain", "in": "query", "schema": {"type": "string"}},
    ]
    paths["/anything/reserved"] = _op("reserved", reserved)
    return {"openapi": "3.0.3", "info": {"title": "styles", "version": "1"}, "paths": paths}


def _sync(tmp: Path, doc: dict[str, Any], base: str) -> Contract:
    spec = tmp / "spec.json"
    spec.write_text(json.dumps(doc))
    app_dir = str(tmp / ".appctl")
    runner.invoke("--app-dir", app_dir, "sync", "--openapi", str(spec), "--base-url", base, cwd=tmp)
    return load_schema(tmp / ".appctl")


def _tool(schema: Contract, op_id: str) -> str:
    return next(a.name for a in schema.actions() if a.operation_id == op_id)


def _call(schema: Contract, op_id: str, args: dict[str, Any], *, dry: bool = False) -> Any:
    options = CallOptions(dry_run=dry, approved=True)
    result = call(schema, _tool(schema, op_id), args, options, environ={})
    assert result.ok, result.error
    return result.request if dry else result.data


@pytest.fixture(scope="module")
def styles(httpbin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Contract:
    return _sync(tmp_path_factory.mktemp("oas3"), openapi3(), httpbin_url)


def _rows(table: dict[Any, dict[str, str]]) -> list[tuple[Any, str, str]]:
    return [(key, kind, text) for key, row in table.items() for kind, text in row.items()]


@pytest.mark.parametrize(("key", "kind", "expected"), _rows(PATH))
def test_path_styles(
    styles: Contract, httpbin_url: str, key: Any, kind: str, expected: str
) -> None:
    style, explode = key
    op = f"p_{style}_{str(explode).lower()}_{kind}"
    echoed = _call(styles, op, {"color": VALUES[kind]})
    assert echoed["url"] == f"{httpbin_url}/anything/{op}/x{expected}"
    shown = _call(styles, op, {"color": VALUES[kind]}, dry=True)
    assert shown["url"] == f"{httpbin_url}/anything/{op}/x{expected}"


@pytest.mark.parametrize(("key", "kind", "expected"), _rows(QUERY))
def test_query_styles(
    styles: Contract, httpbin_url: str, key: Any, kind: str, expected: str
) -> None:
    style, explode = key
    op = f"q_{style}_{str(explode).lower()}_{kind}"
    echoed = _call(styles, op, {"color": VALUES[kind]})
    assert echoed["url"] == f"{httpbin_url}/anything/{op}?{expected}"
    assert _call(styles, op, {"color": VALUES[kind]}, dry=True)["url"] == echoed["url"]


@pytest.mark.parametrize(("explode", "kind", "expected"), _rows(HEADER))
def test_header_simple_style(styles: Contract, explode: bool, kind: str, expected: str) -> None:
    echoed = _call(styles, f"h_{str(explode).lower()}_{kind}", {"X-Color": VALUES[kind]})
    assert echoed["headers"]["X-Color"] == expected


@pytest.mark.parametrize(("explode", "kind", "expected"), _rows(COOKIE))
def test_cookie_form_style(styles: Contract, explode: bool, kind: str, expected: str) -> None:
    echoed = _call(styles, f"c_{str(explode).lower()}_{kind}", {"color": VALUES[kind]})
    assert echoed["headers"]["Cookie"] == expected


FORM_ARGS = {
    "color": "blue",
    "colors": VALUES["array"],
    "rgb": VALUES["object"],
    "deep": VALUES["object"],
    "csv": VALUES["array"],
    "piped": VALUES["array"],
    "reserved": "/a:b,c",
    "plain": "a b&c,d",
    "meta": {"k": "v"},
}
FORM_BYTES = (
    "color=blue&colors=blue&colors=black&colors=brown&R=100&G=200&B=150"
    "&deep[R]=100&deep[G]=200&deep[B]=150&csv=blue,black,brown&piped=blue|black|brown"
    "&reserved=/a:b,c&plain=a+b%26c%2Cd&meta=%7B%22k%22%3A%22v%22%7D"
)


def test_form_body_by_the_encoding_object(styles: Contract) -> None:
    shown = _call(styles, "form_body", FORM_ARGS, dry=True)
    assert shown["body"] == FORM_BYTES
    assert shown["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    echoed = _call(styles, "form_body", FORM_ARGS)
    assert echoed["form"] == {
        "color": "blue",
        "colors": ["blue", "black", "brown"],
        "R": "100",
        "G": "200",
        "B": "150",
        "deep[R]": "100",
        "deep[G]": "200",
        "deep[B]": "150",
        "csv": "blue,black,brown",
        "piped": "blue|black|brown",
        "reserved": "/a:b,c",
        "plain": "a b&c,d",
        "meta": '{"k":"v"}',
    }


def test_multipart_without_a_file_stays_multipart(styles: Contract) -> None:
    args = {"color": "blue", "colors": VALUES["array"], "rgb": VALUES["object"], "count": 3}
    shown = _call(styles, "multipart_body", args, dry=True)
    kind = shown["headers"]["Content-Type"]
    assert kind.startswith("multipart/form-data; boundary=")
    b = kind.split("boundary=")[1]
    part = f'--{b}\r\nContent-Disposition: form-data; name="%s"\r\n'
    assert shown["body"] == (
        (part % "color")
        + "X-Part: one\r\n\r\nblue\r\n"
        + "".join((part % "colors") + f"\r\n{c}\r\n" for c in VALUES["array"])
        + (part % "rgb")
        + 'Content-Type: application/json\r\n\r\n{"R":100,"G":200,"B":150}\r\n'
        + (part % "count")
        + "Content-Type: text/plain\r\n\r\n3\r\n"
        + f"--{b}--\r\n"
    )
    echoed = _call(styles, "multipart_body", args)
    assert echoed["headers"]["Content-Type"] == kind and echoed["files"] == {}
    assert echoed["form"] == {
        "color": "blue",
        "colors": ["blue", "black", "brown"],
        "rgb": '{"R":100,"G":200,"B":150}',
        "count": "3",
    }


def test_binary_part_and_octet_stream_body_from_base64(styles: Contract) -> None:
    given = base64.b64encode(PNG).decode()
    echoed = _call(styles, "upload", {"file": given, "note": "hi"})
    assert echoed["files"] == {"file": f"data:image/png;base64,{given}"}
    assert echoed["form"] == {"note": "hi"}
    shown = _call(styles, "upload", {"file": given, "note": "hi"}, dry=True)
    assert set(shown["body"]) == {"bytes", "sha256"}  # binary: a digest, not the bytes
    raw = _call(styles, "raw", {"body": given})
    assert raw["data"] == f"data:application/octet-stream;base64,{given}"
    assert raw["headers"]["Content-Type"] == "application/octet-stream"
    tool = styles.action(_tool(styles, "upload"))
    assert tool is not None and (tool.field("file") or tool).schema_["contentEncoding"] == "base64"


def test_query_content_and_allow_reserved(styles: Contract, httpbin_url: str) -> None:
    shown = _call(styles, "query_content", {"filter": VALUES["object"]}, dry=True)
    text = "%7B%22R%22%3A100%2C%22G%22%3A200%2C%22B%22%3A150%7D"
    assert shown["url"] == f"{httpbin_url}/anything/qc?filter={text}"
    echoed = _call(styles, "query_content", {"filter": VALUES["object"]})
    assert echoed["args"] == {"filter": '{"R":100,"G":200,"B":150}'}
    args = {"path": "/a:b,c", "plain": "/a:b,c"}
    url = f"{httpbin_url}/anything/reserved?path=/a:b,c&plain=%2Fa%3Ab%2Cc"
    assert _call(styles, "reserved", args, dry=True)["url"] == url
    assert _call(styles, "reserved", args)["args"] == args
