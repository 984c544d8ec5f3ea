"""Argument values → wire text by OpenAPI ``style``/``explode`` (pure: no I/O).

Takes one field's value and its encoding (style, explode, allowReserved, media type); returns
already percent-encoded text: a path segment, ``name=value`` query pieces, a header or cookie
value, an ``application/x-www-form-urlencoded`` or ``multipart/form-data`` body. The results
match the OpenAPI 3.0.4/3.1.1 "Style Examples" table byte for byte, for color = "blue",
["blue","black","brown"] and {"R":100,"G":200,"B":150}:

style (explode)   empty    array                                object
simple (false)    refused  blue,black,brown                     R,100,G,200,B,150
simple (true)     refused  blue,black,brown                     R=100,G=200,B=150
label (false)     .        .blue,black,brown                    .R,100,G,200,B,150
label (true)      .        .blue.black.brown                    .R=100.G=200.B=150
matrix (false)    ;color   ;color=blue,black,brown              ;color=R,100,G,200,B,150
matrix (true)     ;color   ;color=blue;color=black;color=brown  ;R=100;G=200;B=150
form (false)      color=   color=blue,black,brown               color=R,100,G,200,B,150
form (true)       color=   color=blue&color=black&color=brown   R=100&G=200&B=150
spaceDelimited             color=blue%20black%20brown           color=R%20100%20G%20200%20B%20150
pipeDelimited              color=blue|black|brown               color=R|100|G|200|B|150
deepObject                                                      color[R]=100&color[G]=200&...

(OpenAPI 3.0.3's table shows ``.blue.black.brown`` for label without explode: an erratum,
corrected in 3.0.4 and 3.1.1 to RFC 6570's ``.blue,black,brown``, which is what is sent.)

Values are percent-encoded (RFC 3986: only unreserved characters stay) so that a ``,`` or
``|`` inside a value never reads as a delimiter; ``allowReserved`` keeps the reserved
characters ``:/?@!$'()*,;[]`` as they are in a query or form value, but still encodes
``&``, ``=``, ``#``, ``+`` and ``%`` (they would change the query's structure or meaning).
Swagger 2.0's ``tsv`` is the ``tabDelimited`` style here. A parameter declared with
``content`` (one media type) is serialized by that type (JSON compact) and then encoded.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from appctl.execute.http import postgrest

# The decoded size of one binary argument (a file part or an octet-stream body), README: call.
MAX_BINARY_BYTES = 16 * 1024 * 1024
RESERVED_KEPT = ":/?@!$'()*,;[]"  # allowReserved: what may stay unencoded in a query value
DELIMITERS = {"form": ",", "simple": ",", "spaceDelimited": " ", "pipeDelimited": "|"}
DELIMITERS["tabDelimited"] = "\t"
_ENCODED_DELIMITERS = {" ": "%20", "\t": "%09"}
_PATH_DELIMITERS = {"spaceDelimited": "%20", "pipeDelimited": "%7C", "tabDelimited": "%09"}


class RequestError(ValueError):
    """The arguments cannot make a safe request; the message says which and why."""


def text(value: Any) -> str:
    """A primitive as text (``true``/``false``, null as empty); arrays and objects as JSON."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def by_media_type(value: Any, media_type: str) -> str:
    """A ``content:`` parameter's (or part's) value as its media type says: JSON for any JSON
    type, else the plain text of a primitive (JSON for an array or object)."""
    if "json" in media_type.lower():
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return text(value)


def _esc(value: str, safe: str = "") -> str:
    # the fast path: letters and digits only (most names and values) need no encoding
    return value if value.isalnum() and value.isascii() else quote(value, safe=safe)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _flat(value: dict[str, Any], esc: Any) -> list[str]:
    return [part for k, v in value.items() for part in (esc(str(k)), esc(text(v)))]


