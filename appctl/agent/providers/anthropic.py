"""Anthropic messages with native ``tool_use`` / ``tool_result`` content blocks.

Tool results go back in a user message whose content is ``tool_result`` blocks (``is_error``
set on failures); a new prompt after them joins that same user message, so roles alternate.
"""

from __future__ import annotations

from typing import Any

from appctl.agent.conversation import (
    Assistant,
    Message,
    Reply,
    ToolCall,
    ToolResults,
    Usage,
    User,
)
from appctl.agent.profiles import Resolved
from appctl.agent.providers import OnText
from appctl.agent.providers.errors import (
    body_detail,
    connection_error,
    cut_off_error,
    incomplete_error,
    status_error,
    timeout_error,
    unfinished_error,
)

DEFAULT_MAX_TOKENS = 4096


class AnthropicProvider:
    tool_format = "anthropic"
    tool_limit: int | None = None  # no documented per-request count; the token budget governs

    def __init__(self, resolved: Resolved) -> None:
        import anthropic

        self.resolved = resolved
        self.name = resolved.name
        self.model = resolved.profile.model
        self.client = anthropic.Anthropic(
            api_key=resolved.api_key,
            base_url=resolved.profile.base_url,
            timeout=resolved.profile.timeout,
            max_retries=resolved.profile.max_retries,
        )

    def tools(self, rendered: list[Any]) -> Any:
        return rendered

    def complete(
        self, system: str, messages: list[Message], tools: Any, on_text: OnText | None
    ) -> Reply:
        import anthropic

        profile = self.resolved.profile
        request: dict[str, Any] = {
            "model": self.model,
            "max_tokens": profile.max_tokens or DEFAULT_MAX_TOKENS,
            "system": system,
            "messages": wire(messages),
        }
        if tools:
            request["tools"] = tools
        if profile.temperature is not None:
            request["temperature"] = profile.temperature
        try:
            if profile.stream:
                return self._stream(request, on_text)
            return _reply(self.client.messages.create(**request), on_text)
        except anthropic.APITimeoutError:
            raise timeout_error(self.resolved) from None
        except anthropic.APIConnectionError as exc:
            raise connection_error(self.resolved, str(exc.__cause__ or exc)) from None
        except anthropic.APIStatusError as exc:
            raise status_error(self.resolved, exc.status_code, body_detail(exc)) from None

    def _stream(self, request: dict[str, Any], on_text: OnText | None) -> Reply:
        """A streamed reply; one that ends before ``message_stop`` (a server that failed
        after its 200, a cut connection) is a ProviderError, never an answer."""
        import anthropic

        chars = calls = 0
        stopped = False
        with self.client.messages.stream(**request) as stream:
            try:
                for event in stream:
                    if event.type == "text":
                        chars += len(event.text)
                        if on_text is not None:
                            on_text(event.text)
                    elif event.type == "content_block_start":
                        calls += event.content_block.type == "tool_use"
                    elif event.type == "message_stop":
                        stopped = True
            except anthropic.APITimeoutError:
                raise
            except anthropic.APIConnectionError as exc:
                raise cut_off_error(self.resolved, str(exc.__cause__ or exc)) from None
            except anthropic.APIError as exc:  # an error event inside the stream
                raise incomplete_error(self.resolved, body_detail(exc)) from None
            if not stopped:
                marker = "no message_stop event"
                raise unfinished_error(self.resolved, marker, chars=chars, calls=calls)
            return _reply(stream.get_final_message(), None)


def _reply(message: Any, on_text: OnText | None) -> Reply:
    texts, calls = [], []
    for block in message.content:
        if block.type == "text":
            texts.append(block.text)
        elif block.type == "tool_use":
            given = block.input
            problem = None if isinstance(given, dict) else "the tool input was not an object"
            calls.append(ToolCall(block.id, block.name, given if not problem else {}, problem))
    text = "".join(texts)
    if text and on_text is not None:
        on_text(text)
    usage = Usage(message.usage.input_tokens, message.usage.output_tokens, True)
    return Reply(Assistant(text, tuple(calls)), usage, message.stop_reason or "")


def wire(messages: list[Message]) -> list[dict[str, Any]]:
    """Neutral messages → Anthropic messages (alternating user / assistant)."""
    out: list[dict[str, Any]] = []

    def user(blocks: list[dict[str, Any]]) -> None:
        if out and out[-1]["role"] == "user":
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": "user", "content": blocks})

    for message in messages:
        if isinstance(message, User):
            user([{"type": "text", "text": message.text}])
        elif isinstance(message, Assistant):
            blocks: list[dict[str, Any]] = []
            if message.text:
                blocks.append({"type": "text", "text": message.text})
            blocks.extend(
                {"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments}
                for c in message.calls
            )
            if not blocks:
                blocks.append({"type": "text", "text": "(no answer)"})
            out.append({"role": "assistant", "content": blocks})
        elif isinstance(message, ToolResults):
            user(
                [
                    {
                        "type": "tool_result",
                        "tool_use_id": o.call.id,
                        "content": o.content,
                        "is_error": o.is_error,
                    }
                    for o in message.outputs
                ]
            )
    return out
