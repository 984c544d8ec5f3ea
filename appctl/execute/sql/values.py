"""Database values ↔ JSON, exactly, whatever the database holds (pure: no SQLAlchemy).

The representations every SQL tool documents in its schema:

- Floats: numbers; NaN and ±Infinity, which JSON has no number for, as the strings
  ``"NaN"``, ``"Infinity"`` and ``"-Infinity"`` (never ``null``, which is SQL NULL).
- Decimals: strings, exact; never through a float.
- JSON columns: ``null`` is SQL NULL. The JSON document ``null`` is ``{"$json": null}``,
  and an object whose only key is ``"$json"`` is wrapped the same way
  (``{"$json": {"$json": 1}}``), so what a read returns can be written back unchanged.
- MariaDB/MySQL TIME (a duration, -838:59:59 to 838:59:59, that PyMySQL reads as a
  ``timedelta``): the text ``[-]HH:MM:SS[.ffffff]``, read and written as such.
- PostgreSQL's ``infinity`` and ``-infinity`` dates and timestamps, and its time
  ``24:00:00``: the text PostgreSQL writes, read (``bind.pg_lenient_loaders``) and written
  as such.
- A value that is not of its column's type (SQLite keeps anything in a column that is not
  STRICT; an enum value added since sync) is returned as what it is, and the page gets a
  note naming the rows and the column. Text that is not valid UTF-8 is returned with
  U+FFFD in place of the bad bytes, with a note.

``Reading`` converts one result's rows and gathers those notes.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Context, Decimal, InvalidOperation
from typing import Any

from appctl.contract.models import Column, Table
from appctl.contract.valueschemas import FRACTION, MYSQL_TIME, PG_TEMPORAL

NON_FINITE: dict[str, float] = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
JSON_KEY = "$json"
MAX_ROWS_NAMED = 3  # rows named per note; the rest are counted


class JsonNull:
    """The JSON document ``null`` in a JSON column (as opposed to SQL NULL)."""

    _instance: JsonNull | None = None

    def __new__(cls) -> JsonNull:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "JSON_NULL"


JSON_NULL = JsonNull()


class Mangled(str):
    """Text whose bytes were not valid UTF-8, decoded with U+FFFD replacements."""


def decode_text(raw: bytes) -> str:
    """SQLite's ``text_factory``: UTF-8, or ``Mangled`` text with replacements."""
    try:
        return str(raw, "utf-8")
    except UnicodeDecodeError:
        return Mangled(str(raw, "utf-8", "replace"))


def json_loads(text: str | bytes) -> Any:
    """A JSON column's text → its value; the document ``null`` → ``JSON_NULL``."""
    value = json.loads(text)
    return JSON_NULL if value is None else value


def float_json(value: float) -> float | str:
    if math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def float_in(value: Any) -> float:
    """A float column's JSON argument: a number, or one of the NON_FINITE strings."""
    if isinstance(value, str):
        if value in NON_FINITE:
            return NON_FINITE[value]
        raise ValueError('expected a number, or "NaN", "Infinity", "-Infinity"')
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("expected a number")
    return float(value)


def json_out(value: Any) -> Any:
    """A JSON column's value as the tool returns it (see the module docstring)."""
    if value is JSON_NULL:
        return {JSON_KEY: None}
    if isinstance(value, dict) and list(value) == [JSON_KEY]:
        return {JSON_KEY: value}
    return value


def json_in(value: Any) -> Any:
    """A JSON column's argument → what is stored: None is SQL NULL, JSON_NULL the document."""
    if isinstance(value, dict) and list(value) == [JSON_KEY]:
        inner = value[JSON_KEY]
        return JSON_NULL if inner is None else inner
    return value


_SCALE = re.compile(r"\(\s*\d+\s*,\s*(\d+)\s*\)")


def scale_of(column: Column) -> int:
    found = _SCALE.search(column.type)
    return int(found.group(1)) if found else 0


