"""Asking a person, through MCP elicitation, to approve a call that changes data: the
question, the form (a destructive tool wants its name typed, as on a terminal), reading the
answer, binding an approval to its call, and what a refused call is told. Pure functions of
the action and the answer; ``serve/mcp.py`` sends and receives."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import mcp_types as types

from appctl.contract.models import Action, Safety

CONFIRM_SCHEMA: dict[str, Any] = {"type": "object", "properties": {}}  # accept or decline
CONFIRM_FIELD = "confirm"  # where a destructive tool's name is typed


def question(action: Action, arguments: Mapping[str, Any]) -> str:
    shown = json.dumps(arguments, ensure_ascii=False, separators=(", ", ": "))
    if action.safety == Safety.DESTRUCTIVE:
        return f"{action.name} is destructive. Type its name to run it with {shown}, or decline."
    return f"Run {action.name} with {shown}?"


def confirm_schema(action: Action) -> dict[str, Any]:
    """Accept or decline; a destructive tool also wants its name typed, as on a terminal."""
    if action.safety != Safety.DESTRUCTIVE:
        return CONFIRM_SCHEMA
    return {
        "type": "object",
        "properties": {
            CONFIRM_FIELD: {
                "type": "string",
                "title": f"Type {action.name} to confirm",
                "description": f"The tool's name, {action.name}, exactly.",
            }
        },
        "required": [CONFIRM_FIELD],
    }


def confirmed(action: Action, answer: types.ElicitResult) -> str:
    """accept only when a destructive tool's name was typed exactly; else the answer."""
    if answer.action != "accept" or action.safety != Safety.DESTRUCTIVE:
        return answer.action
    typed = (answer.content or {}).get(CONFIRM_FIELD)
    return "accept" if typed == action.name else "mistyped"


def fingerprint(name: str, arguments: Mapping[str, Any]) -> str:
    """Binds an approval to the exact call it was asked for."""
    text = json.dumps([name, arguments], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def refused_because(action: Action, answer: str) -> str:
    name, safety = action.name, action.safety.value
    if answer == "decline":
        return f"{name} was not run: the user declined it"
    if answer == "cancel":
        return f"{name} was not run: the user dismissed the approval request"
    if answer == "mistyped":
        return f"{name} was not run: it is destructive and its name was not typed to confirm"
    why = (
        "the approval request to the MCP client failed"
        if answer == "failed"
        else "this MCP client cannot ask for approval (it does not support elicitation)"
    )
    return (
        f"{name} is {safety} and needs approval, but {why}. To allow it, start the server "
        f"with `appctl mcp --yes`, or add a policy rule to .appctl/config.yaml such as "
        f'`policy: [{{match: {{name: "{name}"}}, action: allow}}]`'
    )
