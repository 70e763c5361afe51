"""Helpers shared by the page handlers: the signed-in citizen, drafts, safe redirects."""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

from dvcwatch.core.catalog.models import Service
from sandbox_portal.accounts import Person
from sandbox_portal.state import SESSION_ID_KEY, SESSION_KEY, STATE_KEY, USER_KEY, Draft, PortalState

SESSION_COOKIE = "dvc_session"


def state_of(request: web.Request) -> PortalState:
    return request.app[STATE_KEY]


def current_user(request: web.Request) -> Person | None:
    return request.get(USER_KEY)  # type: ignore[return-value]


def safe_next(value: str | None, default: str = "/") -> str:
    """Only same-site paths: a login form must not become an open redirect."""
    if value and value.startswith("/") and not value.startswith("//"):
        return value
    return default


def login_redirect(request: web.Request) -> web.HTTPFound:
    return web.HTTPFound(f"/dang-nhap?next={quote(request.path_qs, safe='/')}")


def service_or_404(request: web.Request) -> Service:
    svc = state_of(request).services.get(request.match_info["service"])
    if svc is None:
        raise web.HTTPNotFound()
    return svc


def draft_or_404(request: web.Request, user: Person) -> Draft:
    d = state_of(request).drafts.get(request.match_info["draft"])
    if d is None or d.cccd != user.cccd or d.service != request.match_info["service"]:
        raise web.HTTPNotFound()
    return d


@web.middleware
async def session_middleware(request: web.Request, handler):  # type: ignore[no-untyped-def]
    """Attach the signed-in citizen (if any) to the request; one dictionary lookup."""
    sid = request.cookies.get(SESSION_COOKIE)
    if sid:
        accounts = request.app[STATE_KEY].accounts
        sess = accounts.sessions.get(sid)
        if sess is not None:
            request[SESSION_ID_KEY] = sid
            request[SESSION_KEY] = sess
            if sess["cccd"]:
                request[USER_KEY] = accounts.people.get(sess["cccd"])
    return await handler(request)
