"""The contract pages: the overview (sources, resources, tools by safety, a search filter,
paged), one tool (description, safety, input schema, examples, the guide's lines), and
"try a tool": a form from the input schema, a dry run showing the exact request (secrets
redacted, by the executor), then a real call through ``Session.call`` with every gate.

A real call needs the approver role; for a destructive tool the tool's name typed, as on
a terminal. The person who runs it from the console is the one who approves it, so a call
the policy leaves to ``ask`` runs once they did both; a policy ``deny`` still refuses it.
Each form of a tool that changes data runs at most once (a one-time token: a reload that
sends the form again runs nothing).
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from appctl.contract.models import Action, Contract, Safety
from appctl.serve.console.app import Ask, Console, Forbidden
from appctl.serve.console.forms import arguments_of, inputs_of
from appctl.session.approval import Approval

if TYPE_CHECKING:
    from starlette.responses import Response

    from appctl.execute.result import ToolResult
    from appctl.generate.toolspec import Catalogue, ToolSpec

PAGE = 100  # tools per overview page (GitHub's API has over a thousand)
SPENT_KEPT = 10_000  # one-time form tokens remembered (a reload comes within minutes)
EXAMPLE_KEYS = ("example", "examples", "default")


@dataclass(frozen=True, slots=True)
class ToolRow:
    name: str
    resource: str
    safety: str
    verb: str
    title: str
    source: str
    text: str  # what the search matches, lower case


class Catalog:
    """What the contract pages show, worked out once per server (the contract is fixed)."""

    def __init__(self, schema: Contract) -> None:
        self.schema = schema
        self.rows = [_row(resource.name, action) for resource, action in _actions(schema)]
        self._lock = threading.Lock()
        self._catalogue: Catalogue | None = None
        self._guide: list[str] | None = None

    def matching(self, query: str) -> list[ToolRow]:
        words = query.lower().split()
        return [r for r in self.rows if all(w in r.text for w in words)]

    def spec(self, action: Action) -> ToolSpec:
        from appctl.generate.toolspec import Catalogue, Prose, tool_spec

        with self._lock:
            if self._catalogue is None:
                prose = Prose.learn(self.schema.actions())
                self._catalogue = Catalogue(self.schema.definitions, prose)
            found = self.schema.find(action.name)
            resource = found[0].name if found else ""
            return tool_spec(action, resource=resource, catalogue=self._catalogue)

    def guide_lines(self, name: str) -> list[str]:
        """The guide's lines that name this tool (the guide rendered once, when first asked)."""
        from appctl.generate.guides import render_guide

        with self._lock:
            if self._guide is None:
                self._guide = render_guide(self.schema).splitlines()
        word = re.compile(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])")
        return [line for line in self._guide if word.search(line)][:20]


def _actions(schema: Contract) -> list[tuple[Any, Action]]:
    return [(r, a) for r in schema.resources for a in r.actions]


def _row(resource: str, action: Action) -> ToolRow:
    title = action.summary or action.description.split("\n", 1)[0]
    text = " ".join((action.name, resource, title, action.source_name)).lower()
    return ToolRow(
        action.name,
        resource,
        action.safety.value,
        action.verb.value,
        title[:160],
        action.source_name,
        text,
    )


def sources(schema: Contract) -> list[dict[str, str]]:
    parts = schema.parts or {"": schema}
    return [
        {
            "name": name or "(default)",
            "kind": part.source.kind,
            "location": part.source.location,
            "title": part.source.title,
            "tools": str(len(part.actions())),
        }
        for name, part in parts.items()
    ]


def examples(action: Action) -> list[tuple[str, str]]:
    """(argument, example as JSON) from each argument's schema: example(s), else default."""
    found = []
    for field in action.parameters:
        if field.hidden:
            continue
        for key in EXAMPLE_KEYS:
            if key in field.schema_:
                found.append((f"{field.name} ({key})", _json(field.schema_[key])))
                break
    return found


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, default=str)


