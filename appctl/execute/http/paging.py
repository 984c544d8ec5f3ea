"""A response's headers that matter and where its next page is (pure: no I/O).

``kept_headers`` takes a response's headers and returns the ones a caller can act on:
``Link``, ``Location``, ``ETag``, ``Last-Modified``, ``Retry-After``, rate limits
(``RateLimit``, ``RateLimit-*``, ``X-RateLimit-*``) and paging headers (``Next-Page``,
``X-Total-Count``, ``Total-Records``...), never a credential or a cookie.

``find_next`` takes the action, the URL the response came from, its headers and (fitted)
data, and returns the continuation: the server's next URL (same origin as the request only:
another origin is reported, never followed) or a token and the argument it goes into. It
reads, in order, what the contract says the operation uses (``Pagination.next``), an RFC 8288
``Link rel=next``, a next-page header, a next field of the body, and ``has_more`` with the
last item's id (Stripe's ``starting_after``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin, urlsplit

from appctl.contract.models import Action
from appctl.contract.paging import (
    NEXT_FIELDS,
    NEXT_HEADERS,
    PAGING_HEADER_WORDS,
    TOKEN_PARAMS,
    NextPage,
)
from appctl.execute.http.links import next_link

KEPT = frozenset(
    (
        "link",
        "location",
        "content-location",
        "operation-location",
        "etag",
        "last-modified",
        "retry-after",
        "content-range",
        "ratelimit",
        "ratelimit-policy",
        "x-total-count",
        "total-records",
    )
)
KEPT_PREFIXES = ("ratelimit-", "x-ratelimit-", "x-rate-limit-")
NEVER_WORDS = ("cookie", "auth", "secret", "password", "passwd", "api-key", "apikey", "session")
MAX_HEADER = 4096  # characters of a kept header value
MAX_TOKEN = 4096  # characters of a next-page token or URL carried in a continuation


def kept_headers(
    headers: Mapping[str, str], documented: frozenset[str] = frozenset()
) -> dict[str, str] | None:
    """The headers worth passing on (lower-case names), or None when there are none:
    the usual ones, and those the operation documents (``documented``, lower-case), never
    cookies or credentials."""
    kept = {
        name: value[:MAX_HEADER]
        for name, value in headers.items()
        if _kept(name) or (name.lower() in documented and _safe(name.lower()))
    }
    return dict(sorted(kept.items())) or None


def documented_headers(action: Action) -> frozenset[str]:
    """The response headers the operation's success responses document, lower-case."""
    return frozenset(name.lower() for r in action.responses for name in r.headers)


def _safe(low: str) -> bool:
    return not any(w in low for w in NEVER_WORDS)


@lru_cache(maxsize=1024)  # header names repeat from answer to answer
def _kept(name: str) -> bool:
    low = name.lower()
    return _worth(low) and _safe(low)


def _worth(name: str) -> bool:
    return (
        name in KEPT
        or name in NEXT_HEADERS
        or name.startswith(KEPT_PREFIXES)
        or (name.startswith("x-") and any(w in name for w in PAGING_HEADER_WORDS))
        or any(w in name for w in ("page", "cursor", "continuation"))
    )


@dataclass(frozen=True, slots=True)
class Next:
    """Where the next page is: ``state`` to seal (``{"url": ...}`` or ``{"param": name,
    "value": token}``) and what to tell the caller; or only a ``problem`` when the response
    points on but appctl cannot follow it."""

    state: dict[str, Any] | None = None
    hint: str = ""
    problem: str = ""
    after_shown: bool = False  # it goes on after the last item shown, not the server's page


NONE = Next()


def find_next(action: Action, *, url: str, headers: Mapping[str, str], data: Any) -> Next:
    declared = action.pagination.next if action.pagination else None
    found = _declared(action, declared, url, headers, data) if declared else NONE
    if found is not NONE:
        return found
    link = headers.get("link")
    target = next_link(link, base=url) if link else None
    if target:
        return _url(target, url, "the Link header's rel=next")
    for name in NEXT_HEADERS:
        value = headers.get(name)
        if value and value.strip():
            return _value(action, value.strip(), url, f"the {name} header", "next")
    return _from_body(action, url, data)


