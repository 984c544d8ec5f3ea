"""Column types past SQLAlchemy's generic ones: the value schema of each exactly as the SQL
executor reads and writes it (pure; ``reflect.value_schema`` asks here first).

- Integers of every width, signed and unsigned, with their exact bounds (BIGINT included;
  SQLite stores every integer in 64 bits whatever the declared name).
- PostgreSQL arrays nest as deep as declared (``int[][]``: arrays of arrays of integers).
- PostgreSQL types without a JSON counterpart (``point``, ``xml``, ``money``, ``inet``,
  ``tsvector``, ``bit``, ranges...) are read and written as the text PostgreSQL itself reads
  and writes (``execute.sql`` casts them): a string, described. A type appctl does not know
  (a composite, an extension's) gets the same, with a sync warning.
- MariaDB/MySQL: ``SET`` is a list of its allowed values, ``YEAR`` an integer (1901-2155,
  or 0), ``BIT(n)`` an integer below 2^n, a LONGTEXT checked by ``json_valid`` (MariaDB's
  JSON) is JSON; another type appctl does not know (INET6, GEOMETRY) is described by name,
  with a sync warning.
- A SQLite column without a declared type takes any value: the permissive schema.

The permissive schema (``PERMISSIVE``) names the type in its description and allows any
JSON value: the executor returns what the driver gives (text, numbers, base64 bytes).
"""

from __future__ import annotations

from typing import Any

INT_BITS = {
    "TINYINT": 8,
    "SMALLINT": 16,
    "SMALLINTEGER": 16,
    "MEDIUMINT": 24,
    "INTEGER": 32,
    "INT": 32,
    "BIGINT": 64,
    "BIGINTEGER": 64,
}

# PostgreSQL types read and written as their text form: what that text looks like
PG_TEXT: dict[str, str] = {
    "money": "an amount as the server's lc_monetary writes it, e.g. $1,234.56",
    "xml": "an XML document or fragment",
    "point": "a point (x,y)",
    "line": "a line {A,B,C}",
    "lseg": "a line segment [(x1,y1),(x2,y2)]",
    "box": "a box (x1,y1),(x2,y2)",
    "path": "a path [(x1,y1),...] (open) or ((x1,y1),...) (closed)",
    "polygon": "a polygon ((x1,y1),...)",
    "circle": "a circle <(x,y),r>",
    "inet": "an IPv4 or IPv6 host address, optionally with its netmask, e.g. 192.168.0.1/24",
    "cidr": "an IPv4 or IPv6 network, e.g. 10.0.0.0/8",
    "macaddr": "a MAC address, e.g. 08:00:2b:01:02:03",
    "macaddr8": "an EUI-64 MAC address, e.g. 08:00:2b:01:02:03:04:05",
    "bit": "a bit string of 0s and 1s",
    "bit varying": "a bit string of 0s and 1s",
    "tsvector": "a text search document, e.g. 'cat' 'fat'",
    "tsquery": "a text search query, e.g. 'fat' & 'cat'",
    "pg_lsn": "a write-ahead log position, e.g. 16/B374D848",
    "int4range": "a range of integers, e.g. [1,5)",
    "int8range": "a range of integers, e.g. [1,5)",
    "numrange": "a range of numbers, e.g. [1.5,2.5]",
    "tsrange": 'a range of timestamps, e.g. ["2024-01-01 00:00:00","2024-02-01 00:00:00")',
    "tstzrange": 'a range of timestamps with time zone, e.g. ["2024-01-01 00:00:00+00",)',
    "daterange": "a range of dates, e.g. [2024-01-01,2024-02-01)",
    "int4multirange": "a set of integer ranges, e.g. {[1,3),[5,7)}",
    "int8multirange": "a set of integer ranges, e.g. {[1,3),[5,7)}",
    "nummultirange": "a set of number ranges, e.g. {[1.5,2.5]}",
    "tsmultirange": "a set of timestamp ranges",
    "tstzmultirange": "a set of ranges of timestamps with time zone",
    "datemultirange": "a set of date ranges, e.g. {[2024-01-01,2024-02-01)}",
    "regclass": "a relation name",
    "regconfig": "a text search configuration name",
    "citext": "case-insensitive text",
    "hstore": 'key/value pairs, e.g. "a"=>"1", "b"=>NULL',
}

UNKNOWN = "a type appctl does not know"  # in the description of every such column's schema


def permissive(type_text: str) -> dict[str, Any]:
    """The documented permissive schema of a type appctl does not know: any JSON value, as
    the driver gives it (text, a number, base64 bytes)."""
    return {"description": f"database type {type_text}, {UNKNOWN}: any value"}


# A SQLite column declared without a type: it keeps any value as given
UNTYPED: dict[str, Any] = {
    "description": "no declared type: SQLite keeps any value (text, a number, base64 bytes)"
}


