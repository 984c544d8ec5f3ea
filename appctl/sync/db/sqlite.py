"""SQLite reflection straight from the schema table and the pragma table-valued functions:
four queries over the one connection (the schema's tables and views with their SQL, foreign
keys, columns, the automatic indexes of unique constraints), however many tables.

It yields exactly the facts SQLAlchemy's inspector yields for the same tables (its
``get_multi_*`` calls stay the reference): the rules of the SQLite dialect's ``get_columns``,
``get_pk_constraint``, ``get_foreign_keys`` and ``get_unique_constraints``, with the
dialect's own helpers where they stand alone (``_resolve_type_affinity``,
``_get_column_info``, ``FK_PATTERN``, ``_find_cols_in_sig``). The inspector asks per table,
and looks each table's SQL up by name in the unindexed schema table: quadratic in the number
of tables. Each distinct declared type is resolved once and its type object shared.

A table this path cannot read as the inspector would (a generated column in SQL the
dialect's parser does not take apart) is handed to the inspector (``inspect``); a query the
database refuses hands the whole schema over (``None``), so the inspector reports it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from appctl.sync.db.facts import ColumnFacts, TableFacts

# The dialect's get_columns: the column list of a table's SQL (for generated columns' text).
_CREATE_TABLE = re.compile(
    r"create table .*?\((.*)\)(?:\s*,?\s*(?:WITHOUT\s+ROWID|STRICT))*$",
    re.DOTALL | re.IGNORECASE,
)
# The dialect's get_unique_constraints: table-level and inline UNIQUE in a table's SQL.
_UNIQUE = re.compile(r'(?:CONSTRAINT\s+(?:"(.+?)"|(\w+))\s+)?UNIQUE\s*\((.+?)\)', re.I)
_UNIQUE_WORD = re.compile("UNIQUE", re.I)  # in every match of the two below
_INLINE_UNIQUE = re.compile(
    r'(?:(".+?")|(?:[\[`])?([a-z0-9_]+)(?:[\]`])?)[\t ]'
    r"+[a-z0-9_]+(?:[\t ]+[a-z0-9_]+)*?[\t ]+UNIQUE",
    re.I,
)

# Every table and view of the schema (internal ones too: a foreign key may name one), with
# its SQL and whether the inspector lists it (the dialect's own filter).
_OBJECTS = """
SELECT s.type, s.name, s.sql, s.name NOT LIKE 'sqlite~_%' ESCAPE '~'
FROM {schema}.sqlite_master AS s WHERE s.type IN ('table', 'view')
"""
_FOREIGN = """
SELECT s.name, f.id, f."table", f."from", f."to"
FROM {schema}.sqlite_master AS s JOIN pragma_foreign_key_list(s.name, {literal}) AS f
WHERE s.type = 'table'{where}
"""
_COLUMNS = """
SELECT s.name, x.name, x.type, x."notnull", x.dflt_value, x.pk, x.hidden
FROM {schema}.sqlite_master AS s JOIN pragma_table_xinfo(s.name, {literal}) AS x
WHERE s.type IN ('table', 'view'){where}
"""
# Every index with its columns (a NULL column: an expression, which the inspector skips).
_INDEXES = """
SELECT s.name, il.name, ii.name
FROM {schema}.sqlite_master AS s JOIN pragma_index_list(s.name, {literal}) AS il
JOIN pragma_index_info(il.name, {literal}) AS ii
WHERE s.type = 'table'{where}
"""
_CHUNK = 500  # names per IN list, well under SQLITE_MAX_VARIABLE_NUMBER (999 before 3.32)

ColumnMaker = Callable[[dict[str, Any], list[str]], ColumnFacts]
# (names, {name: "table" | "view"}) → those tables as the inspector reads them
Inspect = Callable[[list[str], dict[str, str]], list[TableFacts]]


def supported(engine: Any) -> bool:
    """Whether this path can read the database: SQLite through the standard ``sqlite3``
    driver, 3.31 or later (the inspector then reads ``table_xinfo``, as this path does)."""
    dialect = engine.dialect
    return (
        dialect.name == "sqlite"
        and dialect.driver == "pysqlite"
        and tuple(dialect.server_version_info or ())[:2] >= (3, 31)
    )


@dataclass(slots=True)
class _Table:
    kind: str
    sql: str | None
    columns: list[tuple[Any, ...]] = field(default_factory=list)  # xinfo rows, in cid order
    foreign: list[tuple[Any, ...]] = field(default_factory=list)
    indexes: dict[str, list[str | None]] = field(default_factory=dict)


def reflect_schema(
    conn: Any,
    schema: str | None,
    chosen_of: Callable[[dict[str, str]], list[str]],
    make_column: ColumnMaker,
    inspect: Inspect,
) -> list[TableFacts] | None:
    """The chosen tables and views of one schema (None: ``main``), or None when the
    database refused a query (the inspector is then to read the whole schema). ``chosen_of``
    picks names from {name: "table" | "view"}; ``make_column`` turns an inspector-shaped
    column dict (and the primary key) into the contract's column facts."""
    dialect = conn.dialect
    raw = conn.connection.driver_connection
    name = "main" if schema is None else schema
    quoted = dialect.identifier_preparer.quote_identifier(name)
    literal = "'" + name.replace("'", "''") + "'"

    def run(template: str, names: Sequence[str] | None) -> Iterator[tuple[Any, ...]]:
        """The rows of one query, over ``names`` only when given (IN lists in chunks)."""
        if names is None:
            yield from cur.execute(template.format(schema=quoted, literal=literal, where=""))
            return
        for start in range(0, len(names), _CHUNK):
            chunk = names[start : start + _CHUNK]
            where = f" AND s.name IN ({', '.join('?' * len(chunk))})"
            yield from cur.execute(
                template.format(schema=quoted, literal=literal, where=where), chunk
            )

    try:
        cur = raw.cursor()
        try:
            objects: dict[str, _Table] = {}
            listed: dict[str, str] = {}  # what the inspector lists: not the internal tables
            for kind, n, sql, shown in cur.execute(_OBJECTS.format(schema=quoted)):
                objects[n] = _Table(kind, sql)
                if shown:
                    listed[n] = kind
            chosen = chosen_of(listed)
            if not chosen:
                return []
            tables = [n for n in chosen if listed[n] == "table"]
            # every listed table chosen: no IN lists (the internal tables' few rows are read too)
            every_table = len(tables) == sum(1 for k in listed.values() if k == "table")
            for table, fk_id, referred, local, remote in run(
                _FOREIGN, None if every_table else tables
            ):
                objects[table].foreign.append((fk_id, referred, local, remote))
            # Columns of the chosen, and of the tables whose primary key a foreign key names
            # by omission (as the inspector looks them up: by exact name).
            wanted = set(chosen)
            for table in tables:
                wanted.update(
                    r for _, r, _, remote in objects[table].foreign if not remote and r in objects
                )
            names = None if wanted.issuperset(listed) else sorted(wanted)
            for row in run(_COLUMNS, names):
                objects[row[0]].columns.append(row[1:])
            for table, index, column in run(_INDEXES, None if every_table else tables):
                objects[table].indexes.setdefault(index, []).append(column)
        finally:
            cur.close()
    except dialect.loaded_dbapi.Error:
        return None
    return _Reader(dialect, schema, objects, make_column).tables(chosen, listed, inspect)


