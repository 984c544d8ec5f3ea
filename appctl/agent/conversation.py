"""The neutral conversation every provider adapter reads and writes.

A conversation is a list of messages: a user's text, the model's reply (text and tool calls),
and the results of those tool calls. A *turn* starts at a user message and runs to the next
one; trimming drops whole turns from the front so a tool result never loses the call it
answers.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from typing import Any

CHARS_PER_TOKEN = 4.0  # o200k-style tokenizers average close to this on English and JSON
ELIDED = (
    "[this tool result was dropped to fit the context budget; call the tool again if it is "
    "still needed]"
)


def approx_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


@dataclass(frozen=True, slots=True)
class ToolCall:
    id: str
    name: str
    arguments: dict[str, Any]
    problem: str | None = None  # the arguments were not a JSON object: what was wrong


@dataclass(frozen=True, slots=True)
class ToolOutput:
    """What goes back to the model for one call: the result envelope as JSON text."""

    call: ToolCall
    content: str
    is_error: bool


@dataclass(frozen=True, slots=True)
class User:
    text: str


@dataclass(frozen=True, slots=True)
class Assistant:
    text: str
    calls: tuple[ToolCall, ...] = ()
    # provider-specific parts to send back verbatim (e.g. Gemini thought signatures)
    native: Any = None
    native_kind: str = ""


@dataclass(frozen=True, slots=True)
class ToolResults:
    outputs: tuple[ToolOutput, ...]


Message = User | Assistant | ToolResults


@dataclass(slots=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    reported: bool = False  # whether the provider said at all (some servers never do)

    def add(self, other: Usage) -> None:
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.reported = self.reported or other.reported


@dataclass(frozen=True, slots=True)
class Reply:
    """One model response: text, the tool calls it asks for, and what it cost."""

    message: Assistant
    usage: Usage = field(default_factory=Usage)
    stop_reason: str = ""


def parse_arguments(raw: str | dict[str, Any] | None) -> tuple[dict[str, Any], str | None]:
    """A tool call's arguments as an object, or why they are not one."""
    if raw is None or raw == "":
        return {}, None
    if isinstance(raw, dict):
        return raw, None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        return {}, f"the arguments were not valid JSON ({exc.msg} at character {exc.pos})"
    if not isinstance(value, dict):
        return {}, f"the arguments must be a JSON object, not {type(value).__name__}"
    return value, None


def size(message: Message) -> int:
    """Approximate tokens a message costs."""
    if isinstance(message, User):
        return approx_tokens(message.text) + 4
    if isinstance(message, Assistant):
        calls = sum(
            approx_tokens(c.name) + approx_tokens(json.dumps(c.arguments)) + 8
            for c in message.calls
        )
        return approx_tokens(message.text) + calls + 4
    return sum(approx_tokens(o.content) + 8 for o in message.outputs)


def turns(messages: list[Message]) -> list[list[Message]]:
    """Split into turns, each starting at a user message (anything before the first user
    message forms its own leading group)."""
    out: list[list[Message]] = []
    for message in messages:
        if isinstance(message, User) or not out:
            out.append([message])
        else:
            out[-1].append(message)
    return out


def fit(messages: list[Message], budget: int) -> tuple[list[Message], int]:
    """The conversation cut to ``budget`` tokens, and how many turns were dropped.

    Older turns go first, whole. The last turn (the one being answered) always stays; if it
    alone is over budget, its oldest tool results are replaced by a short note, pairing kept.
    """
    groups = turns(messages)
    total = sum(size(m) for m in messages)
    dropped = 0
    while total > budget and len(groups) > 1:
        total -= sum(size(m) for m in groups.pop(0))
        dropped += 1
    kept = [m for group in groups for m in group]
    if total <= budget:
        return kept, dropped
    # the current turn alone is too big: elide the oldest tool results but the latest
    out = list(kept)
    last_results = max((i for i, m in enumerate(out) if isinstance(m, ToolResults)), default=-1)
    for index, message in enumerate(out):
        if total <= budget or index >= last_results:
            break
        if isinstance(message, ToolResults):
            smaller = ToolResults(tuple(replace(o, content=ELIDED) for o in message.outputs))
            total -= size(message) - size(smaller)
            out[index] = smaller
    return out, dropped
