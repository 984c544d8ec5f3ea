"""Who may approve a call that changes data, and how a refusal is worded for each caller.

An ``Approver`` is asked only when approval is all that stands between a valid call and
running it (``executor.needs_approval``). Strategies:

- ``Terminal``: ask a person on this terminal (``appctl call``, ``run``, ``chat``); the prompt
  itself is the CLI's, passed in.
- ``PolicyOnly``: nobody to ask (``appctl serve``, and ``appctl mcp`` for a client without
  elicitation): only config.yaml's policy (or ``--yes`` where the front end has it) allows.
- MCP elicitation is asynchronous, so ``serve/mcp.py`` asks the client itself and hands the
  answer to ``Session.call`` as an ``Approval``.
- ``QueueApprover``: ``appctl serve`` with its approval queue (``session.queue``): the call
  waits in the queue until a person decides it in the console or ``/approvals``, or its wait
  (``approval: {timeout: N}`` in the policy) ends.

The session tells an approver what it knows beyond the action and the arguments in an
``Asking`` (who asks, how long a person may take, the exact request); the terminal and
policy-only strategies need none of it.

``--yes`` is no strategy: it sets ``CallOptions.approved``, so nobody is asked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from appctl.contract.models import Action, Safety
from appctl.execute.caller import Caller
from appctl.execute.executor import terminal_wording

if TYPE_CHECKING:
    from appctl.session.queue import ApprovalQueue


@dataclass(frozen=True, slots=True)
class Approval:
    """A person's answer: ``granted``, else ``declined`` when they were asked and said no;
    ``refusal`` words the refusal for the caller (empty: the approver's own wording)."""

    granted: bool
    declined: bool = False
    refusal: str = ""


@dataclass(frozen=True, slots=True)
class Asking:
    """What the session knows about a call it asks about: ``caller`` who asks, ``timeout``
    seconds a person may take in a queue (``Config.approval_timeout``; None: no policy rule
    queues this call), ``request`` the exact request
    the call would send, redacted (computed only when asked for), ``arguments`` redacted."""

    caller: Caller | None
    timeout: float | None
    request: Callable[[], str]
    arguments: Callable[[], dict[str, Any]]


class Approver(Protocol):
    def ask(
        self, action: Action, arguments: Mapping[str, Any], asking: Asking | None = None
    ) -> Approval:
        """Ask whoever may approve this call (blocking); refuse when nobody can."""
        ...

    def unapproved(self, action: Action) -> str:
        """The refusal of an unapproved call, saying how this front end's caller allows it."""
        ...


@dataclass(frozen=True, slots=True)
class Terminal:
    """Ask on a terminal; ``prompt`` returns False when there is none or the person says no."""

    prompt: Callable[[Action, Mapping[str, Any]], bool]

    def ask(
        self, action: Action, arguments: Mapping[str, Any], asking: Asking | None = None
    ) -> Approval:
        return Approval(granted=self.prompt(action, arguments))

    def unapproved(self, action: Action) -> str:
        return terminal_wording(action)


@dataclass(frozen=True, slots=True)
class PolicyOnly:
    """Nobody to ask: a policy rule (or the front end's ``how``, e.g. ``appctl mcp --yes``)
    is the only way to allow a call that changes data."""

    front_end: str  # "appctl serve", "this MCP client"
    also: str = ""  # another way, e.g. "start the server with `appctl mcp --yes`"

    def ask(
        self, action: Action, arguments: Mapping[str, Any], asking: Asking | None = None
    ) -> Approval:
        return Approval(granted=False)

    def unapproved(self, action: Action) -> str:
        rule = f'{{match: {{name: "{action.name}"}}, action: allow}}'
        other = f"{self.also}, or " if self.also else ""
        return (
            f"{action.name} is {action.safety.value} and needs approval, and {self.front_end} "
            f"has nobody to ask: to allow it, {other}add a policy rule to .appctl/config.yaml "
            f"such as `policy: [{rule}]`"
        )


@dataclass(frozen=True, slots=True)
class QueueApprover:
    """Put the call in the approval queue and wait for a person's decision (blocking the
    calling thread up to ``Asking.timeout``): approved runs it; denied refuses it with the
    person's reason; nobody deciding in time, or a full queue, refuses it saying so. A call
    no ``approval:`` rule matches is refused at once, as by ``PolicyOnly``."""

    queue: ApprovalQueue
    front_end: str  # "rest", "run", "mcp"
    where: str = "appctl serve"  # who refuses, in the wording of an unqueued call

    def ask(
        self, action: Action, arguments: Mapping[str, Any], asking: Asking | None = None
    ) -> Approval:
        from appctl.session.queue import QueueError

        if asking is None or asking.timeout is None:
            return Approval(granted=False)
        timeout, caller = asking.timeout, asking.caller
        try:
            entry = self.queue.submit(
                tool=action.name,
                arguments=asking.arguments(),
                request=asking.request(),
                caller=caller.name if caller is not None else "anonymous",
                safety=action.safety.value,
                destructive=action.safety == Safety.DESTRUCTIVE,
                front_end=self.front_end,
                timeout=timeout,
            )
        except QueueError as exc:
            return Approval(granted=False, refusal=f"{action.name} was not run: {exc.message}")
        decided = self.queue.wait(entry)
        if decided.approved:
            return Approval(granted=True)
        if decided.status == "denied":
            why = f": {decided.reason}" if decided.reason else " (no reason given)"
            refusal = f"{action.name} was not run: {decided.by} denied it{why}"
            return Approval(granted=False, declined=True, refusal=refusal)
        if decided.reason:  # withdrawn: the server is stopping
            return Approval(granted=False, refusal=f"{action.name} was not run: {decided.reason}")
        return Approval(granted=False, refusal=_timed_out(action, timeout))

    def for_front_end(self, front_end: str) -> QueueApprover:
        return QueueApprover(self.queue, front_end, self.where)

    def unapproved(self, action: Action) -> str:
        rule = f'{{match: {{name: "{action.name}"}}'
        return (
            f"{action.name} is {action.safety.value} and needs approval, and no policy rule "
            f"puts it in {self.where}'s approval queue: add a rule to .appctl/config.yaml "
            f"such as `policy: [{rule}, approval: {{timeout: 120}}}}]` to have a person "
            f"approve it, or `policy: [{rule}, action: allow}}]` to allow it"
        )


def _timed_out(action: Action, timeout: float) -> str:
    return (
        f"{action.name} was not run: it waited {timeout:g} seconds for approval and nobody "
        "decided (an approver can decide in the console under /ui or with POST "
        "/approvals/{id}); the wait is `approval: {timeout: N}` in config.yaml's policy"
    )
