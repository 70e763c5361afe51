"""`soft_failure`: HTTP 200 with a "system busy" banner instead of the page (what status checks miss)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox_portal.faults.kinds.base import FaultKind

if TYPE_CHECKING:
    from aiohttp import web

    from sandbox_portal.faults.engine import ActiveFault

DEFAULT_BANNER = "Hệ thống đang bận, vui lòng thử lại sau"


async def apply(fault: ActiveFault, request: web.Request) -> web.StreamResponse:
    from sandbox_portal.rendering import soft_failure_response

    return soft_failure_response(request, fault.spec.message or DEFAULT_BANNER)


KIND = FaultKind("soft_failure", frozenset({"message"}), apply=apply)