def path_value(name: str, value: Any, style: str | None, explode: bool | None) -> str:
    """One path parameter's expansion (simple, label, matrix; delimited styles join like
    simple with their own delimiter), percent-encoded with nothing reserved left."""
    style = style or "simple"
    explode = bool(explode)
    sep = _PATH_DELIMITERS.get(style, ",")
    if style == "matrix":
        return _matrix(_esc(name), value, explode)
    if isinstance(value, list):
        items = [_esc(text(v)) for v in value]
        joined = (("." if style == "label" else sep) if explode else sep).join(items)
    elif isinstance(value, dict) and explode:
        pairs = [f"{_esc(str(k))}={_esc(text(v))}" for k, v in value.items()]
        joined = ("." if style == "label" else ",").join(pairs)
    elif isinstance(value, dict):
        joined = sep.join(_flat(value, _esc))
    else:
        joined = _esc(text(value))
    return "." + joined if style == "label" else joined


def _matrix(name: str, value: Any, explode: bool) -> str:
    if _empty(value):
        return f";{name}"
    if isinstance(value, list):
        items = [_esc(text(v)) for v in value]
        return "".join(f";{name}={i}" for i in items) if explode else f";{name}=" + ",".join(items)
    if isinstance(value, dict):
        if explode:
            return "".join(f";{_esc(str(k))}={_esc(text(v))}" for k, v in value.items())
        return f";{name}=" + ",".join(_flat(value, _esc))
    return f";{name}={_esc(text(value))}"


def query_pieces(
    name: str,
    value: Any,
    style: str | None,
    explode: bool | None,
    *,
    allow_reserved: bool = False,
    media_type: str | None = None,
    plus: bool = False,
) -> list[str]:
    """``name=value`` pieces for a query string or form body. ``plus`` writes a space in a
    value as ``+`` (form bodies); the query uses ``%20``."""
    safe = RESERVED_KEPT if allow_reserved else ""

    def esc(raw: str) -> str:
        if raw.isalnum() and raw.isascii():
            return raw
        out = quote(raw, safe=safe + (" " if plus else ""))
        return out.replace(" ", "+") if plus else out

    key = _esc(name)
    if media_type is not None:
        return [f"{key}={esc(by_media_type(value, media_type))}"]
    if style in postgrest.STYLES:
        return _postgrest(key, value, style, esc)
    style = style or "form"
    explode = style in ("form", "deepObject") if explode is None else explode
    if isinstance(value, list):
        if not value:
            return [f"{key}="]
        if explode:
            return [f"{key}={esc(text(v))}" for v in value]
        return [f"{key}=" + _delimiter(style, plus).join(esc(text(v)) for v in value)]
    if isinstance(value, dict):
        if style == "deepObject":
            return [f"{k}={esc(v)}" for k, v in _deep(key, value)]
        if not value:
            return [f"{key}="]
        if explode:
            return [f"{quote(str(k), safe='')}={esc(text(v))}" for k, v in value.items()]
        return [f"{key}=" + _delimiter(style, plus).join(_flat(value, esc))]
    return [f"{key}={esc(text(value))}"]


def _postgrest(key: str, value: Any, style: str, esc: Any) -> list[str]:
    """A ``--supabase`` contract's ``where`` or ``order_by`` in PostgREST's syntax."""
    if style == postgrest.ORDER_STYLE:
        return [f"{key}={esc(postgrest.order(value))}"]
    return [f"{_esc(column)}={esc(text)}" for column, text in postgrest.filters(value)]


def _delimiter(style: str, plus: bool) -> str:
    sep = DELIMITERS.get(style, ",")
    if sep == " " and plus:
        return "+"
    return _ENCODED_DELIMITERS.get(sep, sep)


def _deep(prefix: str, value: Any) -> list[tuple[str, str]]:
    """deepObject: ``color[R]=100``; nested objects and arrays go deeper (``a[b][0]``)."""
    if isinstance(value, dict):
        return [
            p for k, v in value.items() for p in _deep(f"{prefix}[{quote(str(k), safe='')}]", v)
        ]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _deep(f"{prefix}[{i}]", v)]
    return [(prefix, text(value))]


