"""Validated arguments → the exact HTTP request to send (pure: no I/O, no environment).

Path parameters are expanded by their style (simple, label, matrix) with every reserved
character percent-encoded, and a value that would make a ``.``/``..``/empty segment is
refused (an HTTP client would normalize ``../../admin`` away); the final URL must stay under
the base URL. Query, header and cookie values follow OpenAPI ``style``/``explode``,
``allowReserved`` and ``content`` (``execute.encode``), bodies the contract's media type and
each property's encoding (``execute.bodies``). Credentials come in chosen and resolved
(``execute.auth``) and are applied by their schemes; ``redacted()`` and ``line()`` show the
request through the call's redactor.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from appctl.contract.auth import userinfo_problem
from appctl.contract.models import Action, AuthScheme, Field, HttpTransport, Location
from appctl.execute.auth import Chosen
from appctl.execute.http.bodies import Body, form_body, json_text, multipart_body, shown, value_body
from appctl.execute.http.encode import (
    RequestError,
    cookie_pairs,
    path_value,
    query_pieces,
    simple_text,
)
from appctl.execute.redact import NO_REDACTION, Redactor

__all__ = ["NO_AUTH", "Request", "RequestError", "apply_auth", "build_request", "build_url"]
NO_AUTH = Chosen()
_COOKIE_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+\-.^_`|~]+")  # an RFC 9110 token


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    url: str
    params: list[tuple[str, str]] = field(default_factory=list)  # decoded (credentials)
    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] | list[tuple[str, str]] = field(default_factory=dict)
    json_body: Any = None
    form: list[tuple[str, str]] | None = None
    files: list[tuple[str, tuple[str, bytes, str]]] | None = None
    content: bytes | None = None
    redactor: Redactor = NO_REDACTION
    auth: str = ""  # which credentials it carries, for a dry run
    query: list[str] = field(default_factory=list)  # encoded name=value pieces (arguments)
    binary: bool = False  # the content holds binary parts: a dry run shows a digest

    def full_url(self) -> str:
        if not self.params and not self.query:
            return self.url
        pieces = [*self.query, urlencode(self.params)] if self.params else self.query
        return f"{self.url}?{'&'.join(pieces)}"

    def line(self) -> str:
        """``METHOD URL`` with every credential value replaced: the request's history line."""
        return self.redactor.text(f"{self.method} {self.full_url()}")

    def redacted(self) -> dict[str, Any]:
        """The request as it would be sent, with every credential value replaced: the exact
        URL and body text (a binary body as its size and SHA-256)."""
        out: dict[str, Any] = {"method": self.method, "url": self.full_url()}
        if self.headers:
            out["headers"] = dict(self.headers)
        if self.cookies:
            items = self.cookies.items() if isinstance(self.cookies, dict) else self.cookies
            out["cookies"] = dict(items) if isinstance(self.cookies, dict) else list(items)
        if self.json_body is not None:
            out["json"] = self.json_body
            out["body"] = json_text(self.json_body)
        if self.form is not None:
            out["form"] = [[k, v] for k, v in self.form]
        if self.files is not None:
            out["files"] = [
                [k, name, f"{len(data)} bytes", kind] for k, (name, data, kind) in self.files
            ]
        elif self.content is not None:
            out["body"] = shown(Body(content=self.content, binary=self.binary))
        if self.auth:
            out["auth"] = self.auth
        return dict(self.redactor.value(out))


def _field_value(name: str, where: str, text: str) -> str:
    """A header or cookie value that cannot smuggle another header or cookie in: no line
    breaks or other control characters, and no ``;`` in a cookie; and that arrives as given:
    no leading or trailing space or tab."""
    bad = next((c for c in text if (ord(c) < 32 and c != "\t") or ord(c) == 127), None)
    if bad is not None:
        raise RequestError(
            f"argument {name!r}: a {where} value cannot hold the control character {bad!r}"
        )
    if where == "cookie" and ";" in text:
        raise RequestError(f"argument {name!r}: a cookie value cannot hold ';'")
    if text != text.strip(" \t"):
        raise RequestError(
            f"argument {name!r}: a {where} value cannot start or end with a space or tab "
            "(HTTP would drop them, so the server would see another value): remove them"
        )
    return text


def build_url(
    base_url: str, transport: HttpTransport, fields: list[Field], args: Mapping[str, Any]
) -> str:
    base = (transport.server or base_url).rstrip("/")
    problem = userinfo_problem(base)
    if problem:
        raise RequestError(problem)
    if "://" not in base:
        raise RequestError(f"the base URL {base!r} is not absolute: pass --base-url")
    path = transport.path
    for f in fields:
        if f.location == Location.PATH:
            if f.name not in args:
                raise RequestError(f"path argument {f.name!r} is required")
            path = _expand(path, f, args[f.name])
    url = base + (path if path.startswith("/") else "/" + path)
    # values are encoded with no "/", "?" or "#" left and "."/".." refused, so only the
    # contract's own template could escape: a dot segment, or a "?"/"#" that ends the path
    tail = url[len(base) :].split("?", 1)[0].split("#", 1)[0]
    if not (tail == "" or tail.startswith("/")) or any(
        part in (".", "..") for part in tail.split("/")
    ):
        raise RequestError(f"the request URL {url!r} leaves the base URL {base!r}")
    if "?" in base or "#" in base:
        raise RequestError(f"the base URL {base!r} has a query or fragment: drop it")
    return url


