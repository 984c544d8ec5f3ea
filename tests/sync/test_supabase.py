"""``appctl sync --supabase URL``: the PostgREST document → typed tools, calls that carry the
user's key (never a service key unless configured) and PostgREST's filter syntax.

PostgREST cannot be installed offline (no Debian, PyPI or npm package of the server), so the
HTTP side is tests/sync/postgrest_server.py: fixtures/supabase/openapi.json served at
/rest/v1/ (PostgREST 12's document format; fixtures/supabase/README.md says where the format
was taken from) and the table answered from a real PostgreSQL with row-level security
policies. What was not tested against a live Supabase project is listed in README.md
("Supabase").
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from appctl.execute.http.encode import query_pieces
from appctl.execute.http.postgrest import filter_value
from appctl.sync.supabase import rest_url, service_role
from tests import dbs, runner
from tests.sync.postgrest_server import ANON_KEY, PostgREST, jwt, libpq, postgrest, read_rows, seed

ALICE, BOB = "alice-uid", "bob-uid"


# --- the wire syntax, against the PostgREST documentation's own examples -------------------


@pytest.mark.parametrize(
    ("op", "value", "wire"),
    [
        ("gte", 18, "gte.18"),  # ?age=gte.18
        ("is", "true", "is.true"),  # ?student=is.true
        ("is", "not_null", "not.is.null"),
        ("eq", "Hebdon,John", "eq.Hebdon,John"),  # a scalar's value is all after the op
        ("in", [1, 2, 3], "in.(1,2,3)"),  # ?id=in.(1,2,3)
        ("in", ["Hebdon,John", "Williams,Mary"], 'in.("Hebdon,John","Williams,Mary")'),
        ("in", ['say "hi"', "a\\b", "plain"], 'in.("say \\"hi\\"","a\\\\b",plain)'),
        ("like", "*milk*", "like.*milk*"),
    ],
)
def test_filters_are_written_in_postgrest_syntax(op: str, value: Any, wire: str) -> None:
    assert filter_value(op, value) == wire


def test_where_and_order_become_query_pieces() -> None:
    where = {"age": {"gte": 18, "lt": 65}, "name": {"in": ["Hebdon,John"]}}
    assert query_pieces("where", where, "postgrest-filter", None) == [
        "age=gte.18",
        "age=lt.65",
        "name=in.%28%22Hebdon%2CJohn%22%29",
    ]
    assert query_pieces("order", ["age", "-height"], "postgrest-order", None) == [
        "order=age.asc%2Cheight.desc"
    ]


def _fake_jwt(claims: dict[str, Any]) -> str:
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"eyJhbGciOiJIUzI1NiJ9.{body}.c2ln"


def test_the_url_and_the_keys_are_read_as_supabase_means_them() -> None:
    assert rest_url("https://abcd.supabase.co") == "https://abcd.supabase.co/rest/v1"
    assert rest_url("https://abcd.supabase.co/rest/v1/") == "https://abcd.supabase.co/rest/v1"
    assert service_role(_fake_jwt({"role": "service_role"}))
    assert service_role("sb_secret_abc123")
    assert not service_role(_fake_jwt({"role": "anon"}))
    assert not service_role("sb_publishable_abc123")


# --- sync and calls against the PostgREST-compatible server over real PostgreSQL ----------


@pytest.fixture
def project(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(project URL, libpq DSN) of the server over a fresh PostgreSQL database."""
    if "postgresql" not in dict(dbs.database_urls()):
        pytest.skip("no PostgreSQL (scripts/dbservers start)")
    url = dbs.fresh_database("postgresql", tmp_path)
    try:
        with postgrest(libpq(url)) as served:
            yield served, libpq(url)
    finally:
        dbs.drop_database(url)


def _env(**extra: str) -> dict[str, str]:
    return {"SUPABASE_ANON_KEY": ANON_KEY, **extra}


