"""``appctl serve``: the contract's tools over HTTP for services (see appctl/serve/rest.py).

Binding beyond loopback needs authentication: a bearer token (``--token-env NAME``) or
``inbound:`` in config.yaml (``appctl/serve/inbound/``). Tools that change data run only where
the policy in config.yaml allows them: there is no terminal to ask.

On SIGTERM or Ctrl-C the server stops accepting and lets the calls in flight finish for up to
``--grace`` seconds; then their tasks are cancelled (each caller gets a 503 envelope, as far
as the connection allows), every call that changes data and is still running has its started
record completed as ``cancelled``, and the process exits without waiting for the worker
threads still blocked on the application.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import click

from appctl.cli import output

if TYPE_CHECKING:
    import socket

    import uvicorn

    from appctl.agent.loop import TurnResult
    from appctl.cli.main import AppContext
    from appctl.execute.audit.history import History
    from appctl.execute.caller import Caller
    from appctl.generate.toolspec import ToolSpec
    from appctl.serve.rest import ServeState
    from appctl.session.core import Session
    from appctl.session.queue import ApprovalQueue


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8800, show_default=True, type=click.IntRange(0, 65535))
@click.option("--token-env", metavar="NAME", help="Require this env variable's bearer token.")
@click.option("--read-only", is_flag=True, help="Refuse every tool that changes data.")
@click.option("--dry-run", is_flag=True, help="Send nothing; answer with the exact requests.")
@click.option("--strict", is_flag=True, help="Refuse actions not declared or verified.")
@click.option("--base-url", help="Send tool calls to this API base URL.")
@click.option(
    "--max-body",
    default=1_000_000,
    show_default=True,
    type=click.IntRange(min=1024),
    help="Largest request body in bytes.",
)
@click.option(
    "--grace",
    default=30,
    show_default=True,
    type=click.IntRange(min=0),
    help="Seconds calls in flight may take to finish on SIGTERM or Ctrl-C.",
)
@click.option(
    "--no-frame",
    is_flag=True,
    help="/run: give tool results to the model unframed (not marked as untrusted data).",
)
@click.pass_obj
def command(
    app: AppContext,
    host: str,
    port: int,
    token_env: str | None,
    read_only: bool,
    dry_run: bool,
    strict: bool,
    base_url: str | None,
    max_body: int,
    grace: int,
    no_frame: bool,
) -> int:
    """Serve the tools over HTTP: /tools, /tools/{name}/call, /run, /history, /openapi.json."""
    import uvicorn

    from appctl.serve.inbound.verify import beyond_loopback, guarded, server_verifier
    from appctl.serve.rest import ServeState, create_app
    from appctl.session.approval import PolicyOnly
    from appctl.session.core import Session

    session = Session.open(
        app.app_dir,
        approver=PolicyOnly("appctl serve"),  # no terminal: only the policy allows a change
        session_id=f"serve-{os.getpid()}",
        base_url=base_url,
        dry_run=dry_run,
        read_only=read_only,
        strict=strict,
    )
    if no_frame:
        from appctl.cli.mcp import unframed

        session.config = unframed(session.config)
    history = session.history
    assert history is not None  # Session.open always opens one
    verifier = server_verifier(session.config.inbound, os.environ, token_env=token_env)
    beyond_loopback(host, verifier)
    state = ServeState(
        session=session,
        verifier=verifier,
        max_body=max_body,
        run_turn=_turns(session),
        queue=_queue(session),
    )
    from appctl.serve.listen import listen

    sock, base = listen(host, port)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(state),
            log_level="warning",
            timeout_graceful_shutdown=grace,
            lifespan="off",
        )
    )
    output.info(
        f"appctl serve: {len(session.schema.actions())} tools on {base} "
        f"({guarded(verifier)}); Ctrl-C to stop"
    )
    _serve(server, sock, state, history)
    return output.EXIT_OK


def _queue(session: Session) -> ApprovalQueue:
    """The approval queue in the history database: calls a policy rule's ``approval:``
    matches wait there for a person (POST /tools/{name}/call as "rest", /run as "run")."""
    from appctl.session.approval import QueueApprover
    from appctl.session.queue import open_queue

    queue = open_queue(session.history)
    session.approver = QueueApprover(queue, "rest")
    return queue


def _serve(
    server: uvicorn.Server, sock: socket.socket, state: ServeState, history: History
) -> None:
    """Serve until SIGTERM or Ctrl-C and the grace limit, then ``_stopped``."""
    import asyncio
    import signal

    async def serve() -> None:
        await server.serve(sockets=[sock])
        await asyncio.sleep(0.1)  # the 503 answers of calls cancelled at the grace limit

    # uvicorn re-raises the stopping signal once it has stopped; noted here, so that
    # _stopped runs instead of the default handler ending the process first
    caught: list[int] = []
    stop_signals = (signal.SIGINT, signal.SIGTERM)
    previous = {s: signal.signal(s, lambda sig, _frame: caught.append(sig)) for s in stop_signals}
    try:
        asyncio.run(serve())
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        _stopped(state, history)


def _stopped(state: ServeState, history: History) -> None:
    """After the grace limit: record the calls that change data and still run as cancelled,
    write the history down, and if worker threads still run calls, exit without them (the
    interpreter would wait for each to end, however long its application takes)."""
    import sys

    message = (
        "appctl serve stopped (SIGTERM or Ctrl-C) before this call ended and its grace limit "
        "passed: no result was delivered; the request may have reached the server"
    )
    try:
        cancelled = history.abandon(message=message)
        if cancelled:
            output.info(f"appctl serve: {cancelled} call(s) still running recorded as cancelled")
    except Exception as exc:  # their started rows stay, which say as much
        output.info(f"appctl serve: could not record the calls still running: {exc}")
    if state.queue is not None:  # nobody should approve a call whose caller is gone
        state.queue.close()
    history.close()
    if state.busy.count:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(output.EXIT_OK)


def _turns(session: Session) -> Any:
    """POST /run: one agent turn with the configured provider; a request may tighten the
    gates (read_only, dry_run) but never loosen them (``rest.run_settings`` checked them)."""
    import functools
    import uuid

    config, options = session.config, session.options

    @functools.cache
    def prepared() -> tuple[list[ToolSpec], str]:
        """Specs and guide, built on the first /run and shared by every later one."""
        from appctl.agent.loop import prepare

        return prepare(session.schema)

    def turn(
        prompt: str, settings: dict[str, Any], caller: Caller
    ) -> tuple[dict[str, Any], TurnResult]:
        from appctl.agent.loop import DEFAULT_MAX_STEPS, Agent
        from appctl.agent.profiles import resolve
        from appctl.agent.providers import connect
        from appctl.cli.agent_session import summary

        resolved = resolve(
            config.providers,
            config.default_provider,
            name=settings.get("provider"),
            model=settings.get("model"),
            base_url=None,
            environ=os.environ,
        )
        run_id = f"run-{uuid.uuid4().hex[:12]}"
        agent = Agent(
            _for_run(
                session.derive(
                    id=run_id,
                    caller=caller,  # the request's (InboundAuth)
                    read_only=options.read_only
                    or bool(settings.get("read_only"))
                    or caller.read_only,
                    dry_run=options.dry_run or bool(settings.get("dry_run")),
                )
            ),
            connect(resolved),
            context_tokens=resolved.profile.context_tokens,
            max_steps=settings.get("max_steps", DEFAULT_MAX_STEPS),
            max_output_tokens=resolved.profile.max_tokens,
            prepared=prepared(),
        )
        result = agent.ask(prompt)
        return summary(result, resolved, agent, run_id), result

    return turn


def _for_run(session: Session) -> Session:
    """An agent turn's session: its calls wait in the queue as the "run" front end's."""
    from appctl.session.approval import QueueApprover

    if isinstance(session.approver, QueueApprover):
        session.approver = session.approver.for_front_end("run")
    return session