def decimal_text(number: Decimal, scale: int = 0) -> str:
    """Exact, without an exponent; padded with zeros to ``scale`` (never rounded to it)."""
    if not number.is_finite():
        return "NaN" if number.is_nan() else ("Infinity" if number > 0 else "-Infinity")
    parts = number.as_tuple()
    exponent = parts.exponent
    if isinstance(exponent, int) and exponent > -scale:
        # only adds zeros: as many digits as that makes (past the default 28 of precision,
        # 1.5625E+28 in a NUMERIC(30) would raise instead of reading 156250…0)
        digits = Context(prec=len(parts.digits) + exponent + scale)
        number = number.quantize(Decimal(1).scaleb(-scale), context=digits)
    return format(number, "f")


def sqlite_decimal(value: Decimal) -> int | float:
    """What to bind for a SQLite NUMERIC value so that the stored value is exactly it
    (an integer, or a float whose shortest text is the decimal); ValueError when SQLite
    cannot hold it exactly."""
    number = float(value)
    if value.is_infinite():
        return number
    if value == value.to_integral_value() and -(2**63) <= value < 2**63:
        return int(value)
    if math.isfinite(number) and Decimal(repr(number)) == value:
        return number
    raise ValueError(
        f"{value} cannot be stored exactly in SQLite: it keeps a NUMERIC value as a 64-bit "
        f"integer or a float of at most 15-17 significant digits (this would become "
        f"{Decimal(repr(number)) if math.isfinite(number) else number}); give fewer digits, "
        "or store it in a TEXT column"
    )


