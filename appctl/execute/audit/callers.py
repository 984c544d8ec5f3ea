"""Who asked, in the audit history: the ``caller`` column, its migration and its filter.

Every record names its caller (``Caller.name``: ``local:<user>`` for the CLI, a token's
subject on a server). A name comes from outside (a token's claim), so it is stored printable
and bounded (``recorded``): control characters and NULs as their escapes, at most
``CALLER_CHARS`` characters, a longer one cut with a mark saying so. A history made before
the column existed gets it in place (``add_caller``): its old rows name nobody (NULL).
``appctl history --caller GLOB`` and ``GET /history?caller=`` select by a glob
(``caller_clause``: ``*`` any run, ``?`` one character, case-sensitive on every database).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlalchemy as sa

    from appctl.execute.caller import Caller

CALLER_CHARS = 256  # the column's width: a recorded name never needs more
_CUT = "…(cut)"


def recorded(caller: Caller | None) -> str | None:
    """The caller's name as the history keeps it (None: the call named nobody)."""
    return None if caller is None else printable_name(caller.name)


def printable_name(name: str) -> str:
    """``name`` with every unprintable character (controls, NUL, a lone surrogate) as its
    escape, at most ``CALLER_CHARS`` characters."""
    head = name[: CALLER_CHARS + 1]
    text = head if head.isprintable() else "".join(map(_escaped, head))
    if len(text) > CALLER_CHARS or len(name) > len(head):
        return text[: CALLER_CHARS - len(_CUT)] + _CUT
    return text


def _escaped(char: str) -> str:
    if char.isprintable() and not 0xD800 <= ord(char) <= 0xDFFF:
        return char
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def add_caller(engine: sa.Engine, table: sa.Table) -> None:
    """Give a history made before records named their caller the ``caller`` column (nullable:
    its rows read as naming nobody). Safe when another process adds it at the same time."""
    import sqlalchemy as sa

    statement = f"ALTER TABLE {table.name} ADD COLUMN caller VARCHAR({CALLER_CHARS})"
    if _has_caller(engine, table.name):
        return
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(statement)
    except sa.exc.DBAPIError:  # "duplicate column": another process was first
        if not _has_caller(engine, table.name):
            raise


def _has_caller(engine: sa.Engine, name: str) -> bool:
    if engine.dialect.name == "sqlite":  # one pragma, not an inspector's round of queries
        with engine.connect() as conn:
            columns = conn.exec_driver_sql(f"PRAGMA table_info({name})")
            return "caller" in {row[1] for row in columns}
    import sqlalchemy as sa

    return "caller" in {c["name"] for c in sa.inspect(engine).get_columns(name)}


def caller_clause(
    column: sa.ColumnElement[Any], glob: str, *, dialect: str
) -> sa.ColumnElement[bool]:
    """Rows whose caller matches ``glob`` (``*`` any run, ``?`` one character, anything else
    literal, case included, on every database); ``""``: the rows that name nobody."""
    import sqlalchemy as sa

    if glob == "":
        return sa.or_(column.is_(None), column == "")
    if dialect == "sqlite":  # its LIKE ignores case; GLOB does not (a class: ``[`` escaped)
        return column.op("GLOB")(glob.replace("[", "[[]"))
    like = "".join(_LIKE.get(c, c) for c in glob)  # the default escape, a backslash
    if dialect in ("mysql", "mariadb"):  # LIKE follows the column's (case-blind) collation
        return column.op("LIKE BINARY")(like)
    return column.like(like)


_LIKE = {"*": "%", "?": "_", "%": "\\%", "_": "\\_", "\\": "\\\\"}
