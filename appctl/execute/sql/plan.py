"""Validated arguments → a plan for one SQL action (pure: no database, no SQLAlchemy).

The plan names columns and holds Python values converted by column kind (dates, decimals,
UUIDs, base64 bytes...). Statements are built from it and the contract's table, never from
text a model wrote: column names come from the contract, values are bound parameters.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from appctl.contract.models import Action, Column, SqlTransport, Table
from appctl.contract.names import DEFAULT_LIMIT, MAX_LIMIT, column_args
from appctl.execute.http.request import RequestError
from appctl.execute.memo import IdentityMemo
from appctl.execute.sql.values import NON_FINITE, float_in, json_in, temporal_in, to_json

_DURATION = re.compile(
    r"^(?P<sign>-)?P(?:(?P<d>\d+(?:\.\d+)?)D)?(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?"
    r"(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)


@dataclass(frozen=True, slots=True)
class SqlPlan:
    action: Action
    table: Table
    operation: str  # list | get | create | update | delete
    key: dict[str, Any] = field(default_factory=dict)  # column → value
    values: dict[str, Any] = field(default_factory=dict)  # column → value (create, update)
    where: list[tuple[str, str, Any]] = field(default_factory=list)  # (column, op, value)
    order: list[tuple[str, bool]] = field(default_factory=list)  # (column, descending)
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    after: list[Any] | None = None  # keyset: the order values of the last row already seen
    args: dict[str, str] = field(default_factory=dict)  # column → argument name
    arguments: dict[str, Any] = field(default_factory=dict)  # a list's, its cursor bound to them

    def line(self) -> str:
        """One line for the history: operation, table, and which columns (never values)."""
        parts = [f"SQL {self.operation.upper()} {self.table.qualified}"]
        if self.key:
            parts.append("key " + ",".join(self.key))
        if self.values:
            parts.append("set " + ",".join(self.values))
        if self.where:
            parts.append("where " + ",".join(f"{c} {op}" for c, op, _ in self.where))
        if self.order:
            parts.append("order " + ",".join(("-" if d else "") + c for c, d in self.order))
        if self.operation == "list":
            parts.append(f"limit {self.limit}" + (f" offset {self.offset}" if self.offset else ""))
        return " ".join(parts)

    def shown(self) -> dict[str, Any]:
        """The plan for a dry run, values as JSON."""
        out: dict[str, Any] = {"operation": self.operation, "table": self.table.qualified}
        if self.key:
            out["key"] = {c: to_json(v) for c, v in self.key.items()}
        if self.values:
            out["values"] = {c: to_json(v) for c, v in self.values.items()}
        if self.where:
            out["where"] = [[c, op, to_json(v)] for c, op, v in self.where]
        if self.operation == "list":
            out["order_by"] = [("-" if d else "") + c for c, d in self.order]
            out["limit"] = self.limit
            if self.offset:
                out["offset"] = self.offset
            if self.after is not None:
                out["after"] = [to_json(v) for v in self.after]
        return out


def from_json(column: Column, value: Any, *, kind: str | None = None, dialect: str = "") -> Any:
    """A JSON argument → the Python value bound for this column (RequestError if it cannot be)."""
    kind = kind or column.kind
    if value is None:
        return None
    try:
        if kind == "number":
            return float_in(value)
        if kind == "json":
            return json_in(value)
        if kind == "decimal":
            return _decimal(value)
        if kind in ("date", "datetime", "time"):
            return temporal_in(kind, value, dialect)
        if kind == "interval":
            return _duration(value)
        if kind == "uuid":
            return uuid.UUID(str(value))
        if kind == "binary":
            return base64.b64decode(str(value), validate=True)
        if kind == "array":  # nested lists: a multi-dimensional array
            item = column.item_kind or "other"
            return [
                from_json(column, v, kind="array" if isinstance(v, list) else item, dialect=dialect)
                for v in value
            ]
    except (ValueError, TypeError, InvalidOperation, binascii.Error) as exc:
        raise RequestError(
            f"{column.name}: {value!r} is not a valid {kind} value ({exc})"
        ) from None
    return value


def _decimal(value: Any) -> Decimal:
    """Exact: a string's digits as written, a JSON number's as its shortest text."""
    if isinstance(value, bool):
        raise ValueError("not a number")
    number = Decimal(value if isinstance(value, str) else repr(value))
    if not number.is_finite() and str(value) not in NON_FINITE:
        raise ValueError('not a number (the non-finite ones are "NaN", "Infinity", "-Infinity")')
    return number


def _duration(value: Any) -> dt.timedelta:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return dt.timedelta(seconds=value)
    match = _DURATION.match(str(value))
    if not match or str(value) in ("P", "PT", "-P"):
        raise ValueError("expected an ISO 8601 duration such as P1DT2H30M, or seconds")
    parts = {k: float(v) for k, v in match.groupdict().items() if v and k != "sign"}
    delta = dt.timedelta(
        days=parts.get("d", 0),
        hours=parts.get("h", 0),
        minutes=parts.get("m", 0),
        seconds=parts.get("s", 0),
    )
    return -delta if match.group("sign") else delta


def keyset_state(order: list[tuple[str, bool]], values: list[Any]) -> dict[str, Any]:
    """What a cursor holds (``resume.py`` seals it): the order and the last row's values."""
    return {"o": [[c, d] for c, d in order], "v": [to_json(v) for v in values]}


