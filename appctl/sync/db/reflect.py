"""The database edge of sync: one bulk reflection of every table and view, through
``sqlalchemy.inspect``'s ``get_multi_*`` calls (a handful of catalogue queries per schema,
however many tables), turned into the facts of the contract's tables (``facts.py``).
PostgreSQL 12+ through psycopg reads the same facts from ``pg_catalog`` directly (``pg.py``),
SQLite 3.31+ from its schema table and pragma functions (``sqlite.py``), the inspector being
the reference both are tested against.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from appctl.contract.valueschemas import (
    decimal_schema,
    float_schema,
    json_schema,
    mysql_time_schema,
    pg_temporal_schema,
)
from appctl.errors import SourceError, first_line
from appctl.sync.db import typemap
from appctl.sync.db.bounds import (
    SYNC_CONNECT_TIMEOUT,
    SYNC_READ_TIMEOUT,
    bound_engine,
    connect_seconds,
    did_not_answer,
)
from appctl.sync.db.credentials import family_of, sources
from appctl.sync.db.facts import ColumnFacts, TableFacts

if TYPE_CHECKING:
    from appctl.contract.models import ColumnKind

SYSTEM_SCHEMAS = frozenset(
    ("information_schema", "pg_catalog", "mysql", "performance_schema", "sys")
)


@dataclass(frozen=True, slots=True)
class Reflected:
    dialect: str  # sqlite | postgresql | mysql | mariadb
    server_version: str
    tables: list[TableFacts]
    skipped: list[str]  # tables left out by --include/--exclude
    # what SQLAlchemy warned of while reading (an index it skips, a type argument it drops),
    # sorted, each once: the sync reports them as warnings instead of Python printing them
    notes: tuple[str, ...] = ()


def reflect(
    url: str,
    *,
    schemas: Sequence[str] = (),
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    catalogue: bool = True,
) -> Reflected:
    """Every chosen table and view of ``schemas`` (default: the connection's). ``catalogue``
    lets PostgreSQL and SQLite be read from their catalogues directly (False: the inspector
    only)."""
    import sqlalchemy as sa

    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    bound_engine(engine)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", sa.exc.SAWarning)
        found = _reflect(engine, schemas, include, exclude, catalogue)
    notes = {_note(w.message) for w in caught if issubclass(w.category, sa.exc.SAWarning)}
    # a type SQLAlchemy does not recognise keeps its name (typemap): the sync warns of
    # those appctl does not know either, by table and column (build.unknown_types)
    notes = {n for n in notes if not n.startswith("Did not recognize type")}
    notes.update(found.notes)
    for other in caught:  # anything else is not ours to swallow
        if not issubclass(other.category, sa.exc.SAWarning):
            warnings.warn_explicit(other.message, other.category, other.filename, other.lineno)
    return dataclasses.replace(found, notes=tuple(sorted(notes)))


def _note(message: Warning | str) -> str:
    return str(message).removeprefix("WARNING: ").strip()


def _reflect(
    engine: Any,
    schemas: Sequence[str],
    include: Sequence[str],
    exclude: Sequence[str],
    catalogue: bool,
) -> Reflected:
    import sqlalchemy as sa

    connected = False
    try:
        with engine.connect() as conn:
            connected = True
            dialect = _dialect_name(engine)
            version = ".".join(str(p) for p in (engine.dialect.server_version_info or ()))
            inspector = sa.inspect(conn)
            fast = catalogue and _catalogue_supported(engine)
            wanted: list[str | None] = [*schemas] or [None]
            tables: list[TableFacts] = []
            skipped: list[str] = []
            notes: list[str] = []
            for schema in wanted:
                if schema is not None and schema not in inspector.get_schema_names():
                    raise SourceError(
                        f"the database has no schema {schema!r}",
                        suggestion="Known schemas: "
                        + ", ".join(
                            s for s in inspector.get_schema_names() if s not in SYSTEM_SCHEMAS
                        ),
                    )
                chosen = (schema, dialect, fast, include, exclude)
                broken: dict[str, str] = {}
                try:
                    found, left = _read(conn, *chosen, leave_out=())
                except sa.exc.DBAPIError:  # perhaps a view the database cannot select from
                    conn.rollback()
                    broken = _broken_views(conn, schema, include, exclude)
                    if not broken:
                        raise
                    found, left = _read(conn, *chosen, leave_out=list(broken))
                skipped += left
                # MariaDB/MySQL describe a view on a dropped table as one without columns
                for view in [t.name for t in found if t.kind == "view" and not t.columns]:
                    broken[view] = _unreadable(conn, schema, view) or "it has no columns"
                for name, why in broken.items():
                    shown = f"{schema}.{name}" if schema else name
                    notes.append(f"view {shown} cannot be read ({why}): left out")
                tables += [t for t in found if t.name not in broken]
    except sa.exc.DBAPIError as exc:
        if isinstance(exc, sa.exc.OperationalError) and did_not_answer(exc):
            raise _no_answer(engine, connected) from None
        if not connected and isinstance(exc, sa.exc.OperationalError):
            raise SourceError(
                f"could not connect to the database: {first_line(exc)}",
                suggestion="Check the host, port, user and password (the password comes from "
                f"{sources(family_of(engine.url.drivername))}).",
            ) from None
        if engine.dialect.name == "sqlite":
            hint = (
                "Check that the file is a healthy SQLite database (sqlite3 FILE "
                "'PRAGMA integrity_check') that no other process holds locked."
            )
        else:
            hint = (
                "The connecting role needs to read the catalogue (information_schema / pg_catalog)."
            )
        raise SourceError(
            f"the database refused to describe itself: {first_line(exc)}", suggestion=hint
        ) from None
    finally:
        engine.dispose()
    return Reflected(
        dialect=dialect,
        server_version=version,
        tables=tables,
        skipped=skipped,
        notes=tuple(notes),
    )


def _no_answer(engine: Any, connected: bool) -> SourceError:
    url = engine.url
    where = f"{url.host}:{url.port}" if url.port else str(url.host)
    if connected:
        what = f"stopped answering (no answer within {SYNC_READ_TIMEOUT:g} s)"
    else:
        seconds = connect_seconds(engine.dialect.driver, url.query, SYNC_CONNECT_TIMEOUT)
        what = f"did not answer within {seconds:g} s"
    return SourceError(
        f"the database at {where} {what}",
        suggestion="Check the host and port and that the server is up and reachable from "
        "here (a firewall may accept the connection and drop it); on a slow network, add "
        "?connect_timeout=SECONDS to the URL.",
    )


def _read(
    conn: Any,
    schema: str | None,
    dialect: str,
    fast: bool,
    include: Sequence[str],
    exclude: Sequence[str],
    *,
    leave_out: Sequence[str],
) -> tuple[list[TableFacts], list[str]]:
    """The chosen tables and views of one schema, less ``leave_out``, and the names the
    include/exclude patterns left out."""
    import sqlalchemy as sa
    from sqlalchemy.engine.reflection import ObjectKind

    left: list[str] = []
    inspector = sa.inspect(conn)  # a new cache: nothing of a read that failed
    patterns = [*exclude, *map(_literal, leave_out)]
    if fast:
        found = _reflect_catalogue(
            conn, inspector, schema, dialect, include, patterns, left, ObjectKind
        )
    else:
        found = _reflect_schema(inspector, schema, dialect, include, patterns, left, ObjectKind)
    return found, [n for n in left if n not in leave_out]


def _literal(name: str) -> str:
    """An exclude pattern that matches exactly ``name`` (glob characters taken literally)."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)


def _broken_views(
    conn: Any, schema: str | None, include: Sequence[str], exclude: Sequence[str]
) -> dict[str, str]:
    """The chosen views the database cannot select from (a view on a dropped table or
    column), each with its reason: asked one by one, only after a whole read failed."""
    import sqlalchemy as sa

    broken: dict[str, str] = {}
    for name in sa.inspect(conn).get_view_names(schema=schema):
        if _chosen(name, schema, include, exclude):
            why = _unreadable(conn, schema, name)
            if why is not None:
                broken[name] = why
    return broken


def _unreadable(conn: Any, schema: str | None, name: str) -> str | None:
    """Why the database cannot select from this relation (None: it can): a query that
    reads no row (``WHERE false``)."""
    import sqlalchemy as sa

    probe: Any = sa.select(sa.literal_column("1")).select_from(sa.table(name, schema=schema))
    try:
        conn.execute(probe.where(sa.false())).close()
    except sa.exc.DBAPIError as exc:
        conn.rollback()
        return first_line(exc)
    conn.rollback()
    return None


def _dialect_name(engine: Any) -> str:
    name = str(engine.dialect.name)
    if name == "mysql" and getattr(engine.dialect, "is_mariadb", False):
        return "mariadb"
    return name


def _chosen(name: str, schema: str | None, include: Sequence[str], exclude: Sequence[str]) -> bool:
    names = [name] + ([f"{schema}.{name}"] if schema else [])

    def hit(patterns: Sequence[str]) -> bool:
        return any(fnmatch.fnmatchcase(n.lower(), p.lower()) for p in patterns for n in names)

    return (not include or hit(include)) and not hit(exclude)


def _choose(
    names: Iterable[str], schema: str | None, include: Sequence[str], exclude: Sequence[str]
) -> tuple[list[str], list[str]]:
    """The names the include/exclude patterns choose, and those they leave out, each sorted."""
    chosen: list[str] = []
    left: list[str] = []
    for name in sorted(names):
        (chosen if _chosen(name, schema, include, exclude) else left).append(name)
    return chosen, left


def _catalogue_supported(engine: Any) -> bool:
    from appctl.sync.db import pg
    from appctl.sync.db import sqlite as sqlite_catalogue

    return pg.supported(engine) or sqlite_catalogue.supported(engine)


def _reflect_catalogue(
    conn: Any,
    inspector: Any,
    schema: str | None,
    dialect: str,
    include: Sequence[str],
    exclude: Sequence[str],
    skipped: list[str],
    object_kind: Any,
) -> list[TableFacts]:
    left_out: list[str] = []

    def chosen_of(kinds: dict[str, str]) -> list[str]:
        chosen, left = _choose(kinds, schema, include, exclude)
        left_out.extend(left)
        return chosen

    columns = _Columns(dialect)
    if dialect == "sqlite":
        from appctl.sync.db import sqlite as sqlite_catalogue

        def inspect(names: list[str], kinds: dict[str, str]) -> list[TableFacts]:
            return _inspect_tables(
                inspector, schema, dialect, names, kinds, columns.make, object_kind
            )

        found = sqlite_catalogue.reflect_schema(conn, schema, chosen_of, columns.make, inspect)
        if found is None:  # a query the database refused: the inspector reads (or reports) it
            return _reflect_schema(
                inspector, schema, dialect, include, exclude, skipped, object_kind
            )
        skipped += left_out
        return found
    from appctl.sync.db import pg

    every = object_kind.TABLE | object_kind.VIEW | object_kind.MATERIALIZED_VIEW
    tables = pg.reflect_schema(conn, inspector, schema, chosen_of, columns.make, every)
    skipped += left_out
    return tables


def _reflect_schema(
    inspector: Any,
    schema: str | None,
    dialect: str,
    include: Sequence[str],
    exclude: Sequence[str],
    skipped: list[str],
    object_kind: Any,
) -> list[TableFacts]:
    table_names = inspector.get_table_names(schema=schema)
    view_names = list(inspector.get_view_names(schema=schema))
    if dialect == "postgresql":
        view_names += inspector.get_materialized_view_names(schema=schema)
    kinds = {n: "table" for n in table_names} | {n: "view" for n in view_names}
    chosen, left = _choose(kinds, schema, include, exclude)
    skipped += left
    if not chosen:
        return []
    make = _Columns(dialect).make
    return _inspect_tables(inspector, schema, dialect, chosen, kinds, make, object_kind)


def _inspect_tables(
    inspector: Any,
    schema: str | None,
    dialect: str,
    chosen: list[str],
    kinds: dict[str, str],
    make: Any,
    object_kind: Any,
) -> list[TableFacts]:
    """The facts of the ``chosen`` tables and views of one schema (in that order) as the
    inspector's ``get_multi_*`` calls give them."""
    every = object_kind.ANY
    if dialect == "postgresql":
        every = object_kind.TABLE | object_kind.VIEW | object_kind.MATERIALIZED_VIEW
    multi: dict[str, Any] = {"schema": schema, "filter_names": chosen, "kind": every}
    columns = _refined(inspector, schema, dialect, chosen, inspector.get_multi_columns(**multi))
    keys = inspector.get_multi_pk_constraint(**multi)
    foreign = inspector.get_multi_foreign_keys(**multi)
    unique = inspector.get_multi_unique_constraints(**multi)
    comments = _comments(inspector, multi)
    out: list[TableFacts] = []
    for name in chosen:
        key = (schema, name)
        pk = list((keys.get(key) or {}).get("constrained_columns") or [])
        out.append(
            TableFacts.of(
                schema,
                name,
                kinds[name],
                (comments.get(key) or {}).get("text") or "",
                [make(c, pk) for c in columns.get(key, [])],
                pk,
                [u["column_names"] for u in unique.get(key, []) if u.get("column_names")],
                foreign.get(key, []),
            )
        )
    return out


def _refined(
    inspector: Any, schema: str | None, dialect: str, chosen: list[str], columns: Any
) -> dict[Any, list[dict[str, Any]]]:
    """The inspector's columns with what its types leave out put back: PostgreSQL array
    depths and unrecognised type names; MariaDB's JSON columns (LONGTEXT checked by
    ``json_valid``) and unrecognised type names."""
    if dialect == "postgresql":
        from appctl.sync.db.pg import column_shapes, refine_type

        shapes = column_shapes(inspector.bind, schema, chosen)

        def refine(table: str, info: dict[str, Any]) -> Any:
            text, dims = shapes.get((table, info["name"]), ("", 0))
            return refine_type(info["type"], text, dims)

    elif dialect in ("mysql", "mariadb"):
        from appctl.sync.db.mysql import column_shapes as mysql_shapes
        from appctl.sync.db.mysql import refine_type as mysql_refine

        found = mysql_shapes(inspector.bind, schema, chosen)

        def refine(table: str, info: dict[str, Any]) -> Any:
            return mysql_refine(info["type"], found.get((table, info["name"])))

    else:
        return dict(columns)
    return {
        key: [{**info, "type": refine(key[1], info)} for info in infos]
        for key, infos in columns.items()
    }


def _comments(inspector: Any, multi: dict[str, Any]) -> dict[Any, Any]:
    try:
        return dict(inspector.get_multi_table_comment(**multi))
    except NotImplementedError:  # SQLite keeps no comments
        return {}


class _Columns:
    """Inspector column dicts → column facts. What a column's type gives (kind, item kind,
    type text, value schema) is worked out once per type object: the catalogue path shares
    one object between all the columns of a type."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        # id of a type object → (the object, kept alive so the id stays its own; its parts)
        self.parts: dict[int, tuple[Any, tuple[ColumnKind, ColumnKind | None, str, Any]]] = {}

    def typed(self, type_: Any) -> tuple[ColumnKind, ColumnKind | None, str, Any]:
        found = self.parts.get(id(type_))
        if found is not None and found[0] is type_:
            return found[1]
        kind, item = classify(type_, self.dialect)
        parts = (
            kind,
            item,
            _type_text(type_, self.dialect),
            value_schema(type_, kind, self.dialect),
        )
        self.parts[id(type_)] = (type_, parts)
        return parts

    def make(self, info: dict[str, Any], pk: list[str]) -> ColumnFacts:
        type_ = info["type"]
        kind, item, text, schema = self.typed(type_)
        dialect = self.dialect
        default = info.get("default")
        computed = info.get("computed") is not None
        identity = info.get("identity") is not None
        autoincrement = info.get("autoincrement") is True
        serial = isinstance(default, str) and default.startswith("nextval(")
        # SQLite: a lone INTEGER PRIMARY KEY is the rowid, assigned when not given
        rowid = (
            dialect == "sqlite"
            and pk == [info["name"]]
            and kind == "integer"
            and str(type_).upper() == "INTEGER"
        )
        return ColumnFacts(
            name=info["name"],
            type=text,
            kind=kind,
            item_kind=item,
            nullable=bool(info.get("nullable", True)),
            default=None if default is None else str(default),
            generated=computed
            or identity
            or serial
            or rowid
            or (autoincrement and len(pk) == 1 and info["name"] in pk),
            computed=computed,
            comment=info.get("comment") or "",
            schema_=schema,
        )


def _type_text(type_: Any, dialect: str) -> str:
    import sqlalchemy as sa

    if type(type_).__name__ == "NullType":
        return ""  # SQLite: no type declared (no other database leaves NULLTYPE here)

    try:
        return str(type_.compile(dialect=_dialect(dialect)))
    except (sa.exc.CompileError, KeyError, TypeError, AttributeError):
        return type(type_).__name__.upper()


_DIALECTS: dict[str, Any] = {}


def _dialect(name: str) -> Any:
    """A default SQLAlchemy dialect of this name, to name types with (made when first used;
    KeyError for one appctl does not know)."""
    if name not in _DIALECTS:
        if name == "sqlite":
            from sqlalchemy.dialects import sqlite

            _DIALECTS[name] = sqlite.dialect()
        elif name == "postgresql":
            from sqlalchemy.dialects import postgresql

            _DIALECTS[name] = postgresql.dialect()  # type: ignore[no-untyped-call]
        elif name in ("mysql", "mariadb"):
            from sqlalchemy.dialects import mysql

            if name == "mariadb":
                _DIALECTS[name] = mysql.dialect(is_mariadb=True)
            else:
                _DIALECTS[name] = mysql.dialect()
        else:
            raise KeyError(name)
    return _DIALECTS[name]


def classify(type_: Any, dialect: str) -> tuple[ColumnKind, ColumnKind | None]:
    """A reflected SQLAlchemy type → the contract's column kind (and the item kind of arrays)."""
    import sqlalchemy as sa
    from sqlalchemy.sql import sqltypes

    special = _special_kind(type_, dialect)
    if special is not None:
        return special
    if isinstance(type_, sa.ARRAY):
        return "array", classify(type_.item_type, dialect)[0]
    if isinstance(type_, sa.Boolean):
        return "boolean", None
    if (
        dialect in ("mysql", "mariadb")
        and type(type_).__name__ == "TINYINT"
        and getattr(type_, "display_width", None) == 1
    ):
        return "boolean", None  # MySQL's BOOLEAN is TINYINT(1)
    if isinstance(type_, sa.Enum):
        return "enum", None
    if isinstance(type_, sa.Integer):
        return "integer", None
    if isinstance(type_, sa.Float) or type(type_).__name__ in (
        "REAL",
        "DOUBLE",
        "DOUBLE_PRECISION",
    ):
        return "number", None
    if isinstance(type_, sa.Numeric):
        return "decimal", None
    if isinstance(type_, sa.Uuid):
        return "uuid", None
    if isinstance(type_, sa.JSON):
        return "json", None
    if isinstance(type_, sa.DateTime):
        return "datetime", None
    if isinstance(type_, sa.Date):
        return "date", None
    if isinstance(type_, sa.Time):
        return "time", None
    if isinstance(type_, sqltypes._AbstractInterval):
        return "interval", None
    if isinstance(type_, sa.LargeBinary | sqltypes._Binary):
        return "binary", None
    if isinstance(type_, sa.String):
        return "string", None
    return "other", None


def _special_kind(type_: Any, dialect: str) -> tuple[ColumnKind, ColumnKind | None] | None:
    """The kinds of the types ``typemap`` maps past SQLAlchemy's generic ones (None: none)."""
    name = type(type_).__name__
    if typemap.is_named(type_) or name == "NullType":
        return "other", None
    if name == "DOMAIN":  # PostgreSQL: what the domain is over
        return classify(type_.data_type, dialect)
    if dialect in ("mysql", "mariadb") and name == "SET":
        return "array", "enum"
    if (dialect in ("mysql", "mariadb") and name in ("YEAR", "BIT")) or name == "OID":
        return "integer", None
    return None


def _special_schema(type_: Any, kind: ColumnKind, dialect: str) -> dict[str, Any] | None:
    """The value schemas ``typemap`` gives (None: the generic ones below)."""
    name = type(type_).__name__.upper()
    if name == "DOMAIN":
        inner = type_.data_type
        return value_schema(inner, classify(inner, dialect)[0], dialect)
    if kind == "integer":
        if name == "YEAR":
            return dict(typemap.YEAR_SCHEMA)
        if name == "BIT":
            return typemap.mysql_bit_schema(getattr(type_, "length", None))
        if name == "OID":
            return {"type": "integer", "minimum": 0, "maximum": 2**32 - 1}
        return typemap.integer_schema(type_, dialect)
    if kind == "time" and dialect in ("mysql", "mariadb"):
        return mysql_time_schema(getattr(type_, "fsp", None))
    if kind in ("date", "datetime", "time") and dialect == "postgresql":
        return pg_temporal_schema(kind)
    if kind == "array" and name == "SET":
        return typemap.set_schema(list(getattr(type_, "values", ()) or ()))
    if kind == "array" and dialect == "postgresql":
        item = type_.item_type
        inner = value_schema(item, classify(item, dialect)[0], dialect)
        return typemap.nested(inner, getattr(type_, "dimensions", None) or 1)
    if kind == "other":
        text = _type_text(type_, dialect)
        if dialect == "postgresql" and name != "NULLTYPE":
            return typemap.pg_text_schema(text)
        if dialect in ("mysql", "mariadb") and name != "NULLTYPE":
            return typemap.mysql_other_schema(text)
        if name == "NULLTYPE":  # SQLite, no type declared: the column keeps any value
            return dict(typemap.UNTYPED)
        return typemap.permissive(text)
    return None


def value_schema(type_: Any, kind: ColumnKind, dialect: str) -> dict[str, Any]:
    """The JSON Schema of one non-null value of a column."""
    special = _special_schema(type_, kind, dialect)
    if special is not None:
        return special
    if kind == "number":
        return float_schema(dialect)
    if kind == "decimal":
        precision, scale = getattr(type_, "precision", None), getattr(type_, "scale", None) or 0
        return decimal_schema(precision, scale, dialect)
    if kind == "string":
        length = getattr(type_, "length", None)
        return {"type": "string", "maxLength": length} if length else {"type": "string"}
    if kind == "boolean":
        return {"type": "boolean"}
    if kind in FORMATS:
        return {"type": "string", "format": FORMATS[kind]}
    if kind == "json":
        return json_schema()
    if kind == "binary":
        return {"type": "string", "contentEncoding": "base64"}
    if kind == "array":
        item = type_.item_type
        return {"type": "array", "items": value_schema(item, classify(item, dialect)[0], dialect)}
    if kind == "enum":
        return {"type": "string", "enum": list(getattr(type_, "enums", []) or [])}
    return {"type": "string", "description": f"database type {_type_text(type_, dialect)}"}


FORMATS: dict[str, str] = {
    "date": "date",
    "datetime": "date-time",
    "time": "time",
    "interval": "duration",
    "uuid": "uuid",
}
