"""Sign-in and sign-out. The sign-in form takes a bearer token (the serve token, a named
``inbound.tokens`` token, or an OAuth access token when the server verifies them) and,
when a verifier knows it, sends a fresh cookie naming the caller (with a new CSRF token:
a session fixed before sign-in is never kept). A wrong token is a 401 with the form again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from appctl.serve.console.app import Ask, Console, Forbidden
from appctl.serve.console.auth import Roles, Visitor

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

NO_ROLE = Roles(viewer=False, approver=False)  # pages shown before anyone signed in


class LoginPages:
    def __init__(self, console: Console) -> None:
        self.console = console

    async def form(self, request: Request) -> Response:
        visitor, fresh = self.console.visitor(request)
        if self.console.open:
            return self._go(request, "/", visitor, fresh)
        ask = Ask(request, visitor, self.console.local, NO_ROLE, {}, fresh)
        return self._form(ask, next_=_safe_next(request, request.query_params.get("next", "")))

    def _form(self, ask: Ask, *, next_: str, problem: str = "", status: int = 200) -> Response:
        return self.console.render(ask, "login.html.j2", status=status, next=next_, problem=problem)

    async def submit(self, request: Request) -> Response:
        visitor, fresh = self.console.visitor(request)
        ask = Ask(request, visitor, self.console.local, NO_ROLE, {}, fresh)
        form = await self._checked(ask)
        if isinstance(form, str):
            return self.console.render(ask, "error.html.j2", status=403, message=form)
        next_ = _safe_next(request, form.get("next", ""))
        caller, problem = await self.console.sign_in(form.get("token", ""))
        if caller is None:
            return self._form(ask, next_=next_, problem=problem, status=401)
        signed = self.console.cookies.fresh(caller)
        return self._go(request, next_ or "/", signed, True)

    async def sign_out(self, request: Request) -> Response:
        visitor, fresh = self.console.visitor(request)
        ask = Ask(request, visitor, self.console.local, NO_ROLE, {}, fresh)
        form = await self._checked(ask)
        if isinstance(form, str):
            return self.console.render(ask, "error.html.j2", status=403, message=form)
        return self._go(request, "/login", self.console.cookies.fresh(None), True)

    async def _checked(self, ask: Ask) -> dict[str, str] | str:
        """The submitted form, or why it is refused (too big, no or a wrong CSRF token)."""
        try:
            return await self.console.checked_form(ask.request, ask.visitor)
        except Forbidden as exc:
            return exc.message

    def _go(self, request: Request, where: str, visitor: Visitor, fresh: bool) -> Response:
        """A redirect to ``where`` (a path under the console) sending the visitor's cookie."""
        from starlette.responses import RedirectResponse

        base = request.scope.get("root_path", "")
        target = where if where.startswith(base + "/") else base + where
        return self.console.finish(RedirectResponse(target, status_code=303), visitor, fresh)


def _safe_next(request: Request, target: str) -> str:
    """A page of this console to go to after sign-in: a path under the console only, never
    another site (``//host``, ``/\\host``) nor another part of the server."""
    base = request.scope.get("root_path", "")
    if not target.startswith(base + "/") or "//" in target or "\\" in target:
        return ""
    return target[:500] if all(c.isprintable() for c in target) else ""
