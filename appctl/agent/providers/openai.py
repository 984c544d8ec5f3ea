"""OpenAI chat completions (and every OpenAI-compatible server, and Azure OpenAI).

Tool calls are ``tool_calls`` on the assistant message and ``role: tool`` messages with the
matching ``tool_call_id``; streamed calls arrive as fragments keyed by ``index``.
"""

from __future__ import annotations

import json
from typing import Any

from appctl.agent.conversation import (
    Assistant,
    Message,
    Reply,
    ToolCall,
    ToolResults,
    Usage,
    User,
    parse_arguments,
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

TOOL_LIMIT = 128


class OpenAIProvider:
    tool_format = "openai"
    tool_limit: int | None = TOOL_LIMIT

    def __init__(self, resolved: Resolved) -> None:
        import openai

        self.resolved = resolved
        self.name = resolved.name
        profile = resolved.profile
        self.model = profile.model
        common: dict[str, Any] = {
            "api_key": resolved.api_key,
            "timeout": profile.timeout,
            "max_retries": profile.max_retries,
        }
        self.client: openai.OpenAI
        if profile.kind == "azure":
            self.client = openai.AzureOpenAI(
                azure_endpoint=profile.base_url or "",
                api_version=profile.api_version or "2024-10-21",
                **common,
            )
        else:
            self.client = openai.OpenAI(base_url=profile.base_url, **common)

    def tools(self, rendered: list[Any]) -> Any:
        return rendered

    def complete(
        self, system: str, messages: list[Message], tools: Any, on_text: OnText | None
    ) -> Reply:
        import openai

        profile = self.resolved.profile
        request: dict[str, Any] = {"model": self.model, "messages": wire(system, messages)}
        if tools:
            # "auto" is OpenAI's default, but some compatible servers (llama-cpp-python's
            # chatml-function-calling) take a missing tool_choice as "none"
            request["tools"], request["tool_choice"] = tools, "auto"
        if profile.max_tokens is not None:
            request["max_tokens"] = profile.max_tokens
        if profile.temperature is not None:
            request["temperature"] = profile.temperature
        try:
            if profile.stream:
                return self._stream(request, on_text)
            response = self.client.chat.completions.create(**request)
        except openai.APITimeoutError:
            raise timeout_error(self.resolved) from None
        except openai.APIConnectionError as exc:
            raise connection_error(self.resolved, str(exc.__cause__ or exc)) from None
        except openai.APIStatusError as exc:
            raise status_error(self.resolved, exc.status_code, body_detail(exc)) from None
        if not response.choices:
            raise incomplete_error(self.resolved, "the response has no choices")
        choice = response.choices[0]
        text = choice.message.content or ""
        calls = []
        for n, tc in enumerate(choice.message.tool_calls or []):
            function = getattr(tc, "function", None)
            if function is None:  # a custom (non-function) tool call: not ours
                continue
            calls.append(_call(tc.id or f"call_{n}", function.name, function.arguments))
        if text and on_text is not None:
            on_text(text)
        usage = Usage()
        if response.usage is not None:
            usage = Usage(response.usage.prompt_tokens, response.usage.completion_tokens, True)
        return Reply(Assistant(text, tuple(calls)), usage, choice.finish_reason or "")

    def _stream(self, request: dict[str, Any], on_text: OnText | None) -> Reply:
        """A streamed reply; one that ends without a ``finish_reason`` (a server that failed
        after its 200, a cut connection) is a ProviderError, never an answer."""
        import openai

        stream = self.client.chat.completions.create(
            **request, stream=True, stream_options={"include_usage": True}
        )
        parts = _Parts(on_text)
        try:
            with stream:
                for chunk in stream:
                    parts.add(chunk)
        except openai.APITimeoutError:
            raise
        except openai.APIConnectionError as exc:
            raise cut_off_error(self.resolved, str(exc.__cause__ or exc)) from None
        except openai.APIError as exc:  # an error event inside the stream
            raise incomplete_error(self.resolved, body_detail(exc)) from None
        calls = tuple(
            _call(s["id"] or f"call_{i}", s["name"], s["arguments"])
            for i, s in sorted(parts.slots.items())
        )
        text = "".join(parts.text)
        if not parts.reason:
            marker = "no finish_reason chunk"
            raise unfinished_error(self.resolved, marker, chars=len(text), calls=len(calls))
        return Reply(Assistant(text, calls), parts.usage, parts.reason)


class _Parts:
    """What the chunks of a streamed reply add up to."""

    def __init__(self, on_text: OnText | None) -> None:
        self.on_text = on_text
        self.text: list[str] = []
        self.slots: dict[int, dict[str, Any]] = {}
        self.usage, self.reason = Usage(), ""

    def add(self, chunk: Any) -> None:
        if chunk.usage is not None:
            self.usage = Usage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens, True)
        for choice in chunk.choices:
            delta = choice.delta
            if delta.content:
                self.text.append(delta.content)
                if self.on_text is not None:
                    self.on_text(delta.content)
            for tc in delta.tool_calls or []:
                slot = self.slots.setdefault(tc.index, {"id": "", "name": "", "arguments": ""})
                if tc.id:
                    slot["id"] = tc.id
                if tc.function is not None:
                    slot["name"] += tc.function.name or ""
                    slot["arguments"] += tc.function.arguments or ""
            if choice.finish_reason:
                self.reason = choice.finish_reason


def _call(call_id: str, name: str, raw: str | None) -> ToolCall:
    arguments, problem = parse_arguments(raw)
    return ToolCall(call_id, name, arguments, problem)


def wire(system: str, messages: list[Message]) -> list[dict[str, Any]]:
    """Neutral messages → chat completions messages."""
    out: list[dict[str, Any]] = [{"role": "system", "content": system}]
    for message in messages:
        if isinstance(message, User):
            out.append({"role": "user", "content": message.text})
        elif isinstance(message, Assistant):
            # "" rather than null: some compatible servers refuse a null content
            item: dict[str, Any] = {"role": "assistant", "content": message.text}
            if message.calls:
                item["tool_calls"] = [
                    {
                        "id": c.id,
                        "type": "function",
                        "function": {"name": c.name, "arguments": json.dumps(c.arguments)},
                    }
                    for c in message.calls
                ]
            out.append(item)
        elif isinstance(message, ToolResults):
            out.extend(
                {"role": "tool", "tool_call_id": o.call.id, "content": o.content}
                for o in message.outputs
            )
    return out