class _Reader:
    """The facts of tables from the rows read, by the rules of the SQLite dialect."""

    def __init__(
        self,
        dialect: Any,
        schema: str | None,
        objects: dict[str, _Table],
        make_column: ColumnMaker,
    ) -> None:
        self.dialect = dialect
        self.schema = schema
        self.objects = objects
        self.make_column = make_column
        self.types: dict[str, Any] = {}  # declared type (upper case) → shared type object
        # Columns alike in all the table says of them (and in being a lone primary key) are
        # the same facts: made once, shared (facts are never changed in place).
        self.made: dict[tuple[Any, ...], ColumnFacts] = {}
        self.keys: dict[str, list[str] | None] = {}  # primary keys (None: not readable here)

    def tables(
        self, chosen: list[str], kinds: dict[str, str], inspect: Inspect
    ) -> list[TableFacts]:
        out: dict[str, TableFacts] = {}
        hard: list[str] = []
        for name in chosen:
            facts = self.table(name, kinds[name])
            if facts is None:
                hard.append(name)
            else:
                out[name] = facts
        if hard:
            for facts in inspect(hard, {n: kinds[n] for n in hard}):
                out[facts.name] = facts
        return [out[name] for name in chosen]

    def table(self, name: str, kind: str) -> TableFacts | None:
        table = self.objects[name]
        infos = self.column_infos(table)
        key = self.primary_key(name)
        if infos is None or key is None:
            return None
        foreign = self.foreign_keys(name, table)
        if foreign is None:
            return None
        columns: list[ColumnFacts] = []
        for info in infos:
            lone = key == [info["name"]]
            if "computed" in info:
                columns.append(self.make_column(info, key))
                continue
            shape = (info["name"], info["type"], info["nullable"], info["default"], lone)
            column = self.made.get(shape)
            if column is None:
                column = self.made[shape] = self.make_column(info, key)
            columns.append(column)
        return TableFacts.of(
            self.schema,
            name,
            kind,
            "",  # SQLite keeps no comments
            columns,
            list(key),
            self.unique(name, table),
            foreign,
        )

    def column_infos(self, table: _Table) -> list[dict[str, Any]] | None:
        """The dialect's get_columns of a table, its type objects shared by declared type
        (None: a generated column's table SQL the dialect's parser would not accept)."""
        infos: list[dict[str, Any]] = []
        tablesql: str | None = None
        for name, declared, notnull, default, pk, hidden in table.columns:
            if hidden == 1:  # a virtual table's hidden column
                continue
            type_ = declared.upper()
            if hidden:  # generated: 2 virtual, 3 stored
                if tablesql is None:
                    match = _CREATE_TABLE.match((table.sql or "").strip())
                    if match is None:
                        return None
                    tablesql = match.group(1).strip()
                infos.append(
                    self.dialect._get_column_info(
                        name, type_, not notnull, default, pk, True, hidden == 3, tablesql
                    )
                )
                continue
            coltype = self.types.get(type_)
            if coltype is None:
                coltype = self.types[type_] = self.dialect._resolve_type_affinity(type_)
            infos.append(
                {
                    "name": name,
                    "type": coltype,
                    "nullable": not notnull,
                    "default": None if default is None else str(default),
                    "primary_key": pk,
                }
            )
        return infos or None  # no columns: the inspector's own checks decide

    def primary_key(self, name: str) -> list[str] | None:
        """The dialect's get_pk_constraint: the columns with a key position, in its order."""
        if name not in self.keys:
            table = self.objects[name]
            if any(row[5] in (2, 3) for row in table.columns) and self.column_infos(table) is None:
                self.keys[name] = None
            else:
                ranked = [(row[4], row[0]) for row in table.columns if row[5] != 1 and row[4] > 0]
                ranked.sort(key=lambda r: r[0])
                self.keys[name] = [column for _, column in ranked]
        return self.keys[name]

    def foreign_keys(self, name: str, table: _Table) -> list[dict[str, Any]] | None:
        """The dialect's get_foreign_keys: the pragma's keys, grouped by id, named and
        ordered by what its pattern finds in the table's SQL (None: a key names a table whose
        primary key this path does not read)."""
        fks: dict[int, dict[str, Any]] = {}
        for fk_id, referred, local, remote in table.foreign:
            referred_columns: list[str] = []
            # no referred columns: as the inspector, the referred table's primary key,
            # looked up by exact name (another spelling, or no such table: none)
            if not remote and referred in self.objects:
                key = self.primary_key(referred)
                if key is None:
                    return None
                referred_columns = list(key)
            fk = fks.get(fk_id)
            if fk is None:
                fk = fks[fk_id] = {
                    "name": None,
                    "constrained_columns": [],
                    "referred_schema": self.schema,
                    "referred_table": referred,
                    "referred_columns": referred_columns,
                    "options": {},
                }
            fk["constrained_columns"].append(local)
            if remote:
                fk["referred_columns"].append(remote)

        def signature(constrained: list[str], referred: str, columns: list[str]) -> tuple[str, ...]:
            return (*constrained, referred, *columns)

        by_signature = {
            signature(fk["constrained_columns"], fk["referred_table"], fk["referred_columns"]): fk
            for fk in fks.values()
        }
        ordered: list[dict[str, Any]] = []
        if table.sql is not None:
            from sqlalchemy import util
            from sqlalchemy.dialects.sqlite.base import FK_PATTERN

            cols_in = self.dialect._find_cols_in_sig
            for match in FK_PATTERN.finditer(table.sql):
                quoted_name, bare_name, constrained_text, quoted_ref, bare_ref, referred_text = (
                    match.group(1, 2, 3, 4, 5, 6)
                )
                constrained = list(cols_in(constrained_text))
                columns = list(cols_in(referred_text)) if referred_text else constrained
                sig = signature(constrained, quoted_ref or bare_ref, columns)
                if sig not in by_signature:
                    util.warn(
                        f"WARNING: SQL-parsed foreign key constraint '{sig}' could not be "
                        f"located in PRAGMA foreign_keys for table {name}"
                    )
                    continue
                found = by_signature.pop(sig)
                found["name"] = quoted_name or bare_name
                ordered.append(found)
        ordered.extend(by_signature.values())
        return ordered

    def unique(self, name: str, table: _Table) -> list[list[str]]:
        """The dialect's get_unique_constraints: UNIQUE clauses of the table's SQL that an
        automatic index backs (each index once)."""
        from sqlalchemy import util

        auto: set[tuple[str | None, ...]] = set()
        for index, columns in sorted(table.indexes.items()):
            if None in columns:
                util.warn(f"Skipped unsupported reflection of expression-based index {index}")
            elif index.startswith("sqlite_autoindex"):
                auto.add(tuple(columns))
        # Nothing to find (no automatic index left to back a clause, or no UNIQUE for the
        # patterns to match): the same answer without the patterns' scans.
        sql = table.sql
        if not auto or sql is None or _UNIQUE_WORD.search(sql) is None:
            return []

        def clauses() -> Iterator[str]:  # table-level, then inline; read as far as needed
            for match in _UNIQUE.finditer(sql):
                yield match.group(3)
            for match in _INLINE_UNIQUE.finditer(sql):
                yield match.group(1) or match.group(2)

        cols_in = self.dialect._find_cols_in_sig
        out: list[list[str]] = []
        for clause in clauses():
            names = list(cols_in(clause))
            sig = tuple(names)
            if sig in auto:
                auto.discard(sig)
                out.append(names)
                if not auto:
                    break
        return out
