"""A call's audit record, made from its result, and written so that it cannot be lost.

``record``: one record after the call (reads, refusals, invalid arguments, dry runs).
``write``: for a call that may change something, a record begun as ``started`` before the
request is sent and completed with the outcome after (``History.begin``/``complete``), so a
crash or kill after sending leaves a row, and an interruption (Ctrl-C) completes it as
``cancelled``. Nothing here raises to the executor: a record that cannot be written is a note
on the result, and a write whose record cannot be begun is not sent (``refused``).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from appctl.errors import first_line
from appctl.execute.args import MAX_DEPTH
from appctl.execute.audit.history import (
    CANCELLED,
    POLLING,
    Entry,
    History,
    arguments_text,
    now,
)
from appctl.execute.redact import Redactor
from appctl.execute.result import ErrorCategory, ToolResult


class Call:
    """What every record of one call shares (the tool, its arguments, session and start)."""

    __slots__ = ("caller", "given", "redactor", "request", "session", "started", "tool", "uid")

    def __init__(
        self,
        tool: str,
        given: Any,
        *,
        session: str,
        redactor: Redactor,
        started: float,
        request: str = "",
        caller: str | None = None,
    ) -> None:
        self.tool, self.given, self.session = tool, given, session  # tool: printable already
        self.redactor, self.started, self.request = redactor, started, request
        self.caller = caller  # who asked, as recorded (``audit.callers.recorded``)
        self.uid: str | None = None  # a begun record's (``write``)


def entry(call: Call, result: ToolResult, *, at: str | None = None) -> Entry:
    """The record of a call that ended with ``result``."""
    error = result.error
    return Entry(
        at=at or now(),
        session=call.session,
        tool=call.tool,
        arguments=recordable_arguments(call.given, call.redactor),
        request=printable(call.request),
        status=result.status,
        duration_ms=round((time.perf_counter() - call.started) * 1000, 3),
        outcome=result.outcome,
        category=error.category.value if error else None,
        message=printable(call.redactor.text(error.message)) if error else None,
        caller=call.caller,
    )


def record(history: History | None, call: Call, result: ToolResult) -> ToolResult:
    """Record a call once, after it ended; the result, with a note if that failed."""
    if history is None:
        return result
    try:
        history.record(entry(call, result))
    except Exception as exc:  # the call happened; say that its record did not
        return unrecorded(result, exc)
    return result


def write(history: History, call: Call, run: Callable[[], ToolResult]) -> ToolResult:
    """Begin the record, send (``run``), complete the record: for calls that change things."""
    begun = entry(call, ToolResult(ok=True, tool=call.tool))
    try:
        uid = call.uid = history.begin(begun)
    except Exception as exc:  # no audit trail, no write
        return ToolResult.failure(
            call.tool,
            ErrorCategory.REFUSED,
            f"{printable(call.tool)} was not sent: its audit record could not be written first "
            f"({type(exc).__name__}: {printable(first_line(exc))})",
            "Check the audit history (appctl doctor) and call again.",
        )
    try:
        result = run()
    except Exception as exc:  # the executor's transports catch theirs; this is a bug
        result = internal(call.tool, exc)
    except BaseException as exc:  # Ctrl-C, exit: say so, and let it go on
        why = (
            f"interrupted ({type(exc).__name__}) before its outcome was known; the request "
            "may have reached the server"
        )
        stopped = replace(begun, outcome=CANCELLED, message=why)
        stopped.duration_ms = round((time.perf_counter() - call.started) * 1000, 3)
        with contextlib.suppress(Exception):
            history.complete(uid, stopped)
        raise
    try:
        history.complete(uid, entry(call, result, at=begun.at))
    except Exception as exc:
        return unrecorded(result, exc)
    return result


def polling(
    history: History, call: Call, then: Callable[[str], None] | None
) -> Callable[[str], None]:
    """A progress callback that first marks the call's begun record ``polling`` (once: a
    long-running operation is being followed), then tells ``then``. Never raises: the row
    stays ``started`` if it cannot be marked."""
    marked: list[bool] = []

    def told(message: str) -> None:
        if not marked and call.uid is not None:
            marked.append(True)
            with contextlib.suppress(Exception):
                history.mark(call.uid, POLLING, printable(call.redactor.text(message)))
        if then is not None:
            then(message)

    return told


def internal(tool: str, exc: BaseException) -> ToolResult:
    """The last resort: an exception nothing else caught, as an ``internal`` result."""
    try:
        message = f"{type(exc).__name__}: {exc}"
    except Exception:  # an exception whose str() fails
        message = type(exc).__name__
    return ToolResult.failure(printable(tool), ErrorCategory.INTERNAL, printable(message))


def unrecorded(result: ToolResult, exc: BaseException) -> ToolResult:
    note = f"the audit history could not be written: {type(exc).__name__}: {exc}"
    return result.model_copy(update={"notes": [*result.notes, printable(note)]})


def recordable_arguments(given: Any, redactor: Redactor) -> str:
    """The redacted arguments as JSON; what JSON cannot hold (refused as invalid before any
    I/O) is recorded in a plain form instead: nesting cut at ``MAX_DEPTH``, an integer too
    long to print as its size, keys as text."""
    arguments = given if type(given) is dict or isinstance(given, Mapping) else {}
    try:
        return arguments_text(arguments, redactor)
    except (RecursionError, ValueError, TypeError):
        return arguments_text(_plain(arguments, 0), redactor)


def _plain(value: Any, depth: int) -> Any:
    if isinstance(value, Mapping | list | tuple) and depth > MAX_DEPTH:
        return f"(nested deeper than {MAX_DEPTH} levels)"
    if isinstance(value, Mapping):
        return {printable(k): _plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v, depth + 1) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"({value.bit_length()}-bit integer)"
    return value if isinstance(value, str | int | float | bool) or value is None else repr(value)


def printable(text: Any) -> str:
    """Text any encoder takes: a lone surrogate becomes its escape (``\\udc80``); anything not
    a string becomes its short ``repr``."""
    if type(text) is str and text.isascii():
        return text
    if not isinstance(text, str):
        try:
            return printable(repr(text)[:200])
        except Exception:
            return type(text).__name__
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
