"""The agent loop: prompt → model → tool calls through the executor → results → answer.

Every tool call goes through ``Session.call`` (``appctl.session.core``) with the session's gates
(read-only, dry-run, approval, strict, per-tool policy) and lands in the audit history with
the session id. Refusals, invalid arguments and failures go back to the model as tool results
so it can recover; only a provider failure or the step limit ends a turn without an answer.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from appctl.agent.conversation import (
    Assistant,
    Message,
    Reply,
    ToolCall,
    ToolOutput,
    ToolResults,
    Usage,
    User,
    approx_tokens,
    fit,
)
from appctl.agent.providers import OnText, Provider
from appctl.contract.models import Contract, Safety
from appctl.errors import ProviderError, UsageError
from appctl.execute.audit.history import History
from appctl.execute.executor import CallOptions
from appctl.execute.framing import frame
from appctl.execute.result import ErrorCategory, ToolResult
from appctl.generate.toolspec import ToolSpec
from appctl.session import catalog as meta
from appctl.session.core import Session, not_offered

DEFAULT_MAX_STEPS = 20
TOOL_SHARE = 0.25  # tool definitions may take this share of the context window
GUIDE_SHARE = 0.15  # and the guide in the system prompt this share
OUTPUT_RESERVE = 4096  # tokens kept free for the reply when the profile sets no max_tokens
MIN_HISTORY = 1000
MAX_PARALLEL = 8


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One tool call as the run reports it (the audit history has the full entry)."""

    id: str
    name: str
    arguments: dict[str, Any]
    ok: bool
    outcome: str
    status: int | None
    category: str | None
    message: str | None
    duration_ms: float
    via: str | None = None  # appctl_call_tool when the model called through the catalogue

    def as_dict(self) -> dict[str, Any]:
        out = {
            "id": self.id,
            "name": self.name,
            "arguments": self.arguments,
            "ok": self.ok,
            "outcome": self.outcome,
            "status": self.status,
            "category": self.category,
            "message": self.message,
            "duration_ms": self.duration_ms,
        }
        if self.via:
            out["via"] = self.via
        return out


@dataclass(slots=True)
class TurnResult:
    answer: str
    calls: list[CallRecord] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    steps: int = 0
    stopped: str = "answer"  # answer | max_steps | error
    error: ProviderError | None = None
    dropped_turns: int = 0

    @property
    def refused(self) -> bool:
        return any(c.outcome == "refused" for c in self.calls)


@dataclass(frozen=True, slots=True)
class Toolset:
    """What the model is offered: every tool, or the three meta-tools."""

    specs: list[ToolSpec]
    catalog: meta.Catalog
    meta: bool
    definitions: Any  # in the provider's SDK shape
    tokens: int
    reason: str  # why meta-tools were chosen, or ""


def toolset(
    specs: list[ToolSpec], provider: Provider, context_tokens: int, mode: str = "auto"
) -> Toolset:
    """``mode``: auto (meta-tools when the tools are over the provider's count limit or the
    token budget), all, or meta."""
    from appctl.generate.formats import render

    catalog = meta.Catalog(specs)
    limit = provider.tool_limit
    rendered = render(provider.tool_format, specs).entries
    tokens = approx_tokens(json.dumps(rendered, separators=(",", ":")))
    reason = ""
    if limit is not None and len(specs) > limit:
        reason = f"{len(specs)} tools are over the provider's limit of {limit} per request"
    elif tokens > context_tokens * TOOL_SHARE:
        reason = (
            f"the tool definitions (~{tokens:,} tokens) are over {TOOL_SHARE:.0%} of the "
            f"{context_tokens:,}-token context"
        )
    if mode == "all" and reason:
        raise UsageError(
            f"cannot offer every tool: {reason}",
            suggestion="Use --tools auto (meta-tools), or narrow with --include/--exclude.",
        )
    if mode == "meta" or (mode == "auto" and reason):
        text = provider.tool_format == "gemini"
        meta_rendered = render(
            provider.tool_format, meta.meta_specs(len(specs), arguments_as_text=text)
        ).entries
        return Toolset(
            specs,
            catalog,
            True,
            provider.tools(meta_rendered),
            approx_tokens(json.dumps(meta_rendered)),
            reason or "asked for with --tools meta",
        )
    return Toolset(specs, catalog, False, provider.tools(rendered), tokens, "")


