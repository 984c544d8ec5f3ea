"""The JSON Schemas of the values the SQL executor reads and writes exactly
(``execute/sql/values.py`` holds the representations; these schemas state them).

- Floats: a number, or the string ``"NaN"``, ``"Infinity"`` or ``"-Infinity"`` (JSON has no
  number for them; ``null`` stays SQL NULL). Written as ``type: [number, string]`` with a
  ``pattern`` (which binds strings only): the same values as
  ``anyOf: [{type: number}, {enum: [...]}]``, and still made nullable by adding ``"null"``
  to ``type``, as every column schema is.
- Decimals: a string (or a number) of at most the declared digits. PostgreSQL's NUMERIC
  also holds ``"NaN"`` (and, unconstrained, ``"Infinity"`` and ``"-Infinity"``, from
  PostgreSQL 14), returned as those strings: its pattern admits exactly what the column
  stores, and no other dialect's does.
- MariaDB/MySQL TIME: a time of day or a duration, ``[-]HH:MM:SS[.ffffff]`` with 2 or 3
  digits of hours (-838:59:59.999999 to 838:59:59.999999), read and written as that text.
- PostgreSQL dates and timestamps may be ``infinity`` or ``-infinity``, and a time
  ``24:00:00``: Python cannot hold them, so they are read and written as that text. The
  schema of such a column is a pattern admitting the ISO 8601 forms and exactly those.
- JSON: any value; the description says how the document ``null`` differs from SQL NULL.
- What a read returns (``returned_schema``): the column's schema, except on SQLite, whose
  columns (outside STRICT tables) keep any value: a value of another type is returned as
  what it is, so the schema admits that too, and no more.
"""

from __future__ import annotations

from typing import Any

NON_FINITE = ("NaN", "Infinity", "-Infinity")
FLOAT_PATTERN = "^(NaN|Infinity|-Infinity)$"
FLOAT_STORES = {
    "postgresql": "NaN, Infinity and -Infinity",
    "sqlite": "Infinity and -Infinity (not NaN)",
    "mysql": "none of them",
    "mariadb": "none of them",
}
JSON_DESCRIPTION = (
    'JSON. null means SQL NULL; the JSON value null is written and read as {"$json": null}, '
    'and an object whose only key is "$json" as {"$json": <that object>}.'
)


def float_schema(dialect: str) -> dict[str, Any]:
    stores = FLOAT_STORES.get(dialect, "what the database can")
    return {
        "type": ["number", "string"],
        "pattern": FLOAT_PATTERN,
        "description": 'a number; "NaN", "Infinity" or "-Infinity" for those floats (this '
        f"database stores {stores})",
    }


def decimal_schema(precision: int | None, scale: int, dialect: str) -> dict[str, Any]:
    """A decimal column's value: digits within its precision and scale. On PostgreSQL a
    NUMERIC(p, s) also stores NaN (not ±Infinity); an unconstrained NUMERIC stores all three."""
    out: dict[str, Any] = {"type": ["string", "number"]}
    if precision:
        whole = max(precision - scale, 1)
        frac = rf"(\.\d{{1,{scale}}})?" if scale else ""
        digits = rf"[-+]?\d{{1,{whole}}}{frac}"
        nan = dialect == "postgresql"
        out["pattern"] = rf"^({digits}|NaN)$" if nan else rf"^{digits}$"
        out["description"] = f"decimal, {precision} digits, {scale} after the point" + (
            ', or "NaN"' if nan else ""
        )
    elif dialect == "postgresql":
        out["description"] = 'decimal; "NaN", "Infinity" or "-Infinity" for those values'
    return out


# MariaDB/MySQL TIME as text: the hours up to 838, a fraction of up to 6 digits
MYSQL_TIME = r"-?(\d{2}|[1-7]\d{2}|8[0-2]\d|83[0-8]):[0-5]\d:[0-5]\d"
FRACTION = r"(\.\d{1,6})?"


def mysql_time_schema(fsp: int | None) -> dict[str, Any]:
    """A MariaDB/MySQL TIME(fsp): a fraction only where the column keeps one."""
    fraction = FRACTION if fsp else ""
    return {
        "type": "string",
        "pattern": f"^{MYSQL_TIME}{fraction}$",
        "description": "a time of day or a duration, -838:59:59 to 838:59:59, as "
        + ("[-]HH:MM:SS[.ffffff]" if fsp else "[-]HH:MM:SS")
        + " (hours may have 3 digits)",
    }


_OFFSET = r"(Z|[+-]\d{2}(:?\d{2}(:\d{2}(\.\d+)?)?)?)?"
_CLOCK = r"\d{2}(:\d{2}(:\d{2}(\.\d+)?)?)?"
PG_TEMPORAL: dict[str, tuple[str, str, str]] = {  # kind: (ISO 8601 form, its text, PG's own)
    "date": (r"\d{4}-\d{2}-\d{2}", "an ISO 8601 date", "-?infinity"),
    "datetime": (
        rf"\d{{4}}-\d{{2}}-\d{{2}}([T ]{_CLOCK})?{_OFFSET}",
        "an ISO 8601 date-time",
        "-?infinity",
    ),
    "time": (rf"{_CLOCK}{_OFFSET}", "an ISO 8601 time", r"24:00:00([+-]\d{2}(:\d{2}){0,2})?"),
}


def pg_temporal_schema(kind: str) -> dict[str, Any]:
    """A PostgreSQL date, timestamp or time: ISO 8601, or PostgreSQL's own text for the
    values Python cannot hold (``infinity``, ``-infinity``; the time ``24:00:00``)."""
    iso, what, own = PG_TEMPORAL[kind]
    special = '"24:00:00"' if kind == "time" else '"infinity" or "-infinity"'
    return {
        "type": "string",
        "pattern": f"^({iso}|{own})$",
        "description": f"{what}, or {special}",
    }


def json_schema() -> dict[str, Any]:
    return {"description": JSON_DESCRIPTION}


# What SQLite may hold besides the declared type, in a column that is not STRICT: TEXT
# affinity turns numbers into text (only a BLOB, returned as base64 text, or text longer
# than declared); every other affinity keeps integers, reals and text as given.
_ANY_SCALAR = {"type": ["number", "string"]}


def returned_schema(schema: dict[str, Any], *, kind: str, dialect: str) -> dict[str, Any]:
    """The schema of a column's non-null value as a read returns it: an enum's value added
    since sync is returned as text (with a note), on every dialect."""
    schema = _any_enum_text(schema)
    if dialect != "sqlite" or not schema:
        return schema
    if kind == "string":
        return {k: v for k, v in schema.items() if k != "maxLength"}
    if kind in ("decimal", "number"):
        return {**{k: v for k, v in schema.items() if k != "pattern"}, **_ANY_SCALAR}
    return {"anyOf": [schema, _ANY_SCALAR]}


def _any_enum_text(schema: dict[str, Any]) -> dict[str, Any]:
    kind = schema.get("type")  # ["string", "null"]: an array element, which may be NULL
    if "enum" in schema and (kind == "string" or (isinstance(kind, list) and "string" in kind)):
        names = [str(v) for v in schema["enum"] if v is not None]
        return {"type": kind, "description": "one of " + ", ".join(names)}
    items = schema.get("items")
    if isinstance(items, dict) and ("enum" in items or "items" in items):
        return {**schema, "items": _any_enum_text(items)}
    return schema
