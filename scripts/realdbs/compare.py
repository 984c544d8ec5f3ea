"""What a direct read says a value is, compared with what appctl returned (pure).

The documented comparison, per the column's JSON Schema in the contract:

- SQL NULL is ``null``; nothing else is.
- Floats: equal as numbers (JSON numbers round-trip a double exactly); NaN, +Inf and -Inf
  must come back as the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``.
- Decimals (a NUMERIC/DECIMAL/MONEY column): ``Decimal(returned) == Decimal(str(direct))``,
  so nothing may be rounded (same value, any scale); a SQLite REAL stored in such a column
  is the shortest text of its double (``13.86``).
- Booleans: ``true``/``false``; a direct 0/1 (SQLite, MariaDB) is the same boolean.
- Dates, times, timestamps (``format: date|time|date-time``): both sides parsed with
  ``fromisoformat`` (a SQLite text value too) and equal as values; a zoned and a naive
  timestamp are never equal.
- Intervals (``format: duration``): the ISO 8601 duration parsed back to a timedelta.
- UUIDs: equal as ``uuid.UUID``. Binary: base64 decoded, equal as bytes.
- JSON columns: the direct text parsed with ``json.loads`` and equal as data (NaN-aware);
  the JSON document ``null`` must come back as ``{"$json": null}``.
- Arrays: item by item with the items' schema.
- Anything else: equal as JSON values, else equal as text.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import math
import re
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_DURATION = re.compile(
    r"^(?P<sign>-)?P(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>[\d.]+)S)?)?$"
)
_DECIMAL_TYPES = ("NUMERIC", "DECIMAL", "MONEY")


def same(got: Any, direct: Any, column: dict[str, Any]) -> bool:
    """Whether ``got`` (appctl's JSON value) is ``direct`` (the DB-API value) per the rules."""
    if direct is None or got is None:
        return direct is None and got is None
    direct = text_of(direct, column)
    schema = column.get("schema") or {}
    return _same(got, direct, schema, column.get("kind", ""), str(column.get("type", "")))


def _same(got: Any, direct: Any, schema: dict[str, Any], kind: str, sqltype: str) -> bool:
    if isinstance(direct, (list, tuple)) and kind != "json":
        items = schema.get("items") or {}
        if isinstance(items, list) or not isinstance(got, list) or len(got) != len(direct):
            return False
        return all(
            (g is None and d is None)
            or (g is not None and d is not None and _same(g, d, items, "", ""))
            for g, d in zip(got, direct, strict=True)
        )
    if kind == "json":
        return _same_json(got, direct)
    fmt = schema.get("format", "")
    if isinstance(direct, Decimal) or any(t in sqltype.upper() for t in _DECIMAL_TYPES):
        return _same_decimal(got, direct)
    if isinstance(direct, float):
        return _same_float(got, direct)
    if isinstance(direct, bool) or kind == "boolean":
        return isinstance(got, bool) and got == bool(direct)
    if isinstance(direct, (bytes, bytearray, memoryview)):
        return isinstance(got, str) and base64.b64decode(got) == bytes(direct)
    if fmt in ("date-time", "date", "time") or isinstance(direct, (dt.date, dt.time)):
        return _same_temporal(got, direct, fmt)
    if fmt == "duration" or isinstance(direct, dt.timedelta):
        return isinstance(got, str) and parse_duration(got) == direct
    if fmt == "uuid" or isinstance(direct, uuid.UUID):
        return _same_uuid(got, direct)
    return bool(got == direct or (not isinstance(got, (dict, list)) and str(got) == str(direct)))


def _same_float(got: Any, direct: float) -> bool:
    if math.isfinite(direct):
        return isinstance(got, (int, float)) and not isinstance(got, bool) and float(got) == direct
    want = "NaN" if math.isnan(direct) else ("Infinity" if direct > 0 else "-Infinity")
    return got == want


def _same_decimal(got: Any, direct: Any) -> bool:
    if isinstance(direct, float) and not math.isfinite(direct):
        return _same_float(got, direct)
    try:
        return Decimal(str(got)) == Decimal(str(direct)) or (
            Decimal(str(got)).is_nan() and Decimal(str(direct)).is_nan()
        )
    except InvalidOperation:
        return False


def _same_temporal(got: Any, direct: Any, fmt: str) -> bool:
    if not isinstance(got, str):
        return False
    want = direct
    try:
        if isinstance(direct, str):
            want = _parse_temporal(direct, fmt)
        return bool(_parse_temporal(got, fmt) == want)
    except (ValueError, TypeError):
        return got == str(direct)


def _parse_temporal(text: str, fmt: str) -> Any:
    if fmt == "date" and len(text) == 10:
        return dt.date.fromisoformat(text)
    if fmt == "time":
        return dt.time.fromisoformat(text)
    value = dt.datetime.fromisoformat(text)
    return value


def _same_uuid(got: Any, direct: Any) -> bool:
    try:
        return uuid.UUID(str(got)) == uuid.UUID(str(direct))
    except ValueError:
        return str(got) == str(direct)


def _same_json(got: Any, direct: Any) -> bool:
    if isinstance(direct, (bytes, bytearray)):
        direct = bytes(direct).decode()
    if isinstance(direct, str):
        try:
            direct = json.loads(direct)
        except ValueError:
            return got == direct  # text that is not JSON comes back as what it is
        if direct is None:
            return got == {"$json": None}
    if isinstance(direct, dict) and list(direct) == ["$json"]:
        return got == {"$json": direct}
    return _json_equal(got, direct)


def _json_equal(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool((a == b and type(a) is not bool) or a is b)


def parse_duration(text: str) -> dt.timedelta | None:
    match = _DURATION.match(text)
    if not match:
        return None
    parts = match.groupdict()
    delta = dt.timedelta(
        days=int(parts["d"] or 0),
        hours=int(parts["h"] or 0),
        minutes=int(parts["m"] or 0),
        seconds=float(Decimal(parts["s"] or "0")),
    )
    return -delta if parts["sign"] else delta


def key_of(row: dict[str, Any], key: list[str]) -> str:
    """A row's identity for matching pages with the direct read (the key's values as text)."""
    return json.dumps([_key_text(row.get(k)) for k in key])


def _key_text(value: Any) -> str:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def text_of(direct: Any, column: dict[str, Any]) -> Any:
    """SQLite text arrives as bytes (read as stored): decoded as appctl documents it, with
    U+FFFD for bytes that are not UTF-8. BLOB columns stay bytes."""
    if isinstance(direct, bytes) and column.get("kind") != "binary":
        return direct.decode("utf-8", errors="replace")
    return direct


def argument(direct: Any, column: dict[str, Any]) -> Any:
    """A key value read directly, as a tool argument (JSON)."""
    direct = text_of(direct, column)
    if column.get("kind") == "boolean":
        return bool(direct)
    if isinstance(direct, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(direct)).decode()
    if isinstance(direct, (uuid.UUID, Decimal)):
        return str(direct)
    if isinstance(direct, (dt.datetime, dt.date, dt.time)):
        return direct.isoformat()
    return direct


def prefix_of(got: Any, direct: Any, column: dict[str, Any]) -> bool:
    """A value cut to the budget: a string must start the whole value's text (objects as
    their compact JSON text), an array must be the whole array's leading items."""
    direct = text_of(direct, column)
    if column.get("kind") == "json" and isinstance(direct, (str, bytes)):
        with contextlib.suppress(ValueError):
            direct = json.loads(direct)
    if isinstance(got, list):
        return (
            isinstance(direct, (list, tuple))
            and all(_json_equal(g, d) for g, d in zip(got, direct, strict=False))
            and len(got) <= len(direct)
        )
    if not isinstance(got, str):
        return False
    if isinstance(direct, str) and column.get("kind") != "json":
        return direct.startswith(got)
    whole = json.dumps(direct, ensure_ascii=False, separators=(",", ":"))
    return whole.startswith(got)


_CUT = re.compile(r"([^\s,:()]+) to [\d,]+ of [\d,]+ characters \(")


def cut_columns(envelope: dict[str, Any]) -> list[str]:
    """The columns a ``get`` result names as cut to the budget (in its note)."""
    notes = json.dumps({k: v for k, v in envelope.items() if k != "data"}, ensure_ascii=False)
    return _CUT.findall(notes)
