"""RFC 8288 ``Link`` header values → links: target, relation types and parameters.

A real parser, not a regex: several links in one value (and several ``Link`` headers joined
by ``, ``), commas and semicolons inside ``<...>`` and quoted strings, quoted-pair escapes,
parameter names case-insensitive (the first of a repeated one wins, as the RFC says), ``rel``
holding several space-separated types, the RFC 8187 ``rel*=UTF-8''next`` form, and targets
resolved against the URL the response came from. Garbage never raises: a link that cannot be
read is skipped, and the value and the number of links read are bounded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from urllib.parse import unquote, urljoin

MAX_VALUE = 64 * 1024  # characters of a Link value read; past that the rest is ignored
MAX_LINKS = 256
# "; name" then optionally "= value": a quoted string (escapes kept for _ESCAPE; one left
# open runs to the end) or a token up to the next "," or ";"
_PARAM = re.compile(
    r"[ \t]*;[ \t]*([A-Za-z0-9!#$%&'*+\-.^_`|~]*)[ \t]*"
    r'(?:=[ \t]*(?:("(?:[^"\\]|\\.)*(?:"|\\?$))|([^,;]*)))?'
)
_ESCAPE = re.compile(r"\\(.)")


@dataclass(frozen=True, slots=True)
class Link:
    target: str  # resolved against the response's URL
    rels: tuple[str, ...]  # lower-case relation types
    params: tuple[tuple[str, str], ...]  # lower-case names, first of each only

    def param(self, name: str) -> str | None:
        return next((v for k, v in self.params if k == name), None)


def parse_links(value: str, *, base: str = "") -> list[Link]:
    """Every link in ``value`` that can be read, in order, targets resolved against ``base``."""
    resolved = (_resolved(link, base) for link in _parse(value))
    return [link for link in resolved if link is not None]


def _resolved(link: Link, base: str) -> Link | None:
    if not base:
        return link
    try:
        return replace(link, target=urljoin(base, link.target))
    except ValueError:  # e.g. an invalid IPv6 literal
        return None


def _parse(value: str) -> list[Link]:
    """The links as written (targets not resolved: only the one wanted is, which is most of
    the cost of a header of many links)."""
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
        link = _link(target, params)
        if link is not None:
            links.append(link)
    return links


def next_link(value: str, *, base: str = "") -> str | None:
    """The target of the first ``rel=next`` link about the response itself, or None."""
    for link in _parse(value):
        if "next" not in link.rels:
            continue
        anchor = link.param("anchor")
        try:
            if anchor not in (None, "") and urljoin(base, anchor) != base:
                continue  # a link about another resource than this response
        except ValueError:
            continue
        found = _resolved(link, base)
        return found.target if found is not None else None
    return None


def _link(target: str, params: list[tuple[str, str]]) -> Link | None:
    if any(c in target for c in "\r\n\x00") or " " in target:
        return None
    seen: dict[str, str] = {}
    for name, val in params:
        seen.setdefault(name, val)
    rel = seen.get("rel*") or seen.get("rel") or ""
    rels = tuple(r.lower() for r in rel.split())
    return Link(target, rels, tuple(seen.items()))


def _params(text: str, at: int) -> tuple[list[tuple[str, str]], int]:
    """The ``; name[=value]`` parameters from ``at`` to the end of this link."""
    params: list[tuple[str, str]] = []
    while (found := _PARAM.match(text, at)) is not None:
        name, quoted, plain = found.group(1).lower(), found.group(2), found.group(3)
        if quoted is not None:
            value = _ESCAPE.sub(r"\1", quoted[1:-1] if quoted.endswith('"') else quoted[1:])
        else:
            value = (plain or "").strip(" \t")
        if name:
            params.append((name, _extended(value) if name.endswith("*") else value))
        at = found.end()
    return params, _past_item(text, _skip(text, at, " \t"))


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