def _expand(path: str, f: Field, value: Any) -> str:
    """``{name}`` in the template replaced by the value's expansion; an expansion that would
    make a whole segment empty, ``.`` or ``..`` is refused (the path would change)."""
    placeholder = "{" + f.wire + "}"
    if f.content_type is not None:
        text = path_value(f.wire, simple_text(value, False, f.content_type), "simple", False)
    else:
        text = path_value(f.wire, value, f.style, f.explode)
    if text in ("", ".", "..") and re.search(
        r"(^|/)" + re.escape(placeholder) + r"(/|$)", path.split("?", 1)[0]
    ):
        raise RequestError(f"path argument {f.name!r} cannot be {text!r}: it would change the path")
    return path.replace(placeholder, text)


def _body(action: Action, transport: HttpTransport, args: Mapping[str, Any]) -> Body:
    body = transport.body
    fields = [f for f in action.parameters if f.location == Location.BODY and f.name in args]
    if body is None:
        return Body()
    kind = body.content_type.split(";")[0].strip().lower()
    # a JSON media type other than plain application/json (merge-patch, JSON:API, vendor
    # types) is sent as declared: servers route and validate on it
    typed = body.content_type if kind != "application/json" else None
    if not fields:
        return Body(json={}, content_type=typed) if body.required and "json" in kind else Body()
    if body.mode == "value":
        return value_body(body, fields[0], args[fields[0].name])
    if kind == "application/x-www-form-urlencoded":
        return form_body(fields, args)
    if kind.startswith("multipart/"):
        return multipart_body(fields, args)
    return Body(
        json={f.wire: args[f.name] for f in fields}, content_type=typed if "json" in kind else None
    )


def _parameters(action: Action, args: Mapping[str, Any], parts: dict[str, Any]) -> None:
    """Query pieces, headers and cookies of the arguments given, each by its encoding."""
    for f in action.parameters:
        if f.name not in args or f.location in (Location.PATH, Location.BODY):
            continue
        value = args[f.name]
        if f.location == Location.QUERY:
            parts["query"] += query_pieces(
                f.wire,
                value,
                f.style,
                f.explode,
                allow_reserved=f.allow_reserved,
                media_type=f.content_type,
            )
        elif f.location == Location.HEADER:
            text = simple_text(value, f.explode, f.content_type, f.style)
            parts["headers"][f.wire] = _field_value(f.name, "header", text)
        else:
            for name, text in cookie_pairs(f.wire, value, f.explode, f.content_type):
                if name != f.wire and not _COOKIE_NAME.fullmatch(name):
                    raise RequestError(
                        f"argument {f.name!r}: {name!r} cannot be a cookie name (an exploded "
                        "object's keys become cookie names: letters, digits and !#$%&'*+-.^_`|~)"
                    )
                parts["cookie_pairs"].append((name, _field_value(f.name, "cookie", text)))


def apply_auth(
    schemes: Iterable[AuthScheme], values: Mapping[str, Mapping[str, str]], parts: dict[str, Any]
) -> None:
    """Add the chosen schemes' credentials (resolved values, by scheme name) to the parts."""
    for scheme in schemes:
        given = values.get(scheme.name)
        if not given:
            continue
        if scheme.type == "basic":
            pair = f"{given.get('username', '')}:{given.get('password', '')}"
            token = base64.b64encode(pair.encode()).decode()
            parts["headers"]["Authorization"] = f"Basic {token}"
        elif scheme.type == "api_key" and scheme.param_name:
            value = given.get("value", "")
            if scheme.prefix:
                value = f"{scheme.prefix} {value}"
            target = {"header": "headers", "cookie": "cookies"}.get(scheme.location or "header")
            if target:
                parts[target][scheme.param_name] = value
            else:
                parts["params"].append((scheme.param_name, value))
        elif "token" in given:
            parts["headers"]["Authorization"] = f"Bearer {given['token']}"


def accept_header(types: list[str]) -> str:
    """The declared media types, JSON ones preferred (appctl reads JSON best: petstore lists
    XML first and would answer in it), then anything at the lowest preference: a server that
    answers an error in a type of its own is not pushed into a 406 by the client."""
    json_types = [t for t in types if "json" in t.lower()]
    others = [t for t in types if "json" not in t.lower() and t != "*/*"]
    ranked = [*json_types, *(f"{t};q=0.9" for t in others)] if json_types else others
    return ", ".join([*ranked, "*/*;q=0.1"]) if ranked else "*/*"


def build_request(
    action: Action,
    args: Mapping[str, Any],
    *,
    base_url: str,
    auth: Chosen = NO_AUTH,
    redactor: Redactor = NO_REDACTION,
) -> Request:
    transport = action.transport
    if not isinstance(transport, HttpTransport):
        raise RequestError(f"{action.name} is not an HTTP action")
    url = build_url(base_url, transport, action.parameters, args)
    parts: dict[str, Any] = {"params": [], "headers": {}, "cookies": {}, "query": []}
    parts["cookie_pairs"] = []
    _parameters(action, args, parts)
    body = _body(action, transport, args)
    if body.content_type:
        parts["headers"]["Content-Type"] = body.content_type
    if transport.accept and not any(k.lower() == "accept" for k in parts["headers"]):
        parts["headers"]["Accept"] = accept_header(transport.accept)
    apply_auth(auth.schemes, auth.values, parts)
    given, chosen = parts.pop("cookie_pairs"), parts.pop("cookies")
    # a credential cookie replaces an argument of the same name
    cookies = [(k, v) for k, v in given if k not in chosen] + list(chosen.items())
    return Request(
        method=transport.method,
        url=url,
        **parts,
        cookies=dict(cookies) if len({k for k, _ in cookies}) == len(cookies) else cookies,
        json_body=body.json,
        content=body.content,
        binary=body.binary,
        redactor=redactor,
        auth=auth.shown,
    )
