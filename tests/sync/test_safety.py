"""Safety beyond the method: one small inline spec per rule of ``sync/openapi/safety.py`` and
per false positive it must not make."""

from __future__ import annotations

from typing import Any

import pytest

from appctl.contract.models import Action, Provenance, Safety
from tests.helpers import spec, sync_doc

READ, MUT, DESTR = Safety.READ_ONLY, Safety.MUTATING, Safety.DESTRUCTIVE
DECL, INF = Provenance.DECLARED, Provenance.INFERRED


def _one(path: str, method: str, op: dict[str, Any] | None = None) -> Action:
    result = sync_doc(spec({path: {method: op or {}}}))
    (action,) = result.schema.actions()
    return action


@pytest.mark.parametrize(
    ("path", "method", "operation_id", "safety", "provenance"),
    [
        # RFC 9110 safe methods, and QUERY: read_only by the method, declared
        ("/echo", "trace", None, READ, DECL),
        ("/pets", "head", None, READ, DECL),
        ("/pets", "options", None, READ, DECL),
        ("/pets", "query", None, READ, DECL),
        ("/pets/{id}", "delete", None, DESTR, DECL),
        # a POST whose last path segment is a read word, after a collection
        ("/flows/filter", "post", None, READ, INF),
        ("/flows/count", "post", None, READ, INF),
        ("/flows/paginate", "post", None, READ, INF),
        ("/api/v2/flows/search", "post", None, READ, INF),
        ("/deployments/preview", "post", None, READ, INF),
        ("/templates/validate", "post", None, READ, INF),
        ("/users/lookup", "post", None, READ, INF),
        ("/metrics/query", "post", None, READ, INF),
        ("/work_pools/{name}/queues/filter", "post", None, READ, INF),
        ("/{index}/_search", "post", None, READ, INF),
        # ... or a custom method after ':' or '.'
        ("/v1/users:search", "post", None, READ, INF),
        ("/conversations.list", "post", None, READ, INF),
        # a POST whose operationId starts with a read word
        ("/rest/api/3/search", "post", "searchForIssuesUsingJqlPost", READ, INF),
        ("/ui/flows/count-deployments", "post", "count_deployments_by_flow", READ, INF),
        ("/flow_runs/{id}/input/filter", "post", "filter_flow_run_input_post", READ, INF),
        # bulk and batch deletes
        ("/flows/bulk_delete", "post", None, DESTR, INF),
        ("/users/batch/delete", "post", None, DESTR, INF),
        ("/v1/items:batchDelete", "post", None, DESTR, INF),
        ("/flows/purge", "post", "bulkDeleteFlows", DESTR, INF),
        ("/flows/mass-remove", "put", None, DESTR, INF),
    ],
)
def test_safety_rule(
    path: str, method: str, operation_id: str | None, safety: Safety, provenance: Provenance
) -> None:
    action = _one(path, method, {"operationId": operation_id} if operation_id else None)
    assert (action.safety, action.provenance) == (safety, provenance)


@pytest.mark.parametrize(
    ("path", "operation_id", "why"),
    [
        ("/lists", None, "a plural is a noun: POST /lists creates a list"),
        ("/queries", "createSavedQuery", "creating a saved query"),
        ("/searches", None, "a saved search is created"),
        ("/filter", None, "no collection before it: Jira's POST /filter creates a filter"),
        ("/api/v3/filter", None, "version segments are not a collection"),
        ("/rest/api/3/filter", "createFilter", "the operationId says create"),
        ("/jobs/validate-and-apply", None, "a write word in the segment"),
        ("/jobs/check", "validateAndApply", "a write word in the operationId"),
        ("/search-indexes", None, "a compound segment is not split: a noun compound"),
        ("/search/{index}", None, "a read word before a template variable"),
        ("/filters/{id}/search", "search_create", "DRF-style id: create is the verb"),
        ("/pets", "createSearchPet", "a read word later in the id is not its verb"),
        ("/deployments/get_scheduled_flow_runs", None, "get is not a read word for POST"),
        ("/flows/history", None, "history is not in the word list"),
    ],
)
def test_post_that_is_not_inferred_read_only(path: str, operation_id: str | None, why: str) -> None:
    action = _one(path, "post", {"operationId": operation_id} if operation_id else None)
    assert (action.safety, action.provenance) == (MUT, DECL), why


@pytest.mark.parametrize("method", ["put", "patch"])
def test_put_and_patch_are_never_inferred_read_only(method: str) -> None:
    action = _one("/flows/filter", method, {"operationId": "filterFlows"})
    assert (action.safety, action.provenance) == (MUT, DECL)


def test_a_bulk_create_is_not_destructive() -> None:
    action = _one("/deployments/{id}/create_flow_run/bulk", "post")
    assert (action.safety, action.provenance) == (MUT, DECL)


@pytest.mark.parametrize(
    ("path", "declared", "safety"),
    [
        ("/flows/filter", "mutating", MUT),
        ("/flows/bulk_delete", "mutating", MUT),
        ("/pets", "read_only", READ),
    ],
)
def test_x_appctl_safety_wins_over_inference(path: str, declared: str, safety: Safety) -> None:
    action = _one(path, "post", {"x-appctl-safety": declared})
    assert (action.safety, action.provenance) == (safety, DECL)


def test_a_bad_x_appctl_safety_warns_and_inference_still_applies() -> None:
    result = sync_doc(spec({"/flows/filter": {"post": {"x-appctl-safety": "harmless"}}}))
    (action,) = result.schema.actions()
    assert (action.safety, action.provenance) == (READ, INF)
    pointers = [d.pointer for d in result.diagnostics]
    assert pointers == ["/paths/~1flows~1filter/post/x-appctl-safety"]
