"""Looking an action up by name: an index built once, never stale after a copy."""

from __future__ import annotations

from tests.helpers import spec, sync_doc


def _schema():
    op = {"responses": {}}
    return sync_doc(
        spec(
            {
                "/a": {"get": {**op, "operationId": "getA"}},
                "/b": {"get": {**op, "operationId": "getB"}},
            }
        )
    ).schema


def test_lookup_finds_actions_and_their_resources() -> None:
    schema = _schema()
    for resource in schema.resources:
        for action in resource.actions:
            assert schema.action(action.name) is action
            assert schema.resource_of(action.name) is resource
    assert schema.action("nope") is None and schema.resource_of("nope") is None


def test_a_copy_with_other_resources_is_looked_up_afresh() -> None:
    schema = _schema()
    assert schema.action("get_a") is not None  # builds the index
    fewer = schema.model_copy(update={"resources": schema.resources[1:]})
    assert {a.name for a in fewer.actions()} == {"get_b"}
    assert fewer.action("get_a") is None and fewer.action("get_b") is not None
    renamed = [
        r.model_copy(
            update={"actions": [a.model_copy(update={"name": "x_" + a.name}) for a in r.actions]}
        )
        for r in schema.resources
    ]
    other = schema.model_copy(update={"resources": renamed})
    assert other.action("get_a") is None and other.action("x_get_a") is not None
    assert schema.action("get_a") is not None  # the original is unchanged
