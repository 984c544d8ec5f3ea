"""Google Gemini ``generateContent`` through the google-genai SDK.

The model's parts (function calls with their thought signatures) are sent back verbatim;
results go back as ``functionResponse`` parts, with the call's id when Gemini gave one.
Automatic function calling is off: appctl's executor runs every call.
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
)
from appctl.agent.profiles import Resolved
from appctl.agent.providers import OnText
from appctl.agent.providers.errors import (
    connection_error,
    cut_off_error,
    incomplete_error,
    status_error,
    timeout_error,
    unfinished_error,
)
from appctl.errors import ProviderError

TOOL_LIMIT = 64
LOCAL_ID = "appctl_"  # ids appctl made up for calls Gemini sent without one
RETRY_STATUSES = [408, 429, 500, 502, 503, 504]
TRANSPORTS = frozenset(("httpx", "httpx2", "httpcore", "httpcore2", "aiohttp"))


class GeminiProvider:
    tool_format = "gemini"
    tool_limit: int | None = TOOL_LIMIT

    def __init__(self, resolved: Resolved) -> None:
        from google import genai
        from google.genai import types

        self.resolved = resolved
        self.name = resolved.name
        profile = resolved.profile
        self.model = profile.model
        options = types.HttpOptions(
            base_url=profile.base_url,
            api_version=profile.api_version,
            timeout=int(profile.timeout * 1000),
            retry_options=types.HttpRetryOptions(
                attempts=profile.max_retries + 1, http_status_codes=RETRY_STATUSES
            ),
        )
        self.client = genai.Client(api_key=resolved.api_key, http_options=options)

    def tools(self, rendered: list[Any]) -> Any:
        from google.genai import types
        from pydantic import ValidationError

        declarations = []
        for item in rendered:
            try:
                declarations.append(types.FunctionDeclaration.model_validate(item))
            except ValidationError:  # a keyword the SDK's Schema model lacks: send JSON Schema
                declarations.append(
                    types.FunctionDeclaration(
                        name=item["name"],
                        description=item.get("description"),
                        parameters_json_schema=item.get("parameters"),
                    )
                )
        return [types.Tool(function_declarations=declarations)] if declarations else []

    def complete(
        self, system: str, messages: list[Message], tools: Any, on_text: OnText | None
    ) -> Reply:
        from google.genai import errors, types

        profile = self.resolved.profile
        config = types.GenerateContentConfig(
            system_instruction=system,
            tools=tools or None,
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
            max_output_tokens=profile.max_tokens,
            temperature=profile.temperature,
        )
        contents = wire(messages)
        seen: list[Any] = []  # the chunks received: a transport error after one is a cut-off
        try:
            if profile.stream:
                chunks = self.client.models.generate_content_stream(
                    model=self.model, contents=contents, config=config
                )
                reply = _assemble(_counted(chunks, seen), on_text)
            else:
                response = self.client.models.generate_content(
                    model=self.model, contents=contents, config=config
                )
                reply = _assemble(_counted([response], seen), on_text)
        except errors.APIError as exc:
            raise status_error(self.resolved, int(exc.code or 0), str(exc.message)) from None
        except Exception as exc:
            # the SDK's transport may be httpx, its own fork of it, or aiohttp: judge by kind
            if "Timeout" in type(exc).__name__:
                raise timeout_error(self.resolved) from None
            if isinstance(exc, OSError) or type(exc).__module__.split(".")[0] in TRANSPORTS:
                if seen:
                    raise cut_off_error(self.resolved, str(exc)) from None
                raise connection_error(self.resolved, str(exc)) from None
            raise
        if not reply.stop_reason:
            raise self._unfinished(reply, seen, streamed=profile.stream)
        return reply

    def _unfinished(self, reply: Reply, seen: list[Any], *, streamed: bool) -> ProviderError:
        """No candidate carried a finishReason: a stream cut short, or a whole response with
        no candidate (a blocked prompt says why in promptFeedback)."""
        message = reply.message
        if streamed:
            marker = "no finishReason"
            chars, calls = len(message.text), len(message.calls)
            return unfinished_error(self.resolved, marker, chars=chars, calls=calls)
        feedback = getattr(seen[-1], "prompt_feedback", None) if seen else None
        blocked = getattr(feedback, "block_reason", None) if feedback else None
        why = f" (the prompt was blocked: {blocked})" if blocked else ""
        return incomplete_error(self.resolved, f"the response has no finished candidate{why}")


def _counted(chunks: Any, seen: list[Any]) -> Any:
    for chunk in chunks:
        seen.append(chunk)
        yield chunk


def _assemble(chunks: Any, on_text: OnText | None) -> Reply:
    from google.genai import types

    parts: list[types.Part] = []
    usage, reason = Usage(), ""
    for chunk in chunks:
        if chunk.usage_metadata is not None:
            usage = Usage(
                chunk.usage_metadata.prompt_token_count or 0,
                chunk.usage_metadata.candidates_token_count or 0,
                True,
            )
        for candidate in chunk.candidates or []:
            if candidate.finish_reason is not None:
                reason = str(candidate.finish_reason.value).lower()
            for part in (candidate.content.parts if candidate.content else None) or []:
                if part.text is not None and not part.thought:
                    if on_text is not None and part.text:
                        on_text(part.text)
                    last = parts[-1] if parts else None
                    if last is not None and last.text is not None and not last.thought:
                        # streamed text arrives in pieces: keep one part (and its signature)
                        parts[-1] = last.model_copy(update={"text": last.text + part.text})
                        continue
                parts.append(part)
    text = "".join(p.text for p in parts if p.text is not None and not p.thought)
    calls = []
    for n, part in enumerate(p for p in parts if p.function_call is not None):
        call = part.function_call
        assert call is not None
        calls.append(
            ToolCall(call.id or f"{LOCAL_ID}{n}", call.name or "", dict(call.args or {}), None)
        )
    message = Assistant(text, tuple(calls), native=parts, native_kind="gemini")
    return Reply(message, usage, reason)


def wire(messages: list[Message]) -> list[Any]:
    """Neutral messages → Gemini contents."""
    from google.genai import types

    out: list[types.Content] = []
    native_ids: set[str] = set()  # ids Gemini itself gave (another provider's ids mean nothing)

    def add(role: str, parts: list[types.Part]) -> None:
        if out and out[-1].role == role and out[-1].parts is not None:
            out[-1].parts.extend(parts)
        else:
            out.append(types.Content(role=role, parts=parts))

    for message in messages:
        if isinstance(message, User):
            add("user", [types.Part(text=message.text)])
        elif isinstance(message, Assistant):
            if message.native_kind == "gemini" and message.native:
                add("model", list(message.native))
                native_ids.update(c.id for c in message.calls if not c.id.startswith(LOCAL_ID))
                continue
            parts = [types.Part(text=message.text)] if message.text else []
            parts.extend(
                types.Part(function_call=types.FunctionCall(name=c.name, args=c.arguments))
                for c in message.calls
            )
            add("model", parts or [types.Part(text="(no answer)")])
        elif isinstance(message, ToolResults):
            add(
                "user",
                [
                    types.Part(
                        function_response=types.FunctionResponse(
                            id=o.call.id if o.call.id in native_ids else None,
                            name=o.call.name,
                            response=_response(o.content),
                        )
                    )
                    for o in message.outputs
                ],
            )
    return out


def _response(content: str) -> dict[str, Any]:
    """functionResponse.response must be an object."""
    try:
        value = json.loads(content)
    except ValueError:
        return {"output": content}
    return value if isinstance(value, dict) else {"output": value}
