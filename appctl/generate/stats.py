"""Size figures for emitted tool definitions: bytes and approximate tokens per tool.

The token figure is an estimate (o200k-style tokenizers average close to four characters
per token on JSON schema text); exact counts are what ``benchmarks/`` measures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import orjson

CHARS_PER_TOKEN = 4.0


@dataclass(frozen=True, slots=True)
class ToolSize:
    name: str
    bytes: int
    tokens: int


def approx_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def sizes(entries: list[Any], names: list[str]) -> list[ToolSize]:
    out = []
    for name, entry in zip(names, entries, strict=True):
        text = orjson.dumps(entry).decode("utf-8")
        out.append(ToolSize(name=name, bytes=len(text.encode("utf-8")), tokens=approx_tokens(text)))
    return out
