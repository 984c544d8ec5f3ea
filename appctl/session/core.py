"""The call session: what every front end shares to run one tool call.

A ``Session`` holds the contract, config.yaml (policy, limits, auth), the call options (gates
and budgets), the audit history, the session id and the approval strategy, and runs one call:

    lookup → validate → gate → approve → execute → record → result

``Session.call`` is the one path from a front end to the wire: ``appctl call``, the agent loop
(``run``, ``chat``, ``serve``'s ``/run``), ``appctl mcp`` and ``appctl serve``'s
``/tools/{name}/call`` all end in it, and it ends in ``executor.call`` (validate, gate, send,
record). What a result means to each front end is one table (``appctl.session.outcomes``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from appctl.config import Config
from appctl.contract.models import Action, Contract
from appctl.execute.audit.history import History
from appctl.execute.caller import Caller, local_caller
from appctl.execute.executor import CallOptions, call, needs_approval, prepare, redactor_of
from appctl.execute.http.resume import prepare_continued
from appctl.execute.redact import Redactor
from appctl.execute.result import ErrorCategory, Reason, ToolResult
from appctl.session.approval import Approval, Approver, Asking, PolicyOnly
from appctl.session.audit import new_id, open_history

if TYPE_CHECKING:
    from appctl.execute.http.transport import Transport
    from appctl.execute.limits import Limiter


NOBODY: Approver = PolicyOnly("this front end")  # only the policy (or --yes) allows a change


@dataclass
class Session:
    """One caller's session over one contract (``options`` may change between calls: chat's
    ``/read-only on``)."""

    schema: Contract
    config: Config
    options: CallOptions
    environ: Mapping[str, str]
    history: History | None = None
    id: str = ""
    approver: Approver = NOBODY
    transport: Transport | None = None  # None: the process's shared HTTP transport
    caller: Caller | None = None  # who calls when a call names nobody (the CLI's OS user)

    @classmethod
    def open(
        cls,
        app_dir: Path,
        *,
        approver: Approver,
        environ: Mapping[str, str] | None = None,
        session_id: str | None = None,
        **gates: Any,
    ) -> Session:
        """Load the contract and config.yaml from ``app_dir``, open the history, and pick the
        session id (``session_id``, else ``APPCTL_SESSION``, else a fresh one). ``gates``
        are ``CallOptions`` fields (base_url, dry_run, read_only, strict, approved...)."""
        from appctl.config import load_config
        from appctl.contract.sources import load_contract

        env = os.environ if environ is None else environ
        from appctl.execute.bound import hide_bound
        from appctl.session.keys import load_sealer

        config = load_config(app_dir)
        schema = hide_bound(load_contract(app_dir), config)  # what every front end lists
        gates.setdefault("sealer", load_sealer(app_dir, config.cursors, env))
        history = open_history(app_dir, config.history.url, env)
        gates.setdefault("limiter", shared_limiter(history, schema))
        options = CallOptions(config=config, root=str(app_dir.parent), **gates)
        return cls(
            schema=schema,
            config=config,
            options=options,
            environ=env,
            history=history,
            id=session_id or new_id(env),
            approver=approver,
            caller=local_caller(env),
        )

    def derive(self, *, id: str, caller: Caller | None = None, **changes: Any) -> Session:
        """The same contract, history and approver under another id and changed options
        (and ``caller``, when given, calling)."""
        derived = replace(self, id=id, options=replace(self.options, **changes))
        return derived if caller is None else replace(derived, caller=caller)

    def redactor(self) -> Redactor:
        return redactor_of(self.schema, self.options, self.environ)

    def approval_needed(
        self, action: Action, arguments: Mapping[str, Any], *, caller: Caller | None = None
    ) -> bool:
        """Whether a person must approve this call by ``caller`` (None: the session's): the
        policy asks for it, no other gate refuses it and its arguments are valid (nobody is
        asked about a call that would be refused anyway, nor shown arguments that are not
        even text)."""
        return self._needs_person(
            action, arguments, replace(self.options, caller=caller or self.caller)
        )

    def _needs_person(
        self, action: Action, arguments: Mapping[str, Any], options: CallOptions
    ) -> bool:
        """``approval_needed`` for a call made with ``options`` (its caller set)."""
        if not needs_approval(self.schema, action, options):
            return False
        approved = replace(options, approved=True)
        try:
            checked = prepare_continued(  # a cursor opened as the call will open it
                prepare,
                self.schema,
                action.name,
                arguments,
                approved.continuations(),
                approved,
                self.environ,
            )
        except Exception:  # the executor answers it (an internal result, recorded)
            return False
        return not isinstance(checked, ToolResult)

    def asking(
        self, action: Action, *, arguments: Mapping[str, Any], options: CallOptions
    ) -> Asking:
        """What an approver may want to know about this call made with ``options``
        (``session.approval``)."""
        from appctl.execute.executor import resource_of

        resource = resource_of(self.schema, action)
        timeout = self.config.approval_timeout(action, resource, options.caller)
        hide = redactor_of(self.schema, options, self.environ)  # the caller's secrets too

        def request() -> str:
            dry = replace(options, dry_run=True, approved=True)
            shown = call(self.schema, action.name, arguments, dry, environ=self.environ)
            return json.dumps(shown.request, ensure_ascii=False, default=str)

        return Asking(
            caller=options.caller,
            timeout=timeout,
            request=request,
            arguments=lambda: hide.value(dict(arguments), secret_names=True),
        )

    def call(
        self,
        tool: str,
        arguments: Mapping[str, Any],
        *,
        approval: Approval | None = None,
        session: str | None = None,
        max_pages: int = 1,
        progress: Callable[[str], None] | None = None,
        caller: Caller | None = None,
    ) -> ToolResult:
        """Run one call: ask the approver when needed (unless ``approval`` was already
        given, as MCP elicitation does), then execute and record it. Never raises.
        ``max_pages`` > 1 follows the result's ``next`` page after page within the size
        budget, merging the lists (``execute/pages.py``; each page a call of its own).
        ``progress`` is told how a long-running operation is getting on. ``caller`` is who
        asks (a server's authenticated client), else the session's own caller."""
        if max_pages > 1:
            from appctl.execute.pages import call_pages

            def page(given: Mapping[str, Any]) -> ToolResult:
                return self.call(
                    tool,
                    given,
                    approval=approval,
                    session=session,
                    progress=progress,
                    caller=caller,
                )

            budget = self.options.result_budget
            return call_pages(page, arguments, max_pages=max_pages, budget=budget)
        options = replace(
            self.options,
            caller=caller or self.caller,
            progress=self.options.progress if progress is None else progress,
        )
        if approval is None and isinstance(tool, str):
            action = self.schema.action(tool)
            if action is not None and self._needs_person(action, arguments, options):
                asking = self.asking(action, arguments=arguments, options=options)
                approval = self.approver.ask(action, arguments, asking)
        worded = approval.refusal if approval is not None else ""
        options = replace(
            options,
            approved=approval.granted if approval is not None else options.approved,
            unapproved=(lambda _a: worded) if worded else self.approver.unapproved,
        )
        result = call(
            self.schema,
            tool,
            arguments,
            options,
            environ=self.environ,
            transport=self.transport,
            history=self.history,
            session=self.id if session is None else session,
        )
        if approval is not None and approval.declined:
            return _declined(result)
        return result


def shared_limiter(history: History, schema: Contract) -> Limiter | None:
    """The limiter of a session whose history is shared (PostgreSQL), else None: counted in
    this process (``execute/sharedlimits.py``)."""
    from appctl.execute.sharedlimits import limiter_for

    return limiter_for(history.engine, scope=schema.source.title)


def _declined(result: ToolResult) -> ToolResult:
    """A needs-approval refusal whose person said no is ``declined``."""
    error = result.error
    if error is None or error.reason != Reason.NEEDS_APPROVAL:
        return result
    return result.model_copy(update={"error": error.model_copy(update={"reason": Reason.DECLINED})})


def not_offered(name: str, why: str) -> ToolResult:
    """A tool this front end leaves out (--include/--exclude)."""
    message = f"{name} is not offered {why} (left out by --include/--exclude)"
    return ToolResult.failure(name, ErrorCategory.REFUSED, message, reason=Reason.NOT_OFFERED)