def system_prompt(
    schema: Contract, tools: Toolset, *, read_only: bool, dry_run: bool, guide: str
) -> str:
    from appctl.contract.kinds import sources_noun
    from appctl.generate.guides import environment

    source = sources_noun(schema.source_kinds())
    title = schema.source.title or schema.source.location or "the application"
    text = (
        environment()
        .get_template("agent.md.j2")
        .render(
            title=title,
            source=source,
            read_only=read_only,
            dry_run=dry_run,
            meta=tools.meta,
            tool_count=len(tools.specs),
            find=meta.FIND,
            describe=meta.DESCRIBE,
            call=meta.CALL,
            resources=tools.catalog.resources(),
            guide=guide,
        )
    )
    return text.rstrip("\n") + "\n"


def prepare(
    schema: Contract, include: tuple[str, ...] = (), exclude: tuple[str, ...] = ()
) -> tuple[list[ToolSpec], str]:
    """The tool specs and the guide an agent offers: what depends on the contract alone."""
    from appctl.generate.guides import render_guide
    from appctl.generate.toolspec import build_tool_specs

    specs = build_tool_specs(schema, include=include, exclude=exclude)
    return specs, render_guide(schema, include=include, exclude=exclude)


class Agent:
    """One session: the conversation so far, the tools offered and the gates in force."""

    def __init__(
        self,
        session: Session,
        provider: Provider,
        *,
        context_tokens: int,
        on_call: Callable[[CallRecord], None] | None = None,
        tools_mode: str = "auto",
        max_steps: int = DEFAULT_MAX_STEPS,
        max_output_tokens: int | None = None,
        include: tuple[str, ...] = (),
        exclude: tuple[str, ...] = (),
        prepared: tuple[list[ToolSpec], str] | None = None,
    ) -> None:
        """``session``: the contract, gates, history and approver every tool call runs
        through; ``prepared``: the tool specs and guide from ``prepare`` (a server making an
        agent per request builds them once); else they are built here from include/exclude."""

        self.session = session
        self.schema = schema = session.schema
        self.provider = provider
        self.on_call = on_call
        self.max_steps = max_steps
        self.context_tokens = context_tokens
        self.messages: list[Message] = []
        self.tools_mode = tools_mode
        self._reserve = max_output_tokens or OUTPUT_RESERVE
        specs, guide = prepared or prepare(schema, include, exclude)
        self.tools = toolset(specs, provider, context_tokens, tools_mode)
        self._guide = guide if approx_tokens(guide) <= context_tokens * GUIDE_SHARE else ""
        self.system = ""
        self._refresh()

    # ------------------------------------------------------------------ session settings

    def _refresh(self) -> None:
        self.system = system_prompt(
            self.schema,
            self.tools,
            read_only=self.options.read_only,
            dry_run=self.options.dry_run,
            guide=self._guide,
        )

    @property
    def options(self) -> CallOptions:
        return self.session.options

    @property
    def history(self) -> History | None:
        return self.session.history

    def set_options(self, **changes: Any) -> None:
        """Change a gate for the rest of the session (``/read-only on`` and the like)."""
        self.session.options = replace(self.session.options, **changes)
        self._refresh()

    def set_provider(self, provider: Provider, context_tokens: int) -> None:
        """Switch model or provider mid-session; the conversation carries over."""
        self.provider = provider
        self.context_tokens = context_tokens
        self.tools = toolset(self.tools.specs, provider, context_tokens, self.tools_mode)
        self._refresh()

    def history_budget(self) -> int:
        """Tokens left for the conversation once the system prompt, tools and reply fit."""
        fixed = approx_tokens(self.system) + self.tools.tokens + self._reserve
        return max(MIN_HISTORY, int(self.context_tokens * 0.95) - fixed)

    # ------------------------------------------------------------------ the loop

    def ask(self, prompt: str, on_text: OnText | None = None) -> TurnResult:
        """One user turn: run until the model answers without tool calls, the step limit is
        reached, or the provider fails. Interrupted (Ctrl-C) or failed, the turn's messages
        are taken back so the conversation stays well formed."""
        mark = len(self.messages)
        result = TurnResult(answer="")
        try:
            self.messages.append(User(prompt))  # inside: a Ctrl-C right here takes it back too
            while result.steps < self.max_steps:
                window, dropped = fit(self.messages, self.history_budget())
                result.dropped_turns = max(result.dropped_turns, dropped)
                reply = self.provider.complete(self.system, window, self.tools.definitions, on_text)
                _check_reply(self.provider, reply)
                result.steps += 1
                result.usage.add(reply.usage)
                self.messages.append(reply.message)
                if not reply.message.calls:
                    result.answer = reply.message.text
                    return result
                outputs = self._execute(reply.message.calls, result.calls)
                self.messages.append(ToolResults(outputs))
            result.stopped = "max_steps"
            last = next((m for m in reversed(self.messages) if isinstance(m, Assistant)), None)
            result.answer = last.text if last is not None else ""
            return result
        except ProviderError as exc:
            del self.messages[mark:]
            result.stopped, result.error = "error", exc
            return result
        except BaseException:
            del self.messages[mark:]
            raise

    def _execute(
        self, calls: tuple[ToolCall, ...], records: list[CallRecord]
    ) -> tuple[ToolOutput, ...]:
        if len(calls) > 1 and all(self._reads_only(c) for c in calls):
            with ThreadPoolExecutor(max_workers=min(len(calls), MAX_PARALLEL)) as pool:
                done = list(pool.map(self._one, calls))
        else:
            done = [self._one(c) for c in calls]
        for _, record in done:
            records.append(record)
            if self.on_call is not None:
                self.on_call(record)
        return tuple(output for output, _ in done)

    def _reads_only(self, tool_call: ToolCall) -> bool:
        name = tool_call.name
        if name in (meta.FIND, meta.DESCRIBE):
            return True
        if name == meta.CALL:
            name = str(tool_call.arguments.get("name", ""))
        action = self.schema.action(name)
        return action is not None and action.safety == Safety.READ_ONLY

    def _one(self, tool_call: ToolCall) -> tuple[ToolOutput, CallRecord]:
        started = time.perf_counter()
        name, arguments, via = tool_call.name, tool_call.arguments, None
        if tool_call.problem:
            message = f"{name}: {tool_call.problem}; send the arguments as one JSON object"
            result = ToolResult.failure(name, ErrorCategory.VALIDATION, message)
        elif name == meta.FIND:
            result = self._find(arguments)
        elif name == meta.DESCRIBE:
            result = self._describe(arguments)
        else:
            if name == meta.CALL:
                via = meta.CALL
                name, arguments, problem = meta.unwrap(arguments)
                if problem:
                    result = ToolResult.failure(meta.CALL, ErrorCategory.VALIDATION, problem)
                    return self._finish(tool_call, name, arguments, result, started, via)
            result = self._run(name, arguments)
        return self._finish(tool_call, name, arguments, result, started, via)

    def _finish(
        self,
        tool_call: ToolCall,
        name: str,
        arguments: dict[str, Any],
        result: ToolResult,
        started: float,
        via: str | None,
    ) -> tuple[ToolOutput, CallRecord]:
        envelope = result.model_dump(mode="json", exclude_none=True)
        content = json.dumps(envelope, separators=(",", ":"), ensure_ascii=False, default=str)
        if self._framed(tool_call):
            content = frame(content)
        error = result.error
        record = CallRecord(
            id=tool_call.id,
            name=name,
            arguments=arguments,
            ok=result.ok,
            outcome=result.outcome,
            status=result.status,
            category=error.category.value if error else None,
            message=error.message if error else None,
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
            via=via,
        )
        return ToolOutput(tool_call, content, not result.ok), record

    def _framed(self, tool_call: ToolCall) -> bool:
        """Whether this output is marked as data: an application's answer (a contract
        tool's, called directly or through appctl_call_tool), unless config.yaml's
        ``results: {frame: false}`` says not to. appctl's own catalog answers are not."""
        if tool_call.name in (meta.FIND, meta.DESCRIBE):
            return False
        return self.session.config.results.frame

    def _run(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        """A contract tool, through the session (every gate, the approver, the history)."""
        if name not in self.tools.catalog.specs and self.schema.action(name) is not None:
            return not_offered(name, "in this session")
        return self.session.call(name, arguments)

    def _find(self, arguments: dict[str, Any]) -> ToolResult:
        return meta.find(self.tools.catalog, arguments)

    def _describe(self, arguments: dict[str, Any]) -> ToolResult:
        return meta.describe(self.tools.catalog, arguments)


def _check_reply(provider: Provider, reply: Reply) -> None:
    """A reply with neither text nor a tool call is no answer: the provider failed."""
    if reply.message.text.strip() or reply.message.calls:
        return
    reason = reply.stop_reason or "none given"
    raise ProviderError(
        f"the provider {provider.name!r} (model {provider.model}) answered with no text and "
        f"no tool call (finish reason: {reason})",
        suggestion="Try again; if it keeps happening, check the model server's log, the "
        "model's max_tokens and whether it supports this prompt.",
    )
