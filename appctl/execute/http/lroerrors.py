"""A failed long-running operation → a failure result whose category its own error says.

The operation's error (``error_field`` of its last status: Google's ``{code, message}`` with
a gRPC code, Azure's ``{code: "Conflict", message}``, or a plain text) decides the category:
an HTTP status or gRPC code by table, a textual code by the words in it; a cancelled
operation is a ``conflict`` (something else stopped it); anything else ``server``.
"""

from __future__ import annotations

from typing import Any

from appctl.contract.longrunning import LongRunning
from appctl.execute.result import ErrorCategory, ToolResult

# google.rpc.Code values (https://github.com/googleapis/googleapis, google/rpc/code.proto)
GRPC_CATEGORIES = {
    1: ErrorCategory.CONFLICT,  # CANCELLED
    3: ErrorCategory.VALIDATION,  # INVALID_ARGUMENT
    4: ErrorCategory.TIMEOUT,  # DEADLINE_EXCEEDED
    5: ErrorCategory.NOT_FOUND,
    6: ErrorCategory.CONFLICT,  # ALREADY_EXISTS
    7: ErrorCategory.PERMISSION,  # PERMISSION_DENIED
    8: ErrorCategory.RATE_LIMITED,  # RESOURCE_EXHAUSTED
    9: ErrorCategory.CONFLICT,  # FAILED_PRECONDITION
    10: ErrorCategory.CONFLICT,  # ABORTED
    11: ErrorCategory.VALIDATION,  # OUT_OF_RANGE
    12: ErrorCategory.UNSUPPORTED,  # UNIMPLEMENTED
    14: ErrorCategory.SERVER,  # UNAVAILABLE
    16: ErrorCategory.AUTH,  # UNAUTHENTICATED
}
# words of a textual code (Azure's "ResourceNotFound", "AuthorizationFailed"...), in order
WORD_CATEGORIES = (
    ("notfound", ErrorCategory.NOT_FOUND),
    ("conflict", ErrorCategory.CONFLICT),
    ("alreadyexists", ErrorCategory.CONFLICT),
    ("precondition", ErrorCategory.CONFLICT),
    ("cancel", ErrorCategory.CONFLICT),
    ("unauthorized", ErrorCategory.AUTH),
    ("unauthenticated", ErrorCategory.AUTH),
    ("authorization", ErrorCategory.PERMISSION),
    ("forbidden", ErrorCategory.PERMISSION),
    ("permission", ErrorCategory.PERMISSION),
    ("quota", ErrorCategory.RATE_LIMITED),
    ("toomanyrequests", ErrorCategory.RATE_LIMITED),
    ("throttl", ErrorCategory.RATE_LIMITED),
    ("timeout", ErrorCategory.TIMEOUT),
    ("deadline", ErrorCategory.TIMEOUT),
    ("invalid", ErrorCategory.VALIDATION),
    ("badrequest", ErrorCategory.VALIDATION),
    ("validation", ErrorCategory.VALIDATION),
)
HTTP_CATEGORIES = {
    400: ErrorCategory.VALIDATION,
    401: ErrorCategory.AUTH,
    403: ErrorCategory.PERMISSION,
    404: ErrorCategory.NOT_FOUND,
    409: ErrorCategory.CONFLICT,
    412: ErrorCategory.CONFLICT,
    422: ErrorCategory.VALIDATION,
    429: ErrorCategory.RATE_LIMITED,
    408: ErrorCategory.TIMEOUT,
    504: ErrorCategory.TIMEOUT,
}


def failed(tool: str, spec: LongRunning, body: Any, status: int | None) -> ToolResult:
    """The failure of an operation whose last status is ``body``."""
    error = body.get(spec.error_field) if isinstance(body, dict) and spec.error_field else None
    state = body.get(spec.status_field) if isinstance(body, dict) and spec.status_field else None
    code, text = _code_and_message(error)
    category = category_of(code)
    if category is None:
        cancelled = isinstance(state, str) and state.lower().startswith("cancel")
        category = ErrorCategory.CONFLICT if cancelled else ErrorCategory.SERVER
    said = f" ({state})" if isinstance(state, str) else ""
    detail = ": ".join(str(p) for p in (code, text) if p not in (None, ""))
    message = f"the long-running operation failed{said}" + (f": {detail}" if detail else "")
    hint = (
        "The original request was accepted, and the work it started then failed; read the "
        "error above before calling the tool again (that starts the work again)."
    )
    return ToolResult.failure(tool, category, message, hint, status=status)


def _code_and_message(error: Any) -> tuple[Any, str]:
    if isinstance(error, str):
        return None, error
    if not isinstance(error, dict):
        return None, ""
    message = error.get("message")
    return error.get("code"), message if isinstance(message, str) else ""


def category_of(code: Any) -> ErrorCategory | None:
    """The category an operation's error code says, or None."""
    if isinstance(code, bool):
        return None
    if isinstance(code, str) and code.strip().isdigit():
        code = int(code.strip())
    if isinstance(code, int):
        if 400 <= code < 600:
            return HTTP_CATEGORIES.get(code, ErrorCategory.SERVER if code >= 500 else None)
        return GRPC_CATEGORIES.get(code)
    if isinstance(code, str):
        words = code.lower().replace("_", "").replace("-", "").replace(" ", "")
        return next((c for w, c in WORD_CATEGORIES if w in words), None)
    return None
