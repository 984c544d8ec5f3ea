"""``appctl chat``: a conversation with the model over the same loop as ``appctl run``.

The history carries across turns. Slash commands change the session: /tools, /read-only on|off,
/dry-run on|off, /provider NAME, /model NAME, /history [N], /help, /exit. Ctrl-C cancels the
turn in progress (the conversation stays as it was before it), not the session; Ctrl-D or /exit
ends it. Without a terminal, each line of standard input is one prompt.
"""

from __future__ import annotations

import contextlib
import sys
from typing import TYPE_CHECKING, Any

import click

from appctl.cli import output
from appctl.cli.agent_session import agent_options

if TYPE_CHECKING:
    from appctl.agent.loop import Agent
    from appctl.agent.profiles import Resolved
    from appctl.cli.agent_session import SessionFlags
    from appctl.cli.main import AppContext

HELP = """\
/tools               list the tools offered (or the catalogue size in meta-tool mode)
/read-only on|off    refuse tools that change data
/dry-run on|off      send nothing; show the requests instead
/provider NAME       switch to another provider profile (the conversation carries over)
/model NAME          switch model
/history [N]         this session's last N calls from the audit trail (default 10)
/help                this list
/exit                end the session (Ctrl-D too)"""


@click.command("chat")
@agent_options
@click.pass_obj
def command(app: AppContext, /, **values: Any) -> int:
    """Talk with an LLM that answers with the contract's tools."""
    from appctl.cli.agent_session import Trace, build, flags, new_session

    session_flags = flags(values)
    trace = Trace()
    session = new_session()
    agent, resolved = build(app, session_flags, trace, session)
    chat = Chat(app, agent, resolved, session_flags, trace, session)
    return chat.loop()


class Chat:
    def __init__(
        self,
        app: AppContext,
        agent: Agent,
        resolved: Resolved,
        flags: SessionFlags,
        trace: Any,
        session: str,
    ) -> None:
        self.app, self.agent, self.resolved = app, agent, resolved
        self.flags, self.trace, self.session = flags, trace, session
        self.tty = sys.stdin.isatty()
        if self.tty:
            with contextlib.suppress(ImportError):
                import readline  # noqa: F401  (line editing and history for input())

    def banner(self) -> None:
        tools = self.agent.tools
        offered = f"{len(tools.specs)} tools" + (" via meta-tools" if tools.meta else "")
        gates = [
            g
            for g, on in (
                ("read-only", self.agent.options.read_only),
                ("dry-run", self.agent.options.dry_run),
            )
            if on
        ]
        output.info(
            f"appctl chat · {self.resolved.name} ({self.resolved.profile.model}) · {offered}"
            + (f" · {', '.join(gates)}" if gates else "")
            + f" · session {self.session} · /help for commands"
        )

    def loop(self) -> int:
        self.banner()
        failed = False
        while True:
            try:
                line = input("you> " if self.tty else "")
            except EOFError:
                if self.tty:
                    click.echo("")
                return output.EXIT_FAILED if failed else output.EXIT_OK
            except KeyboardInterrupt:  # at the prompt: a new line, not the end
                click.echo("")
                continue
            try:
                done, ok = self.line(line.strip())
            except KeyboardInterrupt:
                # anywhere in the turn, from the line read to the answer printed: the turn
                # ends, the session goes on (the agent took the turn's messages back)
                self.trace.end_text()
                output.info("(turn cancelled; the conversation is as it was before it)")
                continue
            failed = failed or not ok
            if done:
                return output.EXIT_FAILED if failed else output.EXIT_OK

    def line(self, line: str) -> tuple[bool, bool]:
        """One line from the user: (end the session?, did it go well?)."""
        if not line:
            return False, True
        if line.startswith("/"):
            try:
                return self.command(line), True
            except Exception as exc:  # a bad /provider etc. must not end the session
                from appctl.errors import AppctlError

                if not isinstance(exc, AppctlError):
                    raise
                output.error(exc)
            return False, True
        result = self.agent.ask(line, on_text=self.trace.text)
        self.trace.end_text()
        if result.error is not None:
            output.error(result.error)
            return False, False
        if result.stopped == "max_steps":
            output.info(f"(no answer after {result.steps} model calls: --max-steps)")
        return False, True

    def command(self, line: str) -> bool:
        """Run a slash command; True to end the session."""
        from appctl.errors import UsageError

        name, _, rest = line.partition(" ")
        rest = rest.strip()
        if name in ("/exit", "/quit"):
            return True
        if name == "/help":
            output.info(HELP)
        elif name == "/tools":
            self.tools()
        elif name in ("/read-only", "/dry-run"):
            if rest not in ("on", "off"):
                raise UsageError(f"{name} takes on or off", suggestion=f"{name} on")
            key = "read_only" if name == "/read-only" else "dry_run"
            self.agent.set_options(**{key: rest == "on"})
            output.info(f"{name[1:]} is {rest}")
        elif name in ("/provider", "/model"):
            self.switch(name, rest)
        elif name == "/history":
            self.history(rest)
        else:
            raise UsageError(f"unknown command {name}", suggestion="/help lists the commands.")
        return False

    def tools(self) -> None:
        tools = self.agent.tools
        if tools.meta:
            output.info(
                f"{len(tools.specs)} tools, offered through meta-tools ({tools.reason}); "
                f"resources: {', '.join(tools.catalog.resources())}"
            )
            return
        for spec in tools.specs:
            output.info(f"{spec.name:40} {spec.safety.value:12} {spec.title}")

    def switch(self, name: str, value: str) -> None:
        from dataclasses import replace

        from appctl.cli.agent_session import connect
        from appctl.config import load_config
        from appctl.errors import UsageError

        if not value:
            raise UsageError(f"{name} needs a name", suggestion=f"{name} NAME")
        if name == "/provider":
            # the model and URL given on the command line were for the previous provider
            new_flags = replace(self.flags, provider=value, model=None, provider_url=None)
        else:
            new_flags = replace(self.flags, model=value)
        resolved, provider = connect(load_config(self.app.app_dir), new_flags)
        self.agent.set_provider(provider, resolved.profile.context_tokens)
        self.flags, self.resolved = new_flags, resolved
        output.info(f"now using {resolved.name} ({resolved.profile.model})")

    def history(self, rest: str) -> None:
        from appctl.errors import UsageError

        if rest and not rest.isdigit():
            raise UsageError("/history takes a number", suggestion="/history 5")
        if self.agent.history is None:
            output.info("no audit history in this session")
            return
        entries = self.agent.history.entries(last=int(rest or 10), session=self.session)
        if not entries:
            output.info("no calls yet in this session")
        for e in entries:
            status = e.status if e.status is not None else "-"
            output.info(f"#{e.id} {e.at} {e.tool} {e.outcome} {status} {e.arguments}")
