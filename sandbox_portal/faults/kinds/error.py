"""`error`: the portal answers an HTTP error page (default 503) instead of doing the work."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox_portal.faults.kinds.base import FaultKind

if TYPE_CHECKING:
    from aiohttp import web

    from sandbox_portal.faults.engine import ActiveFault


async def apply(fault: ActiveFault, request: web.Request) -> web.StreamResponse:
    from sandbox_portal.rendering import error_response

    return error_response(request, fault.spec.status or 503, fault.spec.message)


KIND = FaultKind("error", frozenset({"status", "message"}), apply=apply)
