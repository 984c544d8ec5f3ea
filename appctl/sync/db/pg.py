"""PostgreSQL reflection straight from ``pg_catalog``: four queries over the one connection
(relations with their comments, columns, primary and unique keys, foreign keys), however many
tables, with arrays of oids as parameters.

It yields exactly the facts SQLAlchemy's inspector yields for the same relations (the
inspector's ``get_multi_*`` calls stay the reference, and the path for every other
dialect): the same catalogue joins and filters, the same rules for defaults, nullability,
identity, computed columns and foreign-key targets. Column types are the inspector's own
type objects: a database of thousands of tables uses a few dozen distinct types, so each
distinct ``format_type`` (and collation) is reflected once, by ``get_multi_columns`` on a
table that has it, and shared by every column of that type.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from appctl.sync.db.facts import TableFacts

# (schema, relation) pairs; None is the connection's search path, as for the inspector
_SCOPE_VISIBLE = "pg_catalog.pg_table_is_visible(c.oid) AND n.nspname <> 'pg_catalog'"
_SCOPE_SCHEMA = "n.nspname = %(schema)s"

# Tables (ordinary and partitioned), views and materialized views; not temporary ones.
_RELATIONS = """
SELECT c.oid, c.relname, c.relkind, d.description
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_description d
  ON d.objoid = c.oid AND d.objsubid = 0 AND d.classoid = 'pg_catalog.pg_class'::regclass
WHERE c.relkind = ANY (ARRAY['r', 'p', 'v', 'm']::"char"[])
  AND c.relpersistence <> 't' AND {scope}
"""

# The identity test is the inspector's (pg_get_serial_sequence of the column, found in
# pg_sequence) without the round trip through names: the sequence that depends on the column
# automatically (serial) or internally (identity), as pg_get_serial_sequence looks it up.
_COLUMNS = """
SELECT a.attrelid, a.attname,
  pg_catalog.format_type(a.atttypid, a.atttypmod),
  CASE WHEN a.atthasdef THEN (
    SELECT pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) FROM pg_catalog.pg_attrdef ad
    WHERE a.atthasdef AND ad.adrelid = a.attrelid AND ad.adnum = a.attnum) END,
  a.attnotnull,
  d.description,
  a.attgenerated,
  CASE WHEN a.attidentity <> '' THEN (
    SELECT true FROM pg_catalog.pg_depend dep
    JOIN pg_catalog.pg_class sc ON sc.oid = dep.objid AND sc.relkind = 'S'
    JOIN pg_catalog.pg_sequence s ON s.seqrelid = dep.objid
    WHERE dep.refclassid = 'pg_catalog.pg_class'::regclass AND dep.refobjid = a.attrelid
      AND dep.refobjsubid = a.attnum AND dep.classid = 'pg_catalog.pg_class'::regclass
      AND dep.objsubid = 0 AND dep.deptype IN ('a', 'i')
    LIMIT 1) END,
  CASE WHEN a.attcollation <> 0 AND (
    SELECT t.typcollation FROM pg_catalog.pg_type t WHERE t.oid = a.atttypid
  ) <> a.attcollation THEN (
    SELECT ARRAY[coll.collname::text, CASE WHEN pg_catalog.pg_collation_is_visible(coll.oid)
      THEN NULL ELSE cn.nspname::text END]
    FROM pg_catalog.pg_collation coll
    JOIN pg_catalog.pg_namespace cn ON cn.oid = coll.collnamespace
    WHERE coll.oid = a.attcollation) END,
  a.attnum,
  a.attndims
