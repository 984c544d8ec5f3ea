"""Random values round-trip create → get → list exactly on SQLite, PostgreSQL and MariaDB:
floats (NaN, ±Infinity, -0.0, subnormals), decimals at the edges of what each column holds,
any Unicode text, any bytes, and JSON documents (null and ``{"$json": ...}`` included). A
value the database cannot hold exactly is refused with a validation error that says so,
and nothing is written; nothing is ever rounded."""

from __future__ import annotations

import base64
import json
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appctl.execute.result import ErrorCategory
from tests.db.test_exact_values import Db, _call, _sql, _sync
from tests.db.test_sql_executor import kind_of

TABLES = {
    "sqlite": "CREATE TABLE z (id INTEGER PRIMARY KEY, f REAL, d NUMERIC, s TEXT, b BLOB, j JSON)",
    "postgresql": "CREATE TABLE z (id SERIAL PRIMARY KEY, f DOUBLE PRECISION, d NUMERIC, "
    "s TEXT, b BYTEA, j JSONB)",
    "mariadb": "CREATE TABLE z (id INTEGER AUTO_INCREMENT PRIMARY KEY, f DOUBLE, "
    "d DECIMAL(40, 20), s LONGTEXT, b LONGBLOB, j LONGTEXT)",
}

FLOATS = st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True)
DECIMALS = st.one_of(
    st.decimals(
        allow_nan=False,
        allow_infinity=False,
        places=20,
        max_value=10**19 - 1,
        min_value=-(10**19) + 1,
    ),
    st.builds(
        lambda digits, exp: Decimal(digits).scaleb(exp),
        st.integers(-(10**30), 10**30),
        st.integers(-25, 10),
    ),
    st.sampled_from(
        [
            Decimal("1.005"),
            Decimal("99999999.999"),
            Decimal("1.23e-12"),
            Decimal("0.1"),
            Decimal("-0"),
            Decimal("9223372036854775807"),
            Decimal("9223372036854775808"),
            Decimal("0.30000000000000004"),
        ]
    ),
)


def _text(kind: str, size: int = 40) -> st.SearchStrategy[str]:
    if kind == "postgresql":  # PostgreSQL text (and JSON text) holds no NUL character
        return st.text(st.characters(exclude_characters="\x00"), max_size=size)
    return st.text(max_size=size)


def _json(kind: str) -> st.SearchStrategy[Any]:
    return st.recursive(
        st.none() | st.booleans() | st.integers(-(2**53), 2**53) | _text(kind, 10),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(_text(kind, 5), inner, max_size=4)
        ),
        max_leaves=8,
    )


def _float_arg(value: float) -> float | str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def _utf8(value: Any) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _storable_float(kind: str, value: float) -> bool:
    if kind == "mariadb":
        return math.isfinite(value)
    return not (kind == "sqlite" and math.isnan(value))


def _storable_decimal(kind: str, value: Decimal) -> bool:
    if kind == "sqlite":  # an integer SQLite keeps as one, or a float that reads back as it
        if value == value.to_integral_value() and -(2**63) <= value < 2**63:
            return True
        return math.isfinite(float(value)) and Decimal(repr(float(value))) == value
    if kind == "mariadb":  # DECIMAL(40, 20): the argument schema's pattern refuses others
        return -int(value.as_tuple().exponent) <= 20 and value.adjusted() < 20
    return True


class _Zoo(tuple):  # type: ignore[type-arg]
    """The database (URL, kind, contract), shown short in hypothesis' reports."""

    def __repr__(self) -> str:
        return f"<{self[1]} database>"


@pytest.fixture
def zoo(fresh_db: str, tmp_path: Path) -> Db:
    return _Zoo(_sync(fresh_db, tmp_path, [TABLES[kind_of(fresh_db)]]))  # type: ignore[return-value]


def _same_float(shown: Any, value: float) -> bool:
    if isinstance(shown, str):
        return shown == _float_arg(value)
    return bool(shown == value)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(f=FLOATS, d=DECIMALS, data=st.data(), b=st.binary(max_size=40))
def test_random_values_round_trip_exactly(
    zoo: Db, f: float, d: Decimal, data: Any, b: bytes
) -> None:
    url, kind, schema = zoo
    text, j = data.draw(_text(kind)), data.draw(_json(kind))
    json_kind = schema.resource_of("create_z").table.column("j").kind  # type: ignore[union-attr]
    args: dict[str, Any] = {
        "f": _float_arg(f),
        "d": format(d, "f"),
        "s": text,
        "b": base64.b64encode(b).decode(),
    }
    if json_kind == "json":
        args["j"] = (
            {"$json": None}
            if j is None
            else ({"$json": j} if isinstance(j, dict) and list(j) == ["$json"] else j)
        )
    before = _sql(url, "SELECT count(*) FROM z")[0][0]
    created = _call(zoo, "create_z", args)
    if not _utf8(args):  # a lone surrogate (JSON can escape one) is no text a database keeps
        assert not created.ok and created.error is not None
        assert created.error.category == ErrorCategory.VALIDATION
        assert "UTF-8" in created.error.message
        assert _sql(url, "SELECT count(*) FROM z")[0][0] == before
        return
    if not (_storable_float(kind, f) and _storable_decimal(kind, d)):
        assert not created.ok and created.error is not None, (f, d)
        assert created.error.category == ErrorCategory.VALIDATION
        if _storable_decimal(kind, d) or kind == "sqlite":
            assert "cannot be stored" in created.error.message
        assert _sql(url, "SELECT count(*) FROM z")[0][0] == before
        return
    assert created.ok, (args, created.error)
    row = created.data
    assert _same_float(row["f"], f), (f, row["f"])
    assert Decimal(row["d"]) == d and "E" not in row["d"], (d, row["d"])
    assert row["s"] == text and row["b"] == args["b"]
    if "j" in args:
        assert row["j"] == args["j"]
    got = _call(zoo, "get_z", {"id": row["id"]})
    assert got.ok and got.data == row and got.notes == []
    listed = _call(zoo, "list_z", {"where": {"id": {"eq": row["id"]}}})
    assert listed.ok and listed.data["rows"] == [row]