def _call(cwd: Path, tool: str, args: dict[str, Any], *, env: dict[str, str], code: int = 0) -> Any:
    proc = runner.appctl(
        "call", tool, "--args", json.dumps(args), "--json", "--yes", cwd=cwd, env=env, code=code
    )
    return json.loads(proc.stdout)


def _tools(cwd: Path) -> dict[str, dict[str, Any]]:
    schema = json.loads((cwd / ".appctl" / "schema.json").read_text())
    return {a["name"]: a for r in schema["resources"] for a in r["actions"]}


def test_sync_makes_typed_tools_and_writes_no_key(tmp_path: Path, project: tuple[str, str]) -> None:
    url, _ = project
    proc = runner.appctl("sync", "--supabase", url, cwd=tmp_path, env=_env())
    assert "5 actions, 2 endpoints in the source, 0 warnings" in proc.stderr, proc.stderr
    tools = _tools(tmp_path)
    assert tools["delete_notes"]["summary"] == "Delete the rows of notes that where matches."
    assert tools["list_notes"]["description"].startswith("Notes that people keep")
    assert sorted(tools) == [
        "count_notes",
        "create_notes",
        "delete_notes",
        "list_notes",
        "update_notes",
    ]
    where = next(f for f in tools["list_notes"]["parameters"] if f["name"] == "where")
    columns = where["schema"]["properties"]
    assert columns["id"]["properties"]["in"]["items"] == {"type": "integer"}
    assert columns["done"]["properties"]["is"]["enum"] == ["null", "not_null", "true", "false"]
    assert "like" in columns["title"]["properties"] and "like" not in columns["id"]["properties"]
    assert columns["created_at"]["properties"]["gt"] == {"type": "string", "format": "date-time"}
    assert set(columns["meta"]["properties"]) == {"is"}  # jsonb: no comparisons
    create = {f["name"]: f for f in tools["create_notes"]["parameters"]}
    assert create["title"]["required"] and create["owner"]["required"]
    assert not create["id"].get("required")  # an integer key is generated
    delete = next(f for f in tools["delete_notes"]["parameters"] if f["name"] == "where")
    assert delete["required"] and delete["schema"]["minProperties"] == 1
    text = (tmp_path / ".appctl" / "schema.json").read_text()
    assert ANON_KEY not in text
    schema = json.loads(text)
    assert schema["source"]["kind"] == "supabase" and schema["base_url"] == f"{url}/rest/v1"
    creds = {s["name"]: s["credentials"] for s in schema["auth"]["schemes"]}
    assert creds == {
        "apikey": {"value": "env:SUPABASE_ANON_KEY"},
        "bearer": {"token": "env:SUPABASE_ANON_KEY"},
    }


def test_a_service_key_is_refused_unless_allowed(tmp_path: Path, project: tuple[str, str]) -> None:
    url, _ = project
    env = {"SUPABASE_SERVICE_KEY": _fake_jwt({"role": "service_role"})}
    sync = ["sync", "--supabase", url, "--key-env", "SUPABASE_SERVICE_KEY"]
    proc = runner.appctl(*sync, cwd=tmp_path, env=env, code=2)
    assert "service-role key, which bypasses row-level security" in proc.stderr
    assert PostgREST.seen == []  # not even sent to read the document
    missing = runner.appctl("sync", "--supabase", url, cwd=tmp_path, env={}, code=2)
    assert "SUPABASE_ANON_KEY is not set" in missing.stderr
    assert not (tmp_path / ".appctl").exists()


ROWS = [
    {"owner": ALICE, "title": "buy milk", "done": False, "public": False},
    {"owner": ALICE, "title": "call mum", "done": True, "public": False},
    {"owner": BOB, "title": "bob's secret", "done": False, "public": False},
    {"owner": BOB, "title": "bob's public note", "done": True, "public": True},
]


