"""Read an OpenAPI source (file path or http(s) URL) into plain Python data, within budgets.

Takes a source string; returns a ``Loaded`` document with its sha256 and a display location
without secrets. JSON goes through orjson; YAML through PyYAML's safe loader only. A YAML
alias bomb is caught by counting nodes as they would be walked (aliases expanded), using a
memo so the count itself stays cheap.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import orjson

from appctl.errors import BudgetError, SourceError

MIB = 1024 * 1024
SECRET_QUERY_KEYS = ("key", "token", "secret", "password", "passwd", "auth", "sig", "signature")


@dataclass(frozen=True, slots=True)
class Budget:
    max_bytes: int = 64 * 1024 * 1024  # Graph beta, the largest public spec seen, is 47 MB
    max_nodes: int = 20_000_000
    max_depth: int = 512


@dataclass(frozen=True, slots=True)
class Loaded:
    document: Any
    sha256: str
    location: str  # for display and the contract: secrets stripped
    base: str  # absolute path or URL that relative references resolve against
    is_url: bool


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def redact_url(url: str) -> str:
    """Drop userinfo and the values of secret-looking query parameters."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    query = [
        (k, "REDACTED" if any(s in k.lower() for s in SECRET_QUERY_KEYS) else v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit((parts.scheme, host, parts.path, urlencode(query), ""))


def read_bytes(source: str, *, budget: Budget, timeout: float = 30.0) -> bytes:
    if is_url(source):
        return _fetch(source, budget=budget, timeout=timeout)
    path = Path(source)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise SourceError(f"no such file: {source}") from None
    except OSError as exc:
        raise SourceError(f"cannot read {source}: {exc.strerror}") from None
    if path.is_dir():
        raise SourceError(f"{source} is a directory, not an OpenAPI document")
    _check_size(size, source, budget)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read {source}: {exc.strerror}") from None


def _check_size(size: int, source: str, budget: Budget) -> None:
    if size > budget.max_bytes:
        raise BudgetError(
            f"{source} is {size / MIB:.1f} MiB, over the {budget.max_bytes / MIB:g} MiB limit",
            suggestion="Pass --max-bytes with a larger value if the document is trusted.",
        )


def _fetch(url: str, *, budget: Budget, timeout: float) -> bytes:
    import httpx

    shown = redact_url(url)
    chunks: list[bytes] = []
    total = 0
    try:
        with httpx.stream("GET", url, timeout=timeout, follow_redirects=True) as response:
            if response.status_code >= 400:
                raise SourceError(f"GET {shown} answered {response.status_code}")
            for chunk in response.iter_bytes():
                total += len(chunk)
                _check_size(total, shown, budget)
                chunks.append(chunk)
    except httpx.HTTPError as exc:
        raise SourceError(
            f"cannot fetch {shown}: {type(exc).__name__}: {exc}",
            suggestion="Check the URL and that the server is reachable, or download the "
            "document and pass its path.",
        ) from None
    return b"".join(chunks)


def parse_bytes(raw: bytes, *, origin: str, budget: Budget) -> Any:
    """JSON when it looks like JSON (fast path), YAML (safe loader) otherwise."""
    head = raw[:64].lstrip()
    if head.startswith((b"{", b"[")):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise SourceError(f"{origin} is not valid JSON: {exc}") from None
    return _parse_yaml(raw, origin=origin, budget=budget)


def _parse_yaml(raw: bytes, *, origin: str, budget: Budget) -> Any:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(raw, Loader=loader)
    except yaml.YAMLError as exc:
        raise SourceError(f"{origin} is neither valid JSON nor valid YAML: {exc}") from None
    except RecursionError:
        raise BudgetError(f"{origin} nests too deeply to parse") from None
    check_expanded_size(data, origin=origin, budget=budget)
    return data


def check_expanded_size(data: Any, *, origin: str, budget: Budget) -> None:
    """Raise if walking ``data`` (aliases expanded) would visit too many nodes or go too deep.

    Sizes and depths are memoized by object identity, so a shared (aliased) subtree is
    measured once however many times it is referenced; a recursive alias is an error.
    """
    if not isinstance(data, dict | list):
        return
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    open_path: set[int] = set()
    stack: list[tuple[Any, bool]] = [(data, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        values = node.values() if isinstance(node, dict) else node
        children = [c for c in values if isinstance(c, dict | list)]
        if not done:
            if key in size:
                continue
            open_path.add(key)
            stack.append((node, True))
            for child in children:
                if id(child) in open_path:
                    raise BudgetError(f"{origin} contains a recursive YAML alias")
                if id(child) not in size:
                    stack.append((child, False))
            continue
        open_path.discard(key)
        n = len(node) + 1 + sum(size[id(c)] for c in children)
        d = 1 + max((depth[id(c)] for c in children), default=0)
        size[key], depth[key] = n, d
        if n > budget.max_nodes:
            raise BudgetError(
                f"{origin} expands to more than {budget.max_nodes:,} nodes "
                "(a YAML alias bomb, or a document too large to process)",
                suggestion="Check the document for runaway YAML anchors/aliases; pass "
                "--max-nodes to raise the limit if it is trusted.",
            )
        if d > budget.max_depth:
            raise BudgetError(f"{origin} nests deeper than {budget.max_depth} levels")


def load(source: str, *, budget: Budget | None = None) -> Loaded:
    budget = budget or Budget()
    raw = read_bytes(source, budget=budget)
    url = is_url(source)
    location = redact_url(source) if url else source
    document = parse_bytes(raw, origin=location, budget=budget)
    base = source if url else str(Path(source).resolve())
    return Loaded(
        document=document,
        sha256=hashlib.sha256(raw).hexdigest(),
        location=location,
        base=base,
        is_url=url,
    )
