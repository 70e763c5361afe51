"""Apply the transport-level faults around a request's handler.

Order inside one request: capacity (wait for a worker, or 503 when the queue is full), then latency,
hang, reset, error and soft failure. A hang or a capacity wait ends when the client gives up
(the server runs with handler cancellation), so a frozen step never holds the rest of the portal.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Awaitable, Callable

from aiohttp import web

from sandbox_portal.attribution import attribute
from sandbox_portal.faults.capacity import Overloaded
from sandbox_portal.faults.engine import ActiveFault
from sandbox_portal.faults.model import DEFAULT_BANNER
from sandbox_portal.rendering import error_response, soft_failure_response
from sandbox_portal.state import STATE_KEY

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
HANG_FOREVER = 24 * 3600.0
UNTOUCHABLE = ("/static/", "/_sandbox/faults", "/_sandbox/clock", "/_sandbox/stats", "/favicon.ico")


class ConnectionDropped(Exception):
    """The connection was closed on purpose (hang ended, reset): there is nothing to answer."""


async def _drop(request: web.Request, rst: bool) -> None:
    transport = request.transport
    if transport is not None:
        sock = transport.get_extra_info("socket")
        if rst and sock is not None:
            # linger 0: the kernel sends RST instead of FIN, what a crashed load balancer does
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
        transport.abort()
    await asyncio.sleep(0.5)  # connection_lost cancels this handler meanwhile
    raise ConnectionDropped


async def _apply(faults: list[ActiveFault], request: web.Request, handler: Handler) -> web.StreamResponse:
    for f in faults:
        kind = f.spec.kind
        if kind == "latency":
            await asyncio.sleep(f.delay())
        elif kind == "hang":
            await asyncio.sleep(HANG_FOREVER if f.spec.seconds is None else float(f.spec.seconds))  # type: ignore[arg-type]
            await _drop(request, rst=False)
        elif kind == "reset":
            await _drop(request, rst=True)
        elif kind == "error":
            return error_response(request, f.spec.status or 503, f.spec.message)
        elif kind == "soft_failure":
            return soft_failure_response(request, f.spec.message or DEFAULT_BANNER)
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
