"""The executor never raises, whatever the arguments, and leaves no write unrecorded:
hypothesis throws lone surrogates, control characters, deep nesting, invalid base64, huge
and non-finite numbers, bytes and non-string keys at an HTTP contract (a real recording
server on 127.0.0.1) and a SQLite one, and counts what reached the server against the
audit history."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appctl.contract.models import Safety
from appctl.execute.args import MAX_DEPTH
from appctl.execute.audit.history import History
from appctl.execute.executor import CallOptions, call
from appctl.execute.result import ErrorCategory, ToolResult
from appctl.sync.db.api import sync_db
from tests.db.test_sql_executor import DDL, kind_of, run_ddl
from tests.helpers import spec, sync_doc

_ANY = {"type": "object"}  # a free-form object: the schema lets any nesting through
DOC = spec(
    {
        "/pets": {
            "get": {
                "operationId": "listPets",
                "parameters": [
                    {"name": "q", "in": "query", "schema": {"type": "string"}},
                    {"name": "X-Trace", "in": "header", "schema": {"type": "string"}},
                    {"name": "filter", "in": "query", "style": "deepObject", "schema": _ANY},
                ],
            },
            "post": {
                "operationId": "addPet",
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "name": {"type": "string"},
                                    "tags": {"type": "array", "items": {"type": "string"}},
                                    "extra": _ANY,
                                    "size": {"type": "number"},
                                },
                            }
                        }
                    }
                },
            },
        },
        "/pets/{id}": {
            "put": {
                "operationId": "putPet",
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "requestBody": {"content": {"application/json": {"schema": _ANY}}},
            }
        },
        "/upload": {
            "post": {
                "operationId": "upload",
                "requestBody": {
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "file": {"type": "string", "contentEncoding": "base64"},
                                    "note": {"type": "string"},
                                },
                            }
                        }
                    }
                },
            }
        },
    }
)
SCHEMA = sync_doc(DOC).schema
TOOLS = {a.name: [f.name for f in a.parameters] for a in SCHEMA.actions()}
WRITES = {a.name for a in SCHEMA.actions() if a.safety != Safety.READ_ONLY}
SENT = ("ok", "failed")  # outcomes of calls that sent something (or tried to)

surrogates = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
controls = st.characters(max_codepoint=0x1F) | st.just("\x7f")
text = st.text(st.characters() | surrogates | controls, max_size=12)
base64ish = st.text(st.sampled_from("QUJD+/=\n*é"), max_size=12)
numbers = st.one_of(
    st.integers(),
    st.sampled_from([63, 64, 400, 15000]).map(lambda bits: 2**bits),  # 2**15000: 4,516 digits
    st.sampled_from([-(2**63) - 1, -(2**63), 2**64 - 1]),
    st.floats(allow_nan=True, allow_infinity=True),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, text, base64ish, st.binary(max_size=6))


def _nest(depth: int, inner: Any, as_object: bool) -> Any:
    for _ in range(depth):
        inner = {"k": inner} if as_object else [inner]
    return inner


deep = st.builds(
    _nest,
    st.sampled_from([MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, 500, 3000]),
    scalars,
    st.booleans(),
)
values = st.recursive(
    scalars | deep,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(text | st.integers(), children, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def calls(draw: st.DrawFn, tools: dict[str, list[str]]) -> tuple[str, dict[Any, Any]]:
    tool = draw(st.sampled_from([*tools, "\ud800" + next(iter(tools))]))
    names = tools.get(tool, [])
    chosen = draw(st.lists(st.sampled_from(names), unique=True) if names else st.just([]))
    arguments: dict[Any, Any] = {name: draw(values) for name in chosen}
    if draw(st.integers(0, 9)) == 0:  # now and then a name that is no argument, or no text
        arguments[draw(text | st.integers())] = draw(values)
    return tool, arguments


def _envelope(result: Any) -> None:
    """A result, never a raise, and one every front end can encode."""
    assert isinstance(result, ToolResult)
    result.model_dump_json()
    if result.error is not None:
        assert result.error.category != ErrorCategory.INTERNAL, result.error.message


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=calls(TOOLS))
def test_http_calls_end_in_an_envelope_and_every_sent_write_in_a_row(
    app: Any, tmp_path: Path, case: tuple[str, dict[Any, Any]]
) -> None:
    tool, arguments = case
    history = History(f"sqlite:///{tmp_path / 'history.db'}")
    try:
        before_seen, before_rows = len(app.seen), history.count()
        options = CallOptions(base_url=app.url, approved=True, timeout=10)
        result = call(SCHEMA, tool, arguments, options, environ={}, history=history)
        _envelope(result)
        reached = len(app.seen) - before_seen
        rows = history.entries(last=history.count() - before_rows)
    finally:
        history.close()
    assert len(rows) == 1 and rows[0].outcome == result.outcome  # completed, not "started"
    if result.outcome == "invalid":
        assert reached == 0, "arguments refused as invalid reached the server"
    if tool in WRITES:  # every request that reached the server has its row
        assert reached == (1 if rows[0].outcome in SENT else 0), (rows[0], reached)


@pytest.fixture
def items(tmp_path: Path) -> tuple[Any, str]:
    db = tmp_path / "items.db"
    with sqlite3.connect(db) as conn:
        conn.execute(
            "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER, "
            "data JSON)"
        )
    return sync_db(f"sqlite:///{db}", root=tmp_path).schema, str(db)


def _items(db: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM items").fetchone()[0])


SQL_TOOLS = {"create_items": ["name", "qty", "data"], "list_items": ["where", "limit"]}


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=calls(SQL_TOOLS))
def test_sql_calls_end_in_an_envelope_and_every_insert_in_a_row(
    items: tuple[Any, str], tmp_path: Path, case: tuple[str, dict[Any, Any]]
) -> None:
    schema, db = items
    tool, arguments = case
    history = History(f"sqlite:///{tmp_path / 'history.db'}")
    try:
        before_items, before_rows = _items(db), history.count()
        options = CallOptions(database_url=f"sqlite:///{db}", approved=True)
        result = call(schema, tool, arguments, options, environ={}, history=history)
        _envelope(result)
        inserted = _items(db) - before_items
        rows = history.entries(last=history.count() - before_rows)
    finally:
        history.close()
    assert len(rows) == 1 and rows[0].outcome == result.outcome
    assert inserted == (1 if tool == "create_items" and result.ok else 0)


@pytest.fixture
def things(fresh_db: str, tmp_path: Path) -> tuple[str, str, Any]:
    kind = kind_of(fresh_db)
    run_ddl(fresh_db, DDL[kind])
    return fresh_db, kind, sync_db(fresh_db, root=tmp_path).schema


def test_nul_in_text_is_refused_before_postgresql_and_kept_elsewhere(things: Any) -> None:
    url, kind, schema = things
    options = CallOptions(database_url=url, approved=True)
    result = call(schema, "create_things", {"name": "a\x00b"}, options, environ={})
    if kind == "postgresql":  # its text cannot hold NUL: refused before connecting
        assert result.outcome == "invalid" and result.error is not None
        assert "argument 'name': PostgreSQL text cannot hold the NUL" in result.error.message
    else:
        assert result.ok and result.data["name"] == "a\x00b", result.error
