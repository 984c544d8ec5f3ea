"""Names that reach a model, built in one place and valid for every target format.

Tool names: ``^[a-zA-Z][a-zA-Z0-9_]{0,63}$`` (OpenAI, Anthropic, Gemini, MCP all accept it).
Argument names: ``^[a-zA-Z_][a-zA-Z0-9_.-]{0,63}$`` (Anthropic's property-key rule, tightened
to start like an identifier for Gemini).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Protocol

MAX_NAME = 64
TOOL_NAME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]{0,63}$")
ARG_NAME_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_.-]{0,63}$")

_CAMEL_1 = re.compile(r"([A-Z]+)([A-Z][a-z])")
_CAMEL_2 = re.compile(r"([a-z0-9])([A-Z])")
_NON_WORD = re.compile(r"[^A-Za-z0-9]+")
_NON_ARG = re.compile(r"[^A-Za-z0-9_.-]+")
_SNAKE = re.compile(r"[a-z0-9]+(?:_[a-z0-9]+)*")  # what snake_case leaves as it is


class ToolName(str):
    """A str that can only hold a valid tool name."""

    __slots__ = ()

    def __new__(cls, value: str) -> ToolName:
        if not TOOL_NAME_RE.match(value):
            raise ValueError(f"invalid tool name {value!r}: must match {TOOL_NAME_RE.pattern}")
        return super().__new__(cls, value)


def short_hash(text: str, length: int = 6) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:length]


def _split_pair(match: re.Match[str]) -> str:
    return f"{match.group(1)}_{match.group(2)}"


def snake_case(text: str) -> str:
    """``listPets`` → ``list_pets``, ``repos/get-content`` → ``repos_get_content``."""
    if _SNAKE.fullmatch(text):
        return text  # no capitals, no runs of other characters: nothing to change
    text = _CAMEL_1.sub(_split_pair, text)
    text = _CAMEL_2.sub(_split_pair, text)
    return _NON_WORD.sub("_", text).strip("_").lower()


def fit(name: str, *, limit: int = MAX_NAME, key: str | None = None) -> str:
    """Cut ``name`` to ``limit`` characters, keeping it unique with a hash of the full name."""
    if len(name) <= limit:
        return name
    digest = short_hash(key or name, 8)
    return f"{name[: limit - len(digest) - 1].rstrip('_')}_{digest}"


def tool_name(text: str, *, fallback: str = "op") -> ToolName:
    """A valid tool name from free text (an operationId, or method + path)."""
    base = snake_case(text) or fallback
    if not base[0].isalpha():
        base = f"{fallback}_{base}"
    return ToolName(fit(base, key=text))


def arg_name(text: str) -> str:
    """A valid argument name; the wire name is kept separately when this differs."""
    if ARG_NAME_RE.match(text):
        return text
    base = _NON_ARG.sub("_", text).strip("_") or "arg"
    if not (base[0].isalpha() or base[0] == "_"):
        base = f"_{base}"
    return fit(base, key=text)


def dedupe(name: str, taken: set[str], *, key: str) -> str:
    """``name`` if free, else ``name`` + a stable hash of ``key`` (then a counter if needed)."""
    if name not in taken:
        return name
    suffix = short_hash(key)
    candidate = fit(f"{name}_{suffix}", key=f"{name}:{key}")
    counter = 2
    while candidate in taken:
        candidate = fit(f"{name}_{suffix}_{counter}", key=f"{name}:{key}:{counter}")
        counter += 1
    return candidate


# A database table's list tool: its options, and the names its columns take as arguments
# (sync writes them, the executor reads arguments back by them).
DEFAULT_LIMIT = 50
MAX_LIMIT = 500
MAX_IN = 100  # values in an `in` filter: a bound constrained decoders can expand
OPTIONS = ("where", "order_by", "limit", "offset", "cursor", "set_null")


class _ColumnLike(Protocol):
    @property
    def name(self) -> str: ...


class _TableLike(Protocol):
    @property
    def columns(self) -> Sequence[_ColumnLike]: ...


def column_args(table: _TableLike) -> dict[str, str]:
    """Column name → argument name: the name itself when valid, never one of the options."""
    out: dict[str, str] = {}
    taken: set[str] = set(OPTIONS)
    for column in table.columns:
        base = arg_name(column.name)
        name = dedupe(base, taken, key=column.name)
        taken.add(name)
        out[column.name] = name
    return out