def resume_after(
    state: Mapping[str, Any], order: list[tuple[str, bool]], action: Action, table: Table
) -> list[Any]:
    """An opened cursor's state → the order values the page starts after. The state was
    signed by this program, so a mismatch means the contract changed since (a re-sync)."""
    restart = f"call {action.name} again without cursor to start from the first page"
    dialect = action.transport.dialect if isinstance(action.transport, SqlTransport) else ""
    try:
        cursor_order = [(str(c), bool(d)) for c, d in state["o"]]
        values = list(state["v"])
    except (KeyError, TypeError, ValueError):
        raise RequestError(f"cursor holds no position this tool can use: {restart}") from None
    if cursor_order != order or len(values) != len(order):
        raise RequestError(
            f"cursor was made for another order of {table.qualified} (the contract changed "
            f"since): {restart}"
        )
    columns = {c.name: c for c in table.columns}
    try:
        return [
            _cursor_value(columns[c], v, dialect) for (c, _), v in zip(order, values, strict=True)
        ]
    except RequestError as exc:  # a column's type changed since
        raise RequestError(
            f"cursor holds no position this tool can use ({exc}): {restart}"
        ) from None


_args_cache: IdentityMemo[dict[str, str]] = IdentityMemo()


def _column_args(table: Table) -> dict[str, str]:
    return _args_cache.get((table,), lambda: column_args(table))


def _set_null(names: list[str], by_arg: dict[str, str], values: dict[str, Any]) -> dict[str, None]:
    """An update's ``set_null``: column → None for each column it names (that no value was
    also given for)."""
    out: dict[str, None] = {}
    for name in names:
        column = by_arg.get(name)
        if column is None:
            raise RequestError(f"set_null: no column {name!r}")
        if values.get(column) is not None:
            raise RequestError(f"{name} is both given a value and in set_null: give one of them")
        out[column] = None
    return out


def zoned(column: Column, dialect: str) -> bool:
    """Whether a date-time or time column keeps a time-zone offset: PostgreSQL's ``... WITH
    TIME ZONE`` only (SQLite's DATETIME, MySQL/MariaDB's DATETIME and TIMESTAMP and
    PostgreSQL's ``WITHOUT TIME ZONE`` take a time as it is, without a zone)."""
    upper = column.type.upper()
    if dialect != "postgresql":
        return False
    return ("WITH TIME ZONE" in upper and "WITHOUT" not in upper) or upper.startswith(
        ("TIMESTAMPTZ", "TIMETZ")
    )


def _zone_free(column: Column, value: Any, dialect: str) -> Any:
    """A filter's date-time or time for this column: one with an offset is refused where the
    column keeps none (the offset would be dropped, or applied in a zone the stored values
    may not be in)."""
    if (
        isinstance(value, dt.datetime | dt.time)
        and value.tzinfo is not None
        and not zoned(column, dialect)
    ):
        raise RequestError(
            f"{column.name}: {to_json(value)!r} has a time-zone offset, but the column "
            f"({column.type}) stores times without a zone, so the offset could not be "
            "honoured: give the time as the column stores it, without an offset or Z "
            f"(e.g. {to_json(value.replace(tzinfo=None))!r})"
        )
    return value


def _like_pattern(column: Column, pattern: str) -> str:
    trailing = len(pattern) - len(pattern.rstrip("\\"))
    if trailing % 2:
        raise RequestError(
            f"{column.name}: the like pattern {pattern!r} ends in a lone backslash, which "
            "escapes the character after it: write two backslashes to match one"
        )
    return pattern


