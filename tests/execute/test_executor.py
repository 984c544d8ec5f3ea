"""The executor against a real HTTP server on 127.0.0.1: gates, retries, categories."""

from typing import Any

import pytest

from appctl.execute.executor import CallOptions, call
from appctl.execute.result import ErrorCategory
from tests.helpers import spec, sync_doc

DOC = spec(
    {
        "/pets": {
            "get": {
                "operationId": "listPets",
                "parameters": [
                    {
                        "name": "limit",
                        "in": "query",
                        "required": True,
                        "schema": {"type": "integer", "maximum": 100},
                    }
                ],
            },
            "post": {
                "operationId": "addPet",
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["name"],
                                "properties": {"name": {"type": "string"}},
                            }
                        }
                    }
                },
            },
        },
        "/pets/{id}": {
            "delete": {
                "operationId": "deletePet",
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
                ],
            }
        },
        "/status/{code}": {
            "get": {
                "operationId": "status",
                "parameters": [
                    {"name": "code", "in": "path", "required": True, "schema": {"type": "integer"}}
                ],
            },
            "post": {
                "operationId": "postStatus",
                "parameters": [
                    {"name": "code", "in": "path", "required": True, "schema": {"type": "integer"}}
                ],
            },
        },
        "/away": {"get": {"operationId": "away"}},
        "/hop": {"get": {"operationId": "hop"}},
    },
    components={"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    security=[{"bearer": []}],
)
SCHEMA = sync_doc(DOC).schema
ENV = {"APPCTL_BEARER_TOKEN": "tok-SECRET"}


def _call(app: Any, tool: str, args: dict[str, Any], **options: Any):
    return call(SCHEMA, tool, args, CallOptions(base_url=app.url, **options), environ=ENV)


def test_a_read_call_reaches_the_server_with_auth(app) -> None:
    result = _call(app, "list_pets", {"limit": 5})
    assert result.ok and result.status == 200 and result.data["path"] == "/api/pets"
    (seen,) = app.seen
    assert seen.query == [("limit", "5")]
    assert seen.headers["authorization"] == "Bearer tok-SECRET"


@pytest.mark.parametrize(
    ("tool", "args", "message"),
    [
        ("list_pet", {}, "Did you mean 'list_pets'?"),
        ("list_pets", {"limt": 5}, "unknown argument 'limt'. Did you mean 'limit'?"),
        ("list_pets", {"limit": "ten"}, "argument 'limit': expected type 'integer', got 'ten'"),
        ("list_pets", {"limit": 500}, "expected maximum 100, got 500"),
        ("list_pets", {}, "'limit' is a required property"),
    ],
)
def test_bad_arguments_never_reach_the_server(app, tool, args, message) -> None:
    result = _call(app, tool, args)
    assert not result.ok and result.error.category == ErrorCategory.VALIDATION
    assert message in result.error.message
    assert app.seen == []


def test_gates(app) -> None:
    refused = _call(app, "add_pet", {"name": "Rex"})
    assert refused.error.category == ErrorCategory.REFUSED and "--yes" in refused.error.message
    read_only = _call(app, "add_pet", {"name": "Rex"}, read_only=True, approved=True)
    assert read_only.error.category == ErrorCategory.REFUSED
    assert "read-only" in read_only.error.message
    assert app.seen == []
    assert _call(app, "add_pet", {"name": "Rex"}, approved=True).ok
    assert app.seen[0].method == "POST" and app.seen[0].body == b'{"name":"Rex"}'


def test_dry_run_sends_nothing_and_shows_the_redacted_request(app) -> None:
    result = _call(app, "delete_pet", {"id": 3}, dry_run=True)
    assert result.ok and app.seen == []
    assert result.request == {
        "method": "DELETE",
        "url": f"{app.url}/pets/3",
        "headers": {"Authorization": "Bearer ***"},
        "auth": "bearer (bearer)",
    }


@pytest.mark.parametrize(
    ("code", "category"),
    [
        (401, "auth"),
        (403, "permission"),
        (404, "not_found"),
        (409, "conflict"),
        (429, "rate_limited"),
        (500, "server"),
        (422, "validation"),
    ],
)
def test_statuses_map_to_categories(app, code, category) -> None:
    result = _call(app, "status", {"code": code})
    assert not result.ok and result.status == code and result.error.category == category
    assert result.error.suggestions


