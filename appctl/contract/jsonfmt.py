"""JSON text for the files appctl writes: one line per value that fits, indented otherwise.

A value whose compact form fits in ``WIDTH`` columns (after its indent and key), or that is
nested ``DEPTH`` levels deep, is written on one line; a longer object or array nearer the top
is written one member per line, indented two spaces, and the same rule applied to each
member. In a contract that puts each action's key on a line of its own and each argument
(``resources/*/actions/*/parameters/*``, depth 6) and each property of a definition on one
line: it reads and diffs like indented JSON (a changed argument is a changed line) at little
more than the compact size. Microsoft Graph's contract (22,361 operations) is 88 MB indented
at every level, 47 MB compact. Key order is kept as given; values are spelled by orjson,
so the output is deterministic.

``Each`` stands for a list whose members are made one at a time while writing, so that a
large contract is never held as one whole dict tree beside its text.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import orjson

WIDTH = 100
DEPTH = 6
_NEWLINE = b"\n"


@dataclass(frozen=True, slots=True)
class Each:
    """A list written member by member: ``make`` turns each item into plain JSON data."""

    items: Iterable[Any]
    make: Callable[[Any], Any]


def dumps(data: Any) -> bytes:
    """``data`` as JSON text with a trailing newline (see the module docstring)."""
    buffer = io.BytesIO()  # its getvalue() hands over the bytes it built, without a copy
    _write(buffer.write, data, 0, 0)
    buffer.write(_NEWLINE)
    return buffer.getvalue()


def _fits(value: Any, room: int) -> bytes | None:
    """The compact text of ``value`` if it fits in ``room`` columns, else None. A container
    with more members than could fit is not serialized to find out."""
    if isinstance(value, dict | list) and 3 * len(value) > room:
        return None
    try:
        text = orjson.dumps(value)
    except TypeError:  # it holds an ``Each``: written member by member
        return None
    return text if len(text) <= room else None


def _write(out: Callable[[bytes], int], value: Any, depth: int, used: int) -> None:
    """Append ``value`` found ``depth`` levels down; ``used`` columns of its line are taken
    already (indent and key)."""
    if isinstance(value, Each):
        _write_list(out, (value.make(item) for item in value.items), depth)
        return
    if depth >= DEPTH or not isinstance(value, dict | list) or not value:
        out(orjson.dumps(value))
        return
    text = _fits(value, WIDTH - used)
    if text is not None:
        out(text)
    elif isinstance(value, dict):
        _write_dict(out, value, depth)
    else:
        _write_list(out, value, depth)


def _write_dict(out: Callable[[bytes], int], value: dict[str, Any], depth: int) -> None:
    indent = 2 * depth
    inner = indent + 2
    pad = b"\n" + b" " * inner
    out(b"{")
    first = True
    for key, member in value.items():
        out(pad if first else b"," + pad)
        first = False
        label = orjson.dumps(key) + b": "
        out(label)
        _write(out, member, depth + 1, inner + len(label))
    out(b"\n" + b" " * indent + b"}")


def _write_list(out: Callable[[bytes], int], members: Iterable[Any], depth: int) -> None:
    indent = 2 * depth
    inner = indent + 2
    pad = b"\n" + b" " * inner
    out(b"[")
    first = True
    for member in members:
        out(pad if first else b"," + pad)
        first = False
        _write(out, member, depth + 1, inner)
    out(b"]" if first else b"\n" + b" " * indent + b"]")