def pairs(name: str, value: Any, style: str | None, explode: bool | None) -> list[tuple[str, str]]:
    """Decoded (name, value) pairs by style and explode: the parts a multipart field with an
    explicit style is sent as (Swagger 2.0 ``collectionFormat`` on a form field, say)."""
    style = style or "form"
    explode = style in ("form", "deepObject") if explode is None else explode
    if isinstance(value, list):
        if explode:
            return [(name, text(v)) for v in value]
        return [(name, DELIMITERS.get(style, ",").join(text(v) for v in value))]
    if isinstance(value, dict):
        if style == "deepObject":
            return _deep(name, value)
        if explode:
            return [(str(k), text(v)) for k, v in value.items()]
        return [(name, DELIMITERS.get(style, ",").join(_flat(value, str)))]
    return [(name, text(value))]


def simple_text(
    value: Any, explode: bool | None, media_type: str | None = None, style: str | None = None
) -> str:
    """A header value: the simple style (a Swagger 2.0 delimited array joined by its own
    delimiter), not percent-encoded (checked by the caller)."""
    if media_type is not None:
        return by_media_type(value, media_type)
    if isinstance(value, list):
        return DELIMITERS.get(style or "simple", ",").join(text(v) for v in value)
    if isinstance(value, dict):
        sep = "=" if explode else ","
        return ",".join(f"{k}{sep}{text(v)}" for k, v in value.items())
    return text(value)


def cookie_pairs(
    name: str, value: Any, explode: bool | None, media_type: str | None = None
) -> list[tuple[str, str]]:
    """Cookie ``name=value`` pairs by the form style (explode by default): an exploded array
    repeats the cookie, an exploded object sends one cookie per property."""
    if media_type is not None:
        return [(name, by_media_type(value, media_type))]
    explode = True if explode is None else explode
    if isinstance(value, list) and explode and value:
        return [(name, text(v)) for v in value]
    if isinstance(value, dict) and explode and value:
        return [(str(k), text(v)) for k, v in value.items()]
    return [(name, simple_text(value, False))]


def decode_binary(
    name: str, value: Any, *, base64_text: bool, cap: int = MAX_BINARY_BYTES
) -> bytes:
    """The bytes of a binary argument: base64 text decoded (when the contract says so), else
    UTF-8 text; refused past ``cap`` bytes."""
    if not isinstance(value, str):
        raise RequestError(f"argument {name!r}: binary content must be base64 text")
    if base64_text:
        if len(value) // 4 * 3 > cap + 2:
            raise RequestError(_too_big(name, len(value) // 4 * 3, cap))
        try:
            raw = base64.b64decode(value.encode("ascii"), validate=True)
        except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
            raise RequestError(
                f"argument {name!r}: not valid base64 ({exc}); encode the bytes as base64"
            ) from None
    else:
        raw = value.encode("utf-8")
    if len(raw) > cap:
        raise RequestError(_too_big(name, len(raw), cap))
    return raw


def _too_big(name: str, size: int, cap: int) -> str:
    return (
        f"argument {name!r}: about {size:,} bytes of binary content, over the {cap:,}-byte "
        "limit for one binary argument (MAX_BINARY_BYTES)"
    )


Part = tuple[str, bytes, str | None, str | None, dict[str, str]]
"""One multipart part: (name, content, filename or None, content type or None, headers)."""


def multipart(parts: Iterable[Part]) -> tuple[bytes, str]:
    """A ``multipart/form-data`` body and its Content-Type. The boundary is derived from the
    content (so a dry run shows the bytes that will be sent) and never occurs in it."""
    parts = list(parts)
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part[1])
    seed = digest.hexdigest()
    boundary = f"appctl-{seed[:32]}"
    counter = 0
    while any(boundary.encode() in part[1] for part in parts):
        counter += 1
        boundary = f"appctl-{seed[:32]}-{counter}"
    out = bytearray()
    for name, content, filename, kind, headers in parts:
        out += f"--{boundary}\r\n".encode()
        disposition = f'form-data; name="{_quoted(name)}"'
        if filename is not None:
            disposition += f'; filename="{_quoted(filename)}"'
        out += f"Content-Disposition: {disposition}\r\n".encode()
        if kind:
            out += f"Content-Type: {kind}\r\n".encode()
        for key, val in headers.items():
            out += f"{key}: {val}\r\n".encode()
        out += b"\r\n" + content + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def _quoted(name: str) -> str:
    """A name in a Content-Disposition parameter, as HTML forms escape it."""
    return name.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
