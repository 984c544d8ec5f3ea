"""One redactor per call: every form a credential can take, hidden wherever it is echoed.

Built from the resolved credential values (and the database password), it knows each value
as sent: raw, percent-encoded (``quote`` with and without ``/``), ``+``-for-space
(``quote_plus``), JSON-escaped (one pattern covers every mix of these), the base64
``user:pass`` of basic auth, and the ``user:pass@`` of a URL's userinfo.

A value of eight characters or more is replaced wherever it stands. A shorter one (a user name
``api``) would garble unrelated text and reveal itself by its holes, so it is replaced only
where it stands as a credential: the value of its own header, query parameter or cookie (in a
URL, a header line, or a mapping under that name) and a URL's userinfo.

``text`` and ``value`` redact one string or a JSON-like value; ``result`` a whole envelope
(data, error message, notes, the dry-run request).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, quote_plus, unquote_plus

if TYPE_CHECKING:
    from appctl.contract.models import AuthScheme
    from appctl.execute.result import ToolResult

REDACTED = "***"
MIN_FREE = 8  # shorter forms are hidden only where they stand as a credential
SECRET_NAME = re.compile(
    r"pass(word)?|secret|token|api[-_]?key|authorization|credential", re.IGNORECASE
)
_USERINFO = re.compile(r"(?<=://)([^/?#@\s\"'<>]*)(?=@)")


@dataclass(frozen=True, slots=True)
class Secret:
    """One resolved credential value and where it stands as a credential: the header, query
    parameter or cookie named ``param`` (``location``), or a basic pair."""

    value: str
    location: str = ""  # header | query | cookie | basic | url
    param: str = ""
    prefix: str = ""  # the header value's scheme word: Bearer, Basic or an api_key prefix
    partner: str = ""  # basic: the other half of the pair (username ↔ password)
    first: bool = False  # basic: this is the username


def encoded(value: str) -> str:
    """A pattern matching ``value`` however it was encoded on its way back: each character
    raw, percent-encoded (either case; a space also as ``+``) or JSON-escaped, so one
    pattern covers ``quote``, ``quote_plus``, any safe set and any JSON encoder."""
    parts = []
    for char in value:
        if char.isascii() and char.isalnum():
            parts.append(char)
            continue
        ways = {re.escape(char), "".join(f"%(?i:{b:02x})" for b in char.encode())}
        ways |= {re.escape(json.dumps(char)[1:-1]), re.escape(json.dumps(char)[1:-1].lower())}
        if char == " ":
            ways.add(r"\+")
        if char == "/":
            ways.add(r"\\/")
        parts.append("(?:" + "|".join(sorted(ways, key=len, reverse=True)) + ")")
    return "".join(parts)


def _named(names: Iterable[str]) -> str:
    """NAME=value (query, cookie) or NAME: value / "NAME": "value" (headers, echoed JSON)."""
    alternatives = "|".join(re.escape(n) for n in names)
    return rf"({alternatives})(\"?\s*[:=]\s*\"?)([^\s&;,\"'#]*)"


def short_forms(value: str) -> set[str]:
    """The texts a short value is compared with where it stands as a credential."""
    out = {value, quote(value, safe=""), quote(value), quote_plus(value), json.dumps(value)[1:-1]}
    return {f for f in out if f}


def pieces(secret: Secret) -> set[str]:
    """The patterns hidden wherever they stand: a long value in any encoding; a short one
    only after its header's scheme word; basic auth's base64 token (after ``Basic `` when
    short). A header value keeps its scheme word: ``Bearer ***``."""
    v = secret.value
    out = set()
    if len(v) >= MIN_FREE:
        out.add(encoded(v))
    elif secret.prefix:
        out.add(f"(?<={re.escape(secret.prefix)} ){encoded(v)}")
    if secret.location == "basic":
        user, password = (v, secret.partner) if secret.first else (secret.partner, v)
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        out.add(re.escape(token) if len(token) >= MIN_FREE else f"(?<=Basic ){re.escape(token)}")
    return out


class Redactor:
    """Hides the given secrets; ``bool(redactor)`` is False when there is nothing to hide."""

    __slots__ = ("_free", "_lowered", "_names", "_params", "_short")

    def __init__(self, secrets: Iterable[Secret]) -> None:
        free: set[str] = set()  # patterns hidden wherever they match
        short: set[str] = set()
        params: dict[str, set[str]] = {}  # lower-cased credential name → its short forms
        for secret in secrets:
            if not secret.value:
                continue
            free |= pieces(secret)
            if len(secret.value) < MIN_FREE:
                forms = short_forms(secret.value)
                short |= forms
                if secret.param:
                    params.setdefault(secret.param.lower(), set()).update(forms)
        ordered = sorted(free, key=lambda p: (-len(p), p))  # the longest tried first
        self._free = re.compile("|".join(ordered)) if ordered else None
        self._short = frozenset(short)
        self._params = {k: frozenset(v) for k, v in params.items()}
        names = sorted(params, key=len, reverse=True)
        self._names = re.compile(r"(?i)(?<![\w-])" + _named(names)) if names else None
        # for _found_in: case-sensitive on lower-cased text (several times faster than (?i)),
        # and without the look-behind (a false hit only means the exact walk runs)
        self._lowered = re.compile(_named(names)) if names else None

    def __bool__(self) -> bool:
        return self._free is not None or bool(self._short)

    def text(self, text: str) -> str:
        if self._free is not None:
            text = self._free.sub(REDACTED, text)
        if not self._short:
            return text
        if "@" in text:
            text = _USERINFO.sub(self._userinfo, text)
        if self._names is not None:
            text = self._names.sub(self._named, text)
        return text

    def value(self, value: Any, *, secret_names: bool = False) -> Any:
        """A copy of a JSON-like value with every secret hidden; with ``secret_names``, also
        every value under a secret-looking key (``password``, ``api_key``…): for arguments."""
        if not secret_names and (not self or not self._found_in(value)):
            return value

        def walk(item: Any, key: str = "") -> Any:
            if key and item not in (None, ""):
                if secret_names and SECRET_NAME.search(key):
                    return REDACTED
                if isinstance(item, str) and item in self._params.get(key.lower(), ()):
                    return REDACTED
            if isinstance(item, dict):
                return {k: walk(v, str(k)) for k, v in item.items()}
            if isinstance(item, list | tuple):
                return [walk(v) for v in item]
            if isinstance(item, str):
                return self.text(item)
            return item

        return walk(value)

    def _found_in(self, value: Any) -> bool:
        """Whether anything in ``value`` would be hidden, judged on its JSON text in one pass
        (a 300 kB answer: ~1 ms, where walking it takes ~40 ms); True when it is not JSON."""
        import orjson

        try:
            text = orjson.dumps(value, default=str).decode()
        except (TypeError, orjson.JSONEncodeError):
            return True
        if self._free is not None and self._free.search(text):
            return True
        if not self._short:
            return False
        if "@" in text and any(self._userinfo(m) != m.group(1) for m in _USERINFO.finditer(text)):
            return True
        if self._lowered is None or not any(s in text for s in self._short):
            return False
        short = {s.lower() for s in self._short}
        return any(
            m.group(3) in short or unquote_plus(m.group(3)) in short
            for m in self._lowered.finditer(text.lower())
        )

    def result(self, result: ToolResult) -> ToolResult:
        if not self:
            return result
        update: dict[str, Any] = {}
        if result.data is not None:
            update["data"] = self.value(result.data)
        if result.unchecked is not None:
            update["unchecked"] = self.value(result.unchecked)
        if result.error is not None:
            error = result.error
            update["error"] = error.model_copy(
                update={
                    "message": self.text(error.message),
                    "suggestions": [self.text(s) for s in error.suggestions],
                }
            )
        if result.notes:
            update["notes"] = [self.text(n) for n in result.notes]
        if result.request is not None:
            update["request"] = self.value(result.request)
        if result.headers is not None:
            update["headers"] = self.value(result.headers)
        if result.next is not None:
            update["next"] = self.value(result.next)
        return result.model_copy(update=update) if update else result

    def _userinfo(self, match: re.Match[str]) -> str:
        parts = match.group(1).split(":")
        return ":".join(
            REDACTED if unquote_plus(p) in self._short or p in self._short else p for p in parts
        )

    def _named(self, match: re.Match[str]) -> str:
        value = match.group(3)
        allowed = self._params.get(match.group(1).lower(), frozenset())
        if value in allowed or unquote_plus(value) in allowed:
            return f"{match.group(1)}{match.group(2)}{REDACTED}"
        return match.group(0)


NO_REDACTION = Redactor(())


def scheme_secrets(scheme: AuthScheme, values: Mapping[str, str]) -> list[Secret]:
    """The secrets of one scheme's resolved values, each knowing where it stands."""
    if scheme.type == "basic":
        user, password = values.get("username", ""), values.get("password", "")
        return [
            Secret(user, "basic", "Authorization", partner=password, first=True),
            Secret(password, "basic", "Authorization", partner=user),
        ]
    if scheme.type == "api_key":
        prefix = scheme.prefix or ""
        where = scheme.location or "header"
        return [Secret(v, where, scheme.param_name or "", prefix) for v in values.values()]
    return [Secret(v, "header", "Authorization", "Bearer") for v in values.values()]


@lru_cache(maxsize=64)
def redactor_for(secrets: frozenset[Secret]) -> Redactor:
    """Redactors are pure in their secrets: one is built per distinct set, then reused."""
    return Redactor(secrets)
