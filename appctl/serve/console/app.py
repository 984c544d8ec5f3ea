"""The console's shared machinery: who is asking (cookie, roles), CSRF, and rendering.

``Console`` wraps each page handler (``Console.page``): it opens the browser's cookie
(a fresh one, with a CSRF token, for a browser that has none), sends a browser that must
sign in to ``/ui/login``, checks the CSRF token of every POST (missing or wrong: 403), and
the page's role (403). Pages render with one Jinja2 environment that escapes everything
(``templates/console/``), and every answer carries headers that keep it out of frames and
scripts from anywhere but the console's own static files.
"""

from __future__ import annotations

import secrets
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from appctl.execute.caller import Caller, local_caller
from appctl.serve.console.auth import (
    COOKIE,
    EVERY_ROLE,
    Cookies,
    Roles,
    Visitor,
    bare,
    cookie_key,
    csrf_ok,
    roles_of,
)

if TYPE_CHECKING:
    import jinja2
    from starlette.requests import Request
    from starlette.responses import Response

    from appctl.serve.rest import ServeState

Role = Literal["viewer", "approver"]
MAX_FORM = 256_000  # bytes of a submitted form
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


CSRF_WRONG = "the form's CSRF token is missing or wrong: reload the page and retry"


class Forbidden(Exception):
    """A request the console refuses (403, or ``status``), with a message to show."""

    def __init__(self, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.message, self.status = message, status


@dataclass
class Ask:
    """One request as a page sees it: who asks, with which roles, and the submitted form."""

    request: Request
    visitor: Visitor
    caller: Caller
    roles: Roles
    form: dict[str, str]
    fresh: bool  # the visitor's cookie must be (re)sent


Handler = Callable[[Ask], Awaitable["Response"]]


class Console:
    def __init__(self, state: ServeState) -> None:
        self.state = state
        self.settings = state.session.config.console
        sealer = state.session.options.sealer
        secret = sealer.secret() if sealer is not None else secrets.token_bytes(32)
        self.cookies = Cookies(cookie_key(secret))
        # the server's own verifier (``ServeState.verifier``, ``serve/inbound``: the serve
        # token, inbound.tokens and OAuth, with each token's groups and scopes); None: a
        # loopback server without auth, used by its own OS user
        self.server = state.verifier
        self.open = self.server is None
        self.local = state.session.caller or local_caller(state.session.environ)

    async def sign_in(self, token: str) -> tuple[Caller | None, str]:
        """Who a bearer token names, or None and why not."""
        token = bare(token)
        if self.server is None or not token:
            return None, "that token is not valid here"
        try:
            caller = await self.server.caller(token)
        except Exception as exc:  # its Denied: wrong, expired, another audience, no keys
            return None, getattr(exc, "description", "") or "that token is not valid here"
        return caller, ""

    def visitor(self, request: Request) -> tuple[Visitor, bool]:
        found = self.cookies.open(request.cookies.get(COOKIE))
        if found is not None:
            return found, False
        # a cookie made where nobody signs in names nobody: were the server restarted with
        # authentication, it must not sign its holder in as the local user
        return self.cookies.fresh(None), True

    def who(self, visitor: Visitor) -> tuple[Caller | None, Roles]:
        if self.open:
            return self.local, EVERY_ROLE
        if visitor.caller is None:
            return None, Roles(viewer=False, approver=False)
        return visitor.caller, roles_of(visitor.caller, self.settings)

    def page(self, handler: Handler, *, role: Role = "viewer") -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            visitor, fresh = self.visitor(request)
            try:
                caller, roles = self.who(visitor)
                if caller is None:
                    return self.to_login(request, visitor, fresh)
                form = await self.checked_form(request, visitor)
                if not (roles.approver if role == "approver" else roles.viewer):
                    raise Forbidden(
                        f"{caller.name} is not a console {role} (see console: in config.yaml)"
                    )
                ask = Ask(request, visitor, caller, roles, form, fresh)
                return await handler(ask)
            except Forbidden as exc:
                ask = Ask(request, visitor, self.local, Roles(False, False), {}, fresh)
                return self.render(ask, "error.html.j2", status=exc.status, message=exc.message)

        return endpoint

    async def checked_form(self, request: Request, visitor: Visitor) -> dict[str, str]:
        if request.method != "POST":
            return {}
        form = await read_form(request)
        if not csrf_ok(visitor, form.get("csrf")):
            raise Forbidden(CSRF_WRONG)
        return form

    def to_login(self, request: Request, visitor: Visitor, fresh: bool) -> Response:
        from starlette.responses import RedirectResponse

        base = request.scope.get("root_path", "")
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        query = urllib.parse.urlencode({"next": target})
        response = RedirectResponse(f"{base}/login?{query}", status_code=303)
        return self.finish(response, visitor, fresh)

    def render(self, ask: Ask, template: str, *, status: int = 200, **values: Any) -> Response:
        from starlette.responses import HTMLResponse

        base = ask.request.scope.get("root_path", "")
        signed_in = not self.open and ask.visitor.caller is not None
        context = {
            "base": base,
            "csrf": ask.visitor.csrf,
            "caller": ask.caller.name if signed_in or self.open else "",
            "roles": ask.roles,
            "signed_in": signed_in,
            "queue_on": self.state.queue is not None,
            **values,
        }
        html = environment().get_template(f"console/{template}").render(**context)
        return self.finish(HTMLResponse(html, status), ask.visitor, ask.fresh)

    def finish(self, response: Response, visitor: Visitor, fresh: bool) -> Response:
        response.headers.update(HEADERS)
        if fresh:
            self.set_cookie(response, visitor)
        return response

    def set_cookie(self, response: Response, visitor: Visitor) -> None:
        response.set_cookie(
            COOKIE,
            self.cookies.seal(visitor),
            max_age=int(self.cookies.ttl),
            path="/",
            secure=True,
            httponly=True,
            samesite="strict",
        )


async def read_form(request: Request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body, bounded; the last value of a name wins."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_FORM:
            raise Forbidden(f"the form is over {MAX_FORM:,} bytes", status=413)
        chunks.append(chunk)
    text = b"".join(chunks).decode("utf-8", "replace")
    return dict(urllib.parse.parse_qsl(text, keep_blank_values=True))


@cache
def environment() -> jinja2.Environment:
    """The console's Jinja2 environment: the guides' templates folder, escaping on."""
    import jinja2

    from appctl.generate.guides import templates_dir

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["query"] = lambda values: urllib.parse.urlencode(values)
    return env