class ContractPages:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.catalog = Catalog(console.state.schema)
        # the forms whose write already ran: a reload that sends one again runs nothing
        self.spent: OrderedDict[str, None] = OrderedDict()

    async def overview(self, ask: Ask) -> Response:
        query = ask.request.query_params.get("q", "")[:200]
        page = _page_number(ask.request.query_params.get("page", "1"))
        found = self.catalog.matching(query)
        pages = max(1, -(-len(found) // PAGE))
        page = min(page, pages)
        shown = found[(page - 1) * PAGE : page * PAGE]
        resources = sorted({r.resource for r in self.catalog.rows})
        return self.console.render(
            ask,
            "overview.html.j2",
            sources=sources(self.catalog.schema),
            resources=resources,
            tools=shown,
            total=len(self.catalog.rows),
            matched=len(found),
            q=query,
            page=page,
            pages=pages,
        )

    async def not_found(self, ask: Ask) -> Response:
        raise Forbidden(f"no console page {ask.request.url.path}", status=404)

    def action(self, ask: Ask) -> Action:
        name = ask.request.path_params["name"]
        action = self.catalog.schema.action(name)
        if action is None:
            raise Forbidden(f"no tool named {name!r} in this contract", status=404)
        return action

    async def tool(self, ask: Ask) -> Response:
        return self.show_tool(ask, self.action(ask))

    def show_tool(
        self,
        ask: Ask,
        action: Action,
        *,
        given: dict[str, str] | None = None,
        result: ToolResult | None = None,
        problems: list[str] | None = None,
        status: int = 200,
    ) -> Response:
        spec = self.catalog.spec(action)
        inputs = inputs_of(spec.input_schema, given=given)
        return self.console.render(
            ask,
            "tool.html.j2",
            status=status,
            action=action,
            spec=spec,
            schema_text=_json(spec.input_schema),
            examples=examples(action),
            guide=self.catalog.guide_lines(action.name),
            inputs=inputs,
            result=None
            if result is None
            else _json(result.model_dump(mode="json", exclude_none=True)),
            outcome=None if result is None else ("ok" if result.ok else "failed"),
            problems=problems or [],
            typed=(given or {}).get("typed", ""),
            once=secrets.token_urlsafe(16),
        )

    async def try_tool(self, ask: Ask) -> Response:
        action = self.action(ask)
        mode = ask.form.get("mode", "dry")
        spec = self.catalog.spec(action)
        inputs = inputs_of(spec.input_schema)
        arguments, problems = arguments_of(inputs, ask.form)
        if problems:
            return self.show_tool(ask, action, given=ask.form, problems=problems, status=400)
        if mode == "run":
            refused = self.run_refusal(ask, action)
            if refused:
                return self.show_tool(ask, action, given=ask.form, problems=[refused], status=403)
            if action.safety != Safety.READ_ONLY and not self.spend(ask.form.get("once", "")):
                again = "this form was sent already (a reload?): nothing ran; use Run below"
                return self.show_tool(ask, action, given=ask.form, problems=[again], status=409)
        result = await self.call(ask, action, arguments, dry=mode != "run")
        return self.show_tool(ask, action, given=ask.form, result=result)

    def spend(self, once: str) -> bool:
        """Take a form's one-time token; False when it is missing or was taken before."""
        if not once or once in self.spent:
            return False
        self.spent[once] = None
        while len(self.spent) > SPENT_KEPT:
            self.spent.popitem(last=False)
        return True

    def run_refusal(self, ask: Ask, action: Action) -> str:
        if not ask.roles.approver:
            return f"{ask.caller.name} may dry-run but not call tools (an approver may)"
        if action.safety == Safety.DESTRUCTIVE and ask.form.get("typed", "") != action.name:
            return f"{action.name} is destructive: type its name to run it"
        return ""

    async def call(
        self, ask: Ask, action: Action, arguments: dict[str, Any], *, dry: bool
    ) -> ToolResult:
        state = self.console.state
        session = state.session
        if dry:
            session = replace(session, options=replace(session.options, dry_run=True))
        approval = None if dry or action.safety == Safety.READ_ONLY else Approval(granted=True)
        caller = ask.caller

        def work() -> ToolResult:
            return session.call(action.name, arguments, approval=approval, caller=caller)

        return await state.workers.run(action.name, state.busy.run(work), abandon_on_cancel=True)


def _page_number(text: str) -> int:
    try:
        return max(1, int(text))
    except ValueError:
        return 1
