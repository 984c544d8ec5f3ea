"""One adapter per LLM API, each on its official SDK (imported only when used).

``connect(resolved)`` returns a ``Provider``: ``complete(system, messages, tools, on_text)``
sends one request in the API's own wire shapes and returns a neutral ``Reply``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from appctl.agent.conversation import Message, Reply
from appctl.agent.profiles import Resolved

OnText = Callable[[str], None]


class Provider(Protocol):
    name: str  # the profile's name
    model: str
    tool_format: str  # the appctl.generate.formats adapter for its tool definitions
    tool_limit: int | None  # the most tools one request may carry

    def tools(self, rendered: list[Any]) -> Any:
        """The rendered definitions in the shape the SDK takes."""

    def complete(
        self, system: str, messages: list[Message], tools: Any, on_text: OnText | None
    ) -> Reply:
        """One model response; raises ProviderError."""


def connect(resolved: Resolved) -> Provider:
    kind = resolved.profile.kind
    if kind in ("openai", "azure"):
        from appctl.agent.providers.openai import OpenAIProvider

        return OpenAIProvider(resolved)
    if kind == "anthropic":
        from appctl.agent.providers.anthropic import AnthropicProvider

        return AnthropicProvider(resolved)
    from appctl.agent.providers.gemini import GeminiProvider

    return GeminiProvider(resolved)
