"""The pure serializers: what the style table does not show (delimiters inside values,
allowReserved, nested deepObject, form bodies' ``+``, a multipart boundary that cannot occur
in the content, the binary size cap)."""

from __future__ import annotations

import base64

import pytest

from appctl.execute.http.encode import (
    RequestError,
    cookie_pairs,
    decode_binary,
    multipart,
    path_value,
    query_pieces,
    simple_text,
)


def test_a_delimiter_inside_a_value_is_encoded() -> None:
    assert query_pieces("c", ["a,b", "c|d"], "form", False) == ["c=a%2Cb,c%7Cd"]
    assert query_pieces("c", ["a|b", "c"], "pipeDelimited", False) == ["c=a%7Cb|c"]
    assert path_value("c", ["a,b", "c"], "simple", False) == "a%2Cb,c"
    assert path_value("c", {"k;": "v="}, "matrix", True) == ";k%3B=v%3D"
    assert path_value("c", "a/b", "label", False) == ".a%2Fb"


def test_allow_reserved_keeps_reserved_but_never_query_structure() -> None:
    value = "/p:q?x@y!$'()*,;[]&=#+%"
    kept = query_pieces("v", value, None, None, allow_reserved=True)
    assert kept == ["v=/p:q?x@y!$'()*,;[]%26%3D%23%2B%25"]
    assert query_pieces("v", value, None, None) == [
        "v=%2Fp%3Aq%3Fx%40y%21%24%27%28%29%2A%2C%3B%5B%5D%26%3D%23%2B%25"
    ]


def test_deep_object_nests_and_names_are_encoded() -> None:
    value = {"a b": {"c": [1, True]}, "d": None}
    got = query_pieces("f&", value, "deepObject", True)
    assert got == ["f%26[a%20b][c][0]=1", "f%26[a%20b][c][1]=true", "f%26[d]="]


def test_form_bodies_write_spaces_as_plus_and_content_as_json() -> None:
    assert query_pieces("n", "a b+c", None, None, plus=True) == ["n=a+b%2Bc"]
    assert query_pieces("n", ["a", "c"], "spaceDelimited", False, plus=True) == ["n=a+c"]
    json_piece = query_pieces("n", {"a": [1]}, None, None, media_type="application/json")
    assert json_piece == ["n=%7B%22a%22%3A%5B1%5D%7D"]


def test_headers_and_cookies() -> None:
    assert simple_text(["a", "b"], None, style="pipeDelimited") == "a|b"
    assert simple_text({"a": 1}, None, "application/json") == '{"a":1}'
    assert cookie_pairs("c", [], None) == [("c", "")]
    assert cookie_pairs("c", ["a", "b"], None) == [("c", "a"), ("c", "b")]


def test_the_multipart_boundary_never_occurs_in_the_content() -> None:
    first, kind = multipart([("a", b"x", None, None, {})])
    boundary = kind.split("boundary=")[1]
    trap = f"--{boundary}".encode()
    body, kind2 = multipart([("a", trap, None, None, {})])
    boundary2 = kind2.split("boundary=")[1]
    assert boundary2 != boundary and body.count(f"--{boundary2}".encode()) == 2
    assert multipart([("a", b"x", None, None, {})]) == (first, kind)  # deterministic


def test_binary_is_base64_under_a_cap() -> None:
    given = base64.b64encode(b"\x00\xff").decode()
    assert decode_binary("f", given, base64_text=True) == b"\x00\xff"
    with pytest.raises(RequestError, match="not valid base64"):
        decode_binary("f", "not base64!", base64_text=True)
    with pytest.raises(RequestError, match="over the 4-byte limit"):
        decode_binary("f", base64.b64encode(b"12345").decode(), base64_text=True, cap=4)
    with pytest.raises(RequestError, match="base64 text"):
        decode_binary("f", 12, base64_text=True)
