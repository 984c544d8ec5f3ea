"""Provider failures as ``ProviderError`` with a suggestion that names what to fix."""

from __future__ import annotations

from typing import Any

from appctl.agent.profiles import Resolved
from appctl.errors import ProviderError


def body_detail(exc: Any) -> str:
    """The message of an SDK's status error: ``{"error": {"message": ...}}`` when the body has
    one (OpenAI's and Anthropic's shape), else the exception's own message."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
    return str(getattr(exc, "message", exc))


def _where(resolved: Resolved) -> str:
    return f"{resolved.profile.kind} provider {resolved.name!r} (model {resolved.profile.model})"


def status_error(resolved: Resolved, status: int, detail: str) -> ProviderError:
    where = _where(resolved)
    detail = _clean(resolved, detail)
    if status in (401, 403):
        variable = resolved.key_variable or "the api_key variable"
        return ProviderError(
            f"the {where} rejected the API key (HTTP {status}): {detail}",
            suggestion=f"Check the key in {variable}.",
        )
    if status == 404:
        return ProviderError(
            f"the {where} answered 404: {detail}",
            suggestion="Check the model name and base_url (OpenAI-compatible servers usually "
            "end in /v1).",
        )
    if status == 429:
        return ProviderError(
            f"the {where} is rate limiting (HTTP 429) and retries ran out: {detail}",
            suggestion="Wait and run again, or raise max_retries in the profile.",
        )
    if status >= 500:
        return ProviderError(
            f"the {where} failed (HTTP {status}) and retries ran out: {detail}",
            suggestion="Try again later.",
        )
    return ProviderError(
        f"the {where} refused the request (HTTP {status}): {detail}",
        suggestion="The model or server may not support tool calling or a parameter sent; "
        "check the model and the server's documentation.",
    )


def _clean(resolved: Resolved, detail: str) -> str:
    """One line, at most 400 characters, and never the key (servers echo it back)."""
    text = " ".join(detail.split())
    if resolved.api_key and len(resolved.api_key) >= 4:
        text = text.replace(resolved.api_key, "***")
    return text[:400]


def connection_error(resolved: Resolved, detail: str) -> ProviderError:
    base = resolved.profile.base_url or "its default endpoint"
    return ProviderError(
        f"could not reach the {resolved.profile.kind} provider {resolved.name!r} at {base}: "
        f"{_clean(resolved, detail)}",
        suggestion="Check base_url in the profile and that the server is running.",
    )


def timeout_error(resolved: Resolved) -> ProviderError:
    return ProviderError(
        f"the {resolved.profile.kind} provider {resolved.name!r} did not answer within "
        f"{resolved.profile.timeout:g} s",
        suggestion="Raise timeout in the profile, or try a smaller model or prompt.",
    )


def incomplete_error(resolved: Resolved, problem: str) -> ProviderError:
    """The provider answered 200 and then no whole answer: never taken as one."""
    return ProviderError(
        f"the {_where(resolved)} failed mid-answer: {_clean(resolved, problem)}",
        suggestion="Try again; if it keeps happening, check the model server's log (a local "
        "server may have run out of memory or context, or failed after it began to answer).",
    )


def unfinished_error(resolved: Resolved, marker: str, *, chars: int, calls: int) -> ProviderError:
    """A stream that ended without its finish marker (``marker``: what the wire lacked)."""
    if not chars and not calls:
        got = "without any output"
    else:
        got = f"after {chars} characters of text" + (f" and {calls} tool call(s)" if calls else "")
    return incomplete_error(
        resolved, f"the model's stream ended without a finish reason ({marker}), {got}"
    )


def cut_off_error(resolved: Resolved, detail: str) -> ProviderError:
    """The connection broke after the stream had begun."""
    return incomplete_error(resolved, f"the model's stream was cut off: {detail}")
