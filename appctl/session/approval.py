"""Who may approve a call that changes data, and how a refusal is worded for each caller.

An ``Approver`` is asked only when approval is all that stands between a valid call and
running it (``executor.needs_approval``). Strategies:

- ``Terminal``: ask a person on this terminal (``appctl call``, ``run``, ``chat``); the prompt
  itself is the CLI's, passed in.
- ``PolicyOnly``: nobody to ask (``appctl serve``, and ``appctl mcp`` for a client without
  elicitation): only config.yaml's policy (or ``--yes`` where the front end has it) allows.
- MCP elicitation is asynchronous, so ``serve/mcp.py`` asks the client itself and hands the
  answer to ``Session.call`` as an ``Approval``.
- A web approval queue would be one more ``Approver`` whose ``ask`` waits on the queue.

``--yes`` is no strategy: it sets ``CallOptions.approved``, so nobody is asked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from appctl.contract.models import Action
from appctl.execute.executor import terminal_wording


@dataclass(frozen=True, slots=True)
class Approval:
    """A person's answer: ``granted``, else ``declined`` when they were asked and said no;
    ``refusal`` words the refusal for the caller (empty: the approver's own wording)."""

    granted: bool
    declined: bool = False
    refusal: str = ""


class Approver(Protocol):
    def ask(self, action: Action, arguments: Mapping[str, Any]) -> Approval:
        """Ask whoever may approve this call (blocking); refuse when nobody can."""
        ...

    def unapproved(self, action: Action) -> str:
        """The refusal of an unapproved call, saying how this front end's caller allows it."""
        ...


@dataclass(frozen=True, slots=True)
class Terminal:
    """Ask on a terminal; ``prompt`` returns False when there is none or the person says no."""

    prompt: Callable[[Action, Mapping[str, Any]], bool]

    def ask(self, action: Action, arguments: Mapping[str, Any]) -> Approval:
        return Approval(granted=self.prompt(action, arguments))

    def unapproved(self, action: Action) -> str:
        return terminal_wording(action)


@dataclass(frozen=True, slots=True)
class PolicyOnly:
    """Nobody to ask: a policy rule (or the front end's ``how``, e.g. ``appctl mcp --yes``)
    is the only way to allow a call that changes data."""

    front_end: str  # "appctl serve", "this MCP client"
    also: str = ""  # another way, e.g. "start the server with `appctl mcp --yes`"

    def ask(self, action: Action, arguments: Mapping[str, Any]) -> Approval:
        return Approval(granted=False)

    def unapproved(self, action: Action) -> str:
        rule = f'{{match: {{name: "{action.name}"}}, action: allow}}'
        other = f"{self.also}, or " if self.also else ""
        return (
            f"{action.name} is {action.safety.value} and needs approval, and {self.front_end} "
            f"has nobody to ask: to allow it, {other}add a policy rule to .appctl/config.yaml "
            f"such as `policy: [{rule}]`"
        )
