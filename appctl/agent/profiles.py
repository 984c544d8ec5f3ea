"""LLM provider profiles: ``providers:`` and ``default_provider:`` in ``.appctl/config.yaml``.

    default_provider: claude
    providers:
      claude: {kind: anthropic, model: claude-sonnet-4-5, api_key: env:ANTHROPIC_API_KEY}
      local:  {kind: openai, model: qwen2.5:7b, base_url: http://127.0.0.1:11434/v1}
      azure:  {kind: azure, model: my-gpt-4o-deployment, base_url: https://x.openai.azure.com,
               api_version: "2024-10-21", api_key: env:AZURE_OPENAI_API_KEY}
      gemini: {kind: gemini, model: gemini-2.5-flash, api_key: env:GEMINI_API_KEY}

``kind: openai`` covers every OpenAI-compatible server (Ollama, vLLM, LM Studio, llama.cpp's
server, OpenRouter) through ``base_url``. A key is always an ``env:NAME`` reference, never the
secret itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from appctl.config import KINDS, ProviderProfile
from appctl.errors import UsageError, did_you_mean

# Used when a kind is named without a profile (``--provider anthropic``); --model overrides.
DEFAULT_MODELS: dict[str, str] = {
    "openai": "gpt-4o-mini",
    "azure": "gpt-4o-mini",
    "anthropic": "claude-sonnet-4-5",
    "gemini": "gemini-2.5-flash",
}
# Where each kind's key is read from when the profile names none.
KEY_VARIABLES: dict[str, tuple[str, ...]] = {
    "openai": ("OPENAI_API_KEY",),
    "azure": ("AZURE_OPENAI_API_KEY",),
    "anthropic": ("ANTHROPIC_API_KEY",),
    "gemini": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
}
NO_KEY = "appctl-no-key"  # what local OpenAI-compatible servers get when they need none


@dataclass(frozen=True, slots=True)
class Resolved:
    """A profile ready to use: its name, settings and the key read from the environment."""

    name: str
    profile: ProviderProfile
    api_key: str | None
    key_variable: str | None


def resolve(
    profiles: Mapping[str, ProviderProfile],
    default: str | None,
    *,
    name: str | None,
    model: str | None,
    base_url: str | None,
    environ: Mapping[str, str],
) -> Resolved:
    """--provider NAME (a profile, or a kind), then APPCTL_PROVIDER, then default_provider,
    then the only profile, then the first kind whose standard key variable is set."""
    chosen = name or environ.get("APPCTL_PROVIDER") or default
    if chosen is None and len(profiles) == 1:
        chosen = next(iter(profiles))
    if chosen is None:
        chosen = next(
            (k for k in KINDS if k != "azure" and any(environ.get(v) for v in KEY_VARIABLES[k])),
            None,
        )
    if chosen is None:
        raise UsageError(
            "no LLM provider is configured",
            suggestion="Run `appctl init` to add one to .appctl/config.yaml, or pass "
            "--provider openai|anthropic|gemini with its key in OPENAI_API_KEY, "
            "ANTHROPIC_API_KEY or GEMINI_API_KEY.",
        )
    if chosen in profiles:
        profile = profiles[chosen]
    elif chosen in KINDS:
        profile = ProviderProfile(kind=chosen, model=model or DEFAULT_MODELS[chosen])
    else:
        known = [*profiles, *KINDS]
        raise UsageError(
            f"no provider profile named {chosen!r}.{did_you_mean(chosen, known)}",
            suggestion="Profiles are under providers: in .appctl/config.yaml ("
            + (", ".join(profiles) or "none yet")
            + "); a kind (openai, azure, anthropic, gemini) works too.",
        )
    updates: dict[str, str] = {}
    if model:
        updates["model"] = model
    if base_url:
        updates["base_url"] = base_url
    if updates:
        profile = profile.model_copy(update=updates)
    key, variable = _key(profile, environ)
    return Resolved(name=chosen, profile=profile, api_key=key, key_variable=variable)


def _key(profile: ProviderProfile, environ: Mapping[str, str]) -> tuple[str | None, str | None]:
    if profile.api_key is not None:
        variable = profile.api_key[4:]
        value = environ.get(variable)
        if not value:
            raise UsageError(
                f"the {profile.kind} provider's key is read from {variable}, which is not set",
                suggestion=f"Export {variable} with the API key, or change api_key in "
                ".appctl/config.yaml.",
            )
        return value, variable
    for variable in KEY_VARIABLES[profile.kind]:
        if environ.get(variable):
            return environ[variable], variable
    if profile.kind == "openai" and profile.base_url:
        return NO_KEY, None  # a local OpenAI-compatible server
    names = " or ".join(KEY_VARIABLES[profile.kind])
    raise UsageError(
        f"no API key for the {profile.kind} provider",
        suggestion=f"Export {names}, or set api_key: env:NAME in the profile "
        "(.appctl/config.yaml).",
    )
