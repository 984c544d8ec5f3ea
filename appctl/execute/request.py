"""Validated arguments → the exact HTTP request to send (pure: no I/O, no environment).

Path parameters are percent-encoded one segment at a time and ``.``/``..``/empty values are
refused (an HTTP client would normalize ``../../admin`` away); the final URL must stay under
the base URL. Query, header and cookie values follow OpenAPI ``style``/``explode`` (form,
spaceDelimited, pipeDelimited, deepObject; Swagger's tabDelimited), bodies follow the
contract (JSON, form-urlencoded, multipart). Credentials come in chosen and resolved
(``execute.auth``) and are applied by their schemes; ``redacted()`` and ``line()`` show the
request through the call's redactor.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from appctl.contract.auth import userinfo_problem
from appctl.contract.models import Action, AuthScheme, Field, HttpTransport, Location
from appctl.execute.auth import Chosen
from appctl.execute.redact import NO_REDACTION, Redactor

DELIMITERS = {"spaceDelimited": " ", "pipeDelimited": "|", "tabDelimited": "\t"}
NO_AUTH = Chosen()


class RequestError(ValueError):
    """The arguments cannot make a safe request; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    url: str
    params: list[tuple[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)
    json_body: Any = None
    form: list[tuple[str, str]] | None = None
    files: list[tuple[str, tuple[str, bytes, str]]] | None = None
    content: bytes | None = None
    redactor: Redactor = NO_REDACTION
    auth: str = ""  # which credentials it carries, for a dry run

    def full_url(self) -> str:
        return f"{self.url}?{urlencode(self.params)}" if self.params else self.url

    def line(self) -> str:
        """``METHOD URL`` with every credential value replaced: the request's history line."""
        return self.redactor.text(f"{self.method} {self.full_url()}")

    def redacted(self) -> dict[str, Any]:
        """The request as it would be sent, with every credential value replaced."""
        out: dict[str, Any] = {"method": self.method, "url": self.full_url()}
        if self.headers:
            out["headers"] = dict(self.headers)
        if self.cookies:
            out["cookies"] = dict(self.cookies)
        if self.json_body is not None:
            out["json"] = self.json_body
        if self.form is not None:
            out["form"] = [[k, v] for k, v in self.form]
        if self.files is not None:
            out["files"] = [
                [k, name, f"{len(data)} bytes", kind] for k, (name, data, kind) in self.files
            ]
        if self.content is not None:
            out["content"] = f"{len(self.content)} bytes"
        if self.auth:
            out["auth"] = self.auth
        return dict(self.redactor.value(out))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def path_segment(name: str, value: Any) -> str:
    text = _text(value)
    if text in ("", ".", ".."):
        raise RequestError(f"path argument {name!r} cannot be {text!r}: it would change the path")
    return quote(text, safe="")


def serialize(
    name: str, value: Any, style: str | None, explode: bool | None
) -> list[tuple[str, str]]:
    """Query/form pairs for one value, by OpenAPI style and explode (form + explode default)."""
    style = style or "form"
    explode = style == "form" if explode is None else explode
    if isinstance(value, list):
        if style in DELIMITERS and not explode:
            return [(name, DELIMITERS[style].join(_text(v) for v in value))]
        if explode:
            return [(name, _text(v)) for v in value]
        return [(name, ",".join(_text(v) for v in value))]
    if isinstance(value, dict):
        if style == "deepObject":
            return _deep(name, value)
        if explode:
            return [(k, _text(v)) for k, v in value.items()]
        return [(name, ",".join(f"{k},{_text(v)}" for k, v in value.items()))]
    return [(name, _text(value))]


def _deep(prefix: str, value: Any) -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [pair for k, v in value.items() for pair in _deep(f"{prefix}[{k}]", v)]
    if isinstance(value, list):
        return [pair for i, v in enumerate(value) for pair in _deep(f"{prefix}[{i}]", v)]
    return [(prefix, _text(value))]


def _simple(value: Any, explode: bool | None) -> str:
    if isinstance(value, list):
        return ",".join(_text(v) for v in value)
    if isinstance(value, dict):
        sep = "=" if explode else ","
        return ",".join(f"{k}{sep}{_text(v)}" for k, v in value.items())
    return _text(value)


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
            path = path.replace("{" + f.wire + "}", path_segment(f.name, args[f.name]))
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


def _body(action: Action, transport: HttpTransport, args: Mapping[str, Any]) -> dict[str, Any]:
    body = transport.body
    fields = [f for f in action.parameters if f.location == Location.BODY and f.name in args]
    if body is None:
        return {}
    kind = body.content_type.split(";")[0].strip().lower()
    # a JSON media type other than plain application/json (merge-patch, JSON:API, vendor
    # types) is sent as declared: servers route and validate on it
    typed = {"content_type": body.content_type} if kind != "application/json" else {}
    if not fields:
        return {"json_body": {}, **typed} if body.required and "json" in kind else {}
    if body.mode == "value":
        value = args[fields[0].name]
        if "json" in kind:
            return {"json_body": value, **typed}
        if isinstance(value, str):
            return {"content": value.encode("utf-8"), "content_type": body.content_type}
        return {"json_body": value}
    if kind == "application/x-www-form-urlencoded":
        pairs = [
            p for f in fields for p in serialize(f.wire, args[f.name], f.style or "form", f.explode)
        ]
        return {"form": pairs}
    if kind.startswith("multipart/"):
        return _multipart(fields, args)
    body_json = {f.wire: args[f.name] for f in fields}
    return {"json_body": body_json, **(typed if "json" in kind else {})}


def _multipart(fields: list[Field], args: Mapping[str, Any]) -> dict[str, Any]:
    data: list[tuple[str, str]] = []
    files: list[tuple[str, tuple[str, bytes, str]]] = []
    for f in fields:
        value = args[f.name]
        if f.schema_.get("format") == "binary" or f.schema_.get("contentEncoding") == "base64":
            raw = value.encode("utf-8") if isinstance(value, str) else bytes(value)
            if f.schema_.get("contentEncoding") == "base64":
                raw = base64.b64decode(raw)
            files.append((f.wire, (f.wire, raw, f.content_type or "application/octet-stream")))
        else:
            data.append((f.wire, _text(value)))
    return {"form": data, "files": files}


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
    parts: dict[str, Any] = {"params": [], "headers": {}, "cookies": {}}
    for f in action.parameters:
        if f.name not in args or f.location in (Location.PATH, Location.BODY):
            continue
        value = args[f.name]
        if f.location == Location.QUERY:
            parts["params"] += serialize(f.wire, value, f.style, f.explode)
        elif f.location == Location.HEADER:
            parts["headers"][f.wire] = _field_value(f.name, "header", _simple(value, f.explode))
        else:
            parts["cookies"][f.wire] = _field_value(f.name, "cookie", _simple(value, f.explode))
    body = _body(action, transport, args)
    content_type = body.pop("content_type", None)
    if content_type:
        parts["headers"]["Content-Type"] = content_type
    apply_auth(auth.schemes, auth.values, parts)
    return Request(
        method=transport.method,
        url=url,
        **parts,
        **body,
        redactor=redactor,
        auth=auth.shown,
    )
