"""`reset`: the connection is torn down with a TCP RST, as a crashed load balancer does."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox_portal.faults.kinds.base import FaultKind
from sandbox_portal.faults.transport import drop

if TYPE_CHECKING:
    from aiohttp import web

    from sandbox_portal.faults.engine import ActiveFault


async def apply(fault: ActiveFault, request: web.Request) -> None:
    await drop(request, rst=True)


KIND = FaultKind("reset", apply=apply)