FROM pg_catalog.pg_attribute a
LEFT JOIN pg_catalog.pg_description d ON d.objoid = a.attrelid AND d.objsubid = a.attnum
WHERE a.attrelid = ANY (%(oids)s::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
"""

# Primary and unique keys: a constraint's key columns (conkey) are its index's key columns
# (indkey up to indnkeyatts, past which come INCLUDE columns), which the inspector reads.
_KEYS = """
SELECT c.conrelid, c.contype, c.conkey
FROM pg_catalog.pg_constraint c
JOIN pg_catalog.pg_index i ON i.indexrelid = c.conindid
WHERE c.contype IN ('p', 'u') AND c.conrelid = ANY (%(oids)s::oid[])
ORDER BY c.conrelid, c.conname
"""

_FOREIGN = """
SELECT c.conrelid, pg_catalog.pg_get_constraintdef(c.oid, true), nr.nspname
FROM pg_catalog.pg_constraint c
LEFT JOIN pg_catalog.pg_class cr ON cr.oid = c.confrelid
LEFT JOIN pg_catalog.pg_namespace nr ON nr.oid = cr.relnamespace
WHERE c.contype = 'f' AND c.conrelid = ANY (%(oids)s::oid[])
ORDER BY c.conrelid, c.conname
"""

# pg_get_constraintdef's FOREIGN KEY text, read as the inspector reads it
_QTOKEN = r'(?:"(?:[^"]|"")+"|[\w]+?)'
_FK = re.compile(
    rf"FOREIGN KEY \((.*?)(?:, PERIOD ({_QTOKEN}))?\) "
    rf"REFERENCES (?:({_QTOKEN})\.)?({_QTOKEN})"
    rf"\(((?:{_QTOKEN}(?: *, *)?)+)(?:, PERIOD ({_QTOKEN}))?\)"
)
_NEXTVAL = re.compile(r"""(nextval\(')([^']+)('.*$)""")

# A column type as the catalogue names it: format_type, collation, collation schema.
TypeKey = tuple[str | None, str | None, str | None]
# What one reflected column's type gives: (kind, item kind, type text, value schema) etc.
ColumnMaker = Callable[[dict[str, Any], list[str]], Any]


def supported(engine: Any) -> bool:
    """Whether this fast path can reflect the database: PostgreSQL 12 or later (generated
    columns) through psycopg 3."""
    version = engine.dialect.server_version_info or ()
    return (
        engine.dialect.name == "postgresql"
        and tuple(version[:1]) >= (12,)
        and engine.dialect.driver == "psycopg"
    )


def _unquote(value: str) -> str:
    return value[1:-1].replace('""', '"') if value[:1] == '"' else value


def _names(text: str, separator: str) -> list[str]:
    return [_unquote(x) for x in re.split(separator, text)]


def _foreign_key(condef: str, conschema: str | None, schema: str | None) -> dict[str, Any]:
    match = _FK.search(condef)
    if match is None:  # not a foreign key as pg_get_constraintdef writes one
        raise ValueError(f"unreadable foreign key: {condef}")
    columns, period, referred_schema, referred_table, referred_columns, referred_period = (
        match.groups()
    )
    if period:
        columns += f", {period}"
    if referred_period:
        referred_columns += f", {referred_period}"
    if referred_schema:
        referred_schema = _unquote(referred_schema)
    elif schema is not None and schema == conschema:
        referred_schema = schema
    return {
        "constrained_columns": _names(columns, r"\s*,\s*"),
        "referred_schema": referred_schema,
        "referred_table": _unquote(referred_table),
        "referred_columns": _names(referred_columns, r"\s*,\s"),
    }


def reflect_schema(
    conn: Any,
    inspector: Any,
    schema: str | None,
    chosen_of: Callable[[dict[str, str]], list[str]],
    make_column: ColumnMaker,
    every: Any,
) -> list[TableFacts]:
    """The chosen relations of one schema (None: the search path). ``chosen_of`` picks
    names from {name: "table" | "view"}; ``make_column`` turns an inspector-shaped column
    dict (and the primary key) into the contract's column facts."""
    raw = conn.connection.driver_connection
    dbapi_error = conn.dialect.loaded_dbapi.Error
    params: dict[str, Any] = {"schema": schema}
    scope = _SCOPE_VISIBLE if schema is None else _SCOPE_SCHEMA
    try:
        with raw.cursor() as cur:
            # Just-in-time compilation costs more than these catalogue queries save with it
            # (the planner overrates their subqueries); for this transaction only.
            cur.execute("SET LOCAL jit = off")
            cur.execute("SET LOCAL work_mem = '32MB'")  # sort thousands of columns in memory
            cur.execute(_RELATIONS.format(scope=scope), params)
            relations = cur.fetchall()
            kinds = {n: "table" if kind in ("r", "p") else "view" for _, n, kind, _ in relations}
            chosen = chosen_of(kinds)
            if not chosen:
                return []
            wanted = set(chosen)
            found = {n: (oid, comment) for oid, n, _, comment in relations if n in wanted}
            params["oids"] = [found[name][0] for name in chosen]
            cur.execute(_COLUMNS, params)
            column_rows = cur.fetchall()
            cur.execute(_KEYS, params)
            key_rows = cur.fetchall()
            cur.execute(_FOREIGN, params)
            foreign_rows = cur.fetchall()
    except dbapi_error as exc:  # as SQLAlchemy reports a driver's error on its connections
        from sqlalchemy.exc import DBAPIError

        raise DBAPIError.instance(None, None, exc, dbapi_error, dialect=conn.dialect) from exc

    names = {oid: name for name, (oid, _) in found.items()}
    types = _types(inspector, schema, every, names, column_rows)
    attnames = {(row[0], row[9]): row[1] for row in column_rows}
    keys: dict[int, list[str]] = {}
    unique: dict[int, list[list[str]]] = {}
    for relid, contype, attnums in key_rows:
        columns = [attnames[(relid, n)] for n in attnums]
        if contype == "p":
            keys[relid] = columns
        elif columns:
            unique.setdefault(relid, []).append(columns)
    foreign: dict[int, list[dict[str, Any]]] = {}
    for relid, condef, conschema in foreign_rows:
        foreign.setdefault(relid, []).append(_foreign_key(condef, conschema, schema))
    from sqlalchemy.dialects.postgresql import DOMAIN
    from sqlalchemy.sql.sqltypes import Integer

    columns_of: dict[int, list[Any]] = {}
    # Columns alike in all the catalogue says of them (and in being a lone primary key) are
    # the same facts: made once, shared between tables (facts are never changed in place).
    made: dict[tuple[Any, ...], Any] = {}
    for row in column_rows:
        relid = row[0]
        pk = keys.get(relid) or []
        collation = tuple(row[8]) if row[8] else None
        shape = (*row[1:8], collation, len(pk) == 1 and row[1] in pk, row[10])
        column = made.get(shape)
        if column is None:
            coltype = refine_type(types[(row[2], *(collation or (None, None)))], row[2], row[10])
            info = _column_info(row, coltype, schema, DOMAIN, Integer)
            column = made[shape] = make_column(info, pk)
        columns_of.setdefault(relid, []).append(column)
    return [
        TableFacts.of(
            schema,
            name,
            kinds[name],
            found[name][1] or "",
            columns_of.get(found[name][0], []),
            list(keys.get(found[name][0]) or []),
            unique.get(found[name][0], []),
            foreign.get(found[name][0], []),
        )
        for name in chosen
    ]


def _column_info(
    row: Sequence[Any], coltype: Any, schema: str | None, domain: Any, integer: Any
) -> dict[str, Any]:
    """An inspector-shaped column dict: the rules of SQLAlchemy's PostgreSQL column
    reflection (a domain's default and NOT NULL, computed columns, serial and identity);
    ``domain`` and ``integer`` are its DOMAIN and Integer types."""
    _, name, _, default, not_null, comment, generated, identity, _, _, _ = row
    nullable = not not_null
    if isinstance(coltype, domain):
        if not default and coltype.default is not None:
            default = coltype.default
        nullable = nullable and not coltype.not_null
    computed = None
    if generated not in (None, "", b"\x00"):
        computed = {"sqltext": default, "persisted": generated in ("s", b"s")}
        default = None
    autoincrement = False
    if default is not None:
        match = _NEXTVAL.search(default)
        if match is not None:
            if issubclass(coltype._type_affinity, integer):
                autoincrement = True
            if "." not in match.group(2) and schema is not None:
                default = match.group(1) + f'"{schema}".' + match.group(2) + match.group(3)
    info: dict[str, Any] = {
        "name": name,
        "type": coltype,
        "nullable": nullable,
        "default": default,
        "autoincrement": autoincrement or identity is not None,
        "comment": comment,
    }
    if computed is not None:
        info["computed"] = computed
    if identity is not None:
        info["identity"] = identity
    return info


def _types(
    inspector: Any,
    schema: str | None,
    every: Any,
    names: dict[int, str],
    column_rows: list[Any],
) -> dict[TypeKey, Any]:
    """Each distinct column type, as the inspector's type object: reflected once, from the
    first column that has it, by one ``get_multi_columns`` over those few tables."""
    first: dict[TypeKey, tuple[str, str]] = {}
    for row in column_rows:
        key: TypeKey = (row[2], *(row[8] or (None, None)))
        if key not in first:
            first[key] = (names[row[0]], row[1])
    if not first:
        return {}
    tables = sorted({table for table, _ in first.values()})
    reflected = inspector.get_multi_columns(schema=schema, filter_names=tables, kind=every)
    by_column = {
        (table, info["name"]): info["type"]
        for (_, table), infos in reflected.items()
        for info in infos
    }
    return {key: by_column[where] for key, where in first.items()}


_refined: dict[tuple[int, int], tuple[Any, Any]] = {}


def refine_type(type_: Any, format_type: str, dimensions: int) -> Any:
    """What the inspector's type object leaves out: the declared depth of an array
    (``attndims``), and the name of a type it did not recognise (instead of NULLTYPE).
    One object per (type object, depth), shared as the type object is."""
    from sqlalchemy.sql.sqltypes import ARRAY, NullType

    from appctl.sync.db.typemap import named_type

    if isinstance(type_, NullType):
        return named_type(format_type)
    if not isinstance(type_, ARRAY) or dimensions <= 1:
        return type_
    key = (id(type_), dimensions)
    found = _refined.get(key)
    if found is None or found[0] is not type_:
        deeper = ARRAY(type_.item_type, dimensions=dimensions)
        found = _refined[key] = (type_, deeper)
    return found[1]


# The format_type and declared array depth of every column of the named relations.
_SHAPES = """
SELECT c.relname, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attndims
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relname = ANY (:names) AND {scope} AND a.attnum > 0 AND NOT a.attisdropped
"""


def column_shapes(
    conn: Any, schema: str | None, names: Sequence[str]
) -> dict[tuple[str, str], tuple[str, int]]:
    """(relation, column) → (format_type, declared array depth), for the inspector's path."""
    import sqlalchemy as sa

    scope = _SCOPE_VISIBLE if schema is None else "n.nspname = :schema"
    query = sa.text(_SHAPES.format(scope=scope)).bindparams(
        sa.bindparam("names", type_=sa.ARRAY(sa.String()))
    )
    rows = conn.execute(query, {"names": list(names), "schema": schema}).all()
    return {(r[0], r[1]): (r[2], int(r[3] or 0)) for r in rows}
