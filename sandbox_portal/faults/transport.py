"""Closing a request's connection on purpose, for the kinds that hang up or reset."""

from __future__ import annotations

import asyncio
import socket
import struct

from aiohttp import web

HANG_FOREVER = 24 * 3600.0


class ConnectionDropped(Exception):
    """The connection was closed on purpose (hang ended, reset): there is nothing to answer."""


async def drop(request: web.Request, rst: bool) -> None:
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
