"""Filters on real values: for every column a list tool lets you filter on, the value a read
returned, given back as ``eq`` (and a prefix as ``like`` where offered), must find its row,
and ``eq`` only rows holding that value. One call per column and operator, bounded."""

from __future__ import annotations

import json
import re
import time
from typing import Any

_PLAIN = re.compile(r"[^%_\\\\]{1,6}")


def _resolve(schema: dict[str, Any], node: Any) -> dict[str, Any]:
    """``node`` with a local ``$ref`` (``#/$defs/X`` or ``#/definitions/X``) followed."""
    for _ in range(8):
        if not isinstance(node, dict) or "$ref" not in node:
            break
        target: Any = schema
        for part in str(node["$ref"]).lstrip("#/").split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        node = target
    return node if isinstance(node, dict) else {}


def _key(row: dict[str, Any], key: list[str]) -> str:
    return json.dumps([row.get(k) for k in key], sort_keys=True, default=str)


async def probe(
    tools: Any,
    tool: str,
    schema: dict[str, Any],
    walked: list[tuple[dict[str, Any], list[str]]],
    key: list[str],
    deadline: float,
) -> None:
    where = _resolve(schema, schema.get("properties", {}).get("where"))
    for column, node in (where.get("properties") or {}).items():
        ops = _resolve(schema, node).get("properties") or {}
        found = next(
            ((r, c) for r, c in walked if r.get(column) is not None and column not in c), None
        )
        if found is None or time.monotonic() > deadline:
            continue
        row = found[0]
        value = row[column]
        tests: list[tuple[str, Any]] = [("eq", value)] if "eq" in ops else []
        if "like" in ops and isinstance(value, str) and (plain := _PLAIN.match(value)):
            tests.append(("like", plain.group(0) + "%"))
        for op, argument in tests:
            await _one(tools, tool, column, op, argument, row, key)


async def _one(
    tools: Any, tool: str, column: str, op: str, argument: Any, row: dict[str, Any], key: list[str]
) -> None:
    report = tools.report
    arguments = {"where": {column: {op: argument}}, "limit": 500}
    envelope = await tools.call(tool, arguments)
    report.filters += 1
    if envelope is None:
        return  # the error is reported by the call
    data = envelope.get("data")
    rows = data.get("rows") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        report.mismatch(f"{tool} where {column} {op}: not rows: {str(data)[:200]}")
        return
    keys = {_key(r, key) for r in rows if isinstance(r, dict)}
    if _key(row, key) not in keys and not (isinstance(data, dict) and data.get("has_more")):
        report.mismatch(f"{tool} where {column} {op} {argument!r}: the row it came from is missing")
    if op == "eq":
        other = [r.get(column) for r in rows if isinstance(r, dict) and r.get(column) != argument]
        if other:
            report.mismatch(f"{tool} where {column} eq {argument!r}: also returned {other[:3]!r}")