def test_calls_carry_the_user_s_jwt_and_rls_decides(
    tmp_path: Path, project: tuple[str, str]
) -> None:
    url, dsn = project
    seed(dsn, ROWS)
    alice = _env(USER_JWT=jwt({"sub": ALICE, "role": "authenticated"}))
    runner.appctl("sync", "--supabase", url, "--jwt-env", "USER_JWT", cwd=tmp_path, env=alice)

    everything = _call(tmp_path, "list_notes", {"order_by": ["id"]}, env=alice)
    assert [r["title"] for r in everything["data"]] == ["buy milk", "call mum", "bob's public note"]
    sent = PostgREST.seen[-1]["headers"]
    assert sent["apikey"] == ANON_KEY and sent["Authorization"] == f"Bearer {alice['USER_JWT']}"

    filtered = _call(
        tmp_path,
        "list_notes",
        {"where": {"done": {"is": "true"}, "title": {"ilike": "*MUM*"}}, "select": ["id", "title"]},
        env=alice,
    )
    assert filtered["data"] == [{"id": 2, "title": "call mum"}]
    assert PostgREST.seen[-1]["raw"] == "done=is.true&title=ilike.%2AMUM%2A&select=id,title"
    paged = _call(
        tmp_path,
        "list_notes",
        {"where": {"id": {"in": [1, 2, 3, 4]}}, "order_by": ["-id"], "limit": 1, "offset": 1},
        env=alice,
    )
    assert [r["title"] for r in paged["data"]] == ["call mum"]  # 4, (3 hidden by RLS), 2, 1

    made = _call(tmp_path, "create_notes", {"owner": ALICE, "title": "a, b (and c)"}, env=alice)
    assert made["data"][0]["title"] == "a, b (and c)"
    assert PostgREST.seen[-1]["headers"]["Prefer"] == "return=representation"
    changed = _call(
        tmp_path, "update_notes", {"where": {"title": {"eq": "buy milk"}}, "done": True}, env=alice
    )
    assert [r["title"] for r in changed["data"]] == ["buy milk"]
    # RLS: bob's rows are not alice's to change, whatever the filter says
    none = _call(tmp_path, "delete_notes", {"where": {"owner": {"eq": BOB}}}, env=alice)
    assert none["data"] == []
    gone = _call(tmp_path, "delete_notes", {"where": {"title": {"like": "call*"}}}, env=alice)
    assert [r["title"] for r in gone["data"]] == ["call mum"]
    assert _call(tmp_path, "count_notes", {"only_done": True}, env=alice)["data"] == 2

    rows = {r["title"]: r for r in read_rows(dsn)}
    assert sorted(rows) == ["a, b (and c)", "bob's public note", "bob's secret", "buy milk"]
    assert rows["buy milk"]["done"] is True and rows["a, b (and c)"]["owner"] == ALICE


def test_anon_sees_public_rows_only_and_cannot_write(
    tmp_path: Path, project: tuple[str, str]
) -> None:
    url, dsn = project
    seed(dsn, ROWS)
    runner.appctl("sync", "--supabase", url, cwd=tmp_path, env=_env())
    listed = _call(tmp_path, "list_notes", {}, env=_env())
    assert [r["title"] for r in listed["data"]] == ["bob's public note"]
    assert PostgREST.seen[-1]["headers"]["Authorization"] == f"Bearer {ANON_KEY}"
    refused = _call(tmp_path, "create_notes", {"owner": ALICE, "title": "spam"}, env=_env(), code=1)
    assert refused["ok"] is False
    assert len(read_rows(dsn)) == len(ROWS)


def test_a_delete_without_a_filter_is_refused_before_any_request(
    tmp_path: Path, project: tuple[str, str]
) -> None:
    url, dsn = project
    seed(dsn, ROWS)
    runner.appctl("sync", "--supabase", url, cwd=tmp_path, env=_env())
    before = len(PostgREST.seen)
    for args in ({}, {"where": {}}):
        refused = _call(tmp_path, "delete_notes", args, env=_env(), code=2)
        assert refused["ok"] is False and refused["error"]["category"] == "validation"
    assert len(PostgREST.seen) == before
    assert len(read_rows(dsn)) == len(ROWS)