def is_unknown(schema: dict[str, Any]) -> bool:
    """Whether a column's value schema is that of a type appctl does not know."""
    return UNKNOWN in str(schema.get("description", ""))


# MariaDB types SQLAlchemy does not know that PyMySQL returns as text
MYSQL_TEXT: dict[str, str] = {
    "INET4": "an IPv4 address, e.g. 10.0.0.1",
    "INET6": "an IPv6 address, e.g. ::1 (or an IPv4 one, ::ffff:10.0.0.1)",
}


def mysql_other_schema(type_text: str) -> dict[str, Any]:
    what = MYSQL_TEXT.get(type_text.upper())
    if what is None:
        return permissive(type_text)
    return {"type": "string", "description": f"{what} (MariaDB {type_text.upper()})"}


def integer_schema(type_: Any, dialect: str) -> dict[str, Any]:
    """The exact range of an integer column. SQLite keeps every integer in 64 bits."""
    name = type(type_).__name__.upper()
    bits = 64 if dialect == "sqlite" else INT_BITS.get(name, 32)
    if getattr(type_, "unsigned", False) and dialect != "sqlite":
        return {"type": "integer", "minimum": 0, "maximum": 2**bits - 1}
    return {"type": "integer", "minimum": -(2 ** (bits - 1)), "maximum": 2 ** (bits - 1) - 1}


def pg_text_name(type_text: str) -> str:
    """The base name of a PostgreSQL type text: no arguments, no array brackets."""
    base = type_text.split("(")[0].removesuffix("[]").strip().lower()
    while base.endswith("[]"):
        base = base.removesuffix("[]")
    return base


def pg_text_schema(type_text: str) -> dict[str, Any]:
    """A PostgreSQL type read and written as its text form."""
    name = pg_text_name(type_text)
    if type_text.endswith("[]"):  # an array of a type SQLAlchemy does not know
        return {
            "type": "string",
            "description": f"an array of {name} as PostgreSQL writes it as text, e.g. "
            '{"a","b"} (PostgreSQL ' + type_text + ")",
        }
    if name in ("bit", "bit varying"):
        return _bits_schema(type_text)
    what = PG_TEXT.get(name)
    if what is None:
        return {
            "type": "string",
            "description": f"database type {type_text}, {UNKNOWN}: as PostgreSQL writes it as text",
        }
    return {"type": "string", "description": f"{what} (PostgreSQL {name}, as text)"}


def _bits_schema(type_text: str) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "string", "pattern": "^[01]*$"}
    length = type_text.partition("(")[2].rstrip(")").strip()
    if length.isdigit():
        out["maxLength"] = int(length)
        if not type_text.lower().startswith("bit varying"):
            out["minLength"] = int(length)
    out["description"] = f"a bit string of 0s and 1s (PostgreSQL {type_text.lower()})"
    return out


def nested(item: dict[str, Any], depth: int) -> dict[str, Any]:
    """A PostgreSQL array ``depth`` levels deep of ``item``, whose elements may be NULL."""
    out = nullable(item)
    for _ in range(max(depth, 1)):
        out = {"type": "array", "items": out}
    return out


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` or null (a schema without a type allows null already)."""
    kind = schema.get("type")
    if kind is None:
        return schema
    out = dict(schema)
    out["type"] = [*kind, "null"] if isinstance(kind, list) else [kind, "null"]
    if "enum" in out:
        out["enum"] = [*out["enum"], None]
    return out


def set_schema(values: list[str]) -> dict[str, Any]:
    """A MariaDB/MySQL SET: the members it holds, in the order the column defines them."""
    return {
        "type": "array",
        "items": {"type": "string", "enum": values},
        "uniqueItems": True,
        "maxItems": len(values),
    }


YEAR_SCHEMA: dict[str, Any] = {
    "type": "integer",
    "anyOf": [{"minimum": 1901, "maximum": 2155}, {"enum": [0]}],
    "description": "a year, 1901 to 2155, or 0",
}


def mysql_bit_schema(length: int | None) -> dict[str, Any]:
    bits = length or 1
    return {"type": "integer", "minimum": 0, "maximum": 2**bits - 1}


_NAMED: list[Any] = []


def named_type(text: str) -> Any:
    """A SQLAlchemy type object for a database type SQLAlchemy did not recognise, keeping
    its name (``NULLTYPE`` would lose it)."""
    if not _NAMED:
        from sqlalchemy.types import UserDefinedType

        class Named(UserDefinedType[Any]):
            cache_ok = True

            def __init__(self, name: str) -> None:
                self.name = name

            def get_col_spec(self, **_kw: Any) -> str:
                return self.name

        _NAMED.append(Named)
    return _NAMED[0](text)


def is_named(type_: Any) -> bool:
    return bool(_NAMED) and isinstance(type_, _NAMED[0])