@dataclass
class Reading:
    """Converts the rows of one result to JSON, noting values not of their column's type."""

    table: Table
    dialect: str
    args: Mapping[str, str]  # column → argument name
    seen: list[tuple[str, str, int, str]] = field(default_factory=list)  # column, what, row
    columns: dict[str, Column] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.columns = {c.name: c for c in self.table.columns}

    def row(self, values: Mapping[str, Any], index: int = 0) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, value in values.items():
            column = self.columns.get(name)
            shown, what = cell(column, value, self.dialect) if column else (value, None)
            if what is not None:
                self.seen.append((name, what, index, self._label(values, index)))
            out[self.args.get(name, name)] = shown
        return out

    def rows(self, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        return [self.row(r, i) for i, r in enumerate(rows)]

    def _label(self, values: Mapping[str, Any], index: int) -> str:
        key = self.table.primary_key
        if key and all(k in values for k in key):
            return ", ".join(f"{self.args.get(k, k)}={_short(values[k])}" for k in key)
        return f"#{index + 1} of this result"

    def notes(self, rows: int | None = None) -> list[str]:
        """One note per column and oddity, naming the rows (of the first ``rows``)."""
        grouped: dict[tuple[str, str], list[str]] = {}
        for column, what, index, label in self.seen:
            if rows is None or index < rows:
                grouped.setdefault((column, what), []).append(label)
        out = []
        for (column, what), labels in grouped.items():
            named = "; ".join(labels[:MAX_ROWS_NAMED])
            more = len(labels) - MAX_ROWS_NAMED
            named += f" and {more} more" if more > 0 else ""
            out.append(f"column {self.args.get(column, column)} of row(s) {named}: {what}")
        return out


def unstorable(plan: Any, dialect: str) -> str | None:
    """Why the database cannot hold a non-finite value the plan binds (None: it can)."""
    bound = [*plan.values.items(), *plan.key.items()]
    bound += [(c, v) for c, op, v in plan.where if op != "is_null"]
    for column, value in bound:
        for item in value if isinstance(value, list) else [value]:
            why = _cannot_hold(item, dialect)
            if why is not None:
                return f"{plan.args.get(column, column)}: {why}"
    return None


def _cannot_hold(value: Any, dialect: str) -> str | None:
    if isinstance(value, float) and not math.isfinite(value):
        shown = float_json(value)
    elif isinstance(value, Decimal) and not value.is_finite():
        shown = decimal_text(value)
    else:
        return None
    if dialect == "mysql":
        return (
            f'"{shown}" cannot be stored in MariaDB/MySQL: its FLOAT, DOUBLE and DECIMAL '
            "columns hold finite numbers only (no NaN, no Infinity)"
        )
    if dialect == "sqlite" and shown == "NaN":
        return '"NaN" cannot be stored in SQLite (it would store NULL); ±Infinity it can'
    return None


def _short(value: Any) -> str:
    text = json.dumps(value if isinstance(value, int | str) else str(value), ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "..."


DRIFT = (
    "holds {value!r}, which is not among the enum values recorded at sync: returned as text "
    "(the database changed since the last sync: run appctl sync --db again)"
)
MANGLED = "text that is not valid UTF-8: returned with U+FFFD in place of the bad bytes"


def cell(column: Column, value: Any, dialect: str) -> tuple[Any, str | None]:
    """A database value → (its JSON, what is odd about it, or None)."""
    if value is None:
        return None, None
    if dialect == "sqlite":
        return sqlite_cell(column, value)
    kind = column.kind
    if kind == "json":
        return json_out(value), None
    if kind == "boolean" and isinstance(value, int) and not isinstance(value, bool):
        if value in (0, 1):
            return bool(value), None
        return value, f"holds the number {value}, not 0 or 1: returned as it is"
    if kind == "enum" and isinstance(value, str):
        return value, _enum_drift(column.schema_, value)
    if kind == "array" and column.item_kind == "enum" and isinstance(value, list):
        items = column.schema_.get("items") or {}
        drift = next((d for v in _flat(value) if (d := _enum_drift(items, v))), None)
        return to_json(value), drift
    if isinstance(value, bytes) and kind not in ("binary", "other", "array"):
        text = decode_text(value)  # text the driver could not decode (e.g. SQL_ASCII)
        return str(text), MANGLED if isinstance(text, Mangled) else None
    if isinstance(value, Mangled):
        return str(value), MANGLED
    return to_json(value), None


def _flat(value: list[Any]) -> list[Any]:
    out: list[Any] = []
    for item in value:
        out.extend(_flat(item) if isinstance(item, list) else [item])
    return out


def _enum_drift(schema: Mapping[str, Any], value: Any) -> str | None:
    allowed = schema.get("enum")
    if allowed is None or value is None or value in allowed:
        return None
    return DRIFT.format(value=value)


def to_json(value: Any) -> Any:
    """A typed database value → JSON: decimals as exact strings, non-finite floats as
    strings, dates ISO 8601, intervals as ISO 8601 durations, UUIDs as text, bytes base64."""
    if isinstance(value, float):
        return float_json(value)
    if value is None or isinstance(value, bool | int | str):
        return str(value) if isinstance(value, Mangled) else value
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return duration_text(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted(to_json(v) for v in value)
    if value is JSON_NULL:
        return None
    return str(value)


def sqlite_cell(column: Column, raw: Any) -> tuple[Any, str | None]:
    """A raw SQLite value (int, float, str or bytes, as stored) → (JSON, what is odd)."""
    kind = column.kind
    if isinstance(raw, Mangled):
        return str(raw), MANGLED
    if isinstance(raw, bytes) and kind != "binary":
        return base64.b64encode(raw).decode("ascii"), _stored("a BLOB (shown as base64)", column)
    try:
        shown: tuple[Any, str | None] | None = _SQLITE.get(kind, _as_is)(column, raw)
    except (ValueError, TypeError, InvalidOperation):
        shown = None
    if shown is not None:
        return shown
    what = {int: "an INTEGER", float: "a REAL", str: "TEXT"}.get(type(raw), "a value")
    return (float_json(raw) if isinstance(raw, float) else raw), _stored(what, column)


def _stored(what: str, column: Column) -> str:
    return (
        f"holds {what} in a column declared {column.type or 'without a type'} (SQLite keeps "
        "any value in a column of a table that is not STRICT): returned as it is"
    )


def _as_is(_column: Column, raw: Any) -> Any:
    return (to_json(raw), None) if isinstance(raw, str | int | float) else None


def _text(_column: Column, raw: Any) -> Any:
    return (raw, None) if isinstance(raw, str) else None


def _integer(_column: Column, raw: Any) -> Any:
    return (raw, None) if isinstance(raw, int) else None


def _number(_column: Column, raw: Any) -> Any:
    return (float_json(float(raw)), None) if isinstance(raw, int | float) else None


def _decimal(column: Column, raw: Any) -> Any:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        return None
    if isinstance(raw, float) and not math.isfinite(raw):
        return float_json(raw), None
    number = Decimal(repr(raw) if isinstance(raw, float) else raw)
    if isinstance(raw, str) and not number.is_finite():
        return None
    return decimal_text(number, scale_of(column)), None


def _boolean(_column: Column, raw: Any) -> Any:
    return (bool(raw), None) if isinstance(raw, int) and raw in (0, 1) else None


def _parsed(parse: Any) -> Any:
    def read(_column: Column, raw: Any) -> Any:
        return (parse(raw).isoformat(), None) if isinstance(raw, str) else None

    return read


def _datetime(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def _binary(_column: Column, raw: Any) -> Any:
    return (base64.b64encode(raw).decode("ascii"), None) if isinstance(raw, bytes) else None


def _json(_column: Column, raw: Any) -> Any:
    if isinstance(raw, str):
        return json_out(json_loads(raw)), None
    if isinstance(raw, int | float):  # a JSON number, made a number by NUMERIC affinity
        return float_json(raw) if isinstance(raw, float) else raw, None
    return None


_SQLITE: dict[str, Any] = {
    "integer": _integer,
    "number": _number,
    "decimal": _decimal,
    "boolean": _boolean,
    "date": _parsed(dt.date.fromisoformat),
    "datetime": _parsed(_datetime),
    "time": _parsed(dt.time.fromisoformat),
    "binary": _binary,
    "json": _json,
    "string": _text,
    "uuid": _text,
    "enum": _text,
}


_MYSQL_TIME = re.compile(f"^{MYSQL_TIME}{FRACTION}$")


def clock_text(delta: dt.timedelta) -> str:
    """A MariaDB/MySQL TIME as it holds it: ``[-]HH:MM:SS``, a fraction when it has one."""
    sign = "-" if delta < dt.timedelta(0) else ""
    delta = abs(delta)
    minutes, secs = divmod(delta.days * 86400 + delta.seconds, 60)
    fraction = f".{delta.microseconds:06d}" if delta.microseconds else ""
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}:{secs:02d}{fraction}"


_PG_OWN = {k: re.compile(f"^({own})$") for k, (_, _, own) in PG_TEMPORAL.items()}


def temporal_in(kind: str, value: Any, dialect: str) -> Any:
    """A date, date-time or time argument → what is bound: a datetime object, or the
    database's own text for what Python cannot hold (PostgreSQL's infinities and 24:00:00,
    MariaDB/MySQL's TIME beyond a day)."""
    text = str(value)
    if dialect == "postgresql" and _PG_OWN[kind].match(text):
        return text
    if kind == "date":
        return dt.date.fromisoformat(text)
    if kind == "datetime":
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return time_in(text, dialect)


def pg_own_text(kind: str, text: str) -> bool:
    """Whether PostgreSQL's text of a date, timestamp or time is one Python cannot hold."""
    return bool(_PG_OWN[kind].match(text))


def time_in(value: Any, dialect: str) -> dt.time | str:
    """A time argument: MariaDB/MySQL's TIME form as the text the server reads (PyMySQL
    writes a negative ``timedelta`` wrongly); else an ISO 8601 time."""
    text = str(value)
    if dialect in ("mysql", "mariadb") and _MYSQL_TIME.match(text):
        return text
    return dt.time.fromisoformat(text)


def duration_text(delta: dt.timedelta) -> str:
    """ISO 8601 duration, exact to the microsecond."""
    sign = "-" if delta < dt.timedelta(0) else ""
    delta = abs(delta)
    hours, rest = divmod(delta.seconds, 3600)
    minutes, secs = divmod(rest, 60)
    fraction = f".{delta.microseconds:06d}".rstrip("0") if delta.microseconds else ""
    parts = ((hours, "H"), (minutes, "M"), (f"{secs}{fraction}" if secs or fraction else 0, "S"))
    time = "".join(f"{n}{unit}" for n, unit in parts if n)
    days = f"{delta.days}D" if delta.days else ""
    if not days and not time:
        return "PT0S"
    return f"{sign}P{days}" + (f"T{time}" if time else "")
