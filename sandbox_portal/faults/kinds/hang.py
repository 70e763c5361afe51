"""`hang`: the request gets no answer for `seconds` (or until the client gives up), then the connection closes."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from sandbox_portal.faults.kinds.base import FaultKind
from sandbox_portal.faults.params import Distribution
from sandbox_portal.faults.transport import HANG_FOREVER, drop

if TYPE_CHECKING:
    from aiohttp import web

    from sandbox_portal.faults.engine import ActiveFault
    from sandbox_portal.faults.model import FaultSpec


def check(spec: FaultSpec) -> None:
    if isinstance(spec.seconds, Distribution):
        raise ValueError("hang takes a number of seconds (or none: until the client gives up)")


async def apply(fault: ActiveFault, request: web.Request) -> None:
    seconds = fault.spec.seconds
    await asyncio.sleep(HANG_FOREVER if seconds is None else float(seconds))  # type: ignore[arg-type]
    await drop(request, rst=False)


KIND = FaultKind("hang", frozenset({"seconds"}), check=check, apply=apply)