def test_retries_only_idempotent_methods(app) -> None:
    app.flaky["/api/pets"] = 2
    assert _call(app, "list_pets", {"limit": 1}).ok
    assert len(app.seen) == 3
    app.seen.clear()
    app.flaky["/api/pets"] = 1
    result = _call(app, "add_pet", {"name": "Rex"}, approved=True)
    assert result.status == 503 and len(app.seen) == 1


def test_redirects_stay_in_the_origin(app) -> None:
    assert _call(app, "hop", {}).data["path"] == "/api/pets"
    away = _call(app, "away", {})
    assert away.status == 302 and [s.path for s in app.seen] == [
        "/api/hop",
        "/api/pets",
        "/api/away",
    ]


def test_network_errors_are_results(app) -> None:
    result = call(
        SCHEMA,
        "list_pets",
        {"limit": 1},
        CallOptions(base_url="http://127.0.0.1:9/api"),
        environ=ENV,
    )
    assert not result.ok and result.error.category == ErrorCategory.NETWORK


SLOW = sync_doc(
    spec(
        {
            "/slow": {"get": {"operationId": "slow"}},
            "/drop": {"get": {"operationId": "drop"}, "post": {"operationId": "dropPost"}},
        }
    )
).schema


def test_timeouts_and_dropped_connections_have_their_categories(app) -> None:
    slow = call(SLOW, "slow", {}, CallOptions(base_url=app.url, timeout=0.2), environ={})
    assert slow.error.category == ErrorCategory.TIMEOUT
    dropped = call(SLOW, "drop", {}, CallOptions(base_url=app.url), environ={})
    assert dropped.error.category == ErrorCategory.NETWORK
    assert [s.path for s in app.seen].count("/api/drop") == 3  # GET: retried twice
    app.seen.clear()
    post = call(SLOW, "drop_post", {}, CallOptions(base_url=app.url, approved=True), environ={})
    assert post.error.category == ErrorCategory.NETWORK and len(app.seen) == 1  # never repeated


def test_encoded_dot_segments_stay_literal(app) -> None:
    schema = sync_doc(
        spec(
            {
                "/files/{name}": {
                    "get": {
                        "operationId": "getFile",
                        "parameters": [
                            {
                                "name": "name",
                                "in": "path",
                                "required": True,
                                "schema": {"type": "string"},
                            }
                        ],
                    }
                }
            }
        )
    ).schema
    app.seen.clear()
    for value in ("../../admin", "%2e%2e", "..%2f..%2fadmin"):
        assert call(
            schema, "get_file", {"name": value}, CallOptions(base_url=app.url), environ={}
        ).ok
    assert all(s.path.startswith("/api/files/") for s in app.seen)
    assert len(app.seen) == 3


def test_policy_allows_asks_and_denies(app) -> None:
    from appctl.config import Config

    config = Config.model_validate(
        {
            "policy": [
                {"match": {"name": "delete_*"}, "action": "deny"},
                {"match": {"verb": "create"}, "action": "allow"},
                {"match": {"safety": "read_only"}, "action": "ask"},
            ]
        }
    )
    denied = _call(app, "delete_pet", {"id": 1}, config=config, approved=True)
    assert denied.error.category == ErrorCategory.REFUSED and "rule 1" in denied.error.message
    assert _call(app, "add_pet", {"name": "Rex"}, config=config).ok  # allowed without --yes
    assert _call(app, "list_pets", {"limit": 1}, config=config).ok  # reads never need approval
    assert [s.method for s in app.seen] == ["POST", "GET"]


