"""RFC 8288 ``Link`` header values → links: target, relation types and parameters.

A real parser, not a regex: several links in one value (and several ``Link`` headers joined
by ``, ``), commas and semicolons inside ``<...>`` and quoted strings, quoted-pair escapes,
parameter names case-insensitive (the first of a repeated one wins, as the RFC says), ``rel``
holding several space-separated types, the RFC 8187 ``rel*=UTF-8''next`` form, and targets
resolved against the URL the response came from. Garbage never raises: a link that cannot be
read is skipped, and the value and the number of links read are bounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urljoin

MAX_VALUE = 64 * 1024  # characters of a Link value read; past that the rest is ignored
MAX_LINKS = 256
_TOKEN_EXTRA = set("!#$%&'*+-.^_`|~")


@dataclass(frozen=True, slots=True)
class Link:
    target: str  # resolved against the response's URL
    rels: tuple[str, ...]  # lower-case relation types
    params: tuple[tuple[str, str], ...]  # lower-case names, first of each only

    def param(self, name: str) -> str | None:
        return next((v for k, v in self.params if k == name), None)


def parse_links(value: str, *, base: str = "") -> list[Link]:
    """Every link in ``value`` that can be read, in order."""
    text = value[:MAX_VALUE]
    links: list[Link] = []
    at = 0
    while at < len(text) and len(links) < MAX_LINKS:
        at = _skip(text, at, " \t,")
        if at >= len(text):
            break
        if text[at] != "<":  # not a link: skip to the next comma outside quotes
            at = _past_item(text, at)
            continue
        end = text.find(">", at + 1)
        if end < 0:
            break
        target = text[at + 1 : end].strip()
        params, at = _params(text, end + 1)
        link = _link(target, params, base)
        if link is not None:
            links.append(link)
    return links


def next_link(value: str, *, base: str = "") -> str | None:
    """The target of the first ``rel=next`` link about the response itself, or None."""
    for link in parse_links(value, base=base):
        anchor = link.param("anchor")
        if anchor not in (None, "") and urljoin(base, anchor) != base:
            continue  # a link about another resource than this response
        if "next" in link.rels:
            return link.target
    return None


def _link(target: str, params: list[tuple[str, str]], base: str) -> Link | None:
    if any(c in target for c in "\r\n\x00") or " " in target:
        return None
    seen: dict[str, str] = {}
    for name, val in params:
        seen.setdefault(name, val)
    rel = seen.get("rel*") or seen.get("rel") or ""
    rels = tuple(r.lower() for r in rel.split())
    try:
        resolved = urljoin(base, target) if base else target
    except ValueError:  # e.g. an invalid IPv6 literal
        return None
    return Link(resolved, rels, tuple(seen.items()))


def _params(text: str, at: int) -> tuple[list[tuple[str, str]], int]:
    """The ``; name[=value]`` parameters from ``at`` to the end of this link."""
    params: list[tuple[str, str]] = []
    while True:
        at = _skip(text, at, " \t")
        if at >= len(text) or text[at] != ";":
            return params, _past_item(text, at)
        at = _skip(text, at + 1, " \t")
        start = at
        while at < len(text) and _token_char(text[at]):
            at += 1
        name = text[start:at].lower()
        at = _skip(text, at, " \t")
        value = ""
        if at < len(text) and text[at] == "=":
            value, at = _value(text, _skip(text, at + 1, " \t"))
        if name:
            params.append((name, _extended(value) if name.endswith("*") else value))


def _value(text: str, at: int) -> tuple[str, int]:
    if at < len(text) and text[at] == '"':
        out: list[str] = []
        at += 1
        while at < len(text) and text[at] != '"':
            if text[at] == "\\" and at + 1 < len(text):
                at += 1
            out.append(text[at])
            at += 1
        return "".join(out), at + 1
    start = at
    while at < len(text) and text[at] not in ",;":
        at += 1
    return text[start:at].strip(" \t"), at


def _extended(value: str) -> str:
    """RFC 8187: ``charset'lang'pct-encoded`` (UTF-8 or ISO-8859-1); anything else as is."""
    charset, sep, rest = value.partition("'")
    _lang, sep2, encoded = rest.partition("'")
    if not (sep and sep2):
        return value
    codec = "latin-1" if charset.strip().lower() == "iso-8859-1" else "utf-8"
    return unquote(encoded, encoding=codec, errors="replace")


def _past_item(text: str, at: int) -> int:
    """Past the next comma that is not inside quotes or ``<...>``."""
    quoted = False
    while at < len(text):
        char = text[at]
        if quoted and char == "\\":
            at += 2
            continue
        if char == '"':
            quoted = not quoted
        elif not quoted and char == "<":
            close = text.find(">", at)
            at = len(text) if close < 0 else close
        elif not quoted and char == ",":
            return at + 1
        at += 1
    return at


def _skip(text: str, at: int, chars: str) -> int:
    while at < len(text) and text[at] in chars:
        at += 1
    return at


def _token_char(char: str) -> bool:
    return char.isascii() and (char.isalnum() or char in _TOKEN_EXTRA)
