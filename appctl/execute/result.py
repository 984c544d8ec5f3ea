"""The result envelope every call returns, whatever happened.

``ToolResult`` is what a model, the CLI, MCP and HTTP callers all see: ``ok``, ``status``,
``data``, and on failure an ``error`` with a category, a message and suggestions a model can
act on. It crosses process boundaries, so it is a pydantic model.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr


class ErrorCategory(StrEnum):
    VALIDATION = "validation"
    AUTH = "auth"
    PERMISSION = "permission"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    RATE_LIMITED = "rate_limited"
    SERVER = "server"
    NETWORK = "network"
    TIMEOUT = "timeout"
    REDIRECT = "redirect"
    REFUSED = "refused"
    UNSUPPORTED = "unsupported"  # the application does not take this method/body at this route
    INTERNAL = "internal"


class Reason(StrEnum):
    """Why a call was refused (or, for ``unknown_tool``, found invalid) before any I/O: the
    machine-readable code front ends map and word for their own callers."""

    UNKNOWN_TOOL = "unknown_tool"  # invalid: the contract has no tool of that name
    DENIED = "denied"  # config.yaml's policy denies it
    READ_ONLY = "read_only"  # read-only mode is on and the tool changes data
    READ_SCOPE = "read_scope"  # the caller's token grants reads only; the tool changes data
    STRICT = "strict"  # --strict and the action is only inferred
    NEEDS_APPROVAL = "needs_approval"  # it changes data and nobody approved it
    DECLINED = "declined"  # a person was asked and said no
    NOT_OFFERED = "not_offered"  # left out of this front end by --include/--exclude


SUGGESTIONS: dict[ErrorCategory, str] = {
    ErrorCategory.VALIDATION: "Fix the arguments named above and call the tool again.",
    ErrorCategory.AUTH: "The credentials are missing or were rejected: check the env: variables "
    "the contract's auth section (or config.yaml's auth.schemes) names, or what a per-user "
    "scheme or bound argument takes from the caller (a header, the token, a claim).",
    ErrorCategory.PERMISSION: "The credentials are valid but not allowed to do this.",
    ErrorCategory.NOT_FOUND: "Check the ids: list or search first to find valid ones.",
    ErrorCategory.CONFLICT: "The resource changed or already exists: fetch it again first.",
    ErrorCategory.RATE_LIMITED: "Wait before calling again.",
    ErrorCategory.SERVER: "The server failed; try again later or with other arguments.",
    ErrorCategory.NETWORK: "The server could not be reached; check the base URL.",
    ErrorCategory.TIMEOUT: "The call took too long; narrow it (filters, smaller pages).",
    ErrorCategory.REDIRECT: "The server pointed elsewhere and appctl did not follow: check the "
    "base URL (or the operation's server), or call the place it points to directly.",
    ErrorCategory.REFUSED: "A safety gate refused the call; see the message for how to allow it.",
    ErrorCategory.UNSUPPORTED: "The application does not take this method or body at this "
    "route: the contract may be out of date (run appctl sync again) or the base URL may point "
    "at another application. Calling again with other arguments will not help.",
    ErrorCategory.INTERNAL: "This is a bug in appctl.",
}


class ToolError(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: ErrorCategory
    message: str
    suggestions: list[str] = Field(default_factory=list)
    reason: Reason | None = None  # refused (and unknown_tool): the machine-readable why


class ToolResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ok: bool
    tool: str
    status: int | None = None
    data: Any = None
    error: ToolError | None = None
    request: dict[str, Any] | None = None  # the exact request (secrets redacted) on dry runs
    notes: list[str] = Field(default_factory=list)  # what the caller should know besides
    # the response headers a caller can act on (Link, ETag, Retry-After, rate limits, paging)
    headers: dict[str, str] | None = None
    # how to continue: {"cursor": <sealed continuation>, "hint": ...} (execute/http/resume.py)
    next: dict[str, Any] | None = None
    # a success whose data did not match its documented response schema: the data, whole
    # (``data`` is then empty; a note names the first mismatch; ``execute.conform``)
    unchecked: Any = None
    # a long-running operation (execute/http/poll.py): its state, and while it runs the
    # handle appctl_poll takes to keep waiting
    operation: dict[str, Any] | None = None
    # the bytes of a binary answer, beside ``data``'s summary of them: a side channel for a
    # front end that saves them (``appctl call``), never dumped nor sent to a model
    _payload: bytes | None = PrivateAttr(default=None)

    @property
    def payload(self) -> bytes | None:
        return self._payload

    def with_payload(self, payload: bytes | None) -> ToolResult:
        """This result carrying ``payload`` in its side channel (copies keep it)."""
        self._payload = payload
        return self

    @property
    def body_key(self) -> str:
        """Where the answer's data is: ``data``, or ``unchecked`` when it did not match its
        documented schema (``execute.conform``)."""
        return "unchecked" if self.data is None and self.unchecked is not None else "data"

    @property
    def body(self) -> Any:
        """The answer's data, wherever it is (``body_key``)."""
        return getattr(self, self.body_key)

    @property
    def outcome(self) -> str:
        """ok | dry_run | refused | invalid (arguments refused before I/O) | failed."""
        if self.request is not None:
            return "dry_run"
        if self.error is None:
            return "ok"
        if self.error.category == ErrorCategory.REFUSED:
            return "refused"
        if self.error.category == ErrorCategory.VALIDATION and self.status is None:
            return "invalid"
        return "failed"

    @classmethod
    def failure(
        cls,
        tool: str,
        category: ErrorCategory,
        message: str,
        *suggestions: str,
        status: int | None = None,
        reason: Reason | None = None,
    ) -> ToolResult:
        hints = [*suggestions, SUGGESTIONS[category]]
        error = ToolError(category=category, message=message, suggestions=hints, reason=reason)
        return cls(ok=False, tool=tool, status=status, error=error)
