"""Apply the transport-level faults around a request's handler.

Order inside one request: capacity (wait for a worker, or 503 when the queue is full), then latency,
hang, reset, error and soft failure. A hang or a capacity wait ends when the client gives up
(the server runs with handler cancellation), so a frozen step never holds the rest of the portal.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from sandbox_portal.attribution import attribute
from sandbox_portal.faults.capacity import Overloaded
from sandbox_portal.faults.engine import ActiveFault
from sandbox_portal.faults.kinds import KINDS
from sandbox_portal.rendering import error_response
from sandbox_portal.state import STATE_KEY

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
UNTOUCHABLE = ("/static/", "/_sandbox/faults", "/_sandbox/clock", "/_sandbox/stats", "/favicon.ico")


async def _apply(faults: list[ActiveFault], request: web.Request, handler: Handler) -> web.StreamResponse:
    """Each fault's kind acts in declaration order; the first that answers ends the request."""
    for f in faults:
        apply = KINDS[f.spec.kind].apply
        response = await apply(f, request) if apply is not None else None
        if response is not None:
            return response
    return await handler(request)


@web.middleware
async def faults_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    if not state.faults.faults or request.path.startswith(UNTOUCHABLE):
        return await handler(request)
    step, service = await attribute(request, state)
    hit = state.faults.transport(step, service, request.path)
    if not hit:
        return await handler(request)
    pools = [f.pool for f in hit if f.pool is not None]
    rest = [f for f in hit if f.pool is None]

    async def run(i: int) -> web.StreamResponse:
        if i == len(pools):
            return await _apply(rest, request, handler)
        return await pools[i].run(lambda: run(i + 1))  # type: ignore[union-attr]

    try:
        return await run(0)
    except Overloaded:
        resp = error_response(request, 503, "Hệ thống đang quá tải, vui lòng thử lại sau")
        resp.headers["Retry-After"] = "1"
        return resp