def _declared(
    action: Action, declared: NextPage, url: str, headers: Mapping[str, str], data: Any
) -> Next:
    if declared.kind == "header" and declared.name:
        value = headers.get(declared.name.lower(), "").strip()
        if value:
            where = f"the {declared.name} header"
            return _value(action, value, url, where, "next", declared.param)
    elif declared.kind == "body" and declared.path and isinstance(data, dict):
        value = _at(data, declared.path)
        if _present(value):
            last = declared.path.rsplit(".", 1)[-1]
            return _value(action, value, url, f"the body's {declared.path}", last, declared.param)
    elif declared.kind == "has_more" and declared.path and declared.items:
        return _has_more(data, declared.path, declared.items, declared.param)
    return NONE


def _from_body(action: Action, url: str, data: Any) -> Next:
    if not isinstance(data, dict) or not any(isinstance(v, list) for v in data.values()):
        return NONE  # a next field counts only beside the list it pages
    for path in NEXT_FIELDS:
        value = _at(data, path)
        if _present(value):
            last = path.rsplit(".", 1)[-1]
            return _value(action, value, url, f"the body's {path}", last)
    names = {f.name for f in action.parameters}
    if "starting_after" in names:
        items = next((k for k, v in data.items() if isinstance(v, list)), "")
        more = "has_more" if "has_more" in data else "hasMore"
        return _has_more(data, more, items, "starting_after")
    return NONE


def _has_more(data: Any, flag: str, items: str, param: str | None) -> Next:
    if not isinstance(data, dict) or data.get(flag) is not True:
        return NONE
    rows = data.get(items)
    last = rows[-1] if isinstance(rows, list) and rows else None
    ident = last.get("id") if isinstance(last, dict) else None
    if not param or not isinstance(ident, str | int) or isinstance(ident, bool):
        return Next(problem=f"the response says {flag} but its last item has no id to go on from")
    return replace(_token(param, ident, f"{flag} and the last item's id"), after_shown=True)


def _value(
    action: Action, value: Any, url: str, where: str, field: str, param: str | None = None
) -> Next:
    """A next value: a URL (absolute, or relative to the response's) or a token."""
    if isinstance(value, str) and _url_like(value):
        return _url(value, url, where)
    if not isinstance(value, str | int) or isinstance(value, bool):
        return Next(problem=f"{where} holds {type(value).__name__}, not a link or a token")
    chosen = param or _param_for(action, field)
    if chosen is None and action.pagination is None:
        return NONE  # a token for a tool that takes none: nothing to tell
    if chosen is None:
        return Next(
            problem=f"{where} gives a next-page token, but {action.name} has no argument "
            f"known to take it: pass it yourself ({str(value)[:200]!r})"
        )
    return _token(chosen, value, where)


def _token(param: str, value: str | int, where: str) -> Next:
    if len(str(value)) > MAX_TOKEN:
        return Next(problem=f"{where} gives a token longer than {MAX_TOKEN} characters")
    return Next({"param": param, "value": value}, f"from {where}")


def _url(target: str, url: str, where: str) -> Next:
    try:
        resolved = urljoin(url, target.strip())
        parts, base = urlsplit(resolved), urlsplit(url)
    except ValueError:
        return Next(problem=f"{where} is not a URL appctl can read")
    if parts.scheme not in ("http", "https") or not parts.netloc or len(resolved) > MAX_TOKEN:
        return Next(problem=f"{where} is not an http(s) URL appctl can follow")
    if resolved.split("#", 1)[0] == url.split("#", 1)[0]:
        return NONE  # a next page that is this page: following it would loop
    if (parts.scheme, parts.netloc.lower()) != (base.scheme, base.netloc.lower()):
        return Next(
            problem=f"{where} points to another origin ({parts.scheme}://{parts.netloc}), "
            "which appctl does not follow (credentials go only to the API's own)"
        )
    return Next({"url": resolved.split("#", 1)[0]}, f"from {where}")


def _param_for(action: Action, field: str) -> str | None:
    paging = action.pagination
    params = paging.params if paging else []
    key = field.lower().replace("_", "").replace("-", "")
    for wanted in TOKEN_PARAMS.get(key, ()):
        if wanted in params:
            return wanted
    if paging and (paging.style == "cursor" or (paging.style == "page" and key == "next")):
        return params[0] if params else None
    return None


def _url_like(value: str) -> bool:
    text = value.strip()
    return "://" in text or text.startswith(("/", "?"))


def _present(value: Any) -> bool:
    return value not in (None, "", False) and not isinstance(value, dict | list)


def _at(data: Any, path: str) -> Any:
    """The value at a dotted path; ``@odata.nextLink`` is one key."""
    if isinstance(data, dict) and path in data:
        return data[path]
    head, _, rest = path.partition(".")
    if not rest or not isinstance(data, dict):
        return None
    return _at(data.get(head), rest)