def filter_operand(column: Column, op: str, operand: Any, transport: SqlTransport) -> Any:
    """One ``where`` operand → the value bound for it: a flag for is_null, the pattern for
    like/ilike, else the column's value (a list of them for ``in``)."""
    if op == "is_null":
        return bool(operand)
    if op in ("like", "ilike"):
        return _like_pattern(column, str(operand))
    dialect = transport.dialect
    if op == "in":
        return [_zone_free(column, from_json(column, v, dialect=dialect), dialect) for v in operand]
    return _zone_free(column, from_json(column, operand, dialect=dialect), dialect)


def _cursor_value(column: Column, value: Any, dialect: str) -> Any:
    """A cursor's value → the value bound after it: a SQLite date-time or time is the text
    stored (any form; ORDER BY sorts that text), others as their column takes them."""
    if dialect == "sqlite" and column.kind in ("datetime", "time"):
        if not isinstance(value, str | int | float | None):
            raise RequestError(f"{value!r} is not a stored {column.kind}")
        return value
    return from_json(column, value, dialect=dialect)


def plan(
    action: Action,
    table: Table,
    args: Mapping[str, Any],
    *,
    after: Mapping[str, Any] | None = None,
) -> SqlPlan:
    """The plan of one call; ``after`` is the state of its ``cursor``, already opened and
    verified (``resume.py``): a list resumes after it."""
    transport = action.transport
    if not isinstance(transport, SqlTransport):
        raise RequestError(f"{action.name} is not a SQL action")
    names = _column_args(table)
    by_arg = {a: c for c, a in names.items()}
    columns = {c.name: c for c in table.columns}

    def value(column: str) -> Any:
        return from_json(columns[column], args[names[column]], dialect=transport.dialect)

    operation = transport.operation
    key = {c: value(c) for c in transport.key if names[c] in args}
    if operation in ("get", "update", "delete") and len(key) != len(transport.key):
        missing = [names[c] for c in transport.key if c not in key]
        raise RequestError(f"the key is incomplete: give {', '.join(missing)}")
    if operation in ("create", "update"):
        skip = set(transport.key) if operation == "update" else set()
        given = [c for c in columns if names[c] in args and c not in skip]
        values = {c: value(c) for c in given}
        if operation == "update":
            values |= _set_null(args.get("set_null") or [], by_arg, values)
        if operation == "update" and not values:
            raise RequestError("nothing to update: give at least one column besides the key")
        return SqlPlan(
            action,
            table,
            operation,
            key=key if operation == "update" else {},
            values=values,
            args=names,
        )
    if operation != "list":
        return SqlPlan(action, table, operation, key=key, args=names)
    where: list[tuple[str, str, Any]] = []
    for arg, ops in (args.get("where") or {}).items():
        column = by_arg.get(arg)
        if column is None:
            raise RequestError(f"where: no column {arg!r}")
        for op, operand in ops.items():
            where.append((column, op, filter_operand(columns[column], op, operand, transport)))
    order: list[tuple[str, bool]] = []
    for item in args.get("order_by") or []:
        desc = item.startswith("-")
        column = by_arg.get(item[1:] if desc else item)
        if column is None:
            raise RequestError(f"order_by: no column {item!r}")
        if column not in [c for c, _ in order]:
            order.append((column, desc))
    for column in table.primary_key:  # a total order, so pages never overlap or skip
        if column not in [c for c, _ in order]:
            order.append((column, False))
    limit = min(int(args.get("limit") or DEFAULT_LIMIT), MAX_LIMIT)
    resume = None
    if after is not None:
        if args.get("offset"):
            raise RequestError("give either cursor or offset, not both")
        resume = resume_after(after, order, action, table)
    return SqlPlan(
        action,
        table,
        "list",
        where=where,
        order=order,
        limit=limit,
        offset=int(args.get("offset") or 0),
        after=resume,
        args=names,
        arguments=dict(args),
    )


def keyset_ready(table: Table, order: list[tuple[str, bool]]) -> bool:
    """Keyset paging needs a total order: the primary key among the order columns (other
    order columns may hold NULLs; the keyset predicate places them as the dialect sorts)."""
    named = {c for c, _ in order}
    return bool(table.primary_key) and set(table.primary_key) <= named