def test_every_call_is_recorded_with_secrets_redacted(app, tmp_path) -> None:
    from appctl.execute.audit.history import History

    history = History(f"sqlite:///{tmp_path / 'history.db'}")

    def run(tool: str, args: dict[str, Any], **options: Any):
        return call(
            SCHEMA,
            tool,
            args,
            CallOptions(base_url=app.url, **options),
            environ=ENV,
            history=history,
            session="s1",
        )

    run("list_pets", {"limit": 2})
    run("list_pets", {"limit": "x"})
    run("add_pet", {"name": "Rex"})
    run("delete_pet", {"id": 4}, dry_run=True)
    run("status", {"code": 500})
    entries = history.entries(last=10)
    assert [e.outcome for e in entries] == ["ok", "invalid", "refused", "dry_run", "failed"]
    assert entries[0].request == f"GET {app.url}/pets?limit=2" and entries[0].status == 200
    assert entries[4].category == "server" and entries[4].duration_ms > 0
    assert history.entry(entries[0].id) == entries[0]
    assert [e.tool for e in history.entries(tool="status")] == ["status"]
    raw = (tmp_path / "history.db").read_bytes() + b"".join(
        p.read_bytes() for p in tmp_path.glob("history.db?*")
    )
    assert b"tok-SECRET" not in raw


def test_results_over_the_budget_are_cut_with_a_note(app) -> None:
    result = _call(app, "list_pets", {"limit": 1}, result_budget=10)
    assert result.ok and len(result.data) == 10 and "cut to 10" in result.notes[0]
    assert result.notes[0].endswith("ask for fewer items or the next page (limit)")


def test_rate_and_concurrency_limits_answer_rate_limited(app) -> None:
    import threading

    from appctl.config import Config

    config = Config.model_validate(
        {
            "policy": [
                {"match": {"name": "list_pets"}, "rate_limit": "2/s"},
                {"match": {"name": "slow"}, "max_concurrency": 1, "timeout": 5},
            ]
        }
    )
    results = [_call(app, "list_pets", {"limit": 1}, config=config) for _ in range(3)]
    assert [r.ok for r in results] == [True, True, False]
    assert results[2].error.category == ErrorCategory.RATE_LIMITED
    assert "rate limit" in results[2].error.message and len(app.seen) == 2
    outcomes: list[Any] = []
    slow = [
        threading.Thread(
            target=lambda: outcomes.append(
                call(SLOW, "slow", {}, CallOptions(base_url=app.url, config=config), environ={})
            )
        )
        for _ in range(2)
    ]
    for thread in slow:
        thread.start()
    for thread in slow:
        thread.join(timeout=10)
    assert sorted(r.ok for r in outcomes) == [False, True]
    assert "already has 1 call(s) running" in next(r for r in outcomes if not r.ok).error.message


def test_base_url_from_config_or_environment(app) -> None:
    from appctl.config import Config

    schema = SCHEMA.model_copy(update={"base_url": "http://127.0.0.1:9/nowhere"})
    via_config = call(
        schema, "list_pets", {"limit": 1}, CallOptions(config=Config(base_url=app.url)), environ=ENV
    )
    via_env = call(
        schema,
        "list_pets",
        {"limit": 1},
        CallOptions(),
        environ={**ENV, "APPCTL_BASE_URL": app.url},
    )
    assert via_config.ok and via_env.ok and len(app.seen) == 2


def test_strict_refuses_what_is_only_inferred(app) -> None:
    from appctl.contract.models import Provenance

    resources = [
        r.model_copy(
            update={
                "actions": [
                    a.model_copy(update={"provenance": Provenance.INFERRED}) for a in r.actions
                ]
            }
        )
        for r in SCHEMA.resources
    ]
    inferred = SCHEMA.model_copy(update={"resources": resources})
    refused = call(
        inferred, "list_pets", {"limit": 1}, CallOptions(base_url=app.url, strict=True), environ=ENV
    )
    assert refused.error.category == ErrorCategory.REFUSED and "--strict" in refused.error.message
    assert call(inferred, "list_pets", {"limit": 1}, CallOptions(base_url=app.url), environ=ENV).ok
    assert len(app.seen) == 1


def test_history_takes_concurrent_writers(tmp_path) -> None:
    import threading

    from appctl.execute.audit.history import Entry, History

    url = f"sqlite:///{tmp_path / 'history.db'}"

    def writer(n: int) -> None:
        history = History(url)  # each its own engine, as separate processes would have
        for i in range(25):
            history.record(
                Entry(
                    at=f"t{n}-{i}",
                    session=f"s{n}",
                    tool="t",
                    arguments="{}",
                    request="",
                    status=200,
                    duration_ms=1.0,
                    outcome="ok",
                )
            )

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(History(url).entries(last=1000)) == 100
