"""Assemble the portal: state, middlewares (errors → faults → session) and the routes of each part."""

from __future__ import annotations

from aiohttp import web

from sandbox_portal.faults.middleware import faults_middleware
from sandbox_portal.faults.transport import ConnectionDropped
from sandbox_portal.options import SandboxOptions
from sandbox_portal.rendering import ENV_KEY, error_response, make_env
from sandbox_portal.routes import admin, api, find, gateway, login, static, submission, tracking
from sandbox_portal.routes.common import session_middleware
from sandbox_portal.state import STATE_KEY, PortalState


@web.middleware
async def error_pages(request: web.Request, handler):  # type: ignore[no-untyped-def]
    """4xx/5xx as a page with `data-testid="error-page"` (JSON on the API), never a bare traceback."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return error_response(request, exc.status)
    except ConnectionDropped:
        raise
    except Exception:
        request.app.logger.exception("handler failed: %s %s", request.method, request.path)
        return error_response(request, 500)


def build_app(opts: SandboxOptions, state: PortalState | None = None) -> web.Application:
    app = web.Application(
        middlewares=[error_pages, faults_middleware, session_middleware], client_max_size=64 * 1024 * 1024
    )
    st = state or PortalState(opts)
    app[STATE_KEY] = st
    app[ENV_KEY] = make_env()
    for part in (find, login, submission, gateway, tracking, api, admin, static):
        part.setup(app)

    async def close(_: web.Application) -> None:
        st.close()

    app.on_cleanup.append(close)
    return app
