"""The operator console of ``appctl serve``, under ``/ui`` (server-rendered, no build step).

    GET  /ui/                      the contract: sources, resources, tools (search, pages)
    GET  /ui/tools/{name}          one tool, and its "try" form
    POST /ui/tools/{name}/try      mode=dry: a dry run; mode=run: a real call (approvers)
    GET  /ui/history               the audit trail, filtered; /ui/history/{id} one entry
    GET  /ui/history.csv|.json     the filtered rows, exported
    GET  /ui/approvals             the approval queue; POST /ui/approvals/{id} decides
    GET  /ui/login, POST /ui/login sign in with a bearer token; POST /ui/logout
    GET  /ui/static/...            the stylesheet and the one small script

``auth.py`` says who may do what; ``app.py`` wraps every page in it (cookie, CSRF, roles).
The console authenticates by its own cookie, so a server-wide bearer-token check must let
its paths through (``is_console_path``): a browser sends no ``Authorization`` header.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.routing import Mount

    from appctl.serve.rest import ServeState


PATH = "/ui"


def is_console_path(path: str) -> bool:
    """Whether a request path is the console's (it signs its users in itself)."""
    return path == PATH or path.startswith(PATH + "/")


def console_mount(state: ServeState, *, path: str = PATH) -> Mount:
    """The console's routes, mounted at ``path`` of ``appctl serve``'s app."""
    from pathlib import Path

    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    from appctl.serve.console.app import Console
    from appctl.serve.console.approvals import ApprovalPages
    from appctl.serve.console.auditpages import AuditPages
    from appctl.serve.console.login import LoginPages
    from appctl.serve.console.pages import ContractPages

    console = Console(state)
    contract, audit = ContractPages(console), AuditPages(console)
    approvals, login = ApprovalPages(console), LoginPages(console)
    page = console.page
    static = StaticFiles(directory=str(Path(__file__).parent / "static"))
    routes = [
        Route("/", page(contract.overview), methods=["GET"]),
        Route("/tools/{name}", page(contract.tool), methods=["GET"]),
        Route("/tools/{name}/try", page(contract.try_tool), methods=["POST"]),
        Route("/history", page(audit.trail), methods=["GET"]),
        Route("/history.{kind:str}", page(audit.export), methods=["GET"]),
        Route("/history/{id}", page(audit.entry), methods=["GET"]),
        Route("/approvals", page(approvals.show), methods=["GET"]),
        Route("/approvals/{id}", page(approvals.decide, role="approver"), methods=["POST"]),
        Route("/login", login.form, methods=["GET"]),
        Route("/login", login.submit, methods=["POST"]),
        Route("/logout", login.sign_out, methods=["POST"]),
        Mount("/static", static, name="static"),
        Route("/{path:path}", page(contract.not_found), methods=["GET"]),
    ]
    return Mount(path, routes=routes)
