"""Context budget: whole turns are dropped from the front, and no tool result is orphaned."""

from __future__ import annotations

from appctl.agent.conversation import (
    ELIDED,
    Assistant,
    Message,
    ToolCall,
    ToolOutput,
    ToolResults,
    User,
    fit,
    parse_arguments,
    size,
    turns,
)


def _turn(n: int, payload: int) -> list[Message]:
    call = ToolCall(f"c{n}", "list_pets", {"limit": n})
    return [
        User(f"question {n}"),
        Assistant("", (call,)),
        ToolResults((ToolOutput(call, "x" * payload, False),)),
        Assistant(f"answer {n}"),
    ]


def _paired(messages: list[Message]) -> bool:
    """Every tool result answers a call of the message right before it."""
    for i, m in enumerate(messages):
        if isinstance(m, ToolResults):
            before = messages[i - 1] if i else None
            if not isinstance(before, Assistant):
                return False
            if {o.call.id for o in m.outputs} != {c.id for c in before.calls}:
                return False
    return True


def test_under_budget_nothing_changes() -> None:
    messages = _turn(1, 100) + _turn(2, 100)
    kept, dropped = fit(messages, 10_000)
    assert kept == messages and dropped == 0


def test_whole_old_turns_go_first_and_pairs_survive() -> None:
    messages = _turn(1, 4000) + _turn(2, 4000) + _turn(3, 400)
    budget = sum(size(m) for m in _turn(3, 400)) + 50
    kept, dropped = fit(messages, budget)
    assert dropped == 2
    assert kept == _turn(3, 400)
    assert isinstance(kept[0], User) and _paired(kept)


def test_an_oversized_current_turn_elides_old_results_but_keeps_pairs() -> None:
    call_a, call_b = ToolCall("a", "get_pet", {"id": 1}), ToolCall("b", "get_pet", {"id": 2})
    messages: list[Message] = [
        User("big"),
        Assistant("", (call_a,)),
        ToolResults((ToolOutput(call_a, "y" * 40_000, False),)),
        Assistant("", (call_b,)),
        ToolResults((ToolOutput(call_b, "z" * 400, False),)),
    ]
    kept, dropped = fit(messages, 1_000)
    assert dropped == 0 and len(kept) == len(messages) and _paired(kept)
    first = kept[2]
    last = kept[4]
    assert isinstance(first, ToolResults) and first.outputs[0].content == ELIDED
    assert isinstance(last, ToolResults) and last.outputs[0].content == "z" * 400


def test_turns_start_at_user_messages() -> None:
    groups = turns(_turn(1, 1) + _turn(2, 1))
    assert [len(g) for g in groups] == [4, 4]
    assert all(isinstance(g[0], User) for g in groups)


def test_arguments_must_be_a_json_object() -> None:
    assert parse_arguments('{"a": 1}') == ({"a": 1}, None)
    assert parse_arguments("") == ({}, None)
    assert parse_arguments({"b": 2}) == ({"b": 2}, None)
    value, problem = parse_arguments('{"a": ')
    assert value == {} and problem is not None and "not valid JSON" in problem
    value, problem = parse_arguments("[1, 2]")
    assert value == {} and problem is not None and "JSON object" in problem


def test_usage_says_whether_the_provider_reported_it() -> None:
    from appctl.agent.conversation import Usage

    total = Usage()
    total.add(Usage())  # a server that streams without a usage chunk
    assert not total.reported
    total.add(Usage(10, 3, True))
    total.add(Usage(5, 1, True))
    assert (total.input_tokens, total.output_tokens, total.reported) == (15, 4, True)
